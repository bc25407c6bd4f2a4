//! Verify: whether a file already in the mirror is kept ([`stored_copy`]), and whether a completed
//! transfer is the file upstream published ([`check_fetched`]). The checksum rules themselves
//! (which upstream checksum applies, streaming hashes) are in [`super::checksum`].

use super::checksum::{Digests, Expected, VerifyError, check, hash_file};
use super::error::DownloadError;
use super::fetch::Fetched;
use super::plan::{PlannedFile, Source};
use super::report::{MirroredFile, Placement};
use crate::db::VerifiedBy;
use crate::mirror::{discard_part, ensure_sidecar, part_path, read_sidecar};

/// The verify step for a file already at its destination (from an earlier run, or a crash after
/// its commit): kept as [`Placement::AlreadyPresent`] when it still verifies, so it is not
/// fetched again. An asset must match its upstream checksum and size (its sidecar is restored
/// if a crash lost it, and a stale part file is removed); a source archive, which has no
/// upstream checksum, must still match its own sidecar. `Ok(None)` means fetch it.
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
        let matching = tokio::task::spawn_blocking(move || {
            let recorded = read_sidecar(&path)?;
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
            // A crash between the rename and the sidecar write leaves no sidecar: restore it.
            if ensure_sidecar(destination, &digests.sha256)? {
                tracing::info!("{}: sidecar restored", destination.display());
            }
            discard_part(&part_path(destination));
            return Ok(Some(kept(digests, by, size)));
        }
    }
    tracing::warn!(
        "{}: the stored copy does not verify; downloading it again",
        destination.display()
    );
    Ok(None)
}

/// The verify step for a completed transfer: the layer that verified it, or why its bytes are
/// not the ones upstream published ([`VerifyError::Mismatch`]).
pub(super) fn check_fetched(
    file: &PlannedFile,
    fetched: &Fetched,
) -> Result<VerifiedBy, VerifyError> {
    check(&file.name, &fetched.digests, file.expected())
}
