//! Loads the shipped and fixture configuration files from disk through the public API.

use std::path::{Path, PathBuf};

use release_monitor::config::{self, ConfigError, Env};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn empty_env() -> Env {
    Env::from_pairs(Vec::<(String, String)>::new())
}

#[test]
fn shipped_and_fixture_files_load_without_warnings() {
    for rel in [
        "config.yaml",
        "tests/fixtures/seed-config.yaml",
        "tests/fixtures/plan-config.yaml",
    ] {
        let path = root().join(rel);
        // The plan's `post_download.notify: slack` takes its webhook URL from the environment
        // (without one, loading warns that Slack notifications cannot be sent).
        let env = Env::from_pairs([(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/X",
        )]);
        let loaded = match config::load(&path, &env) {
            Ok(l) => l,
            Err(e) => panic!("{rel}: {e}"),
        };
        assert!(loaded.warnings.is_empty(), "{rel}: {:?}", loaded.warnings);
        assert_eq!(loaded.path, path);
        assert!(!loaded.config.repositories.is_empty(), "{rel}");
    }
}

#[test]
fn the_plans_notify_slack_without_a_url_warns() {
    let path = root().join("tests/fixtures/plan-config.yaml");
    let loaded = config::load(&path, &empty_env()).expect("loads");
    let keys: Vec<&str> = loaded.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(keys, ["notify.slack.webhook_url"]);
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let path = Path::new("does/not/exist.yaml");
    let err = config::load(path, &empty_env()).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("does/not/exist.yaml"), "{err}");
}

#[test]
fn invalid_file_reports_its_path_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "repositories:\n  - owner: a\n    repo: b\ndownload:\n  retry:\n    max_attempts: lots\n",
    )
    .unwrap();
    let err = config::load(&path, &empty_env()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:6:19: download.retry.max_attempts: ",
            path.display()
        )),
        "{text}"
    );
}
