//! Record: the last step. A release goes into the version database only once every selected
//! file is verified, committed to the mirror (and uploaded, and extracted), so a recorded
//! version always has its files.

use std::sync::Arc;
use std::time::Instant;

use super::error::DownloadError;
use super::plan::Job;
use super::report::{MirroredFile, RecordedRelease, UploadedObject};
use crate::db::{FileRecord, Recording, VersionDb};

/// Records the release with its files in the version database (on a blocking thread), and
/// returns the report's entry for it.
pub(super) async fn record(
    db: Arc<dyn VersionDb>,
    job: &Job,
    files: Vec<MirroredFile>,
    uploaded: Vec<UploadedObject>,
    started: Instant,
) -> Result<RecordedRelease, DownloadError> {
    let recording = Recording {
        version: job.tag().to_string(),
        files: files
            .iter()
            .map(|f| FileRecord {
                name: f.name.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                verified_by: f.verified_by,
                verification: f.verification.clone(),
            })
            .collect(),
        download_time: started.elapsed().as_secs_f64(),
        recorded_by: None,
    };
    let repo = job.repo.clone();
    let recorded = tokio::task::spawn_blocking(move || db.record_download(&repo, &recording))
        .await
        .map_err(DownloadError::from)
        .and_then(|r| r.map_err(DownloadError::from));
    if let Err(e) = recorded {
        return Err(DownloadError::NotRecorded(Box::new(e)));
    }
    Ok(RecordedRelease {
        repository: job.release.repository.clone(),
        tag_name: job.tag().to_string(),
        previous_version: job.current.clone(),
        files,
        uploaded,
    })
}
