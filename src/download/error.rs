//! Why one file (or one release) was not mirrored, uploaded or recorded. Each variant's message
//! is what the report's `failed[].error` says, so the wording is part of the report.

use crate::db::DbError;
use crate::mirror::MirrorError;
use crate::storage::StorageError;

use super::checksum::VerifyError;
use super::fetch::FetchError;

/// Why a file or a release failed. The downloader reports it per file and carries on with the
/// others; only the report's string form leaves this module.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// A path in the mirror could not be made, prepared or written (unsafe name, no space, I/O).
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// Which checksum applies could not be decided, or the bytes did not match it.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The transfer failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A stored copy could not be read to re-verify it.
    #[error(transparent)]
    Hash(#[from] std::io::Error),
    /// GitHub gave a URL that does not parse.
    #[error("bad {what} URL: {source}")]
    BadUrl {
        /// `asset` or `source archive`.
        what: &'static str,
        /// The parse error.
        source: url::ParseError,
    },
    /// A checksum file (or the asset's own sidecar) that might verify the asset could not be
    /// fetched intact, and nothing else verifies it: retried next run rather than stored
    /// unverified.
    #[error(
        "cannot verify it: checksum file {name} could not be fetched intact ({why}); retried next run"
    )]
    ChecksumUnavailable {
        /// The checksum file.
        name: String,
        /// Why it could not be fetched.
        why: String,
    },
    /// `verification.require` is on and no upstream checksum covers the asset.
    #[error(
        "no upstream checksum (digest, checksum file or sidecar) covers it, \
         and verification.require is on"
    )]
    NoChecksum,
    /// A signature, bundle, provenance or attestation offered for the file did not verify:
    /// the file is refused.
    #[error("refused: {0}")]
    Refused(crate::trust::TrustError),
    /// `verification.require: signature` is on and no signature or attestation proves the file.
    #[error(
        "refused: no signature or attestation proves it, and verification.require is \
         `signature` (found: {found})"
    )]
    Unsigned {
        /// What was found and why it did not count.
        found: String,
    },
    /// A signature asset's own download is not the bytes that were checked while planning
    /// (changed in flight, or replaced upstream meanwhile): fetched once more, never stored.
    #[error("{name}: its bytes differ from the ones checked while planning")]
    EvidenceChanged {
        /// The signature asset.
        name: String,
    },
    /// GitHub could not be asked for the file's attestations (retried next run).
    #[error("cannot check GitHub's artifact attestations: {0}; retried next run")]
    Attestations(String),
    /// Copying to the artifact store failed.
    #[error("upload failed: {0}")]
    Upload(#[from] StorageError),
    /// The version database failed.
    #[error(transparent)]
    Database(#[from] DbError),
    /// Every file is mirrored, but the release could not be recorded (the database failed, or
    /// the task writing to it did).
    #[error("stored, but not recorded: {0}")]
    NotRecorded(#[source] Box<DownloadError>),
    /// A mirrored file no longer has the digest its sidecar records (it is not used to
    /// deduplicate; the asset is downloaded instead).
    #[error("{} no longer has the recorded hash", path.display())]
    Changed {
        /// The mirrored file.
        path: std::path::PathBuf,
    },
    /// A blocking task or the concurrency limit broke down (a panic, a shutdown).
    #[error("{0}")]
    Task(String),
}

impl From<tokio::task::JoinError> for DownloadError {
    fn from(e: tokio::task::JoinError) -> Self {
        DownloadError::Task(e.to_string())
    }
}

impl From<tokio::sync::AcquireError> for DownloadError {
    fn from(e: tokio::sync::AcquireError) -> Self {
        DownloadError::Task(e.to_string())
    }
}
