//! Upload: with `download.s3_storage`, every mirrored file and its sidecar is copied to the
//! artifact store before the release is recorded, so a recorded release is in both places.

use std::path::Path;

use tokio::sync::Semaphore;

use super::error::DownloadError;
use super::plan::Job;
use super::report::{MirroredFile, UploadedObject};
use crate::storage::{ArtifactStore, StorageError, release_key, upload_verified};

/// Uploads each of a release's mirrored files (one concurrency permit each). Returns the
/// uploaded objects, and the files whose upload failed with why; the caller records the release
/// only when none failed.
pub(super) async fn upload(
    artifacts: &dyn ArtifactStore,
    permits: &Semaphore,
    job: &Job,
    files: &[MirroredFile],
) -> (Vec<UploadedObject>, Vec<(String, DownloadError)>) {
    let mut uploaded = Vec::new();
    let mut failed = Vec::new();
    for file in files {
        match upload_one(artifacts, permits, job, file).await {
            Ok(object) => uploaded.push(object),
            Err(e) => failed.push((file.name.clone(), DownloadError::Upload(e))),
        }
    }
    (uploaded, failed)
}

/// Uploads one mirrored file and its sidecar under the release's key.
async fn upload_one(
    artifacts: &dyn ArtifactStore,
    permits: &Semaphore,
    job: &Job,
    file: &MirroredFile,
) -> Result<UploadedObject, StorageError> {
    let key = release_key(&job.repo, job.tag(), &file.name)?;
    let _permit = permits
        .acquire()
        .await
        .map_err(|e| StorageError::Setup(format!("no upload slot: {e}")))?;
    let how = upload_verified(
        artifacts,
        &key,
        &file.name,
        Path::new(&file.path),
        file.size,
        &file.sha256,
        job.hidden_sidecar(&file.name),
    )
    .await?;
    Ok(UploadedObject {
        name: file.name.clone(),
        url: artifacts.url_of(&key),
        how,
    })
}
