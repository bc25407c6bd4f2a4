//! Shared by the integration tests that run the binary against the fake GitHub: a temp
//! directory with a `config.yaml` pointing at a running fake, and the binary with a clean
//! environment.

use std::path::PathBuf;

use assert_cmd::Command;
use fake_github::{FakeGithub, Scenario};

/// A running fake GitHub and a temp directory holding a config for it.
pub struct FakeSetup {
    pub dir: tempfile::TempDir,
    pub fake: FakeGithub,
}

impl FakeSetup {
    /// Starts the fake with `scenario` and writes a config watching `repos` (`owner/repo`).
    /// `extra` is appended after the `download:` section: indented lines add to it, unindented
    /// ones start other sections.
    pub fn new(scenario: &str, repos: &[&str], extra: &str) -> FakeSetup {
        let fake = FakeGithub::start(Scenario::from_yaml(scenario).expect("scenario parses"))
            .expect("fake GitHub starts");
        FakeSetup::around(fake, repos, extra)
    }

    /// Like [`FakeSetup::new`], around a fake already started (with its own options).
    pub fn around(fake: FakeGithub, repos: &[&str], extra: &str) -> FakeSetup {
        let dir = tempfile::tempdir().expect("tempdir");
        let repos: String = repos
            .iter()
            .map(|r| {
                let (o, n) = r.split_once('/').expect("owner/repo");
                format!("  - {{owner: {o}, repo: {n}}}\n")
            })
            .collect();
        let config = format!(
            "repositories:\n{repos}\
             github:\n  api_url: {api}\n  ca_cert: {ca}\n  timeout: 5\n  max_rate_limit_wait: 30\n\
             download:\n  enabled: true\n  directory: {downloads}\n  version_db: {db}\n  timeout: 5.0\n  retry: {{max_attempts: 3, delay: 0.05}}\n{extra}",
            api = fake.api_url(),
            ca = fake.ca_cert_path().display(),
            downloads = dir.path().join("downloads").display(),
            db = dir.path().join("version_db.json").display(),
        );
        std::fs::write(dir.path().join("config.yaml"), config).expect("write config");
        FakeSetup { dir, fake }
    }

    /// Pins `owner/repo` (as `new` wrote it) to `version` in the config; returns the config as
    /// it was, to unpin with.
    pub fn pin(&self, repo: &str, version: &str) -> String {
        let (o, n) = repo.split_once('/').expect("owner/repo");
        let path = self.path("config.yaml");
        let unpinned = std::fs::read_to_string(&path).expect("config");
        let entry = format!("  - {{owner: {o}, repo: {n}}}\n");
        assert!(unpinned.contains(&entry), "{repo} is in the config");
        let pinned = format!("  - {{owner: {o}, repo: {n}, target_version: {version}}}\n");
        std::fs::write(&path, unpinned.replacen(&entry, &pinned, 1)).expect("pin");
        unpinned
    }

    /// A file in the temp directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary, run in the temp directory, with none of the environment variables it reads
    /// (and `GITHUB_TOKEN` set to `token`, if given).
    pub fn command(&self, token: Option<&str>) -> Command {
        let mut cmd = Command::cargo_bin("release-monitor").expect("binary");
        cmd.current_dir(self.dir.path());
        for var in [
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "GITHUB_API_URL",
            "SSL_CERT_FILE",
            "REPOSITORY_OVERRIDES",
            "VERSION_DB_PATH",
            "VERSION_DB_S3_BUCKET",
            "DOWNLOAD_DIR",
            "RELEASE_MONITOR_CONFIG",
            "RUST_LOG",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "HTTP_STORAGE_PASSWORD",
            "HTTP_STORAGE_TOKEN",
            "ARTIFACTORY_URL",
            "ARTIFACTORY_REPOSITORY",
            "ARTIFACTORY_USERNAME",
            "ARTIFACTORY_PASSWORD",
            "ARTIFACTORY_API_KEY",
            "ARTIFACTORY_ACCESS_TOKEN",
            "ARTIFACTORY_SKIP_SSL_VERIFICATION",
            "GITHUB_APP_ID",
            "GITHUB_APP_PRIVATE_KEY",
            "GITHUB_APP_PRIVATE_KEY_FILE",
            "GITHUB_APP_INSTALLATION_ID",
            "GITLAB_TOKEN",
            "CODEBERG_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        if let Some(t) = token {
            cmd.env("GITHUB_TOKEN", t);
        }
        cmd
    }

    /// Runs `-vv monitor --download` with `env` (and no `GITHUB_TOKEN` unless `env` sets it),
    /// asserting that none of `secrets` appears in stdout or stderr; returns the exit code, the
    /// report (`null` when stdout is not JSON) and stderr.
    pub fn monitor_download(
        &self,
        env: &[(&str, &str)],
        secrets: &[&str],
    ) -> (i32, serde_json::Value, String) {
        let out = self
            .command(None)
            .envs(env.iter().copied())
            .args(["-vv", "monitor", "--download"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        for secret in secrets {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "a secret ({} characters) was printed:\n{stderr}",
                secret.len()
            );
        }
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
            stderr,
        )
    }

    /// `release-monitor monitor` with `token` (if any) and a clean environment.
    pub fn monitor(&self, token: Option<&str>) -> Command {
        let mut cmd = self.command(token);
        cmd.arg("monitor");
        cmd
    }
}
