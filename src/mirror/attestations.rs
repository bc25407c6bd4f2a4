//! Kept attestations: GitHub's answer for a file's digest, stored beside the file once its
//! bundles verified, so the service can hand them on (`/api/v3/repos/{o}/{r}/attestations/…`)
//! and an instance mirroring this one checks the same provenance offline.
//!
//! The file is ours, `.<name>.attestations.json`: the leading dot keeps it off every upstream
//! name (asset names never start with one). A name too long for that becomes
//! `.attestations-<SHA-256 of the path>.json`.

use std::path::{Path, PathBuf};

/// Where the attestations of the mirrored file `file` are kept.
pub fn attestations_path(file: &Path) -> PathBuf {
    const SUFFIX: &str = ".attestations.json";
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kept = if 1 + name.len() + SUFFIX.len() <= super::layout::MAX_NAME_BYTES {
        format!(".{name}{SUFFIX}")
    } else {
        use sha2::{Digest, Sha256};
        format!(
            ".attestations-{}.json",
            hex::encode(Sha256::digest(file.as_os_str().as_encoded_bytes()))
        )
    };
    file.with_file_name(kept)
}

/// Keeps `answer` for `file` (written atomically).
pub fn keep_attestations(file: &Path, answer: &[u8]) -> std::io::Result<()> {
    crate::fsutil::write_atomic(&attestations_path(file), answer, "attestations")
        .map_err(|(what, e)| std::io::Error::new(e.kind(), format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_attestations_never_take_an_upstream_name() {
        assert_eq!(
            attestations_path(Path::new("/m/a_b/v1/tool.tar.gz")),
            PathBuf::from("/m/a_b/v1/.tool.tar.gz.attestations.json")
        );
        let long = "x".repeat(250);
        let p = attestations_path(&Path::new("/m").join(&long));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".attestations-") && name.len() < 120,
            "{name}"
        );
        assert!(crate::mirror::check_asset_name(&name).is_err());
    }
}
