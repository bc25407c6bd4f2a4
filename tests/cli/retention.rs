//! Retention: `cleanup` and `download.cleanup_old_versions` after `monitor --download`.

use std::path::Path;

use serde_json::Value;

use crate::support::FakeSetup as Setup;

const SCENARIO: &str = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.10.0
        assets:
          - {name: tool.tar.gz, content: "tool 1.10.0"}
"#;

/// Release folders as an earlier run (or the seed tool) left them.
fn stored(s: &Setup, tags: &[&str]) {
    for tag in tags {
        let dir = s.path("downloads").join("acme_tool").join(tag);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("tool.tar.gz"), tag.as_bytes()).expect("write");
    }
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("JSON on stdout")
}

fn exists(s: &Setup, tag: &str) -> bool {
    Path::new(&s.path("downloads").join("acme_tool").join(tag)).exists()
}

#[test]
fn cleanup_dry_run_then_for_real() {
    let s = Setup::new(SCENARIO, &["acme/tool"], "  keep_versions: 2\n");
    stored(&s, &["v1.2.0", "v1.9.0", "v1.10.0", "snapshot"]);
    s.command(None)
        .args(["db", "set", "acme/tool", "v1.10.0"])
        .assert()
        .success();

    let out = s
        .command(None)
        .args(["cleanup", "--dry-run"])
        .assert()
        .code(0);
    let plan = json(&out.get_output().stdout);
    assert_eq!(plan["keep_versions"], 2);
    assert_eq!(plan["planned"][0]["tag_name"], "v1.2.0", "{plan}");
    assert_eq!(plan["planned"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        plan["ignored"][0]["reason"]
            .as_str()
            .map(|r| r.starts_with("kept")),
        Some(true)
    );
    assert!(exists(&s, "v1.2.0"), "a dry run deletes nothing");

    let out = s
        .command(None)
        .args(["cleanup", "--keep", "1"])
        .assert()
        .code(0);
    let done = json(&out.get_output().stdout);
    let deleted: Vec<&str> = done["deleted"]
        .as_array()
        .expect("deleted")
        .iter()
        .filter_map(|d| d["tag_name"].as_str())
        .collect();
    assert_eq!(deleted.len(), 2, "{done}");
    assert!(deleted.contains(&"v1.2.0") && deleted.contains(&"v1.9.0"));
    assert!(!exists(&s, "v1.2.0") && !exists(&s, "v1.9.0"));
    assert!(exists(&s, "v1.10.0") && exists(&s, "snapshot"));

    let out = s
        .command(None)
        .args(["db", "history", "acme/tool"])
        .assert()
        .code(0);
    let history = json(&out.get_output().stdout);
    let retention: Vec<&Value> = history
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["metadata"]["recorded_by"] == "retention")
        .collect();
    assert_eq!(retention.len(), 2, "{history}");
    assert!(retention.iter().any(|h| h["version"] == "v1.9.0"
        && h["metadata"]["deleted"][0] == "acme_tool/v1.9.0/tool.tar.gz"));
    let shown = s
        .command(None)
        .args(["db", "show", "acme/tool"])
        .assert()
        .code(0);
    assert_eq!(
        json(&shown.get_output().stdout)["current_version"],
        "v1.10.0"
    );
}

#[test]
fn monitor_download_applies_retention_when_configured() {
    let s = Setup::new(
        SCENARIO,
        &["acme/tool"],
        "  cleanup_old_versions: true\n  keep_versions: 1\n",
    );
    stored(&s, &["v1.8.0", "v1.9.0"]);
    let out = s
        .command(None)
        .args(["monitor", "--download"])
        .assert()
        .code(0);
    let report = json(&out.get_output().stdout);
    let retention = &report["download_results"]["retention"];
    assert_eq!(
        retention["deleted"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    assert!(exists(&s, "v1.10.0"), "the new download is kept");
    assert!(
        s.fake
            .requests()
            .iter()
            .any(|r| r.origin == fake_github::Origin::Assets),
        "the new release was downloaded"
    );
    assert!(!exists(&s, "v1.8.0") && !exists(&s, "v1.9.0"));
}

#[test]
fn a_corrupt_database_stops_cleanup_before_anything_is_deleted() {
    let s = Setup::new(SCENARIO, &["acme/tool"], "  keep_versions: 1\n");
    stored(&s, &["v1.8.0", "v1.9.0"]);
    std::fs::write(s.path("version_db.json"), b"{not json").expect("write");
    s.command(None).args(["cleanup"]).assert().code(2);
    assert!(exists(&s, "v1.8.0") && exists(&s, "v1.9.0"));
    assert_eq!(
        std::fs::read(s.path("version_db.json")).expect("read"),
        b"{not json"
    );
}
