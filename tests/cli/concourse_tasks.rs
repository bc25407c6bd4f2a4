//! The Concourse tasks (`ci/tasks/*/task.sh`) and the `scripts/` wrappers, run against the fake
//! GitHub the way Concourse runs them: in a working directory holding the task's inputs and
//! (empty) outputs, `bash release-monitor/ci/tasks/<task>/task.sh`, the params as the only
//! environment besides `PATH` and `HOME`.
//!
//! The config's `github.api_url` is a dead loopback address, so only the `GITHUB_API_URL` param
//! can reach the fake; its `download.directory` and `download.version_db` are decoys, so only the
//! `DOWNLOAD_DIR` and `VERSION_DB_PATH` params can put files where the outputs are.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use fake_github::{FakeGithub, Origin, Scenario};
use serde_json::Value;

const TOKEN: &str = "ghp_CONCOURSETASKTOKEN0123456789SECRET";
const BIN: &str = env!("CARGO_BIN_EXE_release-monitor");
const REPO_ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// acme/tool is private, so nothing is found without the token.
const SCENARIO: &str = r#"
token: ghp_CONCOURSETASKTOKEN0123456789SECRET
repositories:
  - owner: acme
    repo: tool
    private: true
    releases:
      - tag_name: v1.2.0
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "the tool 1.2.0 for linux"}
      - tag_name: v1.1.0
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "the tool 1.1.0 for linux"}
  - owner: acme
    repo: other
    releases:
      - tag_name: v0.3.0
        assets:
          - {name: other.bin, content: "other 0.3.0"}
  - owner: acme
    repo: gone
    status: 404
  - owner: acme
    repo: liar
    releases:
      - tag_name: v2.0.0
        assets:
          - {name: liar.bin, content: "not what the digest says", digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}
"#;

/// A task's working directory, as Concourse lays it out, and the fake GitHub it talks to.
struct TaskDir {
    dir: tempfile::TempDir,
    fake: FakeGithub,
}

impl TaskDir {
    /// The `release-monitor` input (a config watching `repos`, and a copy of this repository's
    /// `ci/`), plus the given empty directories (outputs, or an empty optional input).
    fn new(repos: &[&str], dirs: &[&str]) -> TaskDir {
        let fake = FakeGithub::start(Scenario::from_yaml(SCENARIO).expect("scenario parses"))
            .expect("fake GitHub starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("release-monitor");
        copy_dir(&Path::new(REPO_ROOT).join("ci"), &input.join("ci"));
        let repos: String = repos
            .iter()
            .map(|r| {
                let (o, n) = r.split_once('/').expect("owner/repo");
                format!("  - {{owner: {o}, repo: {n}}}\n")
            })
            .collect();
        let config = format!(
            "repositories:\n{repos}\
             github:\n  api_url: https://127.0.0.1:9\n  ca_cert: {ca}\n  timeout: 5\n  max_rate_limit_wait: 30\n\
             download:\n  enabled: true\n  directory: config-downloads\n  version_db: config-db.json\n  \
             retry: {{max_attempts: 2, delay: 0.05}}\n",
            ca = fake.ca_cert_path().display(),
        );
        std::fs::write(input.join("config.yaml"), config).expect("write config");
        for d in dirs {
            std::fs::create_dir_all(dir.path().join(d)).expect("create dir");
        }
        TaskDir { dir, fake }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The params every run gets: the token and the fake's API root.
    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("GITHUB_TOKEN".into(), TOKEN.into()),
            ("GITHUB_API_URL".into(), self.fake.api_url()),
        ]
    }

    /// Runs `task` as Concourse would, with the default params plus `extra` (which may replace
    /// them), and checks that the token appears in neither stdout nor stderr.
    fn run_task(&self, task: &str, extra: &[(&str, &str)]) -> Output {
        let mut params = self.params();
        for (k, v) in extra {
            params.retain(|(name, _)| name != k);
            params.push(((*k).into(), (*v).into()));
        }
        let mut cmd = Command::new("bash");
        cmd.arg(format!("release-monitor/ci/tasks/{task}/task.sh"));
        clean_env(&mut cmd, self.dir.path());
        cmd.envs(params);
        let out = cmd.current_dir(self.dir.path()).output().expect("run bash");
        assert_no_token(&out);
        out
    }

    /// Marks `version` of `repo` as held in a version database at `rel`, with the binary.
    fn hold(&self, rel: &str, repo: &str, version: &str) {
        let mut cmd = Command::new(BIN);
        cmd.args(["db", "set", repo, version, "--db"])
            .arg(self.path(rel));
        clean_env(&mut cmd, self.dir.path());
        let out = cmd
            .current_dir(self.dir.path())
            .output()
            .expect("run db set");
        assert!(out.status.success(), "db set: {}", text(&out.stderr));
    }

    fn json(&self, rel: &str) -> Value {
        let bytes = std::fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
    }

    /// The bundles in `downloads/`.
    fn bundles(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.path("downloads"))
            .expect("downloads/")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("release-monitor-downloads-"))
            })
            .collect();
        found.sort();
        found
    }

    /// Neither the config's decoy paths nor an ETag state file in the working directory.
    fn assert_params_won(&self) {
        for decoy in ["config-downloads", "config-db.json", "release_state.json"] {
            assert!(!self.path(decoy).exists(), "{decoy} was written");
        }
    }
}

/// A clean environment: `PATH` (the binary's directory first, then the system's), `HOME`.
fn clean_env(cmd: &mut Command, home: &Path) {
    let bin_dir = Path::new(BIN).parent().expect("binary directory");
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
        )
        .env("HOME", home);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // Keeps the permission bits, so task.sh stays executable.
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_token(out: &Output) {
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(!text(stream).contains(TOKEN), "the token appears on {name}");
    }
}

fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// stdout is exactly one JSON document.
fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}",
            text(&out.stdout)
        )
    })
}

/// The releases of a report, as `repository tag current_version`.
fn releases(report: &Value) -> Vec<String> {
    let mut found: Vec<String> = report["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["repository"].as_str().unwrap_or("?"),
                r["tag_name"].as_str().unwrap_or("?"),
                r["current_version"].as_str().unwrap_or("-")
            )
        })
        .collect();
    found.sort();
    found
}

fn tar_list(bundle: &Path) -> Vec<String> {
    let out = Command::new("tar")
        .arg("-tzf")
        .arg(bundle)
        .output()
        .expect("run tar");
    assert!(out.status.success(), "tar -tzf: {}", text(&out.stderr));
    let mut names: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    names.sort();
    names
}

fn tar_member(bundle: &Path, member: &str) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-xzOf")
        .arg(bundle)
        .arg(member)
        .output()
        .expect("run tar");
    assert!(out.status.success(), "tar -xzOf: {}", text(&out.stderr));
    out.stdout
}

#[test]
fn check_releases_writes_the_report_with_the_token_and_the_api_url_param() {
    let t = TaskDir::new(
        &["acme/tool", "acme/other"],
        &["monitor-output", "version-db"],
    );
    t.hold("version-db/versions.json", "acme/tool", "v1.1.0");
    let db_before = std::fs::read(t.path("version-db/versions.json")).expect("db");

    let out = t.run_task("check-releases", &[]);
    assert_code(&out, 0);
    let report = t.json("monitor-output/releases.json");
    assert_eq!(
        releases(&report),
        ["acme/other v0.3.0 -", "acme/tool v1.2.0 v1.1.0"]
    );
    assert_eq!(report["total_repositories_checked"], 2);
    assert_eq!(report["errors"], serde_json::json!([]));
    // The report is in the build log too, and nothing else is on stdout.
    assert_eq!(stdout_json(&out), report);
    // The private repository was seen because the token reached the fake, as a bearer token.
    let api: Vec<_> = t
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Api)
        .collect();
    assert!(!api.is_empty(), "no request reached the fake");
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        api.iter()
            .all(|r| r.header("authorization") == Some(bearer.as_str()))
    );
    // Monitoring reads the database and never writes it; the ETag state stays out of the outputs.
    assert_eq!(
        std::fs::read(t.path("version-db/versions.json")).expect("db"),
        db_before
    );
    let outputs: Vec<_> = std::fs::read_dir(t.path("monitor-output"))
        .expect("monitor-output/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(outputs, ["releases.json"]);
    t.assert_params_won();
}

#[test]
fn check_releases_without_the_optional_version_db_reports_everything_as_new() {
    let t = TaskDir::new(&["acme/tool", "acme/other"], &["monitor-output"]);
    let out = t.run_task("check-releases", &[]);
    assert_code(&out, 0);
    assert_eq!(
        releases(&t.json("monitor-output/releases.json")),
        ["acme/other v0.3.0 -", "acme/tool v1.2.0 -"]
    );
    assert!(
        text(&out.stderr).contains("no version database at version-db/versions.json"),
        "{}",
        text(&out.stderr)
    );
    assert!(!t.path("version-db").exists());
    t.assert_params_won();
}

#[test]
fn check_releases_exits_1_when_a_repository_fails_and_still_writes_the_report() {
    let t = TaskDir::new(&["acme/tool", "acme/gone"], &["monitor-output"]);
    let out = t.run_task("check-releases", &[]);
    assert_code(&out, 1);
    let report = t.json("monitor-output/releases.json");
    assert_eq!(releases(&report), ["acme/tool v1.2.0 -"]);
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["repository"], "acme/gone");
}

#[test]
fn check_releases_exits_2_on_a_damaged_version_db_and_leaves_it_alone() {
    let t = TaskDir::new(&["acme/tool"], &["monitor-output", "version-db"]);
    let damaged = b"{\"metadata\": {\"version\": \"1.0\"}, \"repositories\": [";
    std::fs::write(t.path("version-db/versions.json"), damaged).expect("write db");
    let out = t.run_task("check-releases", &[]);
    assert_code(&out, 2);
    assert_eq!(
        std::fs::read(t.path("version-db/versions.json")).expect("db"),
        damaged
    );
    assert!(
        text(&out.stderr).contains("versions.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_releases_applies_repository_overrides() {
    let t = TaskDir::new(&["acme/tool", "acme/other"], &["monitor-output"]);
    // An array replaces the config's repositories.
    let out = t.run_task(
        "check-releases",
        &[("REPOSITORY_OVERRIDES", r#"["acme/other"]"#)],
    );
    assert_code(&out, 0);
    let report = t.json("monitor-output/releases.json");
    assert_eq!(report["total_repositories_checked"], 1);
    assert_eq!(releases(&report), ["acme/other v0.3.0 -"]);
    // An object overrides per repository: a pin selects the older release.
    let out = t.run_task(
        "check-releases",
        &[(
            "REPOSITORY_OVERRIDES",
            r#"{"acme/tool": {"target_version": "v1.1.0"}}"#,
        )],
    );
    assert_code(&out, 0);
    assert_eq!(
        releases(&t.json("monitor-output/releases.json")),
        ["acme/other v0.3.0 -", "acme/tool v1.1.0 -"]
    );
    // Invalid JSON is a usage error.
    let out = t.run_task("check-releases", &[("REPOSITORY_OVERRIDES", "{not json")]);
    assert_code(&out, 2);
}

#[test]
fn the_tasks_never_print_the_token_even_at_trace_level() {
    let t = TaskDir::new(
        &["acme/tool", "acme/other"],
        &["monitor-output", "downloads", "version-db"],
    );
    let check = t.run_task("check-releases", &[("RUST_LOG", "trace")]);
    assert_code(&check, 0);
    let download = t.run_task("download-releases", &[("RUST_LOG", "trace")]);
    assert_code(&download, 0);
    // RUST_LOG reached the binary (run_task already checked that the token is nowhere).
    for out in [&check, &download] {
        assert!(text(&out.stderr).contains("TRACE"), "no trace logs");
    }
}

#[test]
fn download_releases_downloads_records_and_bundles() {
    let t = TaskDir::new(
        &["acme/tool", "acme/other"],
        &["monitor-output", "downloads", "version-db"],
    );
    t.hold("version-db/versions.json", "acme/tool", "v1.1.0");
    assert_code(&t.run_task("check-releases", &[]), 0);

    let out = t.run_task("download-releases", &[]);
    assert_code(&out, 0);
    // The result is the task's stdout, and nothing else is.
    let result = stdout_json(&out);
    assert_eq!(result["failed"], serde_json::json!([]), "{result}");
    assert_eq!(result["downloaded"].as_array().map(Vec::len), Some(2));
    // The files, under DOWNLOAD_DIR.
    assert_eq!(
        std::fs::read(t.path("downloads/acme_tool/v1.2.0/tool-linux-amd64.tar.gz"))
            .expect("stored asset"),
        b"the tool 1.2.0 for linux"
    );
    assert!(t.path("downloads/acme_other/v0.3.0/other.bin").is_file());
    // The database, at VERSION_DB_PATH (the version-db output, which is the input's directory).
    let db = t.json("version-db/versions.json");
    let tool = &db["repositories"]["acme/tool"];
    assert_eq!(tool["current_version"], "v1.2.0");
    // Appended after the input's history, as the seed tool appends.
    let newest = tool["download_history"].as_array().and_then(|h| h.last());
    assert_eq!(
        newest.map(|h| &h["previous_version"]),
        Some(&Value::from("v1.1.0"))
    );
    assert_eq!(
        db["repositories"]["acme/other"]["current_version"],
        "v0.3.0"
    );
    // Exactly one bundle, named by the UTC time, holding the files and the result.
    let bundles = t.bundles();
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let name = bundles[0]
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name");
    let stamp = name
        .strip_prefix("release-monitor-downloads-")
        .and_then(|s| s.strip_suffix(".tgz"))
        .expect("bundle name");
    assert!(
        stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    let members = tar_list(&bundles[0]);
    for wanted in [
        "download-results.json",
        "acme_tool/v1.2.0/tool-linux-amd64.tar.gz",
        "acme_tool/v1.2.0/tool-linux-amd64.tar.gz.sha256",
        "acme_other/v0.3.0/other.bin",
    ] {
        assert!(
            members.iter().any(|m| m == wanted),
            "{wanted} not in {members:?}"
        );
    }
    assert!(
        !members.iter().any(|m| m.ends_with(".tgz")),
        "the bundle contains a bundle: {members:?}"
    );
    assert_eq!(
        tar_member(&bundles[0], "acme_tool/v1.2.0/tool-linux-amd64.tar.gz"),
        b"the tool 1.2.0 for linux"
    );
    let bundled: Value =
        serde_json::from_slice(&tar_member(&bundles[0], "download-results.json")).expect("JSON");
    assert_eq!(bundled, result);
    t.assert_params_won();
}

#[test]
fn download_releases_without_the_optional_version_db_creates_one() {
    // Concourse hands the task an empty version-db output when the input is absent.
    let t = TaskDir::new(
        &["acme/other"],
        &["monitor-output", "downloads", "version-db"],
    );
    assert_code(&t.run_task("check-releases", &[]), 0);
    let out = t.run_task("download-releases", &[]);
    assert_code(&out, 0);
    assert!(
        text(&out.stderr).contains("no version database at version-db/versions.json"),
        "{}",
        text(&out.stderr)
    );
    let db = t.json("version-db/versions.json");
    assert_eq!(
        db["repositories"]["acme/other"]["current_version"],
        "v0.3.0"
    );
    assert_eq!(t.bundles().len(), 1);
}

#[test]
fn download_releases_dry_run_writes_only_the_bundle_of_the_plan() {
    let t = TaskDir::new(
        &["acme/tool"],
        &["monitor-output", "downloads", "version-db"],
    );
    assert_code(&t.run_task("check-releases", &[]), 0);
    let out = t.run_task("download-releases", &[("DRY_RUN", "true")]);
    assert_code(&out, 0);
    let plan = stdout_json(&out);
    let planned = plan["planned"].as_array().expect("planned");
    assert_eq!(planned.len(), 1, "{plan}");
    assert_eq!(planned[0]["asset"], "tool-linux-amd64.tar.gz");
    assert_eq!(plan["downloaded"], serde_json::json!([]));
    // No file, no database; the bundle holds the plan alone.
    assert!(!t.path("version-db/versions.json").exists());
    let bundles = t.bundles();
    assert_eq!(bundles.len(), 1);
    let entries: Vec<_> = std::fs::read_dir(t.path("downloads"))
        .expect("downloads/")
        .flatten()
        .collect();
    assert_eq!(entries.len(), 1, "only the bundle in downloads/");
    assert_eq!(tar_list(&bundles[0]), ["download-results.json"]);
    // DRY_RUN=false downloads; anything else is refused.
    let out = t.run_task("download-releases", &[("DRY_RUN", "maybe")]);
    assert_code(&out, 2);
    assert!(text(&out.stderr).contains("DRY_RUN"));
    let out = t.run_task("download-releases", &[("DRY_RUN", "false")]);
    assert_code(&out, 0);
    assert!(
        t.path("downloads/acme_tool/v1.2.0/tool-linux-amd64.tar.gz")
            .is_file()
    );
    // The earlier bundle is in downloads/ too, but never inside the new one.
    for bundle in t.bundles() {
        let members = tar_list(&bundle);
        assert!(!members.iter().any(|m| m.ends_with(".tgz")), "{members:?}");
    }
}

#[test]
fn download_releases_bundles_another_download_dir_into_downloads() {
    let t = TaskDir::new(
        &["acme/other"],
        &["monitor-output", "downloads", "version-db"],
    );
    assert_code(&t.run_task("check-releases", &[]), 0);
    let out = t.run_task("download-releases", &[("DOWNLOAD_DIR", "mirror")]);
    assert_code(&out, 0);
    assert!(t.path("mirror/acme_other/v0.3.0/other.bin").is_file());
    let bundles = t.bundles();
    assert_eq!(bundles.len(), 1);
    assert_eq!(
        tar_list(&bundles[0]),
        [
            "acme_other/",
            "acme_other/v0.3.0/",
            "acme_other/v0.3.0/other.bin",
            "acme_other/v0.3.0/other.bin.sha256",
            "download-results.json",
        ]
    );
}

#[test]
fn download_releases_exits_1_on_a_failed_asset_and_makes_no_bundle() {
    let t = TaskDir::new(
        &["acme/other", "acme/liar"],
        &["monitor-output", "downloads", "version-db"],
    );
    assert_code(&t.run_task("check-releases", &[]), 0);
    let out = t.run_task("download-releases", &[]);
    assert_code(&out, 1);
    // The result is still printed; the failed release is not recorded.
    let result = stdout_json(&out);
    let failed = result["failed"].as_array().expect("failed");
    assert_eq!(failed.len(), 1, "{result}");
    assert_eq!(failed[0]["repository"], "acme/liar");
    assert!(t.bundles().is_empty(), "a bundle after a failure");
    let db = t.json("version-db/versions.json");
    assert!(db["repositories"].get("acme/liar").is_none(), "{db}");
    assert!(
        text(&out.stderr).contains("no bundle made"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn download_releases_exits_2_on_a_damaged_version_db_and_leaves_it_alone() {
    let t = TaskDir::new(
        &["acme/other"],
        &["monitor-output", "downloads", "version-db"],
    );
    assert_code(&t.run_task("check-releases", &[]), 0);
    let damaged = b"not a database\n";
    std::fs::write(t.path("version-db/versions.json"), damaged).expect("write db");
    let out = t.run_task("download-releases", &[]);
    assert_code(&out, 2);
    assert_eq!(
        std::fs::read(t.path("version-db/versions.json")).expect("db"),
        damaged
    );
    assert!(t.bundles().is_empty());
    assert!(!t.path("downloads/acme_other").exists());
}

#[test]
fn download_releases_without_a_report_exits_2() {
    let t = TaskDir::new(
        &["acme/other"],
        &["monitor-output", "downloads", "version-db"],
    );
    let out = t.run_task("download-releases", &[]);
    assert_code(&out, 2);
    assert!(
        text(&out.stderr).contains("monitor-output/releases.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_task_without_the_binary_says_so() {
    let t = TaskDir::new(&["acme/other"], &["monitor-output"]);
    let out = t.run_task(
        "check-releases",
        &[("RELEASE_MONITOR_BIN", "release-monitor-missing")],
    );
    assert_code(&out, 2);
    assert!(
        text(&out.stderr).contains("'release-monitor-missing' not found"),
        "{}",
        text(&out.stderr)
    );
    assert!(!t.path("monitor-output/releases.json").exists());
}

#[test]
fn scripts_monitor_piped_into_download_print_one_json_document() {
    let t = TaskDir::new(&["acme/tool", "acme/other"], &[]);
    // Outside Concourse: the config in the current directory (CONFIG_FILE's default).
    std::fs::copy(t.path("release-monitor/config.yaml"), t.path("config.yaml")).expect("copy");
    let scripts = Path::new(REPO_ROOT).join("scripts");
    let pipeline = format!(
        "set -o pipefail; bash '{m}' | bash '{d}'",
        m = scripts.join("monitor.sh").display(),
        d = scripts.join("download.sh").display(),
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(pipeline);
    clean_env(&mut cmd, t.dir.path());
    let out = cmd
        .envs(t.params())
        .env("DOWNLOAD_DIR", "mirror")
        .env("VERSION_DB_PATH", "versions.json")
        .current_dir(t.dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    assert_no_token(&out);
    assert_code(&out, 0);
    let result = stdout_json(&out);
    assert_eq!(
        result["downloaded"].as_array().map(Vec::len),
        Some(2),
        "{result}"
    );
    assert!(
        t.path("mirror/acme_tool/v1.2.0/tool-linux-amd64.tar.gz")
            .is_file()
    );
    assert_eq!(
        t.json("versions.json")["repositories"]["acme/tool"]["current_version"],
        "v1.2.0"
    );

    // monitor.sh alone prints the report; download.sh passes its arguments on.
    let mut cmd = Command::new("bash");
    cmd.arg(scripts.join("monitor.sh")).arg("--force-check");
    clean_env(&mut cmd, t.dir.path());
    let out = cmd
        .envs(t.params())
        .env("VERSION_DB_PATH", "versions.json")
        .current_dir(t.dir.path())
        .output()
        .expect("run bash");
    assert_code(&out, 0);
    assert_no_token(&out);
    let report = stdout_json(&out);
    assert_eq!(
        releases(&report),
        ["acme/other v0.3.0 v0.3.0", "acme/tool v1.2.0 v1.2.0"]
    );
    std::fs::write(t.path("report.json"), &out.stdout).expect("write report");
    let mut cmd = Command::new("bash");
    cmd.arg(scripts.join("download.sh"))
        .args(["--input", "report.json", "--dry-run"]);
    clean_env(&mut cmd, t.dir.path());
    let out = cmd
        .envs(t.params())
        .env("VERSION_DB_PATH", "versions.json")
        .current_dir(t.dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    assert_code(&out, 0);
    let plan = stdout_json(&out);
    assert_eq!(plan["skipped"].as_array().map(Vec::len), Some(2), "{plan}");
}

#[test]
fn mirror_releases_deploys_to_artifactory_and_keeps_the_database_there() {
    use crate::support::artifactory::{Artifactory, Creds, REPO};
    const AF_TOKEN: &str = "af-concourse-Token-9931";
    let af = Artifactory::start(Creds {
        access_token: Some(AF_TOKEN.into()),
        ..Creds::default()
    });
    let t = TaskDir::new(&["acme/tool"], &["mirror-output"]);
    let params = [
        ("ARTIFACTORY_URL", af.base_url()),
        ("ARTIFACTORY_REPOSITORY", REPO.to_string()),
        ("ARTIFACTORY_ACCESS_TOKEN", AF_TOKEN.to_string()),
    ];
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = t.run_task("mirror-releases", &params);
    assert_code(&out, 0);
    assert!(!text(&out.stdout).contains(AF_TOKEN) && !text(&out.stderr).contains(AF_TOKEN));
    // The report in the build log and in the output, the same.
    let report = t.json("mirror-output/releases.json");
    assert_eq!(stdout_json(&out), report);
    assert_eq!(
        report["download_results"]["downloaded"][0]["tag_name"],
        "v1.2.0"
    );
    // The files and the database are in Artifactory; the config's decoys were not used.
    assert_eq!(
        af.file("release-monitor/acme_tool/v1.2.0/tool-linux-amd64.tar.gz")
            .as_deref(),
        Some(&b"the tool 1.2.0 for linux"[..])
    );
    let db: Value = serde_json::from_slice(
        &af.file("release-monitor/version_db.json")
            .expect("the database in Artifactory"),
    )
    .expect("JSON");
    assert_eq!(db["repositories"]["acme/tool"]["current_version"], "v1.2.0");
    t.assert_params_won();

    // The next build (a fresh container: no local files) finds it held: nothing new.
    std::fs::remove_dir_all(t.path("downloads")).expect("clear the scratch directory");
    let out = t.run_task("mirror-releases", &params);
    assert_code(&out, 0);
    let report = t.json("mirror-output/releases.json");
    assert_eq!(
        report["download_results"]["downloaded"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "{report}"
    );
}
