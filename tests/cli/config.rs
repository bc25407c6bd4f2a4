//! `release-monitor config check`: what a user sees for good, odd and broken config files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The binary, with no environment variable that the config loader reads.
fn rm() -> Command {
    let mut cmd = Command::cargo_bin("release-monitor").expect("binary is built");
    for var in [
        "RUST_LOG",
        "RELEASE_MONITOR_CONFIG",
        "GITHUB_API_URL",
        "SSL_CERT_FILE",
        "REPOSITORY_OVERRIDES",
        "DOWNLOAD_DIR",
        "VERSION_DB_PATH",
        "VERSION_DB_S3_BUCKET",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write temp config");
    path
}

fn check_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("config check prints JSON")
}

#[test]
fn the_seed_systems_example_config_checks_clean() {
    let json = check_json(
        rm().args(["config", "check", "--config"])
            .arg(fixture("tests/fixtures/seed-config.yaml")),
    );
    assert_eq!(json["repositories"][0]["owner"], "kubernetes");
    assert_eq!(
        json["download"]["asset_patterns"],
        serde_json::json!(["*.tar.gz", "*.zip", "!*-sources.zip"])
    );
    // Secrets never reach the output.
    let text = json.to_string();
    assert!(!text.contains("s3cr3t-password") && !text.contains("AKCp-secret-api-key"));
    assert_eq!(json["download"]["artifactory_storage"]["password"], "***");
}

#[test]
fn the_shipped_config_checks_without_warnings() {
    rm().current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["config", "check"])
        .assert()
        .success()
        .stderr(predicate::str::contains("WARN").not());
}

#[test]
fn a_typo_warns_with_the_key_path_and_still_succeeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "c.yaml",
        "repositories:\n  - owner: a\n    repo: b\n    descripton: x\ndownload:\n  verfy_downloads: true\n",
    );
    rm().args(["config", "check", "-c"])
        .arg(&path)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("download.verfy_downloads")
                .and(predicate::str::contains("repositories[0].descripton")),
        );
}

#[test]
fn a_type_error_exits_2_with_file_line_column_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "bad.yaml",
        "repositories:\n  - owner: a\n    repo: b\nsettings:\n  max_releases_per_repo: ten\n",
    );
    rm().args(["config", "check", "--config"])
        .arg(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "{}:5:26: settings.max_releases_per_repo: invalid type: a string, expected u32",
            path.display()
        )));
}

/// A secret pasted into the wrong key is never quoted back, whatever the key's type, at any
/// verbosity or log format: the error names file, line, column and key, and that is enough.
#[test]
fn a_secret_pasted_into_the_wrong_key_is_never_quoted() {
    const SECRET: &str = "ghp_PASTEDINTOTHEWRONGKEY0123456789abcd";
    let cases = [
        (
            "settings:\n  max_releases_per_repo: SECRET\n",
            "settings.max_releases_per_repo",
        ),
        ("settings:\n  concurrency: SECRET\n", "settings.concurrency"),
        (
            "download:\n  version_strategy: SECRET\n",
            "download.version_strategy",
        ),
        ("github:\n  api_url: SECRET\n", "github.api_url"),
        (
            "github:\n  api_url: https://example.com/SECRET?x=1\n",
            "github.api_url",
        ),
        (
            "download:\n  asset_patterns: [\"SECRET[\"]\n",
            "download.asset_patterns[0]",
        ),
        (
            "download:\n  segments: {min_size: SECRET}\n",
            "download.segments.min_size",
        ),
        (
            "notify:\n  email: {smtp_host: mail.example.com, from: SECRET, to: [a@example.com]}\n",
            "notify.email.from",
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, (section, key)) in cases.iter().enumerate() {
        let text = format!(
            "repositories:\n  - owner: a\n    repo: b\n{}",
            section.replace("SECRET", SECRET)
        );
        let path = write(&dir, &format!("bad{i}.yaml"), &text);
        for args in [
            vec!["config", "check"],
            vec!["-vv", "monitor"],
            vec!["--log-format", "json", "monitor"],
        ] {
            let out = rm()
                .env("GITHUB_TOKEN", SECRET)
                .env("RUST_LOG", "trace")
                .args(&args)
                .arg("--config")
                .arg(&path)
                .assert()
                .code(2)
                .get_output()
                .clone();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stderr.contains(key), "{args:?} {key}: {stderr}");
            assert!(
                !stderr.contains("PASTEDINTO") && !stdout.contains("PASTEDINTO"),
                "{args:?} {key}: the secret was quoted: {stderr}"
            );
        }
    }
}

#[test]
fn artifactory_storage_is_checked_and_printed_without_its_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "art.yaml",
        "repositories:\n  - owner: a\n    repo: b\ndownload:\n  artifactory_storage:\n    \
         enabled: true\n    base_url: https://artifactory.example.com/artifactory\n    \
         repository: generic\n    username: me\n    password: pw-Zq81\n",
    );
    let out = rm()
        .args(["config", "check", "--config"])
        .arg(&path)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("pw-Zq81"), "{all}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let a = &json["download"]["artifactory_storage"];
    assert_eq!(
        (a["enabled"].as_bool(), a["password"].as_str()),
        (Some(true), Some("***"))
    );
    // The seed tool's database location beside the files.
    assert_eq!(
        json["download"]["version_db"],
        "artifactory://generic/release-monitor/version_db.json"
    );
    // Without its repository it cannot work: exit 2 naming the key.
    let path = write(
        &dir,
        "half.yaml",
        "repositories:\n  - owner: a\n    repo: b\ndownload:\n  artifactory_storage:\n    \
         enabled: true\n    base_url: https://artifactory.example.com/artifactory\n",
    );
    let out = rm()
        .args(["config", "check", "--config"])
        .arg(&path)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("download.artifactory_storage.repository"),
        "{stderr}"
    );
}

#[test]
fn a_bad_value_exits_2_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "bad.yaml",
        "repositories:\n  - owner: a\n    repo: b\n    tag_filter: \"v(\"\n",
    );
    rm().args(["config", "check", "--config"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:4:17: repositories[0].tag_filter:",
            path.display()
        )));
}

#[test]
fn a_missing_file_exits_2_and_names_it() {
    rm().args(["config", "check", "--config", "/nonexistent/config.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/config.yaml"));
}

#[test]
fn the_config_path_comes_from_the_environment_when_not_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "env.yaml",
        "repositories:\n  - owner: envowner\n    repo: r\n",
    );
    let json = check_json(
        rm().current_dir(dir.path())
            .env("RELEASE_MONITOR_CONFIG", &path)
            .args(["config", "check"]),
    );
    assert_eq!(json["repositories"][0]["owner"], "envowner");
}

#[test]
fn environment_overrides_are_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "c.yaml", "repositories:\n  - owner: a\n    repo: b\n");
    let json = check_json(
        rm().env("GITHUB_API_URL", "https://github.example.com/api/v3/")
            .env("DOWNLOAD_DIR", "/srv/mirror")
            .env(
                "REPOSITORY_OVERRIDES",
                r#"[{"owner": "x", "repo": "y"}, "p/q"]"#,
            )
            .args(["config", "check", "-c"])
            .arg(&path),
    );
    assert_eq!(
        json["github"]["api_url"],
        "https://github.example.com/api/v3"
    );
    assert_eq!(json["download"]["directory"], "/srv/mirror");
    let repos: Vec<String> = json["repositories"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["owner"].as_str().unwrap_or(""),
                r["repo"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(repos, ["x/y", "p/q"]);
}

#[test]
fn a_bad_environment_override_exits_2_and_names_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "c.yaml", "repositories:\n  - owner: a\n    repo: b\n");
    rm().env("REPOSITORY_OVERRIDES", "{not json")
        .args(["config", "check", "-c"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("REPOSITORY_OVERRIDES"));
    rm().env("GITHUB_API_URL", "http://github.example.com")
        .args(["config", "check", "-c"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("GITHUB_API_URL"));
}

#[test]
fn config_init_writes_a_starter_that_checks_clean_and_holds_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conf/config.yaml");
    rm().current_dir(dir.path())
        .args([
            "config",
            "init",
            "--repo",
            "cli/cli",
            "--repo",
            "gitlab.com/gitlab-org/cli",
        ])
        .arg("--config")
        .arg(&path)
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    // Secrets only as the names of their variables.
    for var in [
        "GITHUB_TOKEN",
        "SLACK_WEBHOOK_URL",
        "SMTP_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        assert!(text.contains(var), "{var}");
    }
    // It loads without a warning, unchanged ...
    let out = rm()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("WARN"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let starter: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // ... and every value it spells out is the default: it reads as the bare list does (with
    // downloads on, which it turns on).
    let bare = write(
        &dir,
        "bare.yaml",
        "repositories: [cli/cli, gitlab.com/gitlab-org/cli]\ndownload: {enabled: true}\n",
    );
    let bare = check_json(rm().args(["config", "check", "--config"]).arg(&bare));
    assert_eq!(starter, bare);
    // An existing file is kept unless --force.
    rm().args(["config", "init", "--config"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    rm().args(["config", "init", "--force", "--config"])
        .arg(&path)
        .assert()
        .success();
    let replaced = std::fs::read_to_string(&path).unwrap();
    assert!(replaced.contains("  - jqlang/jq\n"), "{replaced}");
    // A repository that is not one is refused, and nothing is written.
    rm().args(["config", "init", "--force", "--repo", "nope", "--config"])
        .arg(&path)
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), replaced);
}
