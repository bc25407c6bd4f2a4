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
    /// How the recorded files were verified, counted by their strongest check (the summary
    /// line's figures).
    #[serde(default)]
    pub verification: VerificationSummary,
}

/// How the stored files of a run were verified, by their strongest check: the per-run summary
/// line (see [`DownloadReport::verification_summary`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationSummary {
    /// Proved by a signature made with a configured key (minisign, OpenPGP, cosign).
    pub signature_verified: usize,
    /// Proved by a keyless Sigstore identity: a bundle, SLSA provenance or a GitHub attestation.
    pub attestation_verified: usize,
    /// Matched an upstream checksum only.
    pub checksum_only: usize,
    /// No upstream check covered it.
    pub unverified: usize,
}

impl std::fmt::Display for VerificationSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} signature-verified, {} attestation-verified, {} checksum-only, {} unverified",
            self.signature_verified, self.attestation_verified, self.checksum_only, self.unverified
        )
    }
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

    /// How the recorded files were verified, counted by their strongest check.
    pub fn verification_summary(&self) -> VerificationSummary {
        let mut out = VerificationSummary::default();
        for file in self.downloaded.iter().flat_map(|r| &r.files) {
            match file.verified_by {
                VerifiedBy::Attestation | VerifiedBy::Provenance | VerifiedBy::Sigstore => {
                    out.attestation_verified += 1
                }
                VerifiedBy::Cosign | VerifiedBy::Minisign | VerifiedBy::Pgp => {
                    out.signature_verified += 1
                }
                VerifiedBy::Digest | VerifiedBy::ChecksumFile | VerifiedBy::Sidecar => {
                    out.checksum_only += 1
                }
                VerifiedBy::None => out.unverified += 1,
            }
        }
        out
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
    /// The strongest check that held.
    pub verified_by: VerifiedBy,
    /// Every check that held, strongest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification: Vec<String>,
    /// With `verification.signature`: each signature found for it and what became of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureCheck>,
    /// How it got there.
    pub how: Placement,
}

/// One signature, bundle, provenance or attestation found for a file, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureCheck {
    /// The signature asset (`attestation` for GitHub's attestations).
    pub file: String,
    /// What became of it.
    pub result: CheckResult,
    /// The proof that held, why it was skipped, or (in a plan) its kind.
    pub detail: String,
}

/// What became of a signature: the strings are part of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckResult {
    /// It verified.
    Verified,
    /// It did not verify (the file is refused).
    Failed,
    /// It was not checked (the detail says why).
    Skipped,
    /// A dry run: it would be checked.
    ToCheck,
}

impl CheckResult {
    /// The reported string.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Verified => "verified",
            CheckResult::Failed => "failed",
            CheckResult::Skipped => "skipped",
            CheckResult::ToCheck => "to-check",
        }
    }
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
    /// With `verification.signature`: each signature found for it, checked already (a signed
    /// checksum file) or to be checked once its bytes are here, or why it would be skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureCheck>,
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
