//! Runs the download stages for a monitor report: decide per release, select assets, find the
//! upstream checksums, fetch, verify, store, and record the release in the database only when
//! every selected asset of it is verified and stored.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use url::Url;

use super::fetch::{FetchRequest, fetch};
use super::verify::Algorithm;
use super::verify::{self, Expected, check, expected_for, hash_file};
use crate::config::{ArchivePreference, Config, SourceArchives, asset_selected};
use crate::db::{Database, FileRecord, Recording, VerifiedBy, VersionDb};
use crate::github::{ACCEPT_OCTET, Asset, GithubClient};
use crate::mirror::extract::{self, Existing, Extraction, ExtractionStatus, Format};
use crate::mirror::{
    DedupIndex, Layout, LinkKind, check_asset_name, commit, ensure_sidecar, ensure_space,
    link_or_copy, part_path, validator_path, write_sidecar,
};
use crate::monitor::{Report, ReportedRelease, Rules, is_new, version_of};
use crate::repo::RepoId;
use crate::storage::{ArtifactStore, release_key, upload_verified};

/// How the downloader runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Print the plan; write nothing (no files, no database).
    pub dry_run: bool,
    /// Download even when the database already holds the version (or a newer one).
    pub force: bool,
    /// Store each release's files directly in the download directory ([`Layout::flat`]): for
    /// the Concourse resource's `in`, which fetches one release into its own directory.
    pub flat: bool,
}

/// What the downloader did, printed as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DownloadReport {
    /// Releases whose selected assets were all verified, stored and recorded.
    pub downloaded: Vec<DownloadedRelease>,
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
}

/// A recorded release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadedRelease {
    /// `owner/repo`.
    pub repository: String,
    /// The tag.
    pub tag_name: String,
    /// The version the database held before.
    pub previous_version: Option<String>,
    /// The stored files.
    pub files: Vec<StoredFile>,
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
    pub how: String,
}

/// One stored, verified file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    /// The asset name.
    pub name: String,
    /// Where it is.
    pub path: String,
    /// Its size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: String,
    /// Which upstream checksum verified it.
    pub verified_by: VerifiedBy,
    /// `downloaded`, `resumed`, `already-present` (re-verified, not re-fetched), or
    /// `hard-linked` / `copied` from an identical stored file.
    pub how: String,
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
    pub destination: String,
    /// Its size.
    pub size: u64,
    /// The upstream checksum that would verify it (`none` if there is none).
    pub verified_by: VerifiedBy,
}

/// Checksum files and sidecars are small; anything larger is not read as one.
const MAX_CHECKSUM_FILE: u64 = 1024 * 1024;
/// Free space kept beyond the selected assets' total size.
const SPACE_MARGIN: u64 = 64 * 1024 * 1024;

/// Downloads the releases of `report`.
///
/// `db` is the database as loaded at the start of the run (the caller loads it, so a damaged
/// file stops the command before any request); records are written through `store`.
pub async fn run(
    config: &Config,
    client: Arc<GithubClient>,
    store: Arc<dyn VersionDb>,
    db: &Database,
    report: &Report,
    opts: Options,
) -> DownloadReport {
    run_with_uploads(config, client, store, None, db, report, opts).await
}

/// Like [`run`], and copies every verified file and its sidecar to `artifacts` (when given)
/// before the release is recorded: a release is recorded only when all its uploads succeeded.
pub async fn run_with_uploads(
    config: &Config,
    client: Arc<GithubClient>,
    store: Arc<dyn VersionDb>,
    artifacts: Option<Arc<dyn ArtifactStore>>,
    db: &Database,
    report: &Report,
    opts: Options,
) -> DownloadReport {
    let permits = Arc::new(Semaphore::new(config.download.concurrency.max(1) as usize));
    let layout = Arc::new(if opts.flat {
        Layout::flat(config.download.directory.clone())
    } else {
        Layout::new(config.download.directory.clone())
    });
    let require_checksum = config.download.verification.require;
    let post = &config.download.post_download;
    let extract_limits = post.extract.then_some(post.extract_limits);
    // Bars when a person watches stderr; plain log lines otherwise (CI, pipes, files).
    let bars = (std::io::IsTerminal::is_terminal(&std::io::stderr()) && !opts.dry_run)
        .then(|| Arc::new(indicatif::MultiProgress::new()));
    let root = layout.root().to_path_buf();
    let dedup = match tokio::task::spawn_blocking(move || DedupIndex::scan(&root)).await {
        Ok(Ok(index)) => index,
        Ok(Err(e)) => {
            tracing::warn!("cannot index stored files for deduplication: {e}");
            DedupIndex::default()
        }
        Err(e) => {
            tracing::warn!("cannot index stored files for deduplication: {e}");
            DedupIndex::default()
        }
    };
    let dedup = Arc::new(std::sync::Mutex::new(dedup));
    let mut tasks = tokio::task::JoinSet::new();
    let mut out = DownloadReport::default();
    for (index, release) in report.releases.iter().enumerate() {
        let skip = |reason: String| Skipped {
            repository: release.repository.clone(),
            tag_name: release.tag_name.clone(),
            asset: None,
            reason,
        };
        if release.draft {
            out.skipped
                .push(skip("it is a draft (drafts are never downloaded)".into()));
            continue;
        }
        let Some(repository) = config.repositories.iter().find(|r| {
            r.owner.eq_ignore_ascii_case(&release.owner)
                && r.repo.eq_ignore_ascii_case(&release.repo)
        }) else {
            out.skipped.push(skip("not in the configuration".into()));
            continue;
        };
        let effective = config.repository_settings(repository);
        let repo = match RepoId::new(&release.owner, &release.repo) {
            Ok(r) => r,
            Err(e) => {
                out.skipped.push(skip(e));
                continue;
            }
        };
        if !effective.download_enabled {
            out.skipped.push(skip(
                "downloads are disabled for it (download.enabled)".into(),
            ));
            continue;
        }
        let current = db.current_version(&repo).map(str::to_string);
        if !opts.force {
            let rules = Rules::for_repository(&effective);
            let version = version_of(
                &rules.scheme,
                &release.tag_name,
                release.published_at.as_deref(),
            );
            let new = match &version {
                Ok(v) => is_new(&release.tag_name, v, current.as_deref(), &rules, &[]),
                Err(e) => (current.is_none(), format!("{e}")),
            };
            if !new.0 {
                out.skipped.push(skip(new.1));
                continue;
            }
        }
        let patterns = effective.asset_patterns.clone();
        let archives = effective.source_archives;
        let release = release.clone();
        let (client, store, layout, permits, dedup, bars, artifacts) = (
            client.clone(),
            store.clone(),
            layout.clone(),
            permits.clone(),
            dedup.clone(),
            bars.clone(),
            artifacts.clone(),
        );
        tasks.spawn(async move {
            let ctx = Context {
                client: &client,
                require_checksum,
                extract_limits,
                bars: bars.as_deref(),
                layout: &layout,
                permits: &permits,
                dedup: &dedup,
                artifacts: artifacts.as_deref(),
            };
            let wanted = Wanted {
                patterns: &patterns,
                archives: &archives,
            };
            let r = download_release(&ctx, store, repo, &release, wanted, current, opts).await;
            (index, r)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => tracing::error!("a download task panicked: {e}"),
        }
    }
    results.sort_by_key(|(i, _)| *i);
    for (_, r) in results {
        out.downloaded.extend(r.downloaded);
        out.skipped.extend(r.skipped);
        out.failed.extend(r.failed);
        out.planned.extend(r.planned);
        out.bytes_deduplicated += r.bytes_deduplicated;
        out.extractions.extend(r.extractions);
    }
    out
}

/// What to take from a release: asset patterns and source archives.
#[derive(Clone, Copy)]
struct Wanted<'a> {
    patterns: &'a [crate::config::AssetPattern],
    archives: &'a SourceArchives,
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

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A source archive: GitHub publishes no checksum for it, so it is stored with `verified_by:
/// none`; a stored copy whose sidecar still matches its bytes is kept.
async fn fetch_archive(
    client: &GithubClient,
    url: &str,
    destination: &std::path::Path,
) -> Result<StoredFile, String> {
    let name = file_name(destination);
    if destination.exists() {
        let (path, sidecar) = (
            destination.to_path_buf(),
            crate::mirror::sidecar_path(destination),
        );
        let kept = tokio::task::spawn_blocking(move || {
            let recorded = std::fs::read_to_string(&sidecar).ok()?;
            let digests = hash_file(&path, false).ok()?;
            let size = std::fs::metadata(&path).ok()?.len();
            recorded
                .split_whitespace()
                .next()
                .is_some_and(|hex| hex == digests.sha256)
                .then_some((digests, size))
        })
        .await
        .ok()
        .flatten();
        if let Some((digests, size)) = kept {
            return Ok(StoredFile {
                name,
                path: destination.display().to_string(),
                size,
                sha256: digests.sha256,
                verified_by: VerifiedBy::None,
                how: "already-present".to_string(),
            });
        }
    }
    let url = Url::parse(url).map_err(|e| format!("bad source archive URL: {e}"))?;
    let part = part_path(destination);
    let request = FetchRequest {
        url,
        part: part.clone(),
        expected_size: None,
        need_sha512: false,
        content_type: None,
    };
    let fetched = fetch(client, &request, None)
        .await
        .map_err(|e| e.to_string())?;
    commit(&part, destination, &fetched.digests.sha256).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(validator_path(&part));
    tracing::info!(
        "{}: downloaded {} bytes (source archive, no upstream checksum)",
        destination.display(),
        fetched.size
    );
    Ok(StoredFile {
        name,
        path: destination.display().to_string(),
        size: fetched.size,
        sha256: fetched.digests.sha256,
        verified_by: VerifiedBy::None,
        how: if fetched.resumed_from > 0 {
            "resumed"
        } else {
            "downloaded"
        }
        .to_string(),
    })
}

/// A progress bar for one asset.
fn new_bar(
    multi: &indicatif::MultiProgress,
    repo: &RepoId,
    tag: &str,
    asset: &str,
    size: u64,
) -> indicatif::ProgressBar {
    let bar = multi.add(indicatif::ProgressBar::new(size));
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:40!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {eta:>4}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(format!("{repo} {tag} {asset}"));
    bar
}

/// What every release's download shares.
struct Context<'a> {
    client: &'a GithubClient,
    require_checksum: bool,
    /// `Some` with `post_download.extract`.
    extract_limits: Option<crate::config::ExtractLimits>,
    bars: Option<&'a indicatif::MultiProgress>,
    layout: &'a Layout,
    permits: &'a Semaphore,
    dedup: &'a std::sync::Mutex<DedupIndex>,
    artifacts: Option<&'a dyn ArtifactStore>,
}

/// The release's checksum files and sidecars, fetched into memory, and the ones that could not
/// be fetched or did not verify.
#[derive(Debug, Default)]
struct ChecksumTexts {
    /// Checksum files: (name, text).
    files: Vec<(String, String)>,
    /// Sidecars: (name, text).
    sidecars: Vec<(String, String)>,
    /// Checksum files and sidecars that could not be fetched intact: (name, why). An asset they
    /// might verify and that has no other checksum fails, rather than being stored unverified.
    unavailable: Vec<(String, String)>,
}

impl ChecksumTexts {
    /// Why `asset` cannot be verified for want of a checksum file (or its own sidecar) that
    /// could not be fetched, if that is so.
    fn unavailable_for(&self, asset: &str) -> Option<String> {
        self.unavailable
            .iter()
            .find(|(name, _)| {
                verify::classify_asset_name(name, Some(asset))
                    == Some(verify::ChecksumSource::Sidecar)
                    || verify::classify_asset_name(name, None) == Some(verify::ChecksumSource::File)
            })
            .map(|(name, why)| {
                format!(
                    "cannot verify it: checksum file {name} could not be fetched intact ({why}); \
                     retried next run"
                )
            })
    }
}

/// Fetches the release's checksum files and sidecars.
async fn fetch_checksums(client: &GithubClient, release: &ReportedRelease) -> ChecksumTexts {
    let names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    let wanted = verify::checksum_assets(&names);
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
            verify::classify_asset_name(&asset.name, Some(n))
                == Some(verify::ChecksumSource::Sidecar)
        });
        if is_sidecar {
            out.sidecars.push((asset.name.clone(), text));
        } else {
            out.files.push((asset.name.clone(), text));
        }
    }
    out
}

/// Fetches one checksum file whole and checks it like any asset: its size, and its own `digest`
/// when GitHub gives one, so bytes damaged in flight never decide what verifies. A mismatch is
/// fetched once more.
async fn fetch_checksum_file(client: &GithubClient, asset: &Asset) -> Result<String, String> {
    let url = Url::parse(&asset.url).map_err(|e| format!("bad asset URL: {e}"))?;
    let own = asset
        .digest
        .as_deref()
        .map(verify::Checksum::from_github_digest)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let resp = client
            .send(&url, ACCEPT_OCTET, &Default::default())
            .await
            .map_err(|e| e.to_string())?;
        let problem = match resp.bytes().await {
            Err(e) => format!("the transfer failed: {e}"),
            Ok(b) if b.len() as u64 > MAX_CHECKSUM_FILE => {
                format!("it is larger than {MAX_CHECKSUM_FILE} bytes")
            }
            Ok(b) if b.len() as u64 != asset.size => {
                format!(
                    "received {} bytes, the asset's size is {}",
                    b.len(),
                    asset.size
                )
            }
            Ok(b) => {
                let mut hasher = verify::Hasher::new(
                    own.as_ref()
                        .is_some_and(|c| c.algorithm() == Algorithm::Sha512),
                );
                hasher.update(&b);
                match &own {
                    Some(checksum) if !hasher.finish().matches(checksum) => {
                        format!("its bytes do not match its digest {checksum}")
                    }
                    _ => return Ok(String::from_utf8_lossy(&b).into_owned()),
                }
            }
        };
        if attempt >= 2 {
            return Err(problem);
        }
        tracing::warn!("{}: {problem}; fetching it once more", asset.name);
    }
}

async fn download_release(
    ctx: &Context<'_>,
    store: Arc<dyn VersionDb>,
    repo: RepoId,
    release: &ReportedRelease,
    wanted: Wanted<'_>,
    current: Option<String>,
    opts: Options,
) -> DownloadReport {
    let (client, layout, permits) = (ctx.client, ctx.layout, ctx.permits);
    let started = Instant::now();
    let mut out = DownloadReport::default();
    let tag = release.tag_name.as_str();
    let failed = |asset: Option<&str>, error: String| Failed {
        repository: release.repository.clone(),
        tag_name: tag.to_string(),
        asset: asset.map(str::to_string),
        error,
    };
    let mut selected: Vec<&Asset> = Vec::new();
    for a in &release.assets {
        if !asset_selected(wanted.patterns, &a.name) {
            continue;
        }
        match a.state.as_deref() {
            None | Some("uploaded") => selected.push(a),
            Some(state) => out.skipped.push(Skipped {
                repository: release.repository.clone(),
                tag_name: tag.to_string(),
                asset: Some(a.name.clone()),
                reason: format!("its upload is not complete (state {state:?})"),
            }),
        }
    }
    let archives = archive_urls(wanted.archives, release, selected.is_empty());
    if selected.is_empty() && archives.is_empty() {
        out.skipped.push(Skipped {
            repository: release.repository.clone(),
            tag_name: tag.to_string(),
            asset: None,
            reason: "no asset matches asset_patterns".into(),
        });
        return out;
    }
    let checksums = fetch_checksums(client, release).await;
    let file_refs: Vec<(&str, &str)> = checksums
        .files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let sidecar_refs: Vec<(&str, &str)> = checksums
        .sidecars
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    if !opts.dry_run {
        match layout.prepare_dir(&repo, tag) {
            Ok(dir) => {
                let total: u64 = selected.iter().map(|a| a.size).sum();
                if let Err(e) = ensure_space(&dir, total, SPACE_MARGIN) {
                    out.failed.push(failed(None, e.to_string()));
                    return out;
                }
            }
            Err(e) => {
                out.failed.push(failed(None, e.to_string()));
                return out;
            }
        }
    }
    let mut stored = Vec::new();
    for asset in selected {
        let name = asset.name.as_str();
        let result: Result<Option<StoredFile>, String> = async {
            check_asset_name(name).map_err(|e| e.to_string())?;
            let destination = layout
                .asset_path(&repo, tag, name)
                .map_err(|e| e.to_string())?;
            let expected = expected_for(name, asset.digest.as_deref(), &file_refs, &sidecar_refs)
                .map_err(|e| e.to_string())?;
            if expected.is_none()
                && let Some(why) = checksums.unavailable_for(name)
            {
                return Err(why);
            }
            if expected.is_none() && ctx.require_checksum {
                return Err(
                    "no upstream checksum (digest, checksum file or sidecar) covers it, \
                            and verification.require is on"
                        .to_string(),
                );
            }
            if opts.dry_run {
                out.planned.push(Planned {
                    repository: release.repository.clone(),
                    tag_name: tag.to_string(),
                    asset: name.to_string(),
                    destination: destination.display().to_string(),
                    size: asset.size,
                    verified_by: expected
                        .as_ref()
                        .map_or(VerifiedBy::None, |e| e.verified_by),
                });
                return Ok(None);
            }
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            let bar = ctx.bars.map(|m| new_bar(m, &repo, tag, name, asset.size));
            let result = fetch_verified(
                client,
                ctx.dedup,
                asset,
                &destination,
                expected.as_ref(),
                bar.as_ref(),
            )
            .await;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            result.map(Some)
        }
        .await;
        match result {
            Ok(Some(file)) => {
                if file.how == "hard-linked" || file.how == "copied" {
                    out.bytes_deduplicated += file.size;
                }
                stored.push(file);
            }
            Ok(None) => {}
            Err(error) => out.failed.push(failed(Some(name), error)),
        }
    }
    for (zip, url) in archives {
        let result: Result<Option<StoredFile>, String> = async {
            let destination = layout
                .source_archive_path(&repo, tag, zip)
                .map_err(|e| e.to_string())?;
            if opts.dry_run {
                out.planned.push(Planned {
                    repository: release.repository.clone(),
                    tag_name: tag.to_string(),
                    asset: file_name(&destination),
                    destination: destination.display().to_string(),
                    size: 0,
                    verified_by: VerifiedBy::None,
                });
                return Ok(None);
            }
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            fetch_archive(client, &url, &destination).await.map(Some)
        }
        .await;
        match result {
            Ok(Some(file)) => stored.push(file),
            Ok(None) => {}
            Err(error) => out.failed.push(failed(Some("source archive"), error)),
        }
    }
    if opts.dry_run || !out.failed.is_empty() {
        if !out.failed.is_empty() {
            tracing::error!(
                "{} {tag}: not recorded; {} asset(s) failed (stored files stay and are re-verified next run)",
                release.repository,
                out.failed.len()
            );
        }
        return out;
    }
    let mut uploaded = Vec::new();
    if let Some(artifacts) = ctx.artifacts {
        for file in &stored {
            let result = async {
                let key = release_key(&repo, tag, &file.name)?;
                let _permit = permits.acquire().await.map_err(|e| {
                    crate::storage::StorageError::Setup(format!("no upload slot: {e}"))
                })?;
                let how = upload_verified(
                    artifacts,
                    &key,
                    &file.name,
                    std::path::Path::new(&file.path),
                    file.size,
                    &file.sha256,
                )
                .await?;
                Ok::<_, crate::storage::StorageError>(UploadedObject {
                    name: file.name.clone(),
                    url: artifacts.url_of(&key),
                    how: how.as_str().to_string(),
                })
            }
            .await;
            match result {
                Ok(object) => uploaded.push(object),
                Err(e) => out
                    .failed
                    .push(failed(Some(&file.name), format!("upload failed: {e}"))),
            }
        }
        if !out.failed.is_empty() {
            tracing::error!(
                "{} {tag}: not recorded; {} upload(s) failed (stored files stay; the upload is retried next run)",
                release.repository,
                out.failed.len()
            );
            return out;
        }
    }
    // Extract before recording: if the process dies while extracting, the release is not
    // recorded, so the next run re-verifies its files and extracts again.
    if let Some(limits) = ctx.extract_limits {
        for file in &stored {
            if let Some(e) = extract_stored(release, file, limits).await {
                out.extractions.push(e);
            }
        }
    }
    let recording = Recording {
        version: tag.to_string(),
        files: stored
            .iter()
            .map(|f| FileRecord {
                name: f.name.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                verified_by: f.verified_by,
            })
            .collect(),
        download_time: started.elapsed().as_secs_f64(),
        recorded_by: None,
    };
    let repo_for_db = repo.clone();
    let recorded =
        tokio::task::spawn_blocking(move || store.record_download(&repo_for_db, &recording)).await;
    match recorded {
        Ok(Ok(_)) => out.downloaded.push(DownloadedRelease {
            repository: release.repository.clone(),
            tag_name: tag.to_string(),
            previous_version: current,
            files: stored,
            uploaded,
        }),
        Ok(Err(e)) => out
            .failed
            .push(failed(None, format!("stored, but not recorded: {e}"))),
        Err(e) => out
            .failed
            .push(failed(None, format!("stored, but not recorded: {e}"))),
    }
    out
}

/// One asset: re-verify a stored copy, or fetch it, verify it (once more from scratch on a
/// mismatch) and move it to its final path.
async fn fetch_verified(
    client: &GithubClient,
    dedup: &std::sync::Mutex<DedupIndex>,
    asset: &Asset,
    destination: &std::path::Path,
    expected: Option<&Expected>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<StoredFile, String> {
    let need_sha512 = expected.is_some_and(Expected::needs_sha512);
    let name = asset.name.clone();
    let stored =
        |digests: &verify::Digests, verified_by: VerifiedBy, size: u64, how: &str| StoredFile {
            name: name.clone(),
            path: destination.display().to_string(),
            size,
            sha256: digests.sha256.clone(),
            verified_by,
            how: how.to_string(),
        };
    if destination.exists() {
        let path = destination.to_path_buf();
        let digests = tokio::task::spawn_blocking(move || hash_file(&path, need_sha512))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if let Ok(by) = check(&asset.name, &digests, expected) {
            let size = std::fs::metadata(destination).map(|m| m.len()).unwrap_or(0);
            if size == asset.size {
                // A crash between the rename and the sidecar write leaves no sidecar: restore it.
                if ensure_sidecar(destination, &digests.sha256).map_err(|e| e.to_string())? {
                    tracing::info!("{}: sidecar restored", destination.display());
                }
                remove_stale_part(destination);
                return Ok(stored(&digests, by, size, "already-present"));
            }
        }
        tracing::warn!(
            "{}: the stored copy does not verify; downloading it again",
            destination.display()
        );
    }
    if let Some(file) = deduplicate(dedup, &asset.name, asset.size, destination, expected).await {
        remove_stale_part(destination);
        return Ok(file);
    }
    let url = Url::parse(&asset.url).map_err(|e| format!("bad asset URL: {e}"))?;
    let part = part_path(destination);
    let request = FetchRequest {
        url,
        part: part.clone(),
        expected_size: Some(asset.size),
        need_sha512,
        content_type: asset
            .extra
            .get("content_type")
            .and_then(|v| v.as_str())
            .map(str::to_string),
    };
    let mut second_try = false;
    loop {
        let fetched = fetch(client, &request, bar)
            .await
            .map_err(|e| e.to_string())?;
        match check(&asset.name, &fetched.digests, expected) {
            Ok(by) => {
                commit(&part, destination, &fetched.digests.sha256).map_err(|e| e.to_string())?;
                let _ = std::fs::remove_file(validator_path(&part));
                if let Ok(mut index) = dedup.lock() {
                    index.insert(&fetched.digests.sha256, destination.to_path_buf());
                }
                let how = if fetched.resumed_from > 0 {
                    "resumed"
                } else {
                    "downloaded"
                };
                tracing::info!(
                    "{}: {how} {} bytes, verified by {}",
                    destination.display(),
                    fetched.size,
                    by.as_str()
                );
                return Ok(stored(&fetched.digests, by, fetched.size, how));
            }
            Err(e) => {
                // Never keep bytes that failed verification.
                let _ = std::fs::remove_file(&part);
                let _ = std::fs::remove_file(validator_path(&part));
                if second_try {
                    return Err(e.to_string());
                }
                tracing::warn!("{e}; downloading it once more from scratch");
                second_try = true;
            }
        }
    }
}

/// Removes the `.part` file (and its validator) an interrupted transfer left for `destination`,
/// once the file is in place another way (re-verified, or deduplicated): nothing would ever
/// resume it, and it may be large.
fn remove_stale_part(destination: &std::path::Path) {
    let part = part_path(destination);
    for path in [validator_path(&part), part] {
        if std::fs::remove_file(&path).is_ok() {
            tracing::debug!("{}: removed, no longer needed", path.display());
        }
    }
}

/// Places an identical stored file at `destination` instead of downloading it, when the
/// expected SHA-256 is known in advance and a stored file has it. The stored file is hashed
/// again first: its sidecar alone is not trusted (an upstream asset could be named like one).
async fn deduplicate(
    dedup: &std::sync::Mutex<DedupIndex>,
    name: &str,
    size: u64,
    destination: &std::path::Path,
    expected: Option<&Expected>,
) -> Option<StoredFile> {
    let expected = expected?;
    if expected.checksum.algorithm() != Algorithm::Sha256 {
        return None;
    }
    let hex = expected.checksum.hex().to_string();
    let existing = dedup.lock().ok()?.get(&hex)?.to_path_buf();
    if existing == destination {
        return None;
    }
    let (from, to) = (existing.clone(), destination.to_path_buf());
    let placed = tokio::task::spawn_blocking(move || -> Result<LinkKind, String> {
        let digests = hash_file(&from, false).map_err(|e| e.to_string())?;
        if digests.sha256 != hex {
            return Err(format!(
                "{} no longer has the recorded hash",
                from.display()
            ));
        }
        let kind = link_or_copy(&from, &to).map_err(|e| e.to_string())?;
        write_sidecar(&to, &hex).map_err(|e| e.to_string())?;
        Ok(kind)
    })
    .await
    .ok()?;
    match placed {
        Ok(kind) => {
            tracing::info!(
                "{name}: identical to {}, {} instead of downloading",
                existing.display(),
                if kind == LinkKind::HardLink {
                    "hard-linked"
                } else {
                    "copied"
                }
            );
            Some(StoredFile {
                name: name.to_string(),
                path: destination.display().to_string(),
                size,
                sha256: expected.checksum.hex().to_string(),
                verified_by: expected.verified_by,
                how: if kind == LinkKind::HardLink {
                    "hard-linked".to_string()
                } else {
                    "copied".to_string()
                },
            })
        }
        Err(e) => {
            tracing::warn!("{name}: not deduplicated ({e}); downloading it");
            None
        }
    }
}

/// Extracts one stored file if its name is an archive's (`post_download.extract`), on a blocking
/// thread. A file just placed (downloaded, resumed, linked or copied) replaces an earlier
/// extraction; a file already present keeps it.
async fn extract_stored(
    release: &ReportedRelease,
    file: &StoredFile,
    limits: crate::config::ExtractLimits,
) -> Option<Extraction> {
    let (_, stem) = Format::detect(&file.name)?;
    let archive = std::path::PathBuf::from(&file.path);
    let folder = crate::fsutil::dir_of(&archive).join(stem);
    let existing = if file.how == "already-present" {
        Existing::Keep
    } else {
        Existing::Replace
    };
    let result = tokio::task::spawn_blocking(move || extract::extract(&archive, &limits, existing))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let mut entry = Extraction {
        repository: release.repository.clone(),
        tag_name: release.tag_name.clone(),
        asset: file.name.clone(),
        status: ExtractionStatus::Failed,
        path: folder.display().to_string(),
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
                .is_some_and(|e| e.contains("tool.tar.gz.sha256") && e.contains("HTTP 502"))
        );
        assert_eq!(texts.unavailable_for("other.zip"), None);
        let texts = ChecksumTexts {
            unavailable: vec![("SHA256SUMS".into(), "cut off".into())],
            ..ChecksumTexts::default()
        };
        assert!(texts.unavailable_for("other.zip").is_some());
        assert_eq!(ChecksumTexts::default().unavailable_for("other.zip"), None);
    }
}
