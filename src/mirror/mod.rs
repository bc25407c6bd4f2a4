//! The mirror: the local files, where a release's files go and how they get there safely.
//!
//! The mirror keeps the seed tool's layout, so existing mirrors and their consumers keep working:
//!
//! ```text
//! {directory}/{owner}_{repo}/{encoded tag}/{asset name}
//! {directory}/{owner}_{repo}/{encoded tag}/{asset name}.sha256       "<hex>  <asset name>\n"
//! {directory}/{owner}_{repo}/{encoded tag}/{owner}_{repo}-{encoded tag}.tar.gz | .zip
//! ```
//!
//! Tag and asset names come from GitHub and are untrusted. A tag is always exactly one folder
//! ([`encode_tag`] percent-encodes whatever could make it more or less than that); an asset name
//! that could act as a path is refused outright ([`check_asset_name`]). [`Layout::prepare_dir`]
//! also checks, on disk, that the folder it creates resolves inside the download directory, so a
//! symlink planted in the mirror cannot redirect writes elsewhere.
//!
//! A download streams into `<final>.part` ([`part_path`]); only once it is verified does
//! [`commit`] move it to its final name and write its sidecar, so a final path only ever holds
//! verified bytes. [`DedupIndex`] finds a file already in the mirror with the same digest, and
//! [`link_or_copy`] places it instead of downloading it again. [`ensure_space`] refuses to start
//! a download the file system cannot hold.

pub mod extract;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::repo::RepoId;

/// The longest file name (in bytes) the common Linux file systems accept. Checking it here gives
/// a clear error naming the asset instead of an `ENAMETOOLONG` halfway through a download.
const MAX_NAME_BYTES: usize = 255;

/// Suffix of a download in progress (see [`part_path`]).
const PART_SUFFIX: &str = ".part";

/// Suffix of a checksum sidecar (see [`sidecar_path`]).
const SIDECAR_SUFFIX: &str = ".sha256";

/// Length of a SHA-256 digest in hex.
const SHA256_HEX_LEN: usize = 64;

/// A sidecar is one short line; anything much larger is not one of ours and is not read whole.
const MAX_SIDECAR_BYTES: u64 = 1024;

/// Why a file could not be placed in the mirror. Every variant names what it refused or the path
/// it failed on, because the caller reports it per asset and carries on with the others.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A name from GitHub (a tag, an asset) cannot be used as a path component.
    #[error("refusing {what} {name:?}: {reason}")]
    UnsafeName {
        /// What the name is (`"tag"`, `"asset name"`, ...).
        what: &'static str,
        /// The name as GitHub sent it.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A folder resolved (through a symlink) outside the download directory.
    #[error(
        "{} resolves outside the download directory {} (is there a symlink in the mirror?)",
        path.display(),
        root.display()
    )]
    Escape {
        /// The folder, as resolved on disk.
        path: PathBuf,
        /// The download directory, as resolved on disk.
        root: PathBuf,
    },
    /// The file system has too little free space for the download.
    #[error(
        "not enough free space in {}: {needed} bytes needed (including the safety margin), \
         {available} available",
        dir.display()
    )]
    NoSpace {
        /// Bytes needed, safety margin included.
        needed: u64,
        /// Bytes available to this (unprivileged) process.
        available: u64,
        /// The directory that was checked.
        dir: PathBuf,
    },
    /// A file system operation failed.
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The path the operation was on.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// What the operating system said.
        source: io::Error,
    },
}

/// Shorthand for building [`StoreError::Io`].
fn io_err(path: &Path, context: &'static str) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        path,
        context,
        source,
    }
}

/// Turns a release tag into the name of exactly one folder, so that a tag such as `cli/v1.2.0`
/// or `..` can neither create nested folders nor climb out of the repository's folder.
///
/// `/`, `\`, `%` (so that the encoding stays injective: two different tags never share a
/// folder), NUL and every control character are percent-encoded as their UTF-8 bytes (`%2F`);
/// a tag that is exactly `.` or `..` has its dots encoded (`%2E`). Everything else (unicode,
/// spaces, `+`, `@`) is kept, so ordinary tags keep their seed-tool folder names. An empty tag,
/// or one whose encoding is longer than a file name may be, is an error.
pub fn encode_tag(tag: &str) -> Result<String, StoreError> {
    let unsafe_tag = |reason: String| StoreError::UnsafeName {
        what: "tag",
        name: tag.to_string(),
        reason,
    };
    if tag.is_empty() {
        return Err(unsafe_tag("a tag must not be empty".to_string()));
    }
    let mut out = String::with_capacity(tag.len());
    if tag == "." || tag == ".." {
        for _ in 0..tag.len() {
            out.push_str("%2E");
        }
        return Ok(out);
    }
    for c in tag.chars() {
        if c == '/' || c == '\\' || c == '%' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    if out.len() > MAX_NAME_BYTES {
        return Err(unsafe_tag(format!(
            "its folder name would be {} bytes long (at most {MAX_NAME_BYTES})",
            out.len()
        )));
    }
    Ok(out)
}

/// The folder in the download directory where retention moves a release folder before
/// deleting it, so a half-deleted release is never seen under its own name. Skipped by every
/// scan; leftovers of an interrupted run are removed by the next one.
pub const TRASH_DIR: &str = ".release-monitor-trash";

/// The tag whose folder is `folder`, or `None` if `folder` is not a name [`encode_tag`] makes
/// (a temporary or foreign folder), so nothing but a release folder is ever taken for one.
pub fn decode_tag(folder: &str) -> Option<String> {
    let tag = percent_encoding::percent_decode_str(folder)
        .decode_utf8()
        .ok()?
        .into_owned();
    (encode_tag(&tag).ok()? == folder).then_some(tag)
}

/// Checks that an asset name from GitHub is a plain file name, so it cannot write anywhere but
/// its release folder. Unlike a tag, a bad asset name is never encoded: the asset fails, because
/// a consumer looking for it by its name would not find it anyway.
///
/// Refused: an empty name, `.`, `..`, a name containing `/`, `\`, NUL or any control character,
/// and a name longer than 255 bytes.
pub fn check_asset_name(name: &str) -> Result<(), StoreError> {
    let reason = if name.is_empty() {
        Some("an asset name must not be empty".to_string())
    } else if name == "." || name == ".." {
        Some("it is not a file name".to_string())
    } else if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "it is {} bytes long (at most {MAX_NAME_BYTES})",
            name.len()
        ))
    } else {
        name.chars()
            .find(|c| *c == '/' || *c == '\\' || c.is_control())
            .map(|c| format!("it contains {c:?}"))
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(StoreError::UnsafeName {
            what: "asset name",
            name: name.to_string(),
            reason,
        }),
    }
}

/// The download directory's layout: the one place that turns a repository, a tag and an asset
/// name into a path, so every stage agrees on where a file lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The download directory.
    root: PathBuf,
    /// One release's files directly in `root` (see [`Layout::flat`]).
    flat: bool,
}

impl Layout {
    /// A layout rooted at the download directory `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout {
            root: root.into(),
            flat: false,
        }
    }

    /// A layout for one release whose files go directly into `root`, with source archives named
    /// `source.tar.gz` and `source.zip`: what the Concourse resource's `in` step writes (the
    /// github-release resource's names), since Concourse gives each fetched version its own
    /// directory.
    pub fn flat(root: impl Into<PathBuf>) -> Layout {
        Layout {
            root: root.into(),
            flat: true,
        }
    }

    /// The download directory, for callers that scan or check space on it.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/owner_repo`: the folder holding every release of one repository. (The parts of a
    /// [`RepoId`] are already checked to be plain names.)
    pub fn repo_dir(&self, repo: &RepoId) -> PathBuf {
        if self.flat {
            return self.root.clone();
        }
        self.root.join(repo_folder(repo))
    }

    /// `root/owner_repo/<encoded tag>` (see [`encode_tag`]): the folder of one release. Nothing
    /// is created; see [`Layout::prepare_dir`].
    pub fn release_dir(&self, repo: &RepoId, tag: &str) -> Result<PathBuf, StoreError> {
        let encoded = encode_tag(tag)?;
        if self.flat {
            return Ok(self.root.clone());
        }
        Ok(self.repo_dir(repo).join(encoded))
    }

    /// `root/owner_repo/<encoded tag>/<asset>`: where a verified asset lives. The asset name is
    /// checked with [`check_asset_name`].
    pub fn asset_path(&self, repo: &RepoId, tag: &str, asset: &str) -> Result<PathBuf, StoreError> {
        check_asset_name(asset)?;
        Ok(self.release_dir(repo, tag)?.join(asset))
    }

    /// `root/owner_repo/<encoded tag>/owner_repo-<encoded tag>.tar.gz` (or `.zip`): where the
    /// release's source archive lives, named as the seed tool named it.
    pub fn source_archive_path(
        &self,
        repo: &RepoId,
        tag: &str,
        zip: bool,
    ) -> Result<PathBuf, StoreError> {
        let encoded = encode_tag(tag)?;
        let ext = if zip { "zip" } else { "tar.gz" };
        if self.flat {
            return Ok(self.root.join(format!("source.{ext}")));
        }
        let name = format!("{}-{encoded}.{ext}", repo_folder(repo));
        if name.len() > MAX_NAME_BYTES {
            return Err(StoreError::UnsafeName {
                what: "tag",
                name: tag.to_string(),
                reason: format!(
                    "the source archive's name would be {} bytes long (at most {MAX_NAME_BYTES})",
                    name.len()
                ),
            });
        }
        Ok(self.repo_dir(repo).join(encoded).join(name))
    }

    /// Creates the release folder (and the download directory and repository folder if needed)
    /// and checks, on disk, that it resolves inside the download directory: a symlink planted as
    /// `owner_repo` or as the tag folder is refused with [`StoreError::Escape`].
    ///
    /// The folders are created one level at a time and each is checked before the next is
    /// created inside it, so nothing is ever created outside the download directory. Returns the
    /// release folder as [`Layout::release_dir`] spells it (the same prefix as
    /// [`Layout::asset_path`]).
    pub fn prepare_dir(&self, repo: &RepoId, tag: &str) -> Result<PathBuf, StoreError> {
        let release = self.release_dir(repo, tag)?;
        fs::create_dir_all(&self.root)
            .map_err(io_err(&self.root, "cannot create the download directory"))?;
        if self.flat {
            return Ok(release);
        }
        let root = fs::canonicalize(&self.root)
            .map_err(io_err(&self.root, "cannot resolve the download directory"))?;
        for dir in [self.repo_dir(repo), release.clone()] {
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&dir, "cannot create the folder")(e)),
            }
            let resolved =
                fs::canonicalize(&dir).map_err(io_err(&dir, "cannot resolve the folder"))?;
            if !resolved.starts_with(&root) || resolved == root {
                return Err(StoreError::Escape {
                    path: resolved,
                    root,
                });
            }
            if !resolved.is_dir() {
                return Err(StoreError::Io {
                    path: dir,
                    context: "cannot use it as a folder",
                    source: io::Error::from(io::ErrorKind::NotADirectory),
                });
            }
        }
        Ok(release)
    }
}

/// `owner_repo`, the seed tool's name for a repository's folder.
fn repo_folder(repo: &RepoId) -> String {
    format!("{}_{}", repo.owner(), repo.repo())
}

/// `path` with `suffix` appended to its file name (`a/b.tar.gz` → `a/b.tar.gz.part`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `<final>.part`: where a download streams to, and resumes from. It sits next to the final file
/// (same file system, so [`commit`] is a rename) and never under the final name, so an
/// interrupted or unverified download is never mistaken for a finished one.
pub fn part_path(final_path: &Path) -> PathBuf {
    with_suffix(final_path, PART_SUFFIX)
}

/// `<final>.sha256`: the sidecar holding a file's verified digest, as the seed tool wrote it; it
/// is what [`DedupIndex::scan`] reads back.
pub fn sidecar_path(final_path: &Path) -> PathBuf {
    with_suffix(final_path, SIDECAR_SUFFIX)
}

/// Checks a SHA-256 digest in hex and lowercases it, so a sidecar never holds garbage.
fn normalize_digest(sha256_hex: &str) -> Option<String> {
    (sha256_hex.len() == SHA256_HEX_LEN && sha256_hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| sha256_hex.to_ascii_lowercase())
}

/// Writes `final_path`'s sidecar (`"<hex>  <file name>\n"`) atomically. [`commit`] calls it; a
/// caller that places a file with [`link_or_copy`] calls it too, so the copy is indexed by the
/// next [`DedupIndex::scan`] like any other verified file.
pub fn write_sidecar(final_path: &Path, sha256_hex: &str) -> Result<(), StoreError> {
    let sidecar = sidecar_path(final_path);
    let Some(hex) = normalize_digest(sha256_hex) else {
        return Err(StoreError::Io {
            path: sidecar,
            context: "refusing to write a sidecar with an invalid sha256 digest",
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{sha256_hex:?} is not 64 hex digits"),
            ),
        });
    };
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let line = format!("{hex}  {name}\n");
    fsutil::write_atomic(&sidecar, line.as_bytes(), "sidecar").map_err(|(context, source)| {
        StoreError::Io {
            path: sidecar,
            context,
            source,
        }
    })
}

/// Writes `final_path`'s sidecar unless it already says exactly `"<hex>  <file name>\n"`: for a
/// stored file just re-verified, whose sidecar a crash between [`commit`]'s rename and its
/// sidecar write left missing (or that someone damaged). Returns whether it wrote one.
pub fn ensure_sidecar(final_path: &Path, sha256_hex: &str) -> Result<bool, StoreError> {
    let sidecar = sidecar_path(final_path);
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let wanted = normalize_digest(sha256_hex).map(|hex| format!("{hex}  {name}\n"));
    let mut current = String::new();
    let readable = fs::File::open(&sidecar)
        .and_then(|f| f.take(MAX_SIDECAR_BYTES).read_to_string(&mut current))
        .is_ok();
    if readable && wanted.as_deref() == Some(current.as_str()) {
        return Ok(false);
    }
    write_sidecar(final_path, sha256_hex)?;
    Ok(true)
}

/// Makes a verified download final: fsyncs the `.part` file, renames it to `final_path`, fsyncs
/// the directory, then writes the sidecar atomically with `"<hex>  <file name>\n"`.
///
/// Only called after verification, so the final path only ever holds verified bytes. A stale
/// sidecar (from an earlier file under the same name) is removed before the rename, so a crash
/// can leave a file without a sidecar but never a sidecar naming the wrong digest.
pub fn commit(part: &Path, final_path: &Path, sha256_hex: &str) -> Result<(), StoreError> {
    if normalize_digest(sha256_hex).is_none() {
        return Err(StoreError::Io {
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
    let sidecar = sidecar_path(final_path);
    match fs::remove_file(&sidecar) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&sidecar, "cannot remove the stale sidecar")(e)),
    }
    fs::rename(part, final_path).map_err(io_err(
        final_path,
        "cannot rename the downloaded file to its final name",
    ))?;
    let dir = fsutil::dir_of(final_path);
    fsutil::sync_dir(&dir).map_err(io_err(&dir, "cannot fsync the folder"))?;
    write_sidecar(final_path, sha256_hex)
}

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
    pub fn scan(root: &Path) -> Result<DedupIndex, StoreError> {
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
                && let Some((hex, data)) = read_sidecar(&path)
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

/// If `path` is a well-formed sidecar (`"<64 hex>  <name>\n"`, `name` being the data file's
/// name) with a regular data file next to it: the digest (lowercase) and the data file.
fn read_sidecar(path: &Path) -> Option<(String, PathBuf)> {
    let file_name = path.file_name()?.to_str()?;
    let data_name = file_name.strip_suffix(SIDECAR_SUFFIX)?;
    if data_name.is_empty() {
        return None;
    }
    let data = path.with_file_name(data_name);
    if !fs::symlink_metadata(&data).ok()?.file_type().is_file() {
        return None;
    }
    let mut text = String::new();
    fs::File::open(path)
        .ok()?
        .take(MAX_SIDECAR_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let line = text.strip_suffix('\n')?;
    let (hex, name) = line.split_once("  ")?;
    if name != data_name {
        return None;
    }
    Some((normalize_digest(hex)?, data))
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
/// Then fsyncs the folder. The sidecar is not written here: see [`write_sidecar`].
pub fn link_or_copy(existing: &Path, final_path: &Path) -> Result<LinkKind, StoreError> {
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
) -> Result<bool, StoreError> {
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
fn copy_into_place(existing: &Path, final_path: &Path, dir: &Path) -> Result<(), StoreError> {
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

/// Checks, before a download starts, that the file system holding `dir` has room for `needed`
/// bytes plus a safety `margin`, so a full disk is reported up front instead of as a truncated
/// write. Returns the available bytes.
pub fn ensure_space(dir: &Path, needed: u64, margin: u64) -> Result<u64, StoreError> {
    let available = fs4::available_space(dir).map_err(io_err(dir, "cannot read the free space"))?;
    let total = needed.saturating_add(margin);
    if available < total {
        return Err(StoreError::NoSpace {
            needed: total,
            available,
            dir: dir.to_path_buf(),
        });
    }
    Ok(available)
}

#[cfg(test)]
mod decode_tests {
    use super::*;

    #[test]
    fn decode_inverts_encode_and_refuses_foreign_names() {
        for tag in ["v1.2.0", "cli/v1.0", "..", "100%", "a\\b", "ünï code"] {
            let folder = encode_tag(tag).unwrap();
            assert_eq!(decode_tag(&folder).as_deref(), Some(tag), "{folder}");
        }
        // Not names encode_tag makes: a raw `%` sequence for a safe character, a bad escape.
        assert_eq!(decode_tag("v%31.0"), None);
        assert_eq!(decode_tag("%zz"), None);
        assert_eq!(decode_tag("%2"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;

    fn repo() -> RepoId {
        RepoId::new("owner", "repo").unwrap()
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn encode_tag_keeps_ordinary_tags_and_encodes_path_characters() {
        let cases = [
            ("v1.2.0", "v1.2.0"),
            ("cli/v1.2.0", "cli%2Fv1.2.0"),
            ("a\\b", "a%5Cb"),
            ("100%", "100%25"),
            ("..", "%2E%2E"),
            (".", "%2E"),
            ("...", "..."),
            ("a\0b", "a%00b"),
            ("a\tb", "a%09b"),
            ("a\u{7f}b", "a%7Fb"),
            ("a\u{85}b", "a%C2%85b"),
            ("v1.0 béta+build@x", "v1.0 béta+build@x"),
            ("版本-1", "版本-1"),
        ];
        for (tag, want) in cases {
            assert_eq!(encode_tag(tag).unwrap(), want, "{tag:?}");
        }
    }

    #[test]
    fn encode_tag_refuses_empty_and_overlong_tags() {
        assert!(matches!(
            encode_tag(""),
            Err(StoreError::UnsafeName { what: "tag", .. })
        ));
        assert!(encode_tag(&"a".repeat(255)).is_ok());
        assert!(encode_tag(&"a".repeat(256)).is_err());
        assert!(encode_tag(&"/".repeat(90)).is_err());
    }

    #[test]
    fn encode_tag_is_injective_and_yields_one_plain_component() {
        let tags = [
            "a/b", "a%2Fb", "a%b", "a%25b", "a\\b", "a%5Cb", ".", "%2E", "..", "%2E%2E", "...",
            "a\0b", "a%00b", "v1", "v1/", "v1%", "%", "%%", "%25",
        ];
        let mut seen = HashMap::new();
        for tag in tags {
            let enc = encode_tag(tag).unwrap();
            if let Some(other) = seen.insert(enc.clone(), tag) {
                panic!("{tag:?} and {other:?} both encode to {enc:?}");
            }
            let mut parts = Path::new(&enc).components();
            assert!(
                matches!(parts.next(), Some(std::path::Component::Normal(_))),
                "{enc:?}"
            );
            assert!(parts.next().is_none(), "{enc:?}");
        }
    }

    #[test]
    fn hostile_asset_names_are_refused() {
        let long = "a".repeat(256);
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "..",
            ".",
            "",
            "a\0b",
            "a\nb",
            "a\u{1b}[31m",
            long.as_str(),
        ] {
            let err = check_asset_name(bad).unwrap_err();
            assert!(
                matches!(err, StoreError::UnsafeName { what: "asset name", ref name, .. } if name == bad),
                "{bad:?}: {err}"
            );
            assert!(err.to_string().contains("asset name"), "{err}");
            assert!(Layout::new("/m").asset_path(&repo(), "v1", bad).is_err());
        }
    }

    #[test]
    fn ordinary_asset_names_are_accepted() {
        for good in [
            "tool-1.0_linux-amd64.tar.gz",
            "My Tool Setup 1.0.exe",
            "outil-é-版本.zip",
            "...",
            ".hidden",
            &"a".repeat(255),
        ] {
            check_asset_name(good).unwrap();
        }
    }

    #[test]
    fn paths_follow_the_seed_layout() {
        let layout = Layout::new("/mirror");
        let r = repo();
        assert_eq!(layout.repo_dir(&r), PathBuf::from("/mirror/owner_repo"));
        assert_eq!(
            layout.release_dir(&r, "cli/v1.2.0").unwrap(),
            PathBuf::from("/mirror/owner_repo/cli%2Fv1.2.0")
        );
        assert_eq!(
            layout.asset_path(&r, "v1.2.0", "tool.tar.gz").unwrap(),
            PathBuf::from("/mirror/owner_repo/v1.2.0/tool.tar.gz")
        );
        assert_eq!(
            layout.source_archive_path(&r, "v1.2.0", false).unwrap(),
            PathBuf::from("/mirror/owner_repo/v1.2.0/owner_repo-v1.2.0.tar.gz")
        );
        assert_eq!(
            layout.source_archive_path(&r, "a/b", true).unwrap(),
            PathBuf::from("/mirror/owner_repo/a%2Fb/owner_repo-a%2Fb.zip")
        );
        assert!(
            layout
                .source_archive_path(&r, &"a".repeat(250), true)
                .is_err()
        );
        let fin = Path::new("/mirror/owner_repo/v1/tool.tar.gz");
        assert_eq!(
            part_path(fin),
            PathBuf::from("/mirror/owner_repo/v1/tool.tar.gz.part")
        );
        assert_eq!(
            sidecar_path(fin),
            PathBuf::from("/mirror/owner_repo/v1/tool.tar.gz.sha256")
        );
    }

    #[test]
    fn prepare_dir_creates_the_release_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path().join("mirror"));
        let dir = layout.prepare_dir(&repo(), "cli/v1").unwrap();
        assert_eq!(dir, tmp.path().join("mirror/owner_repo/cli%2Fv1"));
        assert!(dir.is_dir());
        // Idempotent.
        assert_eq!(layout.prepare_dir(&repo(), "cli/v1").unwrap(), dir);
    }

    #[test]
    fn prepare_dir_refuses_a_symlinked_repo_folder_pointing_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("mirror");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("owner_repo")).unwrap();
        let err = Layout::new(&root).prepare_dir(&repo(), "v1").unwrap_err();
        assert!(matches!(err, StoreError::Escape { .. }), "{err}");
        // Nothing was created outside the download directory.
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);

        // Also through the tag folder.
        let root2 = tmp.path().join("mirror2");
        fs::create_dir_all(root2.join("owner_repo")).unwrap();
        std::os::unix::fs::symlink("/etc", root2.join("owner_repo/v1")).unwrap();
        let err = Layout::new(&root2).prepare_dir(&repo(), "v1").unwrap_err();
        assert!(matches!(err, StoreError::Escape { .. }), "{err}");
    }

    #[test]
    fn prepare_dir_allows_a_symlinked_root() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir_all(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let dir = Layout::new(&link).prepare_dir(&repo(), "v1").unwrap();
        assert!(dir.is_dir());
        assert!(real.join("owner_repo/v1").is_dir());
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
        commit(&part, &fin, &hex.to_uppercase()).unwrap();
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
    fn ensure_sidecar_restores_a_missing_or_wrong_sidecar_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool.bin");
        fs::write(&file, b"abc").unwrap();
        let hex = sha256_hex(b"abc");
        let sidecar = sidecar_path(&file);
        assert!(ensure_sidecar(&file, &hex).unwrap(), "missing: written");
        assert_eq!(
            fs::read_to_string(&sidecar).unwrap(),
            format!("{hex}  tool.bin\n")
        );
        assert!(!ensure_sidecar(&file, &hex).unwrap(), "correct: kept");
        fs::write(&sidecar, "0000  tool.bin\n").unwrap();
        assert!(ensure_sidecar(&file, &hex).unwrap(), "wrong: rewritten");
        assert_eq!(
            fs::read_to_string(&sidecar).unwrap(),
            format!("{hex}  tool.bin\n")
        );
        assert!(ensure_sidecar(&file, "not hex").is_err());
    }

    #[test]
    fn commit_refuses_an_invalid_digest_and_leaves_the_part_file() {
        let tmp = tempfile::tempdir().unwrap();
        let fin = tmp.path().join("a");
        let part = part_path(&fin);
        fs::write(&part, b"x").unwrap();
        assert!(commit(&part, &fin, "not-hex").is_err());
        assert!(part.exists());
        assert!(!fin.exists());
    }

    #[test]
    fn dedup_scan_indexes_files_by_their_sidecars() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = Layout::new(tmp.path());
        let dir = layout.prepare_dir(&repo(), "v1").unwrap();
        let a = dir.join("a.bin");
        fs::write(part_path(&a), b"aaa").unwrap();
        commit(&part_path(&a), &a, &sha256_hex(b"aaa")).unwrap();
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

    #[test]
    fn ensure_space_refuses_what_the_disk_cannot_hold() {
        let tmp = tempfile::tempdir().unwrap();
        let available = ensure_space(tmp.path(), 1, 0).unwrap();
        assert!(available >= 1);
        let err = ensure_space(tmp.path(), u64::MAX / 2, 0).unwrap_err();
        assert!(matches!(err, StoreError::NoSpace { .. }), "{err}");
        assert!(matches!(
            ensure_space(tmp.path(), u64::MAX, u64::MAX),
            Err(StoreError::NoSpace {
                needed: u64::MAX,
                ..
            })
        ));
    }
}
