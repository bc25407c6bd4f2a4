//! Part files: a download streams into `<final>.part` and remembers, in
//! `<final>.part.validator`, which response it came from (its `ETag` or `Last-Modified`), so an
//! interrupted transfer resumes with `Range` + `If-Range`. A segmented transfer of a large asset
//! also keeps `<final>.part.pieces`, how far each of its ranged pieces got. [`discard_part`] is
//! the one place that removes them.

use std::fs;
use std::path::{Path, PathBuf};

use super::with_suffix;

/// Suffix of a download in progress (see [`part_path`]).
const PART_SUFFIX: &str = ".part";

/// Suffix of a part file's validator (see [`validator_path`]).
const VALIDATOR_SUFFIX: &str = ".validator";

/// Suffix of a segmented part file's piece map (see [`pieces_path`]).
const PIECES_SUFFIX: &str = ".pieces";

/// `<final>.part`: where a download streams to, and resumes from. It sits next to the final file
/// (same file system, so [`commit`](super::commit) is a rename) and never under the final name, so an
/// interrupted or unverified download is never mistaken for a finished one.
pub fn part_path(final_path: &Path) -> PathBuf {
    with_suffix(final_path, PART_SUFFIX)
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
        assert_eq!(
            validator_path(Path::new("/d/a.part")),
            PathBuf::from("/d/a.part.validator")
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
