//! Extract: with `post_download.extract`, each mirrored archive is unpacked next to it (see
//! [`crate::mirror::extract`] for the rules). Runs before the release is recorded, so a crash
//! while extracting leaves the release unrecorded and the next run extracts again; a failed
//! extraction is reported but does not stop the release being recorded.

use super::report::{MirroredFile, Placement};
use crate::config::ExtractLimits;
use crate::mirror::extract::{self, Existing, Extraction, ExtractionStatus, Format};
use crate::monitor::ReportedRelease;

/// Extracts every archive among a release's mirrored files; returns the report's entries.
pub(super) async fn extract_all(
    release: &ReportedRelease,
    files: &[MirroredFile],
    limits: ExtractLimits,
) -> Vec<Extraction> {
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    let folders = extract::folders(&names);
    let mut extractions = Vec::new();
    for file in files {
        if let Some(e) = extract_file(release, file, folders.get(&file.name), limits).await {
            extractions.push(e);
        }
    }
    extractions
}

/// Extracts one mirrored file if its name is an archive's, on a blocking thread. A file just
/// placed (downloaded, resumed, linked or copied) replaces an earlier extraction; a file already
/// present keeps it.
async fn extract_file(
    release: &ReportedRelease,
    file: &MirroredFile,
    folder_name: Option<&String>,
    limits: ExtractLimits,
) -> Option<Extraction> {
    let (_, stem) = Format::detect(&file.name)?;
    let archive = file.path.clone();
    let chosen = folder_name.cloned();
    let folder = crate::fsutil::dir_of(&archive).join(chosen.as_deref().unwrap_or(stem));
    let existing = if file.how == Placement::AlreadyPresent {
        Existing::Keep
    } else {
        Existing::Replace
    };
    let result = match chosen {
        // Every name it could take is another file's: never extracted over it.
        None => Err(format!(
            "no folder to extract into: {stem:?} and {:?} are both names of other files of \
             the release",
            format!("{}{}", file.name, extract::FOLDER_SUFFIX)
        )),
        Some(name) => tokio::task::spawn_blocking(move || {
            extract::extract_into(&archive, &name, &limits, existing)
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string())),
    };
    let mut entry = Extraction {
        repository: release.repository.clone(),
        tag_name: release.tag_name.clone(),
        asset: file.name.clone(),
        status: ExtractionStatus::Failed,
        path: folder,
        entries: None,
        bytes: None,
        error: None,
    };
    match result {
        Ok(done) if done.already => {
            tracing::info!("{}: already extracted", done.path.display());
            entry.status = ExtractionStatus::AlreadyExtracted;
        }
        Ok(done) => {
            tracing::info!(
                "{}: extracted {} entries, {} bytes",
                done.path.display(),
                done.entries,
                done.bytes
            );
            entry.status = ExtractionStatus::Extracted;
            entry.entries = Some(done.entries);
            entry.bytes = Some(done.bytes);
        }
        Err(error) => {
            tracing::error!(
                "{} {}: cannot extract {}: {error} (the download itself is kept and recorded)",
                release.repository,
                release.tag_name,
                file.name
            );
            entry.error = Some(error);
        }
    }
    Some(entry)
}
