//! Plan: which releases to download, which of their files to take, where each goes in the
//! mirror, and what each must hash to (from the upstream checksums, fetched here). Nothing is
//! written, so a dry run is a plan and nothing more.

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use super::Options;
use super::authenticate::{Evidence, RepoTrust};
use super::checksum::{self, Expected, expected_for};
use super::error::DownloadError;
use super::fetch::{FetchRequest, MAX_CHECKSUM_FILE, fetch_checksum_file};
use super::report::{Failed, Planned, Skipped};
use crate::config::{
    ArchivePreference, AssetPattern, Config, Require, SourceArchives, asset_selected,
};
use crate::db::{Database, VerifiedBy};
use crate::github::{Asset, Forges, GithubClient};
use crate::mirror::{Layout, SIDECAR_SUFFIX, check_asset_name, ensure_space};
use crate::monitor::{ReportedRelease, Rules, is_new, version_of};
use crate::repo::RepoId;

/// Free space kept beyond the selected assets' total size.
const SPACE_MARGIN: u64 = 64 * 1024 * 1024;

/// One release to download, with what the configuration says to take from it.
pub(super) struct Job {
    /// The repository.
    pub repo: RepoId,
    /// Its forge's client: checksum files, signatures and transfers go through it.
    pub client: Arc<GithubClient>,
    /// The release, as the monitor reported it.
    pub release: ReportedRelease,
    /// Which assets to take (`asset_patterns`).
    pub patterns: Vec<AssetPattern>,
    /// Which source archives to take (`source_archives`).
    pub archives: SourceArchives,
    /// The version the database held before.
    pub current: Option<String>,
    /// The repository's trust anchors and keyless identity (`signing`).
    pub trust: Arc<RepoTrust>,
}

impl Job {
    /// Whether the sidecar of the file `name` is `.<name>.sha256`: the release publishes a
    /// `<name>.sha256` of its own, and upstream names win, whether or not the patterns select it
    /// (an earlier run's patterns may have).
    pub fn hidden_sidecar(&self, name: &str) -> bool {
        let sidecar = format!("{name}{SIDECAR_SUFFIX}");
        self.release.assets.iter().any(|a| a.name == sidecar)
    }

    /// The tag.
    pub fn tag(&self) -> &str {
        &self.release.tag_name
    }

    /// A report entry: `asset` (or the whole release) skipped for `reason`.
    pub fn skipped(&self, asset: Option<&str>, reason: impl Into<String>) -> Skipped {
        skip(&self.release, asset, reason.into())
    }

    /// A report entry: `asset` (or the whole release) failed with `error`.
    pub fn failed(&self, asset: Option<&str>, error: &DownloadError) -> Failed {
        Failed {
            repository: self.release.repository.clone(),
            tag_name: self.release.tag_name.clone(),
            asset: asset.map(str::to_string),
            error: error.to_string(),
        }
    }
}

/// A report entry for a release (or one of its assets) not downloaded.
fn skip(release: &ReportedRelease, asset: Option<&str>, reason: String) -> Skipped {
    Skipped {
        repository: release.repository.clone(),
        tag_name: release.tag_name.clone(),
        asset: asset.map(str::to_string),
        reason,
    }
}

/// Whether `release` is downloaded at all: not a draft, configured, downloads enabled, and (unless
/// `force`) newer than what the database holds. `Err` is the report's reason for skipping it.
pub(super) fn decide(
    config: &Config,
    forges: &Forges,
    db: &Database,
    release: &ReportedRelease,
    opts: Options,
) -> Result<Job, Skipped> {
    let skip = |reason: String| skip(release, None, reason);
    if release.draft {
        return Err(skip("it is a draft (drafts are never downloaded)".into()));
    }
    let repo: RepoId = release.repository.parse().map_err(skip)?;
    let Some(repository) = config.find_repository(&repo) else {
        return Err(skip("not in the configuration".into()));
    };
    let effective = config.repository_settings(repository);
    let client = forges
        .for_repo(&repo)
        .map_err(|e| skip(e.to_string()))?
        .clone();
    if !effective.download_enabled {
        return Err(skip(
            "downloads are disabled for it (download.enabled)".into(),
        ));
    }
    let current = db.current_version(&repo).map(str::to_string);
    if !opts.force {
        let rules = Rules::for_repository(&effective);
        let version = version_of(
            &rules.scheme,
            &release.tag_name,
            release.published_at.as_deref(),
        );
        let (new, why) = match &version {
            Ok(v) => is_new(&release.tag_name, v, current.as_deref(), &rules, &[]),
            Err(e) => (current.is_none(), format!("{e}")),
        };
        if !new {
            return Err(skip(why));
        }
    }
    Ok(Job {
        client,
        trust: Arc::new(RepoTrust::new(&repo, &effective)),
        repo,
        release: release.clone(),
        patterns: effective.asset_patterns.clone(),
        archives: effective.source_archives,
        current,
    })
}

/// The assets and source archives a release's download takes.
pub(super) struct Selection<'a> {
    /// The assets matching `asset_patterns` whose upload is complete.
    pub assets: Vec<&'a Asset>,
    /// The source archives to fetch: (`true` for the zipball, its URL).
    pub archives: Vec<(bool, String)>,
    /// Matching assets whose upload is not complete.
    pub skipped: Vec<Skipped>,
}

impl Selection<'_> {
    /// Whether there is nothing to download.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty() && self.archives.is_empty()
    }
}

/// Selects the assets (`asset_patterns`, upload complete) and source archives of the release.
pub(super) fn select(job: &Job) -> Selection<'_> {
    let mut assets = Vec::new();
    let mut skipped = Vec::new();
    for a in &job.release.assets {
        if !asset_selected(&job.patterns, &a.name) {
            continue;
        }
        match a.state.as_deref() {
            None | Some("uploaded") => assets.push(a),
            Some(state) => skipped.push(job.skipped(
                Some(&a.name),
                format!("its upload is not complete (state {state:?})"),
            )),
        }
    }
    let archives = archive_urls(&job.archives, &job.release, assets.is_empty());
    Selection {
        assets,
        archives,
        skipped,
    }
}

/// The source archives to fetch (`true` for the zipball), per `source_archives`.
fn archive_urls(
    cfg: &SourceArchives,
    release: &ReportedRelease,
    no_assets: bool,
) -> Vec<(bool, String)> {
    if !cfg.enabled || (cfg.fallback_only && !no_assets) {
        return Vec::new();
    }
    let tar = release.tarball_url.clone().map(|u| (false, u));
    let zip = release.zipball_url.clone().map(|u| (true, u));
    match cfg.prefer {
        ArchivePreference::Tarball => tar.into_iter().collect(),
        ArchivePreference::Zipball => zip.into_iter().collect(),
        ArchivePreference::Both => tar.into_iter().chain(zip).collect(),
    }
}

/// The release's checksum files and sidecars, fetched into memory, and the ones that could not
/// be fetched or did not verify.
#[derive(Debug, Default)]
pub(super) struct ChecksumTexts {
    /// Checksum files: (name, text).
    files: Vec<(String, String)>,
    /// Sidecars: (name, text).
    sidecars: Vec<(String, String)>,
    /// Checksum files and sidecars that could not be fetched intact: (name, why). An asset they
    /// might verify and that has no other checksum fails, rather than being stored unverified.
    unavailable: Vec<(String, String)>,
}

impl ChecksumTexts {
    /// The checksum files (name, text), for their signatures to be checked (a verified
    /// clearsigned file's text is replaced by its signed text).
    pub fn files_mut(&mut self) -> &mut [(String, String)] {
        &mut self.files
    }

    /// Why `asset` cannot be verified for want of a checksum file (or its own sidecar) that
    /// could not be fetched, if that is so.
    fn unavailable_for(&self, asset: &str) -> Option<DownloadError> {
        self.unavailable
            .iter()
            .find(|(name, _)| {
                checksum::classify_asset_name(name, Some(asset))
                    == Some(checksum::ChecksumSource::Sidecar)
                    || checksum::classify_asset_name(name, None)
                        == Some(checksum::ChecksumSource::File)
            })
            .map(|(name, why)| DownloadError::ChecksumUnavailable {
                name: name.clone(),
                why: why.clone(),
            })
    }

    /// What `asset` must hash to, from its digest and the fetched checksum files and sidecars
    /// (see [`expected_for`]).
    fn expected(&self, asset: &Asset) -> Result<Option<Expected>, DownloadError> {
        fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
            v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
        }
        Ok(expected_for(
            &asset.name,
            asset.digest.as_deref(),
            &pairs(&self.files),
            &pairs(&self.sidecars),
        )?)
    }
}

/// Fetches the release's checksum files and sidecars.
pub(super) async fn fetch_checksums(
    client: &GithubClient,
    release: &ReportedRelease,
) -> ChecksumTexts {
    let names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    let wanted = checksum::checksum_assets(&names);
    let mut out = ChecksumTexts::default();
    for asset in release
        .assets
        .iter()
        .filter(|a| wanted.contains(&a.name.as_str()))
    {
        if asset.size > MAX_CHECKSUM_FILE {
            continue;
        }
        let text = match fetch_checksum_file(client, asset).await {
            Ok(text) => text,
            Err(e) => {
                tracing::warn!(
                    "{}: cannot fetch checksum file {}: {e}",
                    release.repository,
                    asset.name
                );
                out.unavailable.push((asset.name.clone(), e));
                continue;
            }
        };
        let is_sidecar = names.iter().any(|n| {
            checksum::classify_asset_name(&asset.name, Some(n))
                == Some(checksum::ChecksumSource::Sidecar)
        });
        if is_sidecar {
            out.sidecars.push((asset.name.clone(), text));
        } else {
            out.files.push((asset.name.clone(), text));
        }
    }
    out
}

/// Where a planned file comes from.
pub(super) enum Source {
    /// A release asset, with the upstream checksum it must match (if any).
    Asset {
        /// The asset as GitHub lists it.
        asset: Box<Asset>,
        /// What it must hash to; `None` when no upstream checksum covers it.
        expected: Option<Expected>,
    },
    /// A source archive: GitHub publishes no checksum for it.
    Archive {
        /// Its URL.
        url: String,
    },
}

/// One file to bring into the mirror.
pub(super) struct PlannedFile {
    /// The name the report gives it: the asset's name, or the archive's file name.
    pub name: String,
    /// Where it goes in the mirror.
    pub destination: PathBuf,
    /// Whether its sidecar is `.<name>.sha256` because the release publishes a `<name>.sha256`
    /// of its own (see [`crate::mirror::sidecar_path_for`]).
    pub hidden_sidecar: bool,
    /// Where it comes from.
    pub source: Source,
}

impl PlannedFile {
    /// The upstream checksum it must match, if any (never for a source archive).
    pub fn expected(&self) -> Option<&Expected> {
        match &self.source {
            Source::Asset { expected, .. } => expected.as_ref(),
            Source::Archive { .. } => None,
        }
    }

    /// The layer that would verify it.
    pub fn verified_by(&self) -> VerifiedBy {
        self.expected().map_or(VerifiedBy::None, |e| e.verified_by)
    }

    /// The size GitHub reports (`None` for a source archive, whose size is not known ahead).
    pub fn size(&self) -> Option<u64> {
        match &self.source {
            Source::Asset { asset, .. } => Some(asset.size),
            Source::Archive { .. } => None,
        }
    }

    /// Whether it is a source archive.
    pub fn is_archive(&self) -> bool {
        matches!(self.source, Source::Archive { .. })
    }

    /// The checksum files and sidecars that list it (their signatures cover it once its bytes
    /// match them).
    pub fn checksum_files(&self) -> Vec<&str> {
        self.expected()
            .map(|e| e.sources.iter().filter_map(|s| s.file.as_deref()).collect())
            .unwrap_or_default()
    }

    /// The dry run's report entry for it, with the signatures found for it (`evidence`, when
    /// signatures are checked).
    pub fn planned(&self, job: &Job, evidence: Option<&Evidence>) -> Planned {
        let signatures = match (evidence, &self.source) {
            (Some(evidence), Source::Asset { .. }) => {
                evidence.plan_notes(&job.trust, &self.name, &self.checksum_files())
            }
            _ => Vec::new(),
        };
        Planned {
            repository: job.release.repository.clone(),
            tag_name: job.tag().to_string(),
            asset: self.name.clone(),
            destination: self.destination.clone(),
            size: self.size().unwrap_or(0),
            verified_by: self.verified_by(),
            signatures,
        }
    }

    /// The transfer that fetches it into its part file.
    pub fn request(&self) -> Result<FetchRequest, DownloadError> {
        let part = crate::mirror::part_path(&self.destination);
        Ok(match &self.source {
            Source::Asset { asset, expected } => FetchRequest {
                url: Url::parse(&asset.url).map_err(|source| DownloadError::BadUrl {
                    what: "asset",
                    source,
                })?,
                part,
                expected_size: Some(asset.size),
                need_sha512: expected.as_ref().is_some_and(Expected::needs_sha512),
                content_type: asset
                    .extra
                    .get("content_type")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            },
            Source::Archive { url } => FetchRequest {
                url: Url::parse(url).map_err(|source| DownloadError::BadUrl {
                    what: "source archive",
                    source,
                })?,
                part,
                expected_size: None,
                need_sha512: false,
                content_type: None,
            },
        })
    }
}

/// A planned file, or why it cannot be planned, with the name the report gives it (the asset,
/// or `source archive`).
pub(super) type PlanEntry = Result<PlannedFile, (String, DownloadError)>;

/// Plans every selected file, in the report's order (assets, then source archives): its
/// destination and what it must hash to. A file that cannot be planned (an unsafe name, an
/// inconsistent or missing checksum) is an error entry; the others go on.
pub(super) fn plan_files(
    layout: &Layout,
    require: Require,
    job: &Job,
    selection: &Selection<'_>,
    checksums: &ChecksumTexts,
) -> Vec<PlanEntry> {
    let mut files = Vec::new();
    for asset in &selection.assets {
        let name = asset.name.as_str();
        let planned = plan_asset(layout, require, job, asset, checksums);
        files.push(planned.map_err(|e| (name.to_string(), e)));
    }
    for (zip, url) in &selection.archives {
        let planned = layout
            .source_archive_path(&job.repo, job.tag(), *zip)
            .map(|destination| PlannedFile {
                name: file_name(&destination),
                destination,
                hidden_sidecar: false,
                source: Source::Archive { url: url.clone() },
            });
        files.push(planned.map_err(|e| ("source archive".to_string(), e.into())));
    }
    for file in files.iter_mut().flatten() {
        file.hidden_sidecar = job.hidden_sidecar(&file.name);
    }
    files
}

/// Plans one asset: its destination, and the upstream checksum it must match.
fn plan_asset(
    layout: &Layout,
    require: Require,
    job: &Job,
    asset: &Asset,
    checksums: &ChecksumTexts,
) -> Result<PlannedFile, DownloadError> {
    let name = asset.name.as_str();
    check_asset_name(name)?;
    let destination = layout.asset_path(&job.repo, job.tag(), name)?;
    let expected = checksums.expected(asset)?;
    if expected.is_none()
        && let Some(why) = checksums.unavailable_for(name)
    {
        return Err(why);
    }
    if expected.is_none() && require == Require::Checksum {
        return Err(DownloadError::NoChecksum);
    }
    Ok(PlannedFile {
        name: name.to_string(),
        destination,
        hidden_sidecar: false,
        source: Source::Asset {
            asset: Box::new(asset.clone()),
            expected,
        },
    })
}

/// Creates the release folder and checks that the file system can hold the selected assets, so
/// a full disk is reported before any transfer starts.
pub(super) fn make_room(
    layout: &Layout,
    job: &Job,
    selection: &Selection<'_>,
) -> Result<(), DownloadError> {
    let dir = layout.prepare_dir(&job.repo, job.tag())?;
    let total: u64 = selection.assets.iter().map(|a| a.size).sum();
    ensure_space(&dir, total, SPACE_MARGIN)?;
    Ok(())
}

/// The file name of `path`, as the report names a source archive.
fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_checksum_file_concerns_every_asset_and_a_sidecar_only_its_own() {
        let texts = ChecksumTexts {
            unavailable: vec![("tool.tar.gz.sha256".into(), "HTTP 502".into())],
            ..ChecksumTexts::default()
        };
        assert!(
            texts
                .unavailable_for("tool.tar.gz")
                .map(|e| e.to_string())
                .is_some_and(|e| e.contains("tool.tar.gz.sha256") && e.contains("HTTP 502"))
        );
        assert!(texts.unavailable_for("other.zip").is_none());
        let texts = ChecksumTexts {
            unavailable: vec![("SHA256SUMS".into(), "cut off".into())],
            ..ChecksumTexts::default()
        };
        assert!(texts.unavailable_for("other.zip").is_some());
        assert!(
            ChecksumTexts::default()
                .unavailable_for("other.zip")
                .is_none()
        );
    }
}
