//! What the downloader reports, printed as JSON: the releases recorded with their mirrored and
//! uploaded files, and what was skipped, failed, planned or extracted. The field names and the
//! strings of the outcome enums are part of the report format and never change.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::db::VerifiedBy;
use crate::mirror::extract::{Extraction, ExtractionStatus};
use crate::storage::UploadHow;

/// What the downloader did, printed as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DownloadReport {
    /// Releases whose selected assets were all verified, stored and recorded.
    pub downloaded: Vec<RecordedRelease>,
    /// Releases or assets not downloaded, each with the reason.
    pub skipped: Vec<Skipped>,
    /// Releases or assets that failed, each with the error.
    pub failed: Vec<Failed>,
    /// With `--dry-run`: each asset that would be downloaded, and where it would go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<Planned>,
    /// Bytes not downloaded because an identical, verified file was already stored (linked or
    /// copied instead).
    #[serde(default)]
    pub bytes_deduplicated: u64,
    /// With `post_download.extract`: each stored archive's extraction (see
    /// [`crate::mirror::extract`]). A failed extraction does not stop its release being recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extractions: Vec<Extraction>,
}

impl DownloadReport {
    /// Whether anything failed: a download, or an extraction. The commands exit 1 then.
    pub fn has_failures(&self) -> bool {
        !self.failed.is_empty()
            || self
                .extractions
                .iter()
                .any(|e| e.status == ExtractionStatus::Failed)
    }

    /// Appends another release's report (the releases run concurrently; their reports are
    /// merged in the monitor report's order).
    pub fn extend(&mut self, other: DownloadReport) {
        self.downloaded.extend(other.downloaded);
        self.skipped.extend(other.skipped);
        self.failed.extend(other.failed);
        self.planned.extend(other.planned);
        self.bytes_deduplicated += other.bytes_deduplicated;
        self.extractions.extend(other.extractions);
    }
}

/// A release whose files were all mirrored (and uploaded) and that was recorded in the version
/// database. (Not the notification's view of it, [`crate::notify::DownloadedRelease`], which
/// leaves out local paths.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRelease {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The version the database held before.
    pub previous_version: Option<String>,
    /// The mirrored files.
    pub files: Vec<MirroredFile>,
    /// With `download.s3_storage`: where each file was copied (its sidecar sits beside it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploaded: Vec<UploadedObject>,
}

/// One file copied to the artifact store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedObject {
    /// The asset name.
    pub name: String,
    /// The object, `s3://bucket/prefix/owner_repo/tag/name`.
    pub url: String,
    /// `uploaded`, or `already-present` (same size and SHA-256 already there; not sent again).
    pub how: UploadHow,
}

/// One verified file in the local mirror.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MirroredFile {
    /// The asset name.
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// Which upstream checksum verified it.
    pub verified_by: VerifiedBy,
    /// How it got there.
    pub how: Placement,
}

/// How a file got into the mirror, reported as `how`: the strings are part of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// `downloaded`: fetched from the start.
    Downloaded,
    /// `resumed`: an interrupted transfer's part file was completed.
    Resumed,
    /// `already-present`: the file was in the mirror and re-verified, not fetched again.
    AlreadyPresent,
    /// `hard-linked`: an identical mirrored file was hard-linked instead of downloaded.
    HardLinked,
    /// `copied`: an identical mirrored file was copied instead of downloaded.
    Copied,
}

impl Placement {
    /// Whether the bytes came from an identical mirrored file (they count as deduplicated).
    pub fn is_deduplicated(self) -> bool {
        matches!(self, Placement::HardLinked | Placement::Copied)
    }

    /// The reported string (`downloaded`, `hard-linked`, ...), for log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Downloaded => "downloaded",
            Placement::Resumed => "resumed",
            Placement::AlreadyPresent => "already-present",
            Placement::HardLinked => "hard-linked",
            Placement::Copied => "copied",
        }
    }
}

/// Something not downloaded, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The asset, when only that asset was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Why.
    pub reason: String,
}

/// Something that failed, and the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failed {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The asset, when one asset failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// What went wrong.
    pub error: String,
}

/// An asset a dry run would download.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Planned {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The asset.
    pub asset: String,
    /// Where it would be stored.
    pub destination: PathBuf,
    /// Its size.
    pub size: u64,
    /// The upstream checksum that would verify it (`none` if there is none).
    pub verified_by: VerifiedBy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_serialize_to_the_report_strings() {
        for (how, text) in [
            (Placement::Downloaded, "downloaded"),
            (Placement::Resumed, "resumed"),
            (Placement::AlreadyPresent, "already-present"),
            (Placement::HardLinked, "hard-linked"),
            (Placement::Copied, "copied"),
        ] {
            assert_eq!(serde_json::to_value(how).unwrap(), text);
            assert_eq!(how.as_str(), text);
        }
        assert_eq!(
            serde_json::to_value(UploadHow::AlreadyPresent).unwrap(),
            "already-present"
        );
        assert_eq!(
            serde_json::to_value(UploadHow::Uploaded).unwrap(),
            "uploaded"
        );
    }
}
