//! Sidecars: `<file>.sha256` next to every verified file, holding `"<hex>  <file name>\n"` as
//! the seed tool wrote it. When the release itself publishes a file named `<file>.sha256`, that
//! name is upstream's and ours is `.<file>.sha256` instead (`hidden`: the plan decides, from the
//! release's files), so our file never shares a path with an upstream one. This file is the one reader ([`read_sidecar`]) and the one writer
//! ([`sidecar_line`], [`write_sidecar`]) of that format; the dedup index, the downloader and the
//! artifact store all go through them.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{MirrorError, with_suffix};
use crate::fsutil;

/// Suffix of a checksum sidecar (see [`sidecar_path`]); the artifact store names its copies of
/// sidecars with it too.
pub const SIDECAR_SUFFIX: &str = ".sha256";

/// Length of a SHA-256 digest in hex.
const SHA256_HEX_LEN: usize = 64;

/// A sidecar is one short line; anything much larger is not one of ours and is not read whole.
const MAX_SIDECAR_BYTES: u64 = 1024;

/// `<final>.sha256`: the sidecar holding a file's verified digest, as the seed tool wrote it; it
/// is what [`DedupIndex::scan`](super::DedupIndex::scan) reads back.
pub fn sidecar_path(final_path: &Path) -> PathBuf {
    with_suffix(final_path, SIDECAR_SUFFIX)
}

/// Where `final_path`'s sidecar is: `<final>.sha256`, or `.<final>.sha256` when `hidden` (the
/// release publishes a file named `<final>.sha256` itself).
pub fn sidecar_path_for(final_path: &Path, hidden: bool) -> PathBuf {
    if !hidden {
        return sidecar_path(final_path);
    }
    final_path.with_file_name(format!(".{}{SIDECAR_SUFFIX}", name_of(final_path)))
}

/// Checks a SHA-256 digest in hex and lowercases it, so a sidecar never holds garbage.
pub(super) fn normalize_digest(sha256_hex: &str) -> Option<String> {
    (sha256_hex.len() == SHA256_HEX_LEN && sha256_hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| sha256_hex.to_ascii_lowercase())
}

/// The text of a sidecar for a file named `name` whose SHA-256 is `sha256_hex`:
/// `"<lowercase hex>  <name>\n"`. The local mirror ([`write_sidecar`]) and the artifact store
/// write exactly this, so a sidecar means the same wherever it is found.
pub fn sidecar_line(sha256_hex: &str, name: &str) -> String {
    format!("{}  {name}\n", sha256_hex.to_ascii_lowercase())
}

/// The file name of `path`, as a sidecar names it.
fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The SHA-256 (lowercase hex) that `final_path`'s sidecar records, if it has a well-formed one:
/// exactly `"<64 hex>  <file name>\n"`, naming `final_path`'s own file name. Anything else (no
/// sidecar, unreadable, too large, another format, another file's name) is `None`, so a sidecar
/// is either trusted as ours or not at all. Reads at most 1 KiB.
pub fn read_sidecar(final_path: &Path, hidden: bool) -> Option<String> {
    let data_name = final_path.file_name()?.to_str()?;
    let mut text = String::new();
    fs::File::open(sidecar_path_for(final_path, hidden))
        .ok()?
        .take(MAX_SIDECAR_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let line = text.strip_suffix('\n')?;
    let (hex, name) = line.split_once("  ")?;
    if name != data_name {
        return None;
    }
    normalize_digest(hex)
}

/// Writes `final_path`'s sidecar (`"<hex>  <file name>\n"`) atomically. [`commit`](super::commit) calls it; a
/// caller that places a file with [`link_or_copy`](super::link_or_copy) calls it too, so the copy is indexed by the
/// next [`DedupIndex::scan`](super::DedupIndex::scan) like any other verified file.
pub fn write_sidecar(final_path: &Path, hidden: bool, sha256_hex: &str) -> Result<(), MirrorError> {
    let sidecar = sidecar_path_for(final_path, hidden);
    let Some(hex) = normalize_digest(sha256_hex) else {
        return Err(MirrorError::Io {
            path: sidecar,
            context: "refusing to write a sidecar with an invalid sha256 digest",
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{sha256_hex:?} is not 64 hex digits"),
            ),
        });
    };
    let line = sidecar_line(&hex, &name_of(final_path));
    fsutil::write_atomic(&sidecar, line.as_bytes(), "sidecar").map_err(|(context, source)| {
        MirrorError::Io {
            path: sidecar,
            context,
            source,
        }
    })
}

/// Writes `final_path`'s sidecar unless it already says exactly `"<hex>  <file name>\n"`: for a
/// stored file just re-verified, whose sidecar a crash between [`commit`](super::commit)'s rename and its
/// sidecar write left missing (or that someone damaged). Returns whether it wrote one.
pub fn ensure_sidecar(
    final_path: &Path,
    hidden: bool,
    sha256_hex: &str,
) -> Result<bool, MirrorError> {
    let wanted = normalize_digest(sha256_hex);
    if wanted.is_some() && read_sidecar(final_path, hidden) == wanted {
        return Ok(false);
    }
    write_sidecar(final_path, hidden, sha256_hex)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn ensure_sidecar_restores_a_missing_or_wrong_sidecar_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool.bin");
        fs::write(&file, b"abc").unwrap();
        let hex = sha256_hex(b"abc");
        let sidecar = sidecar_path(&file);
        assert!(
            ensure_sidecar(&file, false, &hex).unwrap(),
            "missing: written"
        );
        assert_eq!(
            fs::read_to_string(&sidecar).unwrap(),
            format!("{hex}  tool.bin\n")
        );
        assert!(
            !ensure_sidecar(&file, false, &hex).unwrap(),
            "correct: kept"
        );
        fs::write(&sidecar, "0000  tool.bin\n").unwrap();
        assert!(
            ensure_sidecar(&file, false, &hex).unwrap(),
            "wrong: rewritten"
        );
        assert_eq!(
            fs::read_to_string(&sidecar).unwrap(),
            format!("{hex}  tool.bin\n")
        );
        assert!(ensure_sidecar(&file, false, "not hex").is_err());
    }

    #[test]
    fn the_reader_accepts_only_what_the_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool.bin");
        fs::write(&file, b"abc").unwrap();
        assert_eq!(read_sidecar(&file, false), None, "no sidecar");
        let hex = sha256_hex(b"abc");
        write_sidecar(&file, false, &hex.to_uppercase()).unwrap();
        assert_eq!(read_sidecar(&file, false).as_deref(), Some(hex.as_str()));
        for bad in [
            format!("{hex}  tool.bin"),
            format!("{hex} tool.bin\n"),
            format!("{hex}  other.bin\n"),
            "abc  tool.bin\n".to_string(),
        ] {
            fs::write(sidecar_path(&file), &bad).unwrap();
            assert_eq!(read_sidecar(&file, false), None, "{bad:?}");
        }
        assert_eq!(
            sidecar_line(&hex.to_uppercase(), "x"),
            format!("{hex}  x\n")
        );
    }
}
