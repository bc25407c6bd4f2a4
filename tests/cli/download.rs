//! `release-monitor download` and `monitor --download` against the fake GitHub.

use std::path::PathBuf;

use assert_cmd::Command;
use fake_github::{Origin, Scenario};
use serde_json::Value;

const TOKEN: &str = "ghp_DOWNLOADTOKEN0123456789SECRET";

use crate::support::FakeSetup as Setup;
use crate::support::{files_under, sha256_hex};

impl Setup {
    fn downloads(&self) -> PathBuf {
        self.path("downloads")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(Some(TOKEN));
        cmd.args(args);
        cmd
    }

    fn run(&self, args: &[&str], code: i32) -> Value {
        let out = self
            .cmd(args)
            .assert()
            .code(code)
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).expect("JSON on stdout")
    }

    fn db(&self) -> Value {
        let path = self.path("version_db.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("database parses"),
            Err(_) => Value::Null,
        }
    }
}

const SCENARIO: &str = r#"
token: ghp_DOWNLOADTOKEN0123456789SECRET
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.2.0
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "the tool for linux, version 1.2.0"}
          - {name: tool-darwin-arm64.tar.gz, size: 300000}
  - owner: acme
    repo: secret
    private: true
    releases:
      - tag_name: v0.9.0
        assets:
          - {name: secret.bin, size: 70000}
  - owner: acme
    repo: sums
    releases:
      - tag_name: v3.0.0
        assets:
          - {name: sums-linux.tar.gz, content: "checked by a checksum file", digest: null}
          - {name: SHA256SUMS, content: "CHECKSUMS", digest: null}
"#;

fn scenario_with_sums() -> String {
    let line = format!(
        "{}  sums-linux.tar.gz\n",
        sha256_hex(b"checked by a checksum file")
    );
    SCENARIO.replace("CHECKSUMS", &line.replace('\n', "\\n"))
}

#[test]
fn monitor_download_end_to_end() {
    let s = Setup::new(
        &scenario_with_sums(),
        &["acme/tool", "acme/secret", "acme/sums"],
        "",
    );
    let report = s.run(&["monitor", "--download"], 0);
    let results = &report["download_results"];
    assert_eq!(results["failed"], serde_json::json!([]), "{results}");
    assert_eq!(
        results["downloaded"].as_array().map(Vec::len),
        Some(3),
        "{results}"
    );
    // The seed layout, with sidecars.
    let files = files_under(&s.downloads());
    assert_eq!(
        files,
        [
            "acme_secret/v0.9.0/secret.bin",
            "acme_secret/v0.9.0/secret.bin.sha256",
            "acme_sums/v3.0.0/SHA256SUMS",
            "acme_sums/v3.0.0/SHA256SUMS.sha256",
            "acme_sums/v3.0.0/sums-linux.tar.gz",
            "acme_sums/v3.0.0/sums-linux.tar.gz.sha256",
            "acme_tool/v1.2.0/tool-darwin-arm64.tar.gz",
            "acme_tool/v1.2.0/tool-darwin-arm64.tar.gz.sha256",
            "acme_tool/v1.2.0/tool-linux-amd64.tar.gz",
            "acme_tool/v1.2.0/tool-linux-amd64.tar.gz.sha256",
        ]
    );
    let body = std::fs::read(
        s.downloads()
            .join("acme_tool/v1.2.0/tool-linux-amd64.tar.gz"),
    )
    .expect("stored file");
    assert_eq!(body, b"the tool for linux, version 1.2.0");
    let sidecar = std::fs::read_to_string(
        s.downloads()
            .join("acme_tool/v1.2.0/tool-linux-amd64.tar.gz.sha256"),
    )
    .expect("sidecar");
    assert_eq!(
        sidecar,
        format!("{}  tool-linux-amd64.tar.gz\n", sha256_hex(&body))
    );
    // The database records each file, and how it was verified.
    let db = s.db();
    let tool = &db["repositories"]["acme/tool"];
    assert_eq!(tool["current_version"], "v1.2.0");
    let entry = &tool["download_history"][0];
    assert_eq!(entry["metadata"]["files"][0]["verified_by"], "digest");
    assert_eq!(entry["metadata"]["files"][0]["sha256"], sha256_hex(&body));
    let sums = &db["repositories"]["acme/sums"]["download_history"][0]["metadata"]["files"];
    let by_name = |n: &str| {
        sums.as_array()
            .and_then(|a| a.iter().find(|f| f["name"] == n))
            .map(|f| f["verified_by"].clone())
    };
    assert_eq!(
        by_name("sums-linux.tar.gz"),
        Some(Value::from("checksum-file"))
    );
    // The private repository's asset came through with the token; the asset host never saw it.
    let assets: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Assets)
        .collect();
    assert!(!assets.is_empty());
    for r in &assets {
        assert_eq!(r.header("authorization"), None, "token sent to {}", r.path);
    }
    // A second run finds nothing new and downloads nothing.
    s.fake.clear_requests();
    let again = s.run(&["monitor", "--download"], 0);
    assert_eq!(again["new_releases_found"], 0);
    assert!(s.fake.requests().iter().all(|r| r.origin == Origin::Api));
}

#[test]
fn a_wrong_digest_is_rejected_with_no_file_and_no_record() {
    let scenario = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: tool.tar.gz, content: "real bytes", digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}
"#;
    let s = Setup::new(scenario, &["acme/tool"], "");
    let report = s.run(&["monitor", "--download"], 1);
    let failed = &report["download_results"]["failed"];
    assert!(
        failed[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("0000000000")),
        "{failed}"
    );
    assert_eq!(files_under(&s.downloads()), Vec::<String>::new());
    assert!(s.db()["repositories"].get("acme/tool").is_none());
    // It was downloaded twice (once more from scratch), then given up.
    let fetches = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Assets)
        .count();
    assert_eq!(fetches, 2);
}

#[test]
fn a_cut_transfer_is_resumed_with_range() {
    let scenario = format!(
        "{SCENARIO}faults:\n  - path_prefix: /download/\n    origin: assets\n    truncate_after: 30000\n    times: 1\n"
    );
    let s = Setup::new(&scenario, &["acme/secret"], "");
    let report = s.run(&["monitor", "--download"], 0);
    assert_eq!(
        report["download_results"]["downloaded"][0]["files"][0]["how"],
        "resumed"
    );
    let assets: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Assets)
        .collect();
    assert_eq!(
        assets.len(),
        2,
        "{:?}",
        assets.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(assets[0].header("range"), None);
    let range = assets[1]
        .header("range")
        .expect("the second request resumes");
    let start: u64 = range
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .expect("bytes=N-");
    assert!(start > 0 && start <= 30_000, "{range}");
    assert_eq!(assets[1].status, 206);
    let stored = std::fs::read(s.downloads().join("acme_secret/v0.9.0/secret.bin")).expect("file");
    assert_eq!(stored.len(), 70_000);
    let db = s.db();
    assert_eq!(
        db["repositories"]["acme/secret"]["download_history"][0]["metadata"]["files"][0]["sha256"],
        sha256_hex(&stored)
    );
}

#[test]
fn server_errors_are_retried() {
    let scenario = format!(
        "{SCENARIO}faults:\n  - path_prefix: /download/\n    origin: assets\n    responses: [503, 503]\n"
    );
    let s = Setup::new(&scenario, &["acme/secret"], "");
    let report = s.run(&["monitor", "--download"], 0);
    assert_eq!(
        report["download_results"]["downloaded"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn hostile_asset_names_fail_alone_and_nothing_escapes() {
    let scenario = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: cli/v1.0.0
        assets:
          - {name: "../../escaped.txt", content: "evil"}
          - {name: "ok.txt", content: "fine"}
"#;
    let s = Setup::new(scenario, &["acme/tool"], "");
    let report = s.run(&["monitor", "--download"], 1);
    let failed = &report["download_results"]["failed"];
    assert_eq!(failed[0]["asset"], "../../escaped.txt", "{failed}");
    assert!(!s.dir.path().join("escaped.txt").exists());
    assert!(!s.downloads().join("escaped.txt").exists());
    // The tag is one folder, percent-encoded.
    assert!(s.downloads().join("acme_tool/cli%2Fv1.0.0/ok.txt").exists());
    // The release is not recorded: one of its assets failed.
    assert!(s.db()["repositories"].get("acme/tool").is_none());
    // The next run re-verifies the stored file instead of fetching it again.
    s.fake.clear_requests();
    let again = s.run(&["monitor", "--download"], 1);
    let failed = again["download_results"]["failed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(failed.len(), 1);
    assert!(
        s.fake.requests().iter().all(|r| r.origin == Origin::Api),
        "ok.txt was not fetched again"
    );
}

#[test]
fn dry_run_writes_nothing() {
    let s = Setup::new(&scenario_with_sums(), &["acme/tool", "acme/sums"], "");
    let report = s.run(&["monitor", "--download", "--dry-run"], 0);
    let planned = report["download_results"]["planned"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(planned.len(), 4, "{planned:?}");
    assert!(planned.iter().all(|p| p["destination"].as_str().is_some()));
    assert!(!s.downloads().exists());
    assert_eq!(s.db(), Value::Null);
}

#[test]
fn download_reads_a_report_from_stdin() {
    let s = Setup::new(
        SCENARIO,
        &["acme/tool"],
        "  asset_patterns: [\"*linux*\"]\n",
    );
    let report = s
        .cmd(&["monitor"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = s
        .cmd(&["download"])
        .write_stdin(report.clone())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let result: Value = serde_json::from_slice(&out).expect("JSON");
    let files = &result["downloaded"][0]["files"];
    assert_eq!(files.as_array().map(Vec::len), Some(1), "{result}");
    assert_eq!(files[0]["name"], "tool-linux-amd64.tar.gz");
    // Already held now: skipped with the reason.
    let out = s
        .cmd(&["download", "--input", "-"])
        .write_stdin(report)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let again: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(again["downloaded"], serde_json::json!([]));
    assert!(
        again["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not new")),
        "{again}"
    );
}

#[test]
fn an_identical_file_already_stored_is_hard_linked_not_downloaded() {
    let first = r#"
repositories:
  - owner: acme
    repo: a
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: shared-lib.tar.gz, content: "the same bytes in two projects"}
  - owner: acme
    repo: b
    releases: []
"#;
    let s = Setup::new(first, &["acme/a", "acme/b"], "");
    s.run(&["monitor", "--download"], 0);
    let second = first.replace(
        "    releases: []\n",
        "    releases:\n      - tag_name: v2.0.0\n        assets:\n          - {name: vendored.tar.gz, content: \"the same bytes in two projects\"}\n",
    );
    s.fake
        .set_scenario(Scenario::from_yaml(&second).expect("scenario parses"));
    s.fake.clear_requests();
    let report = s.run(&["monitor", "--download"], 0);
    let results = &report["download_results"];
    assert_eq!(
        results["downloaded"][0]["files"][0]["how"], "hard-linked",
        "{results}"
    );
    assert_eq!(results["bytes_deduplicated"], 30);
    use std::os::unix::fs::MetadataExt;
    let a = std::fs::metadata(s.downloads().join("acme_a/v1.0.0/shared-lib.tar.gz")).expect("a");
    let b = std::fs::metadata(s.downloads().join("acme_b/v2.0.0/vendored.tar.gz")).expect("b");
    assert_eq!((a.dev(), a.ino()), (b.dev(), b.ino()), "the same inode");
    assert!(
        s.fake.requests().iter().all(|r| r.origin == Origin::Api),
        "no asset bytes were fetched"
    );
    assert!(
        s.downloads()
            .join("acme_b/v2.0.0/vendored.tar.gz.sha256")
            .exists()
    );
    assert_eq!(
        s.db()["repositories"]["acme/b"]["download_history"][0]["metadata"]["files"][0]["verified_by"],
        "digest"
    );
}

#[test]
fn a_release_with_no_matching_asset_falls_back_to_its_source_tarball() {
    let scenario = r#"
repositories:
  - owner: acme
    repo: src
    releases:
      - tag_name: v0.1.0
        assets:
          - {name: notes.txt, content: "not wanted"}
"#;
    let s = Setup::new(
        scenario,
        &["acme/src"],
        "  asset_patterns: [\"*.tar.gz\"]\n",
    );
    let report = s.run(&["monitor", "--download"], 0);
    let files = &report["download_results"]["downloaded"][0]["files"];
    assert_eq!(files[0]["name"], "acme_src-v0.1.0.tar.gz", "{report}");
    assert_eq!(files[0]["verified_by"], "none");
    let path = s.downloads().join("acme_src/v0.1.0/acme_src-v0.1.0.tar.gz");
    let bytes = std::fs::read(&path).expect("tarball stored");
    assert!(!bytes.is_empty());
    assert!(
        s.downloads()
            .join("acme_src/v0.1.0/acme_src-v0.1.0.tar.gz.sha256")
            .exists()
    );
    assert!(!s.downloads().join("acme_src/v0.1.0/notes.txt").exists());
    // With source archives off, the release is skipped with the reason instead.
    let s = Setup::new(
        scenario,
        &["acme/src"],
        "  asset_patterns: [\"*.tar.gz\"]\n  source_archives: {enabled: false}\n",
    );
    let report = s.run(&["monitor", "--download"], 0);
    assert!(
        report["download_results"]["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no asset matches")),
        "{report}"
    );
}

#[test]
fn verification_require_fails_assets_without_an_upstream_checksum() {
    let scenario = r#"
repositories:
  - owner: acme
    repo: old
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: old.tar.gz, content: "uploaded before digests existed", digest: null}
"#;
    let s = Setup::new(scenario, &["acme/old"], "  verification: {require: true}\n");
    let report = s.run(&["monitor", "--download"], 1);
    let failed = &report["download_results"]["failed"][0];
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("verification.require")),
        "{failed}"
    );
    assert!(!s.downloads().join("acme_old/v1.0.0/old.tar.gz").exists());
    // Without it, the asset is stored and recorded as unverified.
    let s = Setup::new(scenario, &["acme/old"], "");
    s.run(&["monitor", "--download"], 0);
    assert_eq!(
        s.db()["repositories"]["acme/old"]["download_history"][0]["metadata"]["files"][0]["verified_by"],
        "none"
    );
}

#[test]
fn two_files_with_one_digest_in_one_run_are_fetched_once() {
    // The same bytes attached twice to one release and once to another repository's release:
    // whichever transfer starts first fetches them; the others wait for it and link it.
    let twins = r#"
repositories:
  - owner: acme
    repo: twins
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: a.tar.gz, content: "the same bytes, three times over"}
          - {name: b.tar.gz, content: "the same bytes, three times over"}
  - owner: acme
    repo: cousin
    releases:
      - tag_name: v2.0.0
        assets:
          - {name: c.tar.gz, content: "the same bytes, three times over"}
"#;
    let s = Setup::new(twins, &["acme/twins", "acme/cousin"], "  concurrency: 8\n");
    let report = s.run(&["monitor", "--download"], 0);
    let results = &report["download_results"];
    let how: Vec<String> = results["downloaded"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["files"].as_array().cloned().unwrap_or_default())
        .map(|f| f["how"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(how.len(), 3, "{results}");
    assert_eq!(
        how.iter().filter(|h| *h == "downloaded").count(),
        1,
        "{how:?}"
    );
    assert_eq!(
        how.iter().filter(|h| *h == "hard-linked").count(),
        2,
        "{how:?}"
    );
    let fetched = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.origin == Origin::Assets && r.path.starts_with("/download/"))
        .count();
    assert_eq!(fetched, 1, "one transfer for the three files");
    assert_eq!(results["bytes_deduplicated"], 64);
}

#[test]
fn upstream_names_like_our_own_files_are_mirrored_as_they_are() {
    // `tool.bin.part` is an upstream file here, not the part file of `tool.bin` (ours is
    // `.tool.bin.part`); a name starting with a dot is refused, as GitHub never gives one.
    let release = fake_github::Release::new("v1.0.0")
        .with_asset(fake_github::Asset::with_content("tool.bin", "the tool"))
        .with_asset(fake_github::Asset::with_content(
            "tool.bin.part",
            "an upstream file",
        ))
        .with_asset(fake_github::Asset::with_content(".hidden", "dot"));
    let scenario = fake_github::Scenario::default()
        .with_repository(fake_github::Repository::new("acme", "tool").with_release(release))
        .to_yaml()
        .unwrap();
    let s = crate::support::FakeSetup::new(&scenario, &["acme/tool"], "");
    let out = s
        .command(None)
        .args(["monitor", "--download"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let dir = s.path("downloads/acme_tool/v1.0.0");
    assert_eq!(std::fs::read(dir.join("tool.bin")).unwrap(), b"the tool");
    assert_eq!(
        std::fs::read(dir.join("tool.bin.part")).unwrap(),
        b"an upstream file"
    );
    assert!(
        !dir.join(".tool.bin.part").exists(),
        "ours is gone once committed"
    );
    let failed = report["download_results"]["failed"].to_string();
    assert!(
        failed.contains(".hidden") && failed.contains("starts with a dot"),
        "{report}"
    );
    assert!(!dir.join(".hidden").exists());
}

#[test]
fn a_published_sha256_file_keeps_its_name_and_our_sidecar_steps_aside() {
    // The release publishes `tool.tar.gz.sha256` (hash only, its own format). It is mirrored as
    // it is; our sidecar for `tool.tar.gz` is `.tool.tar.gz.sha256`, never over it.
    let tool = b"the tool's bytes".to_vec();
    let published = format!("{}\n", sha256_hex(&tool));
    let release = fake_github::Release::new("v1.0.0")
        .with_asset(fake_github::Asset::with_bytes("tool.tar.gz", &tool))
        .with_asset(fake_github::Asset::with_content(
            "tool.tar.gz.sha256",
            &published,
        ));
    let scenario = Scenario::default()
        .with_repository(fake_github::Repository::new("acme", "tool").with_release(release))
        .to_yaml()
        .unwrap();
    let s = Setup::new(&scenario, &["acme/tool"], "");
    let run = || {
        let out = s
            .command(None)
            .args(["monitor", "--download"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON")
    };
    let first = run();
    let dir = s.path("downloads/acme_tool/v1.0.0");
    assert_eq!(std::fs::read(dir.join("tool.tar.gz")).unwrap(), tool);
    assert_eq!(
        std::fs::read_to_string(dir.join("tool.tar.gz.sha256")).unwrap(),
        published,
        "upstream's file, untouched: {first}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".tool.tar.gz.sha256")).unwrap(),
        format!("{}  tool.tar.gz\n", sha256_hex(&tool))
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("tool.tar.gz.sha256.sha256")).unwrap(),
        format!("{}  tool.tar.gz.sha256\n", sha256_hex(published.as_bytes()))
    );
    // Forgotten and run again: both are kept as they are, nothing is fetched.
    s.command(None)
        .args(["-q", "db", "forget", "acme/tool"])
        .assert()
        .success();
    let again = run();
    let hows: Vec<&str> = again["download_results"]["downloaded"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["how"].as_str().unwrap())
        .collect();
    assert_eq!(hows, ["already-present", "already-present"], "{again}");
    assert_eq!(
        std::fs::read_to_string(dir.join("tool.tar.gz.sha256")).unwrap(),
        published
    );
}
