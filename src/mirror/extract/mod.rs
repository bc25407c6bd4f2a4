//! `post_download.extract`: unpacks a stored archive into `{release folder}/{asset stem}/`.
//!
//! Archives come from upstream and are untrusted, like every name in them. The rules:
//!
//! - **Formats** by the asset's name (case-insensitive): `.tar.gz`/`.tgz`, `.tar.xz`/`.txz`,
//!   `.tar.bz2`/`.tbz2`/`.tbz`, `.tar`, `.zip`. The folder is the name without that extension
//!   (`tool-1.0-linux.tar.gz` → `tool-1.0-linux/`), checked like an asset name, unless another
//!   file of the release, a sidecar or another archive's folder has that name: then the whole
//!   archive name plus `.extracted` ([`folders`]). No two archives share a folder.
//! - **Names.** An entry name that is absolute, contains `..`, `\`, NUL or a control character,
//!   or is not UTF-8, fails the extraction ([`entry_path`]).
//! - **Links.** A symlink's target must be relative, with any `..` only at its start, and must
//!   not climb above the archive's folder ([`check_link_target`]). A hard link must name a regular
//!   file extracted earlier. Nothing is ever written *through* a symlink or into something that is
//!   not a real folder, and no entry overwrites another, so even links that point inside cannot be
//!   chained to escape.
//! - **Limits** ([`ExtractLimits`]) are checked while streaming, before each write: the total file
//!   content, that total divided by the archive's size, and the number of entries. A bomb stops
//!   at the first chunk past a cap.
//! - **Modes.** Permission bits are kept (executables stay executable); setuid, setgid and sticky
//!   bits, owners, times and extended attributes are not. Folders keep `rwx` for the owner.
//!   Devices and pipes are skipped with a warning.
//! - **Atomic.** Everything is unpacked into a hidden sibling `.{stem}.extract-XXXXXX/`, then
//!   renamed to `{stem}/` once complete; a failure removes the temp folder, so the final name
//!   never holds a partial tree. With [`Existing::Keep`] an existing `{stem}/` folder is left as
//!   it is (a no-op); with [`Existing::Replace`] the new tree is swapped in for it.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::ExtractLimits;
use crate::fsutil;
use crate::mirror::layout::MAX_NAME_BYTES;
use crate::mirror::{MirrorError, check_asset_name};

mod tar;
mod zip;

/// Copy buffer size.
const CHUNK: usize = 64 * 1024;

/// An archive format this step extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.tar.gz`, `.tgz`.
    TarGz,
    /// `.tar.xz`, `.txz`.
    TarXz,
    /// `.tar.bz2`, `.tbz2`, `.tbz`.
    TarBz2,
    /// `.tar`.
    Tar,
    /// `.zip`.
    Zip,
}

/// Extensions, longest first so `.tar.gz` wins over `.gz`-less `.tar`.
const EXTENSIONS: [(&str, Format); 9] = [
    (".tar.bz2", Format::TarBz2),
    (".tar.gz", Format::TarGz),
    (".tar.xz", Format::TarXz),
    (".tbz2", Format::TarBz2),
    (".tgz", Format::TarGz),
    (".txz", Format::TarXz),
    (".tbz", Format::TarBz2),
    (".tar", Format::Tar),
    (".zip", Format::Zip),
];

impl Format {
    /// The format of an asset named `name` and the name without its extension (the folder it
    /// is extracted into), or `None` if the name is not an archive's. Case-insensitive.
    pub fn detect(name: &str) -> Option<(Format, &str)> {
        let lower = name.to_ascii_lowercase();
        EXTENSIONS.iter().find_map(|(ext, format)| {
            lower
                .ends_with(ext)
                .then(|| (*format, &name[..name.len() - ext.len()]))
        })
    }

    /// How errors name the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::TarGz => "tar.gz",
            Format::TarXz => "tar.xz",
            Format::TarBz2 => "tar.bz2",
            Format::Tar => "tar",
            Format::Zip => "zip",
        }
    }
}

/// What to do when the final folder already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it: the archive was already extracted (the stored archive did not change).
    Keep,
    /// Extract again and swap the new tree in (the archive was just downloaded).
    Replace,
}

/// Why an archive was not extracted. Each variant names what it refused, because the error is
/// reported per asset and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The file's name has no archive extension this step knows.
    #[error(
        "{name:?} is not an archive this tool extracts \
         (.tar.gz, .tgz, .tar.xz, .txz, .tar.bz2, .tbz2, .tbz, .tar, .zip)"
    )]
    NotAnArchive {
        /// The file name.
        name: String,
    },
    /// The folder named after the archive would not be a safe name.
    #[error("cannot extract into a folder named after the archive: {0}")]
    FolderName(#[source] MirrorError),
    /// The final folder's name is taken by a file or a symlink.
    #[error("{} already exists and is not a folder; not extracting over it", path.display())]
    Occupied {
        /// The final folder's path.
        path: PathBuf,
    },
    /// An entry would write outside the folder, through a link, or over another entry.
    #[error("refusing entry {entry:?}: {reason}")]
    UnsafeEntry {
        /// The entry's name as the archive gives it.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// More entries than `max_files`.
    #[error(
        "the archive holds more than {limit} entries \
         (post_download.extract_limits.max_files); nothing was kept"
    )]
    TooManyFiles {
        /// The cap.
        limit: u32,
    },
    /// More content than `max_bytes`.
    #[error(
        "the archive unpacks to more than {limit} bytes \
         (post_download.extract_limits.max_bytes); nothing was kept"
    )]
    TooLarge {
        /// The cap.
        limit: u64,
    },
    /// More content than `max_ratio` times the archive's size.
    #[error(
        "the archive unpacks to more than {limit} times its size of {archive_size} bytes \
         (post_download.extract_limits.max_ratio); nothing was kept"
    )]
    Ratio {
        /// The cap.
        limit: u32,
        /// The archive's size on disk.
        archive_size: u64,
    },
    /// The archive cannot be read as its format says.
    #[error("not a valid {format} archive: {message}")]
    Corrupt {
        /// The format its name claims.
        format: &'static str,
        /// What the decoder said.
        message: String,
    },
    /// A file system operation failed.
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The path it was on.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// What the operating system said.
        source: io::Error,
    },
}

/// Shorthand for building [`ExtractError::Io`].
fn io_err(path: &Path, context: &'static str) -> impl FnOnce(io::Error) -> ExtractError {
    let path = path.to_path_buf();
    move |source| ExtractError::Io {
        path,
        context,
        source,
    }
}

/// Shorthand for building [`ExtractError::UnsafeEntry`].
fn refuse(entry: &str, reason: impl Into<String>) -> ExtractError {
    ExtractError::UnsafeEntry {
        entry: entry.to_string(),
        reason: reason.into(),
    }
}

/// What an extraction produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The final folder.
    pub path: PathBuf,
    /// Entries unpacked (files, folders and links); 0 when `already`.
    pub entries: u64,
    /// Bytes of file content unpacked; 0 when `already`.
    pub bytes: u64,
    /// The folder existed and was kept ([`Existing::Keep`]).
    pub already: bool,
}

/// How an extraction ended, in the download report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtractionStatus {
    /// Unpacked now.
    Extracted,
    /// The folder was already there from an earlier run, and the archive had not changed.
    AlreadyExtracted,
    /// Refused or failed; see `error`. The download itself still counts.
    Failed,
}

/// One archive's extraction, as the download report lists it (`extractions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The archive's asset name.
    pub asset: String,
    /// How it ended.
    pub status: ExtractionStatus,
    /// The folder it was (or would have been) extracted into.
    pub path: PathBuf,
    /// Entries unpacked (with `extracted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// Bytes of file content unpacked (with `extracted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// What went wrong (with `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The suffix of an extraction folder named after the whole archive (see [`folders`]).
pub const FOLDER_SUFFIX: &str = ".extracted";

/// The folder each archive among a release's files `names` is extracted into, by archive name.
///
/// The rule: the archive's name without its extension (`tool-linux.tar.gz` →
/// `tool-linux/`), unless that name is taken in the release folder, by another of its files
/// (an asset named `tool-linux`), a file's sidecar, or the folder of another archive (`tool.zip`
/// next to `tool.tar.gz`). Then every archive that wanted it uses its whole name plus
/// [`FOLDER_SUFFIX`] (`tool.tar.gz.extracted/`, `tool.zip.extracted/`), so the choice does not
/// depend on which archive comes first. An archive whose folder would still be taken has no
/// entry (it is reported failed, never extracted over anything).
pub fn folders(names: &[&str]) -> std::collections::BTreeMap<String, String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for name in names {
        taken.insert((*name).to_string());
        taken.insert(format!("{name}{}", crate::mirror::SIDECAR_SUFFIX));
    }
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for name in names {
        if let Some((_, stem)) = Format::detect(name) {
            wanted.entry(stem).or_default().push(name);
        }
    }
    let mut out = BTreeMap::new();
    for (stem, archives) in wanted {
        let shared = archives.len() > 1 || taken.contains(stem);
        for archive in archives {
            let folder = if shared {
                format!("{archive}{FOLDER_SUFFIX}")
            } else {
                stem.to_string()
            };
            if !taken.contains(&folder) {
                out.insert(archive.to_string(), folder);
            }
        }
    }
    out
}

/// Extracts the archive at `archive` into `{its folder}/{its name without the extension}/`,
/// under `limits`. See the module documentation for the rules.
pub fn extract(
    archive: &Path,
    limits: &ExtractLimits,
    existing: Existing,
) -> Result<Extracted, ExtractError> {
    let (_, stem) = archive_format(archive)?;
    extract_into(archive, &stem, limits, existing)
}

/// The format of the archive at `archive` and its name without the extension, by its file name.
fn archive_format(archive: &Path) -> Result<(Format, String), ExtractError> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Format::detect(&name)
        .map(|(format, stem)| (format, stem.to_string()))
        .ok_or(ExtractError::NotAnArchive { name })
}

/// Extracts the archive at `archive` into `{its folder}/{folder}/` (a name from [`folders`]),
/// under `limits`. See the module documentation for the rules.
pub fn extract_into(
    archive: &Path,
    folder: &str,
    limits: &ExtractLimits,
    existing: Existing,
) -> Result<Extracted, ExtractError> {
    let (format, _) = archive_format(archive)?;
    let stem = folder;
    check_asset_name(stem).map_err(ExtractError::FolderName)?;
    let release_dir = fsutil::dir_of(archive);
    let final_path = release_dir.join(stem);
    let occupied = match fs::symlink_metadata(&final_path) {
        Ok(m) if m.file_type().is_dir() => true,
        Ok(_) => return Err(ExtractError::Occupied { path: final_path }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(&final_path, "cannot inspect the folder")(e)),
    };
    if occupied && existing == Existing::Keep {
        return Ok(Extracted {
            path: final_path,
            entries: 0,
            bytes: 0,
            already: true,
        });
    }
    let file = File::open(archive).map_err(io_err(archive, "cannot open the archive"))?;
    let archive_size = file
        .metadata()
        .map_err(io_err(archive, "cannot read the archive's size"))?
        .len();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{stem}.extract-"))
        .tempdir_in(&release_dir)
        .map_err(io_err(&release_dir, "cannot create a temp folder"))?;
    let mut u = Unpacker {
        root: tmp.path(),
        format,
        limits: *limits,
        archive_size,
        entries: 0,
        bytes: 0,
        dir_modes: Vec::new(),
        buf: vec![0; CHUNK],
    };
    match format {
        Format::TarGz | Format::TarXz | Format::TarBz2 | Format::Tar => {
            self::tar::unpack(&mut u, format, file)?
        }
        Format::Zip => self::zip::unpack(&mut u, file)?,
    }
    u.finish()?;
    let (entries, bytes) = (u.entries, u.bytes);
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
        .map_err(io_err(tmp.path(), "cannot set the folder's permissions"))?;
    place(tmp, &final_path, occupied)?;
    fsutil::sync_dir(&release_dir).map_err(io_err(&release_dir, "cannot fsync the folder"))?;
    Ok(Extracted {
        path: final_path,
        entries,
        bytes,
        already: false,
    })
}

/// Renames the complete temp tree to `final_path`. When a folder is there already, it is moved
/// aside first and deleted after the swap (and put back if the swap fails).
fn place(tmp: tempfile::TempDir, final_path: &Path, occupied: bool) -> Result<(), ExtractError> {
    if !occupied {
        // On failure `tmp` is dropped, which deletes it.
        return fs::rename(tmp.path(), final_path)
            .map(|()| {
                let _ = tmp.keep();
            })
            .map_err(io_err(
                final_path,
                "cannot rename the extracted tree into place",
            ));
    }
    let stem = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old = fsutil::dir_of(final_path).join(format!(".{stem}.old-{:016x}", fastrand::u64(..)));
    fs::rename(final_path, &old).map_err(io_err(
        final_path,
        "cannot move the previous extraction aside",
    ))?;
    if let Err(e) = fs::rename(tmp.path(), final_path) {
        let _ = fs::rename(&old, final_path);
        return Err(io_err(
            final_path,
            "cannot rename the extracted tree into place",
        )(e));
    }
    let _ = tmp.keep();
    if let Err(e) = fs::remove_dir_all(&old) {
        tracing::warn!(
            "{}: cannot delete the previous extraction: {e}",
            old.display()
        );
    }
    Ok(())
}

/// Checks an entry name from an archive and turns it into a relative path of plain names.
///
/// `/`-separated; empty and `.` components are dropped. Refused: an absolute name, a `..`
/// component, a component with `\`, NUL or another control character, or longer than 255 bytes.
/// An empty result means the archive's folder itself (`./`).
pub fn entry_path(name: &str) -> Result<PathBuf, String> {
    if name.starts_with('/') {
        return Err("it is an absolute path".to_string());
    }
    let mut out = PathBuf::new();
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("it climbs out of the folder with `..`".to_string()),
            _ => {}
        }
        check_component(part)?;
        out.push(part);
    }
    Ok(out)
}

/// One path component: no `\` or control characters, at most 255 bytes.
fn check_component(part: &str) -> Result<(), String> {
    if let Some(c) = part.chars().find(|c| *c == '\\' || c.is_control()) {
        return Err(format!("it contains {c:?}"));
    }
    if part.len() > MAX_NAME_BYTES {
        return Err(format!(
            "a component is {} bytes long (at most {MAX_NAME_BYTES})",
            part.len()
        ));
    }
    Ok(())
}

/// Checks a symlink's target: relative, `..` only at its start, and not climbing above the
/// archive's folder from the link's own folder (`link` is the link's checked relative path).
///
/// With every link obeying this, and nothing ever written through a link, following any chain
/// of the extracted links stays inside the folder: the leading `..` climb real folders, and
/// every later component is a real entry or another such link.
pub fn check_link_target(link: &Path, target: &str) -> Result<(), String> {
    if target.is_empty() {
        return Err("its link target is empty".to_string());
    }
    if target.starts_with('/') {
        return Err(format!("it links to the absolute path {target:?}"));
    }
    let depth = link.components().count().saturating_sub(1);
    let (mut ups, mut named) = (0usize, false);
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if named => {
                return Err(format!("its link target {target:?} has `..` after a name"));
            }
            ".." => ups += 1,
            _ => {
                check_component(part).map_err(|r| format!("its link target {target:?}: {r}"))?;
                named = true;
            }
        }
    }
    if ups > depth {
        return Err(format!(
            "it links to {target:?}, outside the archive's folder"
        ));
    }
    Ok(())
}

/// Writes entries under `root`, enforcing the limits and the path rules.
struct Unpacker<'a> {
    root: &'a Path,
    format: Format,
    limits: ExtractLimits,
    archive_size: u64,
    entries: u64,
    bytes: u64,
    /// Folders and their archive modes, applied at the end (a read-only folder would refuse
    /// the entries that follow it).
    dir_modes: Vec<(PathBuf, u32)>,
    buf: Vec<u8>,
}

impl Unpacker<'_> {
    fn corrupt(&self, message: impl std::fmt::Display) -> ExtractError {
        ExtractError::Corrupt {
            format: self.format.as_str(),
            message: message.to_string(),
        }
    }

    /// Counts one entry against `max_files`.
    fn count_entry(&mut self) -> Result<(), ExtractError> {
        self.entries += 1;
        if self.entries > u64::from(self.limits.max_files) {
            return Err(ExtractError::TooManyFiles {
                limit: self.limits.max_files,
            });
        }
        Ok(())
    }

    /// Counts `n` more bytes against `max_bytes` and `max_ratio`, before they are written.
    fn add_bytes(&mut self, n: usize) -> Result<(), ExtractError> {
        let total = self.bytes.saturating_add(n as u64);
        let ratio_cap = self
            .archive_size
            .saturating_mul(u64::from(self.limits.max_ratio));
        if total > self.limits.max_bytes.min(ratio_cap) {
            return Err(if ratio_cap < self.limits.max_bytes {
                ExtractError::Ratio {
                    limit: self.limits.max_ratio,
                    archive_size: self.archive_size,
                }
            } else {
                ExtractError::TooLarge {
                    limit: self.limits.max_bytes,
                }
            });
        }
        self.bytes = total;
        Ok(())
    }

    /// Creates the folders above `rel` as needed, refusing to go through anything that is not a
    /// real folder (a symlink, a file). Returns `root/rel`.
    fn parent_ready(&self, name: &str, rel: &Path) -> Result<PathBuf, ExtractError> {
        let mut path = self.root.to_path_buf();
        if let Some(parent) = rel.parent() {
            for part in parent.components() {
                path.push(part);
                match fs::symlink_metadata(&path) {
                    Ok(m) if m.file_type().is_dir() => {}
                    Ok(_) => {
                        return Err(refuse(
                            name,
                            format!(
                                "it would be written through {:?}, which is a link or a file",
                                path.strip_prefix(self.root).unwrap_or(&path)
                            ),
                        ));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        fs::create_dir(&path).map_err(io_err(&path, "cannot create a folder"))?;
                    }
                    Err(e) => return Err(io_err(&path, "cannot inspect a folder")(e)),
                }
            }
        }
        Ok(self.root.join(rel))
    }

    fn twice(name: &str) -> ExtractError {
        refuse(
            name,
            "another entry already has this name (entries never overwrite each other)",
        )
    }

    fn directory(&mut self, name: &str, rel: &Path, mode: u32) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        let path = self.parent_ready(name, rel)?;
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return Err(Self::twice(name)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&path).map_err(io_err(&path, "cannot create a folder"))?;
            }
            Err(e) => return Err(io_err(&path, "cannot inspect a folder")(e)),
        }
        self.dir_modes.push((path, mode));
        Ok(())
    }

    fn file(
        &mut self,
        name: &str,
        rel: &Path,
        mode: u32,
        reader: &mut dyn Read,
    ) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() {
            return Err(refuse(name, "a file entry names the folder itself"));
        }
        let path = self.parent_ready(name, rel)?;
        // create_new never follows or replaces an existing name (not even a symlink).
        let mut out = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(Self::twice(name)),
            Err(e) => return Err(io_err(&path, "cannot create a file")(e)),
        };
        let mut buf = std::mem::take(&mut self.buf);
        let result = (|| {
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.corrupt(format!("entry {name:?}: {e}"))),
                };
                self.add_bytes(n)?;
                out.write_all(&buf[..n])
                    .map_err(io_err(&path, "cannot write a file"))?;
            }
        })();
        self.buf = buf;
        result?;
        out.sync_all()
            .map_err(io_err(&path, "cannot fsync a file"))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o777))
            .map_err(io_err(&path, "cannot set a file's permissions"))
    }

    fn symlink(&mut self, name: &str, rel: &Path, target: &str) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() {
            return Err(refuse(name, "a link entry names the folder itself"));
        }
        check_link_target(rel, target).map_err(|r| refuse(name, r))?;
        let path = self.parent_ready(name, rel)?;
        match std::os::unix::fs::symlink(target, &path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Self::twice(name)),
            Err(e) => Err(io_err(&path, "cannot create a symlink")(e)),
        }
    }

    fn hardlink(&mut self, name: &str, rel: &Path, target: &str) -> Result<(), ExtractError> {
        if rel.as_os_str().is_empty() {
            return Err(refuse(name, "a link entry names the folder itself"));
        }
        let target_rel =
            entry_path(target).map_err(|r| refuse(name, format!("its link target {r}")))?;
        let not_a_file = || {
            refuse(
                name,
                format!("it hard-links to {target:?}, which is not a file extracted before it"),
            )
        };
        let mut source = self.root.to_path_buf();
        let count = target_rel.components().count();
        if count == 0 {
            return Err(not_a_file());
        }
        for (i, part) in target_rel.components().enumerate() {
            source.push(part);
            let kind = fs::symlink_metadata(&source)
                .map_err(|_| not_a_file())?
                .file_type();
            let ok = if i + 1 == count {
                kind.is_file()
            } else {
                kind.is_dir()
            };
            if !ok {
                return Err(not_a_file());
            }
        }
        let path = self.parent_ready(name, rel)?;
        match fs::hard_link(&source, &path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Self::twice(name)),
            Err(e) => Err(io_err(&path, "cannot create a hard link")(e)),
        }
    }

    /// Applies the folders' modes (deepest first), keeping `rwx` for the owner.
    fn finish(&mut self) -> Result<(), ExtractError> {
        for (path, mode) in self.dir_modes.iter().rev() {
            fs::set_permissions(path, fs::Permissions::from_mode((mode & 0o777) | 0o700))
                .map_err(io_err(path, "cannot set a folder's permissions"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
