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
        let loaded = match config::load(&path, &empty_env()) {
            Ok(l) => l,
            Err(e) => panic!("{rel}: {e}"),
        };
        assert!(loaded.warnings.is_empty(), "{rel}: {:?}", loaded.warnings);
        assert_eq!(loaded.path, path);
        assert!(!loaded.config.repositories.is_empty(), "{rel}");
    }
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
