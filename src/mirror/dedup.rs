//! Deduplication: the index of verified files by digest ([`DedupIndex`]), and placing an identical
//! file by hard link or copy ([`link_or_copy`]) instead of downloading it again.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{MirrorError, SIDECAR_SUFFIX, TRASH_DIR, io_err, read_sidecar};
use crate::fsutil;

/// The files already in the mirror, by SHA-256: when a new asset's digest is known in advance
/// (from an upstream checksum), an identical file already on disk is linked or copied instead
/// of downloaded again.
#[derive(Debug, Clone, Default)]
pub struct DedupIndex {
    /// Lowercase hex digest → a verified file with that digest.
    by_digest: HashMap<String, PathBuf>,
}

impl DedupIndex {
    /// Walks `root` (never following symlinks below it) and indexes every `*.sha256` sidecar in
    /// the seed format whose data file (a regular file, not a symlink) sits next to it. Files are
    /// not re-hashed: a sidecar is only written after verification. Unreadable folders and
    /// unreadable or malformed sidecars are skipped. A missing `root` gives an empty index (first
    /// run); an unreadable `root` is an error. The walk is in name order, and the first file
    /// found for a digest wins, so the result is deterministic.
    pub fn scan(root: &Path) -> Result<DedupIndex, MirrorError> {
        let mut index = DedupIndex::default();
        let top = match read_dir_sorted(root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(index),
            Err(e) => return Err(io_err(root, "cannot read the download directory")(e)),
        };
        // Depth-first, in name order: a stack of per-folder entry lists, consumed front to back.
        let mut stack: Vec<std::vec::IntoIter<(PathBuf, fs::FileType)>> = vec![top.into_iter()];
        while let Some(entries) = stack.last_mut() {
            let Some((path, file_type)) = entries.next() else {
                stack.pop();
                continue;
            };
            if file_type.is_dir() && path.file_name().is_some_and(|n| n == TRASH_DIR) {
                continue;
            }
            if file_type.is_dir() {
                match read_dir_sorted(&path) {
                    Ok(sub) => stack.push(sub.into_iter()),
                    Err(e) => tracing::debug!(path = %path.display(), error = %e,
                        "dedup scan: skipping an unreadable folder"),
                }
            } else if file_type.is_file()
                && let Some((hex, data)) = indexed(&path)
            {
                index.by_digest.entry(hex).or_insert(data);
            }
        }
        Ok(index)
    }

    /// A verified file whose SHA-256 is `sha256` (hex, either case), if the mirror has one.
    pub fn get(&self, sha256: &str) -> Option<&Path> {
        self.by_digest
            .get(&sha256.to_ascii_lowercase())
            .map(PathBuf::as_path)
    }

    /// Records a file just verified and committed, so later assets in the same run can reuse it.
    /// Replaces any earlier entry for the digest.
    pub fn insert(&mut self, sha256: &str, path: PathBuf) {
        self.by_digest.insert(sha256.to_ascii_lowercase(), path);
    }

    /// How many distinct digests are indexed (for logging).
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

/// A folder's entries with their types (not following symlinks), sorted by name.
fn read_dir_sorted(dir: &Path) -> io::Result<Vec<(PathBuf, fs::FileType)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        entries.push((entry.path(), entry.file_type()?));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// If `path` is a sidecar whose data file (a regular file, not a symlink) sits next to it and
/// which [`read_sidecar`] accepts: the digest (lowercase) and the data file.
/// A hidden sidecar (`.x.sha256`, see [`sidecar_path_for`](super::sidecar_path_for)) indexes
/// `x` too.
fn indexed(path: &Path) -> Option<(String, PathBuf)> {
    let file_name = path.file_name()?.to_str()?;
    let data_name = file_name.strip_suffix(SIDECAR_SUFFIX)?;
    let (data_name, hidden) = match data_name.strip_prefix('.') {
        Some(name) => (name, true),
        None => (data_name, false),
    };
    if data_name.is_empty() || data_name.starts_with('.') {
        return None;
    }
    let data = path.with_file_name(data_name);
    if !fs::symlink_metadata(&data).ok()?.file_type().is_file() {
        return None;
    }
    Some((read_sidecar(&data, hidden)?, data))
}

/// How [`link_or_copy`] placed a file: a hard link shares the existing file's storage, a copy
/// uses new space (different file system, or hard links not allowed there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `final_path` is a new name for the existing file.
    HardLink,
    /// `final_path` is a new file with the same bytes.
    Copy,
}

/// Places an identical, already verified file at `final_path` instead of downloading it again.
///
/// Hard-links `existing` to a temp name in `final_path`'s folder and renames that over
/// `final_path`, so the final name appears atomically and only ever with complete bytes. If hard
/// linking is impossible (a different file system, links unsupported or not permitted, too
/// many links), copies into a temp file in the same folder, fsyncs it and renames it instead.
/// Then fsyncs the folder. The sidecar is not written here: see [`write_sidecar`](super::write_sidecar).
pub fn link_or_copy(existing: &Path, final_path: &Path) -> Result<LinkKind, MirrorError> {
    if same_file(existing, final_path) {
        return Ok(LinkKind::HardLink);
    }
    let dir = fsutil::dir_of(final_path);
    let kind = match hard_link_into_place(existing, final_path, &dir)? {
        true => LinkKind::HardLink,
        false => {
            copy_into_place(existing, final_path, &dir)?;
            LinkKind::Copy
        }
    };
    fsutil::sync_dir(&dir).map_err(io_err(&dir, "cannot fsync the folder"))?;
    Ok(kind)
}

/// Whether both paths exist and are the same file (same device and inode). Renaming a link over
/// another link to the same inode is a no-op that would leave the temp name behind.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::symlink_metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Hard-links `existing` to a fresh temp name in `dir` and renames it over `final_path`.
/// `Ok(false)` means hard linking is not possible here and the caller should copy.
fn hard_link_into_place(
    existing: &Path,
    final_path: &Path,
    dir: &Path,
) -> Result<bool, MirrorError> {
    let prefix = fsutil::temp_prefix(final_path);
    let mut attempts = 0;
    let tmp = loop {
        let tmp = dir.join(format!(
            "{prefix}{:016x}{}",
            fastrand::u64(..),
            fsutil::TEMP_SUFFIX
        ));
        match fs::hard_link(existing, &tmp) {
            Ok(()) => break tmp,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => attempts += 1,
            Err(e) if link_unavailable(&e) => return Ok(false),
            Err(e) => return Err(io_err(existing, "cannot hard-link the existing file")(e)),
        }
    };
    if let Err(e) = fs::rename(&tmp, final_path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(
            final_path,
            "cannot rename the hard link to its final name",
        )(e));
    }
    Ok(true)
}

/// Whether a hard-link failure means "copy instead" rather than a real error.
fn link_unavailable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::CrossesDevices
            | io::ErrorKind::Unsupported
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::TooManyLinks
    )
}

/// Copies `existing` into a temp file in `dir` (keeping its permissions), fsyncs it and renames
/// it over `final_path`.
fn copy_into_place(existing: &Path, final_path: &Path, dir: &Path) -> Result<(), MirrorError> {
    let mut source =
        fs::File::open(existing).map_err(io_err(existing, "cannot open the existing file"))?;
    let permissions = source
        .metadata()
        .map_err(io_err(existing, "cannot read the existing file's metadata"))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(&fsutil::temp_prefix(final_path))
        .suffix(fsutil::TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io_err(dir, "cannot create a temp file"))?;
    io::copy(&mut source, tmp.as_file_mut())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(io_err(existing, "cannot copy the existing file"))?;
    fs::set_permissions(tmp.path(), permissions)
        .map_err(io_err(tmp.path(), "cannot set the copy's permissions"))?;
    tmp.persist(final_path)
        .map_err(|e| io_err(final_path, "cannot rename the copy to its final name")(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::{Layout, commit, part_path, sidecar_path};
    use crate::repo::RepoId;
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;

    fn repo() -> RepoId {
        RepoId::new("owner", "repo").unwrap()
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn dedup_scan_indexes_files_by_their_sidecars() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path());
        let dir = layout.prepare_dir(&repo(), "v1").unwrap();
        let a = dir.join("a.bin");
        fs::write(part_path(&a), b"aaa").unwrap();
        commit(&part_path(&a), &a, false, &sha256_hex(b"aaa")).unwrap();
        // A sidecar without its data file is ignored.
        let ghost = dir.join("ghost.bin");
        fs::write(
            sidecar_path(&ghost),
            format!("{}  ghost.bin\n", sha256_hex(b"ghost")),
        )
        .unwrap();
        // A malformed sidecar is ignored.
        fs::write(dir.join("bad.bin"), b"bad").unwrap();
        fs::write(dir.join("bad.bin.sha256"), "nonsense\n").unwrap();
        // A sidecar naming another file is ignored.
        fs::write(dir.join("c.bin"), b"c").unwrap();
        fs::write(
            dir.join("c.bin.sha256"),
            format!("{}  other\n", sha256_hex(b"c")),
        )
        .unwrap();
        // A data file that is a symlink is ignored, and so are symlinked folders.
        std::os::unix::fs::symlink(&a, dir.join("l.bin")).unwrap();
        fs::write(
            dir.join("l.bin.sha256"),
            format!("{}  l.bin\n", sha256_hex(b"l")),
        )
        .unwrap();
        std::os::unix::fs::symlink(&dir, tmp.path().join("loop")).unwrap();

        let index = DedupIndex::scan(tmp.path()).unwrap();
        assert_eq!(index.len(), 1, "{index:?}");
        assert_eq!(index.get(&sha256_hex(b"aaa")), Some(a.as_path()));
        assert_eq!(
            index.get(&sha256_hex(b"aaa").to_uppercase()),
            Some(a.as_path())
        );
        assert!(index.get(&sha256_hex(b"ghost")).is_none());

        let mut index = index;
        index.insert(&sha256_hex(b"new").to_uppercase(), dir.join("new"));
        assert_eq!(
            index.get(&sha256_hex(b"new")),
            Some(dir.join("new").as_path())
        );
        assert!(!index.is_empty());
        assert!(
            DedupIndex::scan(&tmp.path().join("missing"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn link_or_copy_hard_links_on_the_same_file_system() {
        let tmp = tempfile::tempdir().unwrap();
        let existing = tmp.path().join("existing");
        fs::write(&existing, b"same bytes").unwrap();
        let sub = tmp.path().join("other");
        fs::create_dir(&sub).unwrap();
        let fin = sub.join("final");
        fs::write(&fin, b"old content").unwrap();
        assert_eq!(link_or_copy(&existing, &fin).unwrap(), LinkKind::HardLink);
        assert_eq!(
            fs::metadata(&existing).unwrap().ino(),
            fs::metadata(&fin).unwrap().ino()
        );
        assert_eq!(fs::read(&fin).unwrap(), b"same bytes");
        // Linking again onto the same inode is a no-op that leaves no temp file behind.
        assert_eq!(link_or_copy(&existing, &fin).unwrap(), LinkKind::HardLink);
        assert_eq!(fs::read_dir(&sub).unwrap().count(), 1);
    }

    #[test]
    fn copy_into_place_copies_bytes_and_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let existing = tmp.path().join("existing");
        fs::write(&existing, b"copied").unwrap();
        fs::set_permissions(&existing, fs::Permissions::from_mode(0o644)).unwrap();
        let fin = tmp.path().join("final");
        copy_into_place(&existing, &fin, tmp.path()).unwrap();
        assert_eq!(fs::read(&fin).unwrap(), b"copied");
        assert_ne!(
            fs::metadata(&existing).unwrap().ino(),
            fs::metadata(&fin).unwrap().ino()
        );
        assert_eq!(
            fs::metadata(&fin).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2);
    }
}
