//! Durable commit: a verified `.part` file becomes the final file, and its sidecar is written.

use std::fs;
use std::io;
use std::path::Path;

use super::sidecar::normalize_digest;
use super::{MirrorError, discard_part, io_err, sidecar_path_for, write_sidecar};
use crate::fsutil;

/// Makes a verified download final: fsyncs the `.part` file, renames it to `final_path`, removes
/// the part file's validator, fsyncs the directory, then writes the sidecar atomically with `"<hex>  <file name>\n"`.
///
/// Only called after verification, so the final path only ever holds verified bytes. A stale
/// sidecar (from an earlier file under the same name) is removed before the rename, so a crash
/// can leave a file without a sidecar but never a sidecar naming the wrong digest.
/// `hidden_sidecar`: see [`sidecar_path_for`].
pub fn commit(
    part: &Path,
    final_path: &Path,
    hidden_sidecar: bool,
    sha256_hex: &str,
) -> Result<(), MirrorError> {
    if normalize_digest(sha256_hex).is_none() {
        return Err(MirrorError::Io {
            path: final_path.to_path_buf(),
            context: "refusing to commit with an invalid sha256 digest",
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{sha256_hex:?} is not 64 hex digits"),
            ),
        });
    }
    fs::File::open(part)
        .and_then(|f| f.sync_all())
        .map_err(io_err(part, "cannot fsync the downloaded file"))?;
    let sidecar = sidecar_path_for(final_path, hidden_sidecar);
    match fs::remove_file(&sidecar) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&sidecar, "cannot remove the stale sidecar")(e)),
    }
    fs::rename(part, final_path).map_err(io_err(
        final_path,
        "cannot rename the downloaded file to its final name",
    ))?;
    discard_part(part);
    let dir = fsutil::dir_of(final_path);
    fsutil::sync_dir(&dir).map_err(io_err(&dir, "cannot fsync the folder"))?;
    write_sidecar(final_path, hidden_sidecar, sha256_hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::{part_path, sidecar_path};
    use sha2::{Digest, Sha256};

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn commit_moves_the_part_file_and_writes_the_sidecar() {
        let tmp = tempfile::tempdir().unwrap();
        let fin = tmp.path().join("tool.tar.gz");
        let part = part_path(&fin);
        fs::write(&part, b"verified bytes").unwrap();
        // A stale sidecar from an earlier file is replaced.
        fs::write(sidecar_path(&fin), "stale").unwrap();
        let hex = sha256_hex(b"verified bytes");
        commit(&part, &fin, false, &hex.to_uppercase()).unwrap();
        assert_eq!(fs::read(&fin).unwrap(), b"verified bytes");
        assert!(!part.exists());
        assert_eq!(
            fs::read_to_string(sidecar_path(&fin)).unwrap(),
            format!("{hex}  tool.tar.gz\n")
        );
        // Only the file and its sidecar remain (no temp files).
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2);
    }

    #[test]
    fn commit_refuses_an_invalid_digest_and_leaves_the_part_file() {
        let tmp = tempfile::tempdir().unwrap();
        let fin = tmp.path().join("a");
        let part = part_path(&fin);
        fs::write(&part, b"x").unwrap();
        assert!(commit(&part, &fin, false, "not-hex").is_err());
        assert!(part.exists());
        assert!(!fin.exists());
    }
}
