//! Part files: a download streams into `.<final>.part` and remembers, in
//! `.<final>.part.validator`, which response it came from (its `ETag` or `Last-Modified`), so an
//! interrupted transfer resumes with `Range` + `If-Range`. A segmented transfer of a large asset
//! also keeps `.<final>.part.pieces`, how far each of its ranged pieces got. [`discard_part`] is
//! the one place that removes them.
//!
//! The leading dot keeps them out of upstream's names: asset names never start with a dot
//! ([`check_asset_name`](super::check_asset_name) refuses them, as GitHub renames them), so an
//! asset named `x.part` can never be the part file of `x`.

use std::fs;
use std::path::{Path, PathBuf};

use super::with_suffix;

/// Suffix of a download in progress (see [`part_path`]).
const PART_SUFFIX: &str = ".part";

/// Suffix of a part file's validator (see [`validator_path`]).
const VALIDATOR_SUFFIX: &str = ".validator";

/// Suffix of a segmented part file's piece map (see [`pieces_path`]).
const PIECES_SUFFIX: &str = ".pieces";

/// `.<final>.part`: where a download streams to, and resumes from. It sits next to the final
/// file (same file system, so [`commit`](super::commit) is a rename) and never under the final
/// name, so an interrupted or unverified download is never mistaken for a finished one. A name
/// too long for that (with `.validator` after it) becomes `.part-<SHA-256 of the path>`, the same
/// on every run, so it still resumes.
pub fn part_path(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let longest = 1 + name.len() + PART_SUFFIX.len() + VALIDATOR_SUFFIX.len();
    let part = if longest <= super::layout::MAX_NAME_BYTES {
        format!(".{name}{PART_SUFFIX}")
    } else {
        use sha2::{Digest, Sha256};
        format!(
            ".part-{}",
            hex::encode(Sha256::digest(final_path.as_os_str().as_encoded_bytes()))
        )
    };
    final_path.with_file_name(part)
}

/// `<part>.validator`: the file that remembers which response a `.part` file came from (its
/// `ETag` or `Last-Modified`), for `If-Range`.
pub fn validator_path(part: &Path) -> PathBuf {
    with_suffix(part, VALIDATOR_SUFFIX)
}

/// `<part>.pieces`: the piece map of a segmented transfer (the asset's size, the piece size, the
/// validator, and how many bytes of each piece are on disk and synced), so each piece resumes on
/// its own after a fault or a kill.
pub fn pieces_path(part: &Path) -> PathBuf {
    with_suffix(part, PIECES_SUFFIX)
}

/// Removes a part file and its validator and piece map (either may be missing): when its bytes failed
/// verification or are not a prefix of the asset, after [`super::commit`] renamed it, or once its
/// file is in place another way (re-verified, deduplicated) and nothing would ever resume it.
/// Best effort: a file that cannot be removed is only logged, and the next download overwrites
/// it.
pub fn discard_part(part: &Path) {
    for path in [part.to_path_buf(), validator_path(part), pieces_path(part)] {
        match fs::remove_file(&path) {
            Ok(()) => tracing::debug!("{}: removed, no longer needed", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::debug!("{}: cannot remove it: {e}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_and_validator_names_and_removal() {
        assert_eq!(part_path(Path::new("/d/a")), PathBuf::from("/d/.a.part"));
        assert_eq!(
            validator_path(Path::new("/d/.a.part")),
            PathBuf::from("/d/.a.part.validator")
        );
        // A long name still leaves room for the validator's suffix, and is the same each time.
        let long = format!("/d/{}", "n".repeat(250));
        let part = part_path(Path::new(&long));
        assert!(part.file_name().unwrap().len() + ".validator".len() <= 255);
        assert_eq!(part, part_path(Path::new(&long)));
        assert!(
            part.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".part-")
        );
        let dir = tempfile::tempdir().unwrap();
        let part = part_path(&dir.path().join("a"));
        fs::write(&part, b"x").unwrap();
        fs::write(validator_path(&part), b"etag").unwrap();
        fs::write(pieces_path(&part), b"{}").unwrap();
        discard_part(&part);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        discard_part(&part);
    }
}
