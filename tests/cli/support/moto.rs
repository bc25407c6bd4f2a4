//! A real S3-compatible server for the tests: moto's `moto_server` (`pip install 'moto[server]'`),
//! started on a free loopback port and killed when dropped.
//!
//! Under `CI=true` a server that cannot start fails the test; elsewhere the test is skipped
//! with a loud message, so a machine without moto still runs the rest of the suite.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts moto, or returns `None` (after saying so loudly) when it is not available
    /// outside CI. Panics under `CI=true`.
    pub fn start() -> Option<Moto> {
        super::started_or_skipped(
            Moto::try_start(),
            "an S3 test: moto_server",
            "pip install 'moto[server]'",
        )
    }

    fn try_start() -> Result<Moto, String> {
        // `python3 -m moto.server` rather than the `moto_server` script: it is found wherever
        // `python3 -m pip install` put moto, with no PATH or pyenv shim to refresh.
        let mut child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run python3 -m moto.server: {e}"))?;
        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            super::forward_lines(out, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            super::forward_lines(err, tx);
        }
        let mut seen = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(at) = line.find("Running on http://") {
                        let endpoint = line[at + "Running on ".len()..].trim().to_string();
                        return Ok(Moto { child, endpoint });
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "no \"Running on\" line from moto_server; it said: {}",
                        seen.join(" | ")
                    ));
                }
            }
        }
    }

    /// Creates a bucket (moto accepts unsigned requests).
    pub fn create_bucket(&self, bucket: &str) {
        let url = format!("{}/{bucket}", self.endpoint);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let status = rt
            .block_on(async { reqwest::Client::new().put(&url).send().await })
            .expect("PUT bucket")
            .status();
        assert!(status.is_success(), "creating {bucket}: {status}");
    }

    /// The variables a `release-monitor` process needs to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing-access-key".to_string()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("S3_ENDPOINT", self.endpoint.clone()),
        ]
    }
}

/// The secret key the tests use; it must never appear in any output.
pub const SECRET_KEY: &str = "moto-secret-KEY-never-printed-42";

/// Variables that could point a test's process somewhere else.
pub const S3_VARS: [&str; 12] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "S3_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "VERSION_DB_S3_BUCKET",
    "VERSION_DB_S3_PREFIX",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];
