//! Helpers shared by the integration tests.
//!
//! - [`artifactory`]: an in-process JFrog Artifactory stand-in for the Artifactory storage tests;
//! - [`fake_setup`]: a running fake GitHub with a config for it, and the binary with a clean
//!   environment;
//! - [`mirror_checks`]: checks of a download directory and a version database after a fault or a
//!   crash;
//! - [`moto`]: a real S3-compatible server (moto) for the S3 tests;
//! - [`receivers`]: loopback HTTP and SMTP receivers for the notification tests;
//! - [`signers`]: the real `minisign` and `gpg`, with fresh keys, for the signature tests;
//! - [`webdav`]: a real WebDAV server (`rclone serve webdav`) for the HTTP storage tests;
//! - `*_invariants`: the fuzz targets' invariants, also included by `fuzz/fuzz_targets/*.rs`
//!   (through `#[path]`), so they must only use `release_monitor` and `std`.

use std::path::Path;

use sha2::{Digest, Sha256};

pub mod artifactory;
pub mod fake_setup;
pub mod mirror_checks;
pub mod moto;
pub mod receivers;
pub mod signers;
pub mod webdav;

pub mod checksum_invariants;
pub mod config_invariants;
pub mod link_invariants;
pub mod signature_invariants;
pub mod version_invariants;

pub use fake_setup::FakeSetup;

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under `dir`, relative to it, sorted; nothing when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// A real server a test needs (moto, rclone, nginx), or `None` after saying loudly that the test
/// is skipped: outside CI a machine without the server still runs the rest of the suite; under
/// `CI=true` a server that cannot start fails the test. `what` names the test kind and the
/// server ("an S3 test: moto_server"), `install` how to get it.
pub fn started_or_skipped<T>(started: Result<T, String>, what: &str, install: &str) -> Option<T> {
    match started {
        Ok(server) => Some(server),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{what} is required under CI=true but could not start: {e}")
        }
        Err(e) => {
            // Straight to the process's stderr: the test harness captures `eprintln!` of
            // passing tests, and this must be seen.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!(
                    "\n**********************************************************************\n\
                     SKIPPING {what} could not start ({e}).\n\
                     Install it with: {install}\n\
                     **********************************************************************\n"
                )
                .as_bytes(),
            );
            None
        }
    }
}

/// Forwards a child process's output lines to `tx`, and keeps draining it so the child never
/// blocks on a full pipe.
pub fn forward_lines(
    stream: impl std::io::Read + Send + 'static,
    tx: std::sync::mpsc::Sender<String>,
) {
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
}

/// The release the remote-store tests mirror: a tag with a `/` (one folder, encoded), an asset
/// name with a space, and an older release for retention.
pub const STORE_SCENARIO: &str = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: cli/v1.2.0
        assets:
          - {name: "tool linux.tar.gz", size: 300000}
          - {name: tool.txt, content: "notes for 1.2.0"}
      - tag_name: cli/v1.1.0
        assets:
          - {name: "tool linux.tar.gz", size: 1000}
"#;

/// Every `uploaded[].how` of a report's downloads, sorted.
pub fn uploaded_how(report: &serde_json::Value) -> Vec<String> {
    let mut how: Vec<String> = report["download_results"]["downloaded"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["uploaded"].as_array().into_iter().flatten())
        .map(|f| f["how"].as_str().unwrap_or_default().to_string())
        .collect();
    how.sort();
    how
}

/// A fixture of `shared/fixtures/sigstore/` (beside the project's checkout).
pub fn sigstore_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/sigstore")
        .join(name)
}

/// The bytes of a `shared/fixtures/sigstore/` fixture.
pub fn read_fixture(name: &str) -> Vec<u8> {
    std::fs::read(sigstore_fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The first bundle of a JSON Lines fixture.
pub fn first_bundle(name: &str) -> serde_json::Value {
    let text = String::from_utf8(read_fixture(name)).expect("text");
    let line = text.lines().find(|l| !l.trim().is_empty()).expect("a line");
    serde_json::from_str(line).expect("JSON")
}
