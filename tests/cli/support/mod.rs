//! Helpers shared by the integration tests.
//!
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
