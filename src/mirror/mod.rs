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

//!
//! One file per concern: [`layout`](Layout) (paths, tag encoding, name checks), `part` (part
//! files and their validators), `attestations` (GitHub's attestations kept beside a verified
//! file), `sidecar` (the one reader and writer of sidecars), `dedup` (the
//! index and link-or-copy), `commit` (the durable rename), `space` (the free-space check) and
//! [`extract`] (unpacking a stored archive, one file per archive kind). The downloader, the
//! artifact store and retention use this module; it uses none of them.

mod attestations;
mod commit;
mod dedup;
pub mod extract;
mod layout;
mod part;
mod sidecar;
mod space;

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

pub use attestations::{attestations_path, keep_attestations};
pub use commit::commit;
pub use dedup::{DedupIndex, LinkKind, link_or_copy};
pub use layout::{Layout, TRASH_DIR, check_asset_name, decode_tag, encode_tag};
pub use part::{discard_part, part_path, pieces_path, validator_path};
pub use sidecar::{
    SIDECAR_SUFFIX, ensure_sidecar, read_sidecar, sidecar_line, sidecar_path, sidecar_path_for,
    write_sidecar,
};
pub use space::ensure_space;

/// Why a file could not be placed in the mirror. Every variant names what it refused or the path
/// it failed on, because the caller reports it per asset and carries on with the others.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
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

/// Shorthand for building [`MirrorError::Io`].
fn io_err(path: &Path, context: &'static str) -> impl FnOnce(io::Error) -> MirrorError {
    let path = path.to_path_buf();
    move |source| MirrorError::Io {
        path,
        context,
        source,
    }
}

/// `path` with `suffix` appended to its file name (`a/b.tar.gz` → `a/b.tar.gz.part`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
