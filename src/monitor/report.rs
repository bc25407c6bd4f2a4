//! The monitor's report: the seed tool's JSON, plus `current_version` per release and a
//! top-level `errors` list. It is the input of the download stage and of every pipeline.

use serde::{Deserialize, Serialize};

use crate::github::{Asset, Release};
use crate::repo::RepoId;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// When the check ran (ISO 8601 with offset).
    pub timestamp: String,
    /// Repositories checked (failed ones included).
    pub total_repositories_checked: usize,
    /// `releases.len()`.
    pub new_releases_found: usize,
    /// The new (or, with `--force-check`, selected) release of each repository.
    pub releases: Vec<ReportedRelease>,
    /// Repositories that could not be checked.
    #[serde(default)]
    pub errors: Vec<RepoFailure>,
    /// New releases held back by `minimum_release_age`, with the time each becomes eligible
    /// (absent when there are none, so the seed tool's shape is kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingRelease>,
}

/// A new release the cooldown holds back: the held version stays until `eligible_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRelease {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// When it was published.
    pub published_at: Option<String>,
    /// When it has aged `minimum_release_age` and will be adopted (RFC 3339).
    pub eligible_at: String,
    /// The version the database holds meanwhile.
    pub current_version: Option<String>,
}

/// One release in the report, in the seed tool's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedRelease {
    /// `owner/repo`.
    pub repository: String,
    /// The owner.
    pub owner: String,
    /// The repository name.
    pub repo: String,
    /// The tag.
    pub tag_name: String,
    /// The release title.
    pub name: Option<String>,
    /// When it was published.
    pub published_at: Option<String>,
    /// API URL of the source tarball.
    pub tarball_url: Option<String>,
    /// API URL of the source zipball.
    pub zipball_url: Option<String>,
    /// The release page.
    pub html_url: Option<String>,
    /// GitHub's prerelease flag.
    pub prerelease: bool,
    /// GitHub's draft flag (always false: drafts are never selected).
    pub draft: bool,
    /// The assets as the API returned them (with `digest`).
    pub assets: Vec<Asset>,
    /// The version the database held when the check ran.
    pub current_version: Option<String>,
    /// The repository's `description` from the configuration (free text for people), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tag's commit, for a repository whose `source` is `tags` (absent for releases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl ReportedRelease {
    /// The report entry for `release` of `repo`.
    pub fn new(repo: &RepoId, release: &Release, current_version: Option<String>) -> Self {
        ReportedRelease {
            repository: repo.to_string(),
            owner: repo.owner().to_string(),
            repo: repo.repo().to_string(),
            tag_name: release.tag_name.clone(),
            name: release.name.clone(),
            published_at: release.published_at.clone(),
            tarball_url: release.tarball_url.clone(),
            zipball_url: release.zipball_url.clone(),
            html_url: release.html_url.clone(),
            prerelease: release.prerelease,
            draft: release.draft,
            assets: release.assets.clone(),
            current_version,
            description: None,
            commit: release
                .extra
                .get("commit")
                .and_then(|c| c.get("sha"))
                .and_then(|s| s.as_str())
                .map(str::to_string),
        }
    }
}

/// A repository that could not be checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoFailure {
    /// `owner/repo`.
    pub repository: String,
    /// What went wrong and what to do.
    pub error: String,
}
