//! Verify: whether a file already in the mirror is kept ([`stored_copy`]), and whether a completed
//! transfer is the file upstream published ([`check_fetched`]). The checksum rules themselves
//! (which upstream checksum applies, streaming hashes) are in [`super::checksum`].

use std::path::Path;

use super::checksum::{Digests, Expected, VerifyError, check, hash_file};
use super::error::DownloadError;
use super::fetch::Fetched;
use super::plan::{PlannedFile, Source};
use super::report::{MirroredFile, Placement};
use crate::db::VerifiedBy;
use crate::mirror::{discard_part, ensure_sidecar, part_path, read_sidecar};

/// The verify step for a file already at its destination (from an earlier run, or a crash after
/// its commit): kept as [`Placement::AlreadyPresent`] when it still verifies, so it is not
/// fetched again. An asset must match its upstream checksum and size; a source archive, which
/// has no upstream checksum, must still match its own sidecar. `Ok(None)` means fetch it. Nothing
/// is changed here: once the copy is also authenticated, [`settle`] restores its sidecar, or
/// [`withdraw`] takes a refused copy away.
pub(super) async fn stored_copy(
    file: &PlannedFile,
) -> Result<Option<(MirroredFile, Digests)>, DownloadError> {
    let destination = file.destination.as_path();
    if !destination.exists() {
        return Ok(None);
    }
    let kept = |digests: Digests, verified_by: VerifiedBy, size: u64| {
        let mirrored = MirroredFile {
            name: file.name.clone(),
            path: destination.to_path_buf(),
            size,
            sha256: digests.sha256.clone(),
            verified_by,
            verification: Vec::new(),
            signatures: Vec::new(),
            how: Placement::AlreadyPresent,
        };
        (mirrored, digests)
    };
    let Source::Asset { asset, expected } = &file.source else {
        let path = destination.to_path_buf();
        let hidden = file.hidden_sidecar;
        let matching = tokio::task::spawn_blocking(move || {
            let recorded = read_sidecar(&path, hidden)?;
            let digests = hash_file(&path, false).ok()?;
            let size = std::fs::metadata(&path).ok()?.len();
            (recorded == digests.sha256).then_some((digests, size))
        })
        .await
        .ok()
        .flatten();
        return Ok(matching.map(|(digests, size)| kept(digests, VerifiedBy::None, size)));
    };
    let need_sha512 = expected.as_ref().is_some_and(Expected::needs_sha512);
    let path = destination.to_path_buf();
    let digests = tokio::task::spawn_blocking(move || hash_file(&path, need_sha512)).await??;
    if let Ok(by) = check(&asset.name, &digests, expected.as_ref()) {
        let size = std::fs::metadata(destination).map(|m| m.len()).unwrap_or(0);
        if size == asset.size {
            return Ok(Some(kept(digests, by, size)));
        }
    }
    tracing::warn!(
        "{}: the stored copy does not verify; downloading it again",
        destination.display()
    );
    Ok(None)
}

/// A kept stored copy, verified and authenticated: a crash between the rename and the sidecar
/// write leaves no sidecar, so it is restored, and a stale part file is removed.
pub(super) fn settle(
    destination: &Path,
    hidden_sidecar: bool,
    sha256: &str,
) -> Result<(), DownloadError> {
    if ensure_sidecar(destination, hidden_sidecar, sha256)? {
        tracing::info!("{}: sidecar restored", destination.display());
    }
    discard_part(&part_path(destination));
    Ok(())
}

/// Takes a stored copy that authentication refused away from its final path (with its sidecar):
/// a refused file is never left where a verified one belongs. Only for a release the database
/// does not record (the caller checks), so no recorded file disappears.
pub(super) fn withdraw(destination: &Path, hidden_sidecar: bool) {
    let sidecar = crate::mirror::sidecar_path_for(destination, hidden_sidecar);
    for path in [destination, sidecar.as_path()] {
        match std::fs::remove_file(path) {
            Ok(()) => tracing::warn!("{}: removed, it was refused", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::error!("{}: cannot remove the refused file: {e}", path.display()),
        }
    }
}

/// The verify step for a completed transfer: the layer that verified it, or why its bytes are
/// not the ones upstream published ([`VerifyError::Mismatch`]).
pub(super) fn check_fetched(
    file: &PlannedFile,
    fetched: &Fetched,
) -> Result<VerifiedBy, VerifyError> {
    check(&file.name, &fetched.digests, file.expected())
}
