//! Commit: a verified file takes its final name in the mirror, with its sidecar, and is indexed
//! for deduplication. Either a completed transfer is renamed into place ([`commit_fetched`]), or
//! an identical mirrored file is linked or copied there instead of downloading it
//! ([`deduplicate`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::checksum::{Algorithm, Digests, hash_file};
use super::error::DownloadError;
use super::fetch::Fetched;
use super::plan::PlannedFile;
use super::report::{MirroredFile, Placement};
use crate::db::VerifiedBy;
use crate::mirror::{
    DedupIndex, LinkKind, commit, discard_part, link_or_copy, part_path, write_sidecar,
};

/// Moves a verified transfer's part file to its final name (writing its sidecar) and, for an
/// asset, indexes it so later assets with the same digest are linked to it.
pub(super) fn commit_fetched(
    dedup: &Mutex<DedupIndex>,
    file: &PlannedFile,
    fetched: Fetched,
    verified_by: VerifiedBy,
) -> Result<MirroredFile, DownloadError> {
    let destination = file.destination.as_path();
    commit(
        &part_path(destination),
        destination,
        file.hidden_sidecar,
        &fetched.digests.sha256,
    )?;
    let how = if fetched.resumed_from > 0 {
        Placement::Resumed
    } else {
        Placement::Downloaded
    };
    if file.is_archive() {
        tracing::info!(
            "{}: downloaded {} bytes (source archive, no upstream checksum)",
            destination.display(),
            fetched.size
        );
    } else {
        if let Ok(mut index) = dedup.lock() {
            index.insert(&fetched.digests.sha256, destination.to_path_buf());
        }
        tracing::info!(
            "{}: {} {} bytes, verified by {}",
            destination.display(),
            how.as_str(),
            fetched.size,
            verified_by.as_str()
        );
    }
    Ok(MirroredFile {
        name: file.name.clone(),
        path: destination.to_path_buf(),
        size: fetched.size,
        sha256: fetched.digests.sha256,
        verified_by,
        verification: Vec::new(),
        signatures: Vec::new(),
        how,
    })
}

/// A mirrored file identical to `file` (same SHA-256, known in advance from its upstream
/// checksum), hashed again now: its sidecar alone is not trusted (an upstream asset could be
/// named like one). `None` means download it. The caller authenticates the bytes, then places
/// them with [`place_duplicate`].
pub(super) async fn duplicate_of(
    dedup: &Mutex<DedupIndex>,
    file: &PlannedFile,
) -> Option<(PathBuf, Digests)> {
    let expected = file.expected()?;
    if expected.checksum.algorithm() != Algorithm::Sha256 {
        return None;
    }
    let destination = file.destination.as_path();
    let hex = expected.checksum.hex().to_string();
    let existing = dedup.lock().ok()?.get(&hex)?.to_path_buf();
    if existing == destination {
        return None;
    }
    let from = existing.clone();
    let need_sha512 = expected.needs_sha512();
    let digests = tokio::task::spawn_blocking(move || hash_file(&from, need_sha512).ok())
        .await
        .ok()
        .flatten()
        .filter(|digests| digests.sha256 == hex);
    let Some(digests) = digests else {
        let e = DownloadError::Changed { path: existing };
        tracing::warn!("{}: not deduplicated ({e}); downloading it", file.name);
        return None;
    };
    Some((existing, digests))
}

/// Places the identical mirrored file `existing` at the destination instead of downloading it
/// (a hard link, or a copy). `None` means download it (placing it failed, which is logged).
pub(super) async fn place_duplicate(file: &PlannedFile, existing: &Path) -> Option<MirroredFile> {
    let expected = file.expected()?;
    let name = file.name.as_str();
    let destination = file.destination.as_path();
    let hex = expected.checksum.hex().to_string();
    let (from, to) = (existing.to_path_buf(), destination.to_path_buf());
    let hidden = file.hidden_sidecar;
    let placed = tokio::task::spawn_blocking(move || -> Result<LinkKind, DownloadError> {
        let kind = link_or_copy(&from, &to)?;
        write_sidecar(&to, hidden, &hex)?;
        Ok(kind)
    })
    .await
    .ok()?;
    let how = match placed {
        Ok(LinkKind::HardLink) => Placement::HardLinked,
        Ok(LinkKind::Copy) => Placement::Copied,
        Err(e) => {
            tracing::warn!("{name}: not deduplicated ({e}); downloading it");
            return None;
        }
    };
    tracing::info!(
        "{name}: identical to {}, {} instead of downloading",
        existing.display(),
        how.as_str()
    );
    discard_part(&part_path(destination));
    Some(MirroredFile {
        name: name.to_string(),
        path: destination.to_path_buf(),
        size: file.size().unwrap_or(0),
        sha256: expected.checksum.hex().to_string(),
        verified_by: expected.verified_by,
        verification: Vec::new(),
        signatures: Vec::new(),
        how,
    })
}
