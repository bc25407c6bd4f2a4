//! The Concourse resource type (`release-monitor concourse check|in|out`, and the binary run as
//! `check`/`in`/`out`) fed Concourse's JSON on stdin, against the fake GitHub.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fake_github::{FakeGithub, Origin, Scenario};
use serde_json::{Value, json};

use crate::support::sha256_hex;

const TOKEN: &str = "ghp_RESOURCETOKEN0123456789SECRET";

/// Releases listed newest-created first, but not in version order: v1.10.0 was published
/// before v1.9.1 (a backport), so `order_by: version` and `order_by: time` differ.
const SCENARIO: &str = r#"
token: ghp_RESOURCETOKEN0123456789SECRET
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v2.0.0-rc.1
        prerelease: true
        published_at: "2024-03-01T00:00:00Z"
        assets:
          - {name: tool-linux.tar.gz, content: "tool 2.0.0-rc.1"}
      - tag_name: v1.9.1
        published_at: "2024-02-20T00:00:00Z"
        body: "Backported fix."
        assets:
          - {name: tool-linux.tar.gz, content: "tool 1.9.1"}
      - tag_name: v1.10.0
        published_at: "2024-02-10T00:00:00Z"
        body: "Ten."
        commit_sha: 0123456789abcdef0123456789abcdef01234567
        assets:
          - {name: tool-linux.tar.gz, content: "tool 1.10.0 for linux"}
          - {name: tool-darwin.tar.gz, content: "tool 1.10.0 for darwin"}
          - {name: tool.sig, content: "signature"}
      - tag_name: v1.2.0
        published_at: "2024-01-05T00:00:00Z"
        assets:
          - {name: tool-linux.tar.gz, content: "tool 1.2.0"}
      - tag_name: nightly
        published_at: "2024-03-02T00:00:00Z"
        assets: []
      - tag_name: v3.0.0
        draft: true
        assets: []
  - owner: acme
    repo: sums
    releases:
      - tag_name: release-5.1
        published_at: "2024-01-01T00:00:00Z"
        assets:
          - {name: sums.bin, content: "checked by a checksum file", digest: null}
          - {name: SHA256SUMS, content: "CHECKSUMS", digest: null}
      - tag_name: release-5.0
        published_at: "2023-12-01T00:00:00Z"
        assets:
          - {name: sums.bin, content: "old", digest: null}
  - owner: acme
    repo: liar
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: liar.bin, content: "the real bytes", digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}
  - owner: acme
    repo: clash
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: version, content: "an asset called version"}
"#;

fn scenario() -> String {
    let line = format!("{}  sums.bin\n", sha256_hex(b"checked by a checksum file"));
    SCENARIO.replace("CHECKSUMS", &line.replace('\n', "\\n"))
}

struct Fake {
    fake: FakeGithub,
}

impl Fake {
    fn start(scenario: &str) -> Fake {
        Fake {
            fake: FakeGithub::start(Scenario::from_yaml(scenario).expect("scenario parses"))
                .expect("fake GitHub starts"),
        }
    }

    /// A source for `owner/repo` on the fake, with its CA given as `ca_cert` (PEM text, as a
    /// pipeline would pass it), plus `extra` keys.
    fn source(&self, repo: &str, extra: Value) -> Value {
        let (owner, name) = repo.split_once('/').expect("owner/repo");
        let mut source = json!({
            "owner": owner,
            "repository": name,
            "access_token": TOKEN,
            "github_api_url": self.fake.api_url(),
            "ca_cert": self.fake.ca_cert_pem(),
        });
        if let (Some(map), Some(more)) = (source.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                map.insert(k.clone(), v.clone());
            }
        }
        source
    }
}

/// The binary with a clean environment: a resource gets everything from its request.
fn resource(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("release-monitor").expect("binary");
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.args(args);
    cmd
}

struct Ran {
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command, request: &Value, code: i32) -> Ran {
    let out = cmd
        .write_stdin(request.to_string())
        .assert()
        .code(code)
        .get_output()
        .clone();
    let ran = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !ran.stdout.contains(TOKEN) && !ran.stderr.contains(TOKEN),
        "the token leaked:\n{}\n{}",
        ran.stdout,
        ran.stderr
    );
    ran
}

fn check(request: Value) -> Vec<String> {
    let ran = run(resource(&["concourse", "check"]), &request, 0);
    let versions: Value = serde_json::from_str(&ran.stdout).expect("JSON on stdout");
    versions
        .as_array()
        .expect("an array of versions")
        .iter()
        .map(|v| {
            assert!(
                v.as_object()
                    .is_some_and(|m| m.values().all(Value::is_string)),
                "Concourse versions are maps of strings: {v}"
            );
            v["tag"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn check_without_a_version_emits_only_the_newest() {
    let f = Fake::start(&scenario());
    let tags = check(json!({"source": f.source("acme/tool", json!({}))}));
    assert_eq!(tags, ["v1.10.0"]);
}

#[test]
fn check_emits_versions_from_the_given_one_on_in_version_order() {
    let f = Fake::start(&scenario());
    let first = run(
        resource(&["concourse", "check"]),
        &json!({"source": f.source("acme/tool", json!({}))}),
        0,
    );
    let latest: Value = serde_json::from_str(&first.stdout).expect("JSON");
    assert_eq!(latest[0]["tag"], "v1.10.0");
    assert!(
        latest[0]["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{latest}"
    );
    assert_eq!(latest[0]["timestamp"], "2024-02-10T00:00:00Z");

    let tags = check(json!({
        "source": f.source("acme/tool", json!({})),
        "version": {"tag": "v1.2.0"},
    }));
    // Oldest first; the prerelease, the draft and the non-version tag `nightly` are left out.
    assert_eq!(tags, ["v1.2.0", "v1.9.1", "v1.10.0"]);
}

#[test]
fn check_with_prereleases_by_time_and_with_a_tag_filter() {
    let f = Fake::start(&scenario());
    let tags = check(json!({
        "source": f.source("acme/tool", json!({"pre_release": true})),
        "version": {"tag": "v1.9.1"},
    }));
    assert_eq!(tags, ["v1.9.1", "v1.10.0", "v2.0.0-rc.1"]);

    let only_pre = check(json!({
        "source": f.source("acme/tool", json!({"pre_release": true, "release": false})),
    }));
    assert_eq!(only_pre, ["v2.0.0-rc.1"]);

    let by_time = check(json!({
        "source": f.source("acme/tool", json!({"order_by": "time"})),
        "version": {"tag": "v1.2.0"},
    }));
    assert_eq!(by_time, ["v1.2.0", "v1.10.0", "v1.9.1"]);

    let filtered = check(json!({
        "source": f.source("acme/tool", json!({"tag_filter": "^v1\\.(\\d+)\\.\\d+$"})),
        "version": {"tag": "v1.2.0"},
    }));
    assert_eq!(filtered, ["v1.2.0", "v1.9.1", "v1.10.0"]);
}

#[test]
fn check_after_a_deleted_version_emits_the_newer_ones() {
    let f = Fake::start(&scenario());
    let tags = check(json!({
        "source": f.source("acme/tool", json!({})),
        "version": {"tag": "v1.5.0", "id": "1"},
    }));
    assert_eq!(tags, ["v1.9.1", "v1.10.0"]);
    let newest_gone = check(json!({
        "source": f.source("acme/tool", json!({})),
        "version": {"tag": "v9.0.0"},
    }));
    assert_eq!(newest_gone, ["v1.10.0"], "falls back to the newest");
}

#[test]
fn check_finds_drafts_only_when_asked_and_with_a_token() {
    let f = Fake::start(&scenario());
    let drafts = check(json!({"source": f.source("acme/tool", json!({"drafts": true}))}));
    assert_eq!(drafts, ["v3.0.0"]);
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("destination exists")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn in_fetches_verified_assets_and_writes_the_metadata_files() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let request = json!({
        "source": f.source("acme/tool", json!({"asset_patterns": ["*.tar.gz"]})),
        "version": {"tag": "v1.10.0"},
        "params": {},
    });
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    let ran = run(resource(&["concourse", "in", dest_arg]), &request, 0);
    let response: Value = serde_json::from_str(&ran.stdout).expect("JSON on stdout");
    assert_eq!(
        response["version"],
        json!({"tag": "v1.10.0"}),
        "echoed as given"
    );
    let metadata: Vec<(String, String)> = response["metadata"]
        .as_array()
        .expect("metadata")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap_or_default().to_string(),
                m["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        metadata.contains(&("tag".into(), "v1.10.0".into())),
        "{metadata:?}"
    );
    assert!(
        metadata.contains(&("files".into(), "2".into())),
        "{metadata:?}"
    );

    assert_eq!(
        files_in(dest.path()),
        [
            "body",
            "commit_sha",
            "tag",
            "timestamp",
            "tool-darwin.tar.gz",
            "tool-darwin.tar.gz.sha256",
            "tool-linux.tar.gz",
            "tool-linux.tar.gz.sha256",
            "url",
            "version",
        ]
    );
    assert_eq!(read(dest.path().join("tag")), "v1.10.0");
    assert_eq!(read(dest.path().join("version")), "1.10.0");
    assert_eq!(read(dest.path().join("body")), "Ten.");
    assert_eq!(read(dest.path().join("timestamp")), "2024-02-10T00:00:00Z");
    assert_eq!(
        read(dest.path().join("commit_sha")),
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        read(dest.path().join("url")),
        "https://github.com/acme/tool/releases/tag/v1.10.0"
    );
    assert_eq!(
        read(dest.path().join("tool-linux.tar.gz")),
        "tool 1.10.0 for linux"
    );
    assert_eq!(
        read(dest.path().join("tool-linux.tar.gz.sha256")),
        format!(
            "{}  tool-linux.tar.gz\n",
            sha256_hex(b"tool 1.10.0 for linux")
        )
    );
    // The asset bytes came from the second origin, without the token.
    let downloads: Vec<_> = f
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Assets)
        .collect();
    assert_eq!(downloads.len(), 2);
    assert!(
        downloads
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
fn in_params_select_assets_source_archives_and_the_assets_dir() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let request = json!({
        "source": f.source("acme/tool", json!({"asset_dir": true, "asset_patterns": ["*"]})),
        "version": {"tag": "v1.10.0"},
        "params": {"globs": ["*darwin*"], "include_source_tarball": true},
    });
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    run(resource(&["concourse", "in", dest_arg]), &request, 0);
    assert_eq!(
        files_in(&dest.path().join("assets")),
        [
            "source.tar.gz",
            "source.tar.gz.sha256",
            "tool-darwin.tar.gz",
            "tool-darwin.tar.gz.sha256",
        ]
    );
    assert_eq!(read(dest.path().join("tag")), "v1.10.0");
}

#[test]
fn in_verifies_against_a_checksum_file_and_a_tag_filter_sets_the_version() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let request = json!({
        "source": f.source("acme/sums", json!({
            "tag_filter": "^release-(.*)$", "asset_patterns": ["sums.bin"], "require_checksum": true,
        })),
        "version": {"tag": "release-5.1"},
    });
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    run(resource(&["concourse", "in", dest_arg]), &request, 0);
    assert_eq!(read(dest.path().join("version")), "5.1");
    assert_eq!(
        read(dest.path().join("sums.bin")),
        "checked by a checksum file"
    );
}

#[test]
fn in_fails_on_a_wrong_digest_and_keeps_no_final_file() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let request = json!({"source": f.source("acme/liar", json!({})), "version": {"tag": "v1.0.0"}});
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    let ran = run(resource(&["concourse", "in", dest_arg]), &request, 1);
    assert!(ran.stdout.is_empty(), "nothing on stdout: {}", ran.stdout);
    assert!(ran.stderr.contains("liar.bin"), "{}", ran.stderr);
    assert!(!dest.path().join("liar.bin").exists());
    assert!(!dest.path().join("tag").exists());
}

#[test]
fn in_resumes_a_cut_transfer() {
    let scenario = format!(
        "{}faults:\n  - path_prefix: /download/\n    origin: assets\n    truncate_after: 5\n    times: 1\n",
        scenario()
    );
    let f = Fake::start(&scenario);
    let dest = tempfile::tempdir().expect("tempdir");
    let request = json!({
        "source": f.source("acme/tool", json!({"asset_patterns": ["tool-linux.tar.gz"]})),
        "version": {"tag": "v1.10.0"},
    });
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    run(resource(&["concourse", "in", dest_arg]), &request, 0);
    assert_eq!(
        read(dest.path().join("tool-linux.tar.gz")),
        "tool 1.10.0 for linux"
    );
    let ranges: Vec<String> = f
        .fake
        .requests()
        .iter()
        .filter(|r| r.origin == Origin::Assets)
        .filter_map(|r| r.header("range").map(str::to_string))
        .collect();
    assert_eq!(ranges, ["bytes=5-"], "the second attempt resumed");
}

#[test]
fn in_refuses_an_asset_named_like_a_metadata_file() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    let request =
        json!({"source": f.source("acme/clash", json!({})), "version": {"tag": "v1.0.0"}});
    let ran = run(resource(&["concourse", "in", dest_arg]), &request, 1);
    assert!(ran.stderr.contains("asset_dir"), "{}", ran.stderr);
    // With asset_dir the asset has its own folder and both are kept.
    let request = json!({
        "source": f.source("acme/clash", json!({"asset_dir": true})),
        "version": {"tag": "v1.0.0"},
    });
    run(resource(&["concourse", "in", dest_arg]), &request, 0);
    assert_eq!(read(dest.path().join("version")), "1.0.0");
    assert_eq!(
        read(dest.path().join("assets").join("version")),
        "an asset called version"
    );
}

#[test]
fn in_of_a_deleted_version_fails_clearly() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    let request = json!({"source": f.source("acme/tool", json!({})), "version": {"tag": "v0.0.1"}});
    let ran = run(resource(&["concourse", "in", dest_arg]), &request, 1);
    assert!(
        ran.stderr.contains("release v0.0.1 not found"),
        "{}",
        ran.stderr
    );
}

/// The image links the binary as /opt/resource/check, in and out.
fn linked_as(dir: &Path, step: &str) -> Command {
    let link = dir.join(step);
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("release-monitor"), &link)
        .expect("symlink");
    let mut cmd = Command::new(&link);
    cmd.env_clear();
    cmd
}

#[test]
fn the_binary_named_check_in_or_out_is_the_resource() {
    let f = Fake::start(&scenario());
    let bin = tempfile::tempdir().expect("tempdir");
    let ran = run(
        linked_as(bin.path(), "check"),
        &json!({"source": f.source("acme/tool", json!({}))}),
        0,
    );
    let versions: Value = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(versions[0]["tag"], "v1.10.0");

    let dest = tempfile::tempdir().expect("tempdir");
    let mut get = linked_as(bin.path(), "in");
    get.arg(dest.path());
    run(
        get,
        &json!({"source": f.source("acme/tool", json!({"asset_patterns": ["tool.sig"]})),
                "version": {"tag": "v1.10.0"}}),
        0,
    );
    assert_eq!(read(dest.path().join("tool.sig")), "signature");

    let mut put = linked_as(bin.path(), "out");
    put.arg(dest.path());
    let ran = run(
        put,
        &json!({"source": f.source("acme/tool", json!({})), "params": {}}),
        1,
    );
    assert!(ran.stdout.is_empty());
    assert!(
        ran.stderr.contains("out of scope") && ran.stderr.contains("github-release"),
        "{}",
        ran.stderr
    );
}

#[test]
fn bad_sources_are_refused_with_the_key() {
    let f = Fake::start(&scenario());
    for (extra, needle) in [
        (json!({"insecure": true}), "ca_cert"),
        (json!({"tag_filtr": "x"}), "tag_filtr"),
        (json!({"order_by": "size"}), "order_by"),
        (json!({"version_strategy": "lexical"}), "version_strategy"),
    ] {
        let ran = run(
            resource(&["concourse", "check"]),
            &json!({"source": f.source("acme/tool", extra)}),
            2,
        );
        assert!(ran.stderr.contains(needle), "{needle}: {}", ran.stderr);
        assert!(ran.stdout.is_empty());
    }
    assert!(
        f.fake.requests().is_empty(),
        "no request is sent for a bad source"
    );
}

#[test]
fn the_token_is_not_logged_even_at_trace_level() {
    let f = Fake::start(&scenario());
    let dest = tempfile::tempdir().expect("tempdir");
    let dest_arg = dest.path().to_str().expect("utf-8 path");
    let mut cmd = resource(&["concourse", "in", dest_arg]);
    cmd.env("RUST_LOG", "trace");
    let ran = run(
        cmd,
        &json!({"source": f.source("acme/tool", json!({})), "version": {"tag": "v1.10.0"}}),
        0,
    );
    assert!(
        ran.stderr.contains("GET"),
        "trace logging is on: {}",
        ran.stderr
    );
    // The token reached the API (the fake requires it for drafts and counts it here).
    assert!(
        f.fake
            .requests()
            .iter()
            .any(|r| r.origin == Origin::Api && r.header("authorization").is_some())
    );
}

#[test]
fn a_github_app_in_the_source_authenticates_and_a_bad_key_is_refused() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let public = serde_json::to_string(&key.public_key_pem()).expect("json");
    let f = Fake::start(&format!(
        "{}app:\n  id: 31\n  public_key: {public}\n  installations: {{acme: 5}}\n",
        scenario()
    ));
    let app_source = |private: &str| {
        let mut source = f.source("acme/tool", json!({"drafts": true}));
        if let Some(map) = source.as_object_mut() {
            map.remove("access_token");
            map.insert("github_app_id".into(), json!(31));
            map.insert("github_app_private_key".into(), json!(private));
        }
        json!({ "source": source })
    };
    // Drafts need a token: the App's installation token is one.
    assert_eq!(check(app_source(&key.serialize_pem())), ["v3.0.0"]);
    // An EC key is not an App key: a request error (exit 2) that does not quote it.
    let ec = rcgen::KeyPair::generate().expect("EC key").serialize_pem();
    let ran = run(resource(&["concourse", "check"]), &app_source(&ec), 2);
    assert!(
        ran.stderr.contains("github_app_private_key") && !ran.stderr.contains("PRIVATE KEY"),
        "{}",
        ran.stderr
    );
}

#[test]
fn check_and_in_work_on_gitlab_and_gitea() {
    for (kind, api_path, owner) in [
        ("gitlab", "/api/v4", "platform/tools"),
        ("gitea", "/api/v1", "team"),
    ] {
        let yaml = format!(
            r#"
forge: {kind}
token: {TOKEN}
repositories:
  - owner: {owner}
    repo: cli
    private: {private}
    releases:
      - tag_name: v1.1.0
        commit_sha: "1111111111111111111111111111111111111111"
        assets:
          - {{name: cli.bin, content: "cli one point one"}}
      - tag_name: v1.0.0
"#,
            // Gitea's one-tag endpoint in the fake serves public repositories only.
            private = kind == "gitlab",
        );
        let fake = FakeGithub::start(Scenario::from_yaml(&yaml).expect("scenario")).expect("fake");
        let source = json!({
            "owner": owner,
            "repository": "cli",
            "forge": kind,
            "api_url": format!("{}{api_path}", fake.api_url()),
            "access_token": TOKEN,
            "ca_cert": fake.ca_cert_pem(),
        });
        let tags = check(json!({"source": source}));
        assert_eq!(tags, ["v1.1.0"], "{kind}");
        let dest = tempfile::tempdir().expect("tempdir");
        let dest_arg = dest.path().to_str().expect("utf-8 path");
        let request = json!({"source": source, "version": {"tag": "v1.1.0"}, "params": {}});
        let ran = run(resource(&["concourse", "in", dest_arg]), &request, 0);
        assert_eq!(
            read(dest.path().join("cli.bin")),
            "cli one point one",
            "{kind}"
        );
        assert_eq!(read(dest.path().join("tag")), "v1.1.0");
        assert_eq!(
            read(dest.path().join("commit_sha")),
            "1111111111111111111111111111111111111111",
            "{kind}: {}",
            ran.stderr
        );
        // The token went to the forge's API only.
        for r in fake.requests() {
            if r.origin == fake_github::Origin::Assets {
                assert_eq!(r.header("authorization"), None, "{kind}: {r:?}");
            }
        }
    }
    // A GitHub App is GitHub's only; api_url is for other forges.
    let f = Fake::start(&scenario());
    let out = run(
        resource(&["concourse", "check"]),
        &json!({"source": f.source("acme/tool", json!({"api_url": "https://gitlab.example.com/api/v4"}))}),
        2,
    );
    assert!(out.stderr.contains("source.api_url"), "{}", out.stderr);
}
