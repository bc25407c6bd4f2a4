//! Configuration keys shown end to end: each test runs the binary against the fake GitHub with
//! one key set and asserts what it changes (the key audit of issue 15: no key without an
//! effect that a test shows). Keys whose effect other files already show end to end are not
//! repeated here.

use std::collections::BTreeSet;

use fake_github::{Asset, Origin, Release, Repository, Scenario};
use serde_json::Value;

use crate::support::FakeSetup;

const TOKEN: &str = "ghp_ConfigEffectsToken0123456789";

/// `monitor --download` with the token; the exit code must be `code`; the JSON report.
fn run(s: &FakeSetup, args: &[&str], code: i32) -> Value {
    let out = s
        .command(Some(TOKEN))
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The files stored under `downloads/{owner}_{repo}/{tag}/`, without sidecars.
fn stored(s: &FakeSetup, folder: &str) -> BTreeSet<String> {
    let dir = s.path("downloads").join(folder);
    std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.ends_with(".sha256"))
                .collect()
        })
        .unwrap_or_default()
}

fn set<const N: usize>(names: [&str; N]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Replaces the config's entry for `owner/repo` (as `FakeSetup::new` wrote it) with `entry`.
fn with_entry(s: &FakeSetup, repo: &str, entry: &str) {
    let (o, n) = repo.split_once('/').expect("owner/repo");
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    let line = format!("  - {{owner: {o}, repo: {n}}}\n");
    assert!(text.contains(&line));
    std::fs::write(&path, text.replacen(&line, &format!("  - {entry}\n"), 1)).expect("write");
}

/// The tag `monitor` reports for `acme/tool` of `scenario`, with `extra` config and, if given,
/// the repository's entry replaced by `entry`.
fn newest_tag(scenario: &str, extra: &str, entry: Option<&str>) -> String {
    let s = FakeSetup::new(scenario, &["acme/tool"], extra);
    if let Some(entry) = entry {
        with_entry(&s, "acme/tool", entry);
    }
    let report = run(&s, &["monitor"], 0);
    report["releases"][0]["tag_name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn two_repos() -> String {
    let release = |repo: &str| {
        Repository::new("acme", repo).with_release(
            Release::new("v1.0.0")
                .with_asset(Asset::with_content(format!("{repo}-linux.tar.gz"), repo))
                .with_asset(Asset::with_content(format!("{repo}-arm64.tar.gz"), repo))
                .with_asset(Asset::with_content(format!("{repo}.zip"), repo)),
        )
    };
    Scenario::default()
        .with_repository(release("one"))
        .with_repository(release("two"))
        .to_yaml()
        .expect("yaml")
}

#[test]
fn download_enabled_false_globally_or_per_repository_skips_the_download() {
    let s = FakeSetup::new(&two_repos(), &["acme/one", "acme/two"], "");
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        text.replacen("  enabled: true\n", "  enabled: false\n", 1),
    )
    .expect("write");
    let report = run(&s, &["monitor", "--download"], 0);
    let skipped = report["download_results"]["skipped"].to_string();
    assert!(skipped.contains("download.enabled"), "{report}");
    assert!(!s.path("downloads").exists(), "nothing stored");
    assert!(!s.path("version_db.json").exists(), "nothing recorded");

    // On globally, off for one repository: only the other is downloaded.
    let s = FakeSetup::new(&two_repos(), &["acme/one", "acme/two"], "");
    with_entry(
        &s,
        "acme/one",
        "{owner: acme, repo: one, download: {enabled: false}}",
    );
    let report = run(&s, &["monitor", "--download"], 0);
    assert!(stored(&s, "acme_one/v1.0.0").is_empty(), "{report}");
    assert_eq!(stored(&s, "acme_two/v1.0.0").len(), 3, "{report}");
}

#[test]
fn filters_repository_assets_and_overrides_select_the_assets() {
    // The plan's `filters` (a pattern, an exclusion) for every repository; one repository's own
    // `download.assets` replaces them; an override's `asset_patterns` replaces both.
    let s = FakeSetup::new(
        &two_repos(),
        &["acme/one", "acme/two"],
        "  filters:\n    - pattern: \"*.tar.gz\"\n    - exclude: \"*arm64*\"\n",
    );
    with_entry(
        &s,
        "acme/two",
        "{owner: acme, repo: two, download: {assets: [{pattern: \"*.zip\"}]}}",
    );
    run(&s, &["monitor", "--download"], 0);
    assert_eq!(stored(&s, "acme_one/v1.0.0"), set(["one-linux.tar.gz"]));
    assert_eq!(stored(&s, "acme_two/v1.0.0"), set(["two.zip"]));

    let s = FakeSetup::new(
        &two_repos(),
        &["acme/one"],
        "  filters: [\"*.zip\"]\n  repository_overrides:\n    acme/one: {asset_patterns: [\"*arm64*\"]}\n",
    );
    run(&s, &["monitor", "--download"], 0);
    assert_eq!(stored(&s, "acme_one/v1.0.0"), set(["one-arm64.tar.gz"]));
}

#[test]
fn source_archives_prefer_zipball_or_both() {
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "src").with_release(
            Release::new("v0.1.0").with_asset(Asset::with_content("notes.txt", "not wanted")),
        ))
        .to_yaml()
        .expect("yaml");
    for (prefer, expected) in [
        ("zipball", set(["acme_src-v0.1.0.zip"])),
        (
            "both",
            set(["acme_src-v0.1.0.tar.gz", "acme_src-v0.1.0.zip"]),
        ),
    ] {
        let s = FakeSetup::new(
            &scenario,
            &["acme/src"],
            &format!("  asset_patterns: [\"*.tar.gz\"]\n  source_archives: {{prefer: {prefer}}}\n"),
        );
        let report = run(&s, &["monitor", "--download"], 0);
        assert_eq!(
            stored(&s, "acme_src/v0.1.0"),
            expected,
            "{prefer}: {report}"
        );
        // The zipball came from the archive endpoint, as GitHub serves it.
        assert!(
            !s.fake
                .requests()
                .iter()
                .filter(|r| r.path.contains("zipball"))
                .collect::<Vec<_>>()
                .is_empty()
        );
    }
}

#[test]
fn retry_max_attempts_is_the_number_of_tries() {
    let fives = ["500"; 20].join(", ");
    let scenario = format!(
        "repositories:\n  - owner: acme\n    repo: tool\n    releases:\n      - tag_name: v1.0.0\n        \
         assets:\n          - {{name: tool.bin, content: the tool, id: 7777}}\n\
         faults:\n  - path: /repos/acme/tool/releases/assets/7777\n    responses: [{fives}]\n"
    );
    for attempts in [2, 5] {
        let s = FakeSetup::new(&scenario, &["acme/tool"], "");
        let path = s.path("config.yaml");
        let text = std::fs::read_to_string(&path).expect("config");
        std::fs::write(
            &path,
            text.replace(
                "retry: {max_attempts: 3, delay: 0.05}",
                &format!("retry: {{max_attempts: {attempts}, delay: 0.01}}"),
            ),
        )
        .expect("write");
        let report = run(&s, &["monitor", "--download"], 1);
        let hits = s
            .fake
            .requests()
            .iter()
            .filter(|r| r.origin == Origin::Api && r.path.ends_with("/assets/7777"))
            .count();
        assert_eq!(hits, attempts, "{report}");
        assert!(
            report.to_string().contains(&format!("{attempts} attempt")),
            "{report}"
        );
    }
}

#[test]
fn version_strategy_and_strict_prerelease_filtering_choose_the_release() {
    // GitHub marks none of these as a prerelease; `2.0.0-rc.1` is one by its version.
    let scenario = Scenario::default()
        .with_repository(
            Repository::new("acme", "tool")
                .with_release(Release::new("2.0.0-rc.1").with_asset(Asset::with_content("t", "rc")))
                .with_release(Release::new("1.9.0").with_asset(Asset::with_content("t", "1.9"))),
        )
        .to_yaml()
        .expect("yaml");
    let newest = |extra: &str, entry: Option<&str>| newest_tag(&scenario, extra, entry);
    assert_eq!(newest("", None), "2.0.0-rc.1");
    assert_eq!(
        newest("  strict_prerelease_filtering: true\n", None),
        "1.9.0"
    );
    assert_eq!(
        newest(
            "",
            Some("{owner: acme, repo: tool, strict_prerelease_filtering: true}")
        ),
        "1.9.0"
    );
    // Strict, but prereleases wanted for this repository: the candidate is back.
    assert_eq!(
        newest(
            "  strict_prerelease_filtering: true\n",
            Some("{owner: acme, repo: tool, include_prereleases: true}")
        ),
        "2.0.0-rc.1"
    );
}

#[test]
fn a_version_strategy_decides_which_tag_is_newest() {
    // v1.0.0 was published after v2.0.0 (a backport): by version v2.0.0 is newest, by date
    // v1.0.0; a per-repository strategy beats the global one.
    let scenario = Scenario::default()
        .with_repository(
            Repository::new("acme", "tool")
                .with_release(Release::new("v1.0.0").with_asset(Asset::with_content("t", "1")))
                .with_release(Release::new("v2.0.0").with_asset(Asset::with_content("t", "2"))),
        )
        .to_yaml()
        .expect("yaml");
    let newest = |extra: &str, entry: Option<&str>| newest_tag(&scenario, extra, entry);
    assert_eq!(newest("  version_strategy: semver\n", None), "v2.0.0");
    assert_eq!(newest("  version_strategy: date\n", None), "v1.0.0");
    assert_eq!(
        newest(
            "  version_strategy: semver\n",
            Some("{owner: acme, repo: tool, version_strategy: date}")
        ),
        "v1.0.0"
    );
}

#[test]
fn extract_limits_from_the_config_stop_an_archive_that_exceeds_them() {
    use std::io::Write;
    let mut builder = tar::Builder::new(Vec::new());
    for name in ["a.txt", "b.txt", "c.txt"] {
        let mut h = tar::Header::new_ustar();
        h.set_path(name).expect("path");
        h.set_size(4);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append(&h, &b"data"[..]).expect("append");
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&builder.into_inner().expect("tar"))
        .expect("gz");
    let archive = gz.finish().expect("gz");
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(
            Release::new("v1.0.0").with_asset(Asset::with_bytes("three.tar.gz", &archive)),
        ))
        .to_yaml()
        .expect("yaml");
    for (max_files, extracted) in [(3, true), (2, false)] {
        let s = FakeSetup::new(
            &scenario,
            &["acme/tool"],
            &format!(
                "  post_download: {{extract: true, extract_limits: {{max_files: {max_files}}}}}\n"
            ),
        );
        let report = run(
            &s,
            &["monitor", "--download"],
            if extracted { 0 } else { 1 },
        );
        let folder = s.path("downloads/acme_tool/v1.0.0/three");
        assert_eq!(folder.join("c.txt").is_file(), extracted, "{report}");
        if !extracted {
            assert!(report.to_string().contains("files"), "{report}");
        }
    }
}

#[test]
fn ssl_cert_file_is_trusted_when_the_config_names_no_ca() {
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(
            Release::new("v1.0.0").with_asset(Asset::with_content("tool.bin", "the tool")),
        ))
        .to_yaml()
        .expect("yaml");
    let s = FakeSetup::new(&scenario, &["acme/tool"], "");
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("  ca_cert:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, text).expect("write");
    // Without it the fake's test CA is unknown: the check fails.
    let report = run(&s, &["monitor"], 1);
    assert!(
        report["errors"].to_string().contains("certificate"),
        "{report}"
    );
    let out = s
        .command(Some(TOKEN))
        .env("SSL_CERT_FILE", s.fake.ca_cert_path())
        .args(["monitor"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["releases"][0]["tag_name"], "v1.0.0");
}

#[test]
fn download_concurrency_bounds_the_transfers_at_once() {
    // Every answer takes LATENCY: one transfer at a time spaces the downloads by at least two
    // answers (the API's redirect, then the bytes); four at once start together.
    const LATENCY: std::time::Duration = std::time::Duration::from_millis(400);
    let mut release = Release::new("v1.0.0");
    for i in 0..4 {
        release = release.with_asset(Asset::with_content(
            format!("part{i}.bin"),
            format!("part {i}"),
        ));
    }
    let scenario =
        Scenario::default().with_repository(Repository::new("acme", "tool").with_release(release));
    let starts = |concurrency: usize| {
        let fake = fake_github::FakeGithub::start_with(
            scenario.clone(),
            fake_github::Options {
                latency: LATENCY,
                ..fake_github::Options::default()
            },
        )
        .expect("fake starts");
        let s = FakeSetup::around(
            fake,
            &["acme/tool"],
            &format!("  concurrency: {concurrency}\n  segments: {{connections: 1}}\n"),
        );
        run(&s, &["monitor", "--download"], 0);
        let mut at: Vec<std::time::SystemTime> = s
            .fake
            .requests()
            .iter()
            .filter(|r| r.origin == Origin::Assets && r.path.starts_with("/download/"))
            .map(|r| r.received_at)
            .collect();
        at.sort();
        assert_eq!(at.len(), 4);
        at
    };
    let one = starts(1);
    for pair in one.windows(2) {
        let gap = pair[1].duration_since(pair[0]).expect("ordered");
        assert!(gap >= 2 * LATENCY, "one at a time, yet {gap:?} apart");
    }
    let four = starts(4);
    let span = four[3].duration_since(four[0]).expect("ordered");
    // One at a time they would span at least 3 × 2 × LATENCY (2.4 s).
    assert!(span < 3 * LATENCY, "four at once, yet spread over {span:?}");
}

#[test]
fn a_repository_description_travels_with_its_release() {
    let hook = crate::support::receivers::HttpReceiver::start();
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(
            Release::new("v1.0.0").with_asset(Asset::with_content("tool.bin", "the tool")),
        ))
        .to_yaml()
        .expect("yaml");
    let s = FakeSetup::new(
        &scenario,
        &["acme/tool"],
        &format!(
            "notify:\n  webhooks:\n    - url: \"{}\"\n",
            hook.url("/hook")
        ),
    );
    with_entry(
        &s,
        "acme/tool",
        "{owner: acme, repo: tool, description: \"the acme tool\"}",
    );
    let report = run(&s, &["monitor"], 0);
    assert_eq!(report["releases"][0]["description"], "the acme tool");
    let sent = hook.to("/hook");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json()["found"][0]["description"], "the acme tool");
    // Without one, the report has no such key (the seed tool's shape).
    let s = FakeSetup::new(&scenario, &["acme/tool"], "");
    let report = run(&s, &["monitor"], 0);
    assert!(
        report["releases"][0].get("description").is_none(),
        "{report}"
    );
}

#[test]
fn the_s3_region_signs_the_requests() {
    // A recording server stands in for the S3 endpoint: the region is in every request's
    // SigV4 credential scope. `AWS_REGION` wins over the file.
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(
            Release::new("v1.0.0").with_asset(Asset::with_content("tool.bin", "the tool")),
        ))
        .to_yaml()
        .expect("yaml");
    for (env_region, expected) in [(None, "eu-west-3"), (Some("ap-south-1"), "ap-south-1")] {
        let endpoint = crate::support::receivers::HttpReceiver::start();
        let s = FakeSetup::new(
            &scenario,
            &["acme/tool"],
            &format!(
                "  s3_storage: {{enabled: true, bucket: mirror, region: eu-west-3, endpoint_url: \"{}\"}}\n",
                endpoint.url("")
            ),
        );
        let mut cmd = s.command(Some(TOKEN));
        for var in [
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "S3_ENDPOINT",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL",
            "AWS_SESSION_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ACCESS_KEY_ID", "AKIAREGIONTEST")
            .env("AWS_SECRET_ACCESS_KEY", "region-test-secret");
        if let Some(r) = env_region {
            cmd.env("AWS_REGION", r);
        }
        // The stand-in answers "ok" to everything, which is not S3: the outcome does not
        // matter here, only what was signed.
        cmd.args(["monitor", "--download"]).output().expect("runs");
        let requests = endpoint.requests();
        assert!(!requests.is_empty(), "nothing reached the S3 endpoint");
        for r in &requests {
            let auth = r.header("authorization").unwrap_or_default();
            assert!(
                auth.contains(&format!("/{expected}/s3/aws4_request")),
                "{} {}: {auth}",
                r.method,
                r.path
            );
        }
    }
}

#[test]
fn pep440_orders_epochs_post_releases_and_local_versions() {
    // Under PEP 440 the epoch wins; `auto` cannot read it and keeps the largest number.
    let scenario = Scenario::default()
        .with_repository(
            Repository::new("acme", "tool")
                .with_release(Release::new("2.0.post1").with_asset(Asset::with_content("t", "a")))
                .with_release(Release::new("1!0.9").with_asset(Asset::with_content("t", "b")))
                .with_release(Release::new("2.0").with_asset(Asset::with_content("t", "c"))),
        )
        .to_yaml()
        .expect("yaml");
    let newest = |strategy: &str| {
        newest_tag(
            &scenario,
            &format!("  version_strategy: {strategy}\n"),
            None,
        )
    };
    assert_eq!(newest("pep440"), "1!0.9");
    assert_ne!(newest("auto"), "1!0.9");
}

#[test]
fn minimum_release_age_holds_a_young_release_as_pending() {
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let scenario = format!(
        "repositories:\n  - owner: acme\n    repo: tool\n    releases:\n      \
         - {{tag_name: v2.0.0, published_at: \"{an_hour_ago}\", assets: [{{name: t, content: two}}]}}\n      \
         - {{tag_name: v1.0.0, published_at: \"2024-01-01T00:00:00Z\", assets: [{{name: t, content: one}}]}}\n"
    );
    let s = FakeSetup::new(
        &scenario,
        &["acme/tool"],
        "settings:\n  minimum_release_age: 1d\n",
    );
    let out = s
        .command(Some(TOKEN))
        .args(["monitor", "--download", "--explain"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The older release is adopted; the young one waits, with the time it becomes eligible.
    assert_eq!(report["releases"][0]["tag_name"], "v1.0.0", "{report}");
    let pending = &report["pending"][0];
    assert_eq!(pending["tag_name"], "v2.0.0", "{report}");
    let eligible = chrono::DateTime::parse_from_rfc3339(pending["eligible_at"].as_str().unwrap())
        .expect("RFC 3339");
    let published = chrono::DateTime::parse_from_rfc3339(&an_hour_ago).unwrap();
    assert_eq!(eligible - published, chrono::Duration::days(1));
    assert!(
        stderr.contains("hold v2.0.0") && stderr.contains("minimum_release_age 1day"),
        "{stderr}"
    );
    assert_eq!(stored(&s, "acme_tool/v1.0.0"), set(["t"]));
    assert!(stored(&s, "acme_tool/v2.0.0").is_empty());

    // Next run: v1.0.0 is held, v2.0.0 still pending (and still reported as such).
    let report = run(&s, &["monitor"], 0);
    assert_eq!(report["releases"], serde_json::json!([]), "{report}");
    assert_eq!(report["pending"][0]["current_version"], "v1.0.0");

    // A repository's own `minimum_release_age: 0` lifts the cooldown for it.
    with_entry(
        &s,
        "acme/tool",
        "{owner: acme, repo: tool, minimum_release_age: 0}",
    );
    let report = run(&s, &["monitor"], 0);
    assert_eq!(report["releases"][0]["tag_name"], "v2.0.0", "{report}");
    assert!(report.get("pending").is_none(), "{report}");
}

#[test]
fn a_tag_only_project_is_mirrored_from_its_newest_tag() {
    // No releases at all: tags only (the newest by version, not by position), with a commit.
    let scenario = r#"
repositories:
  - owner: nginx
    repo: nginx
    tags:
      - {name: release-1.27.0, commit_sha: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
      - {name: release-1.27.10, commit_sha: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}
      - {name: release-1.28.0-rc1}
      - {name: release-1.26.3}
"#;
    let s = FakeSetup::new(scenario, &["nginx/nginx"], "");
    with_entry(
        &s,
        "nginx/nginx",
        "{owner: nginx, repo: nginx, source: tags}",
    );
    let report = run(&s, &["monitor", "--download"], 0);
    let release = &report["releases"][0];
    assert_eq!(release["tag_name"], "release-1.27.10", "{report}");
    assert_eq!(
        release["commit"],
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    );
    // Its source archive is the asset.
    assert_eq!(
        stored(&s, "nginx_nginx/release-1.27.10"),
        set(["nginx_nginx-release-1.27.10.tar.gz"]),
        "{report}"
    );
    // The tags were listed over REST, and no release endpoint was asked.
    let requests = s.fake.requests();
    assert!(requests.iter().any(|r| r.path == "/repos/nginx/nginx/tags"));
    assert!(!requests.iter().any(|r| r.path.contains("/releases")));
    // Recorded: the next run finds nothing new.
    let report = run(&s, &["monitor"], 0);
    assert_eq!(report["releases"], serde_json::json!([]), "{report}");
    // Without `source: tags` the project has no release at all.
    let s = FakeSetup::new(scenario, &["nginx/nginx"], "");
    let report = run(&s, &["monitor"], 0);
    assert_eq!(report["releases"], serde_json::json!([]), "{report}");
}
