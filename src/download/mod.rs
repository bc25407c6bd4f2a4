//! The downloader: for each new release of a monitor report, bring its files into the mirror,
//! verified, and record the release. One release is a short story, told by [`run`]
//! and `download_release` below, one step per file:
//!
//! 1. `plan` — which releases and files, where each goes, what each must hash
//!    to (the upstream checksums are fetched here); a dry run stops after it;
//! 2. `fetch` — stream a file to its `.part` file, resuming an interrupted transfer; a large
//!    asset goes as ranged pieces over several connections (`segmented`);
//! 3. `verify` — keep a mirrored copy that still verifies, or check a completed transfer
//!    against its upstream checksum (the rules are in [`checksum`]);
//!    then `authenticate` — with `verification.signature`, check every signature, bundle,
//!    provenance and attestation offered for it against the configured trust anchors
//!    (the signature files are fetched while planning);
//! 4. `commit` — rename the verified file into place with its sidecar (or link an identical
//!    mirrored file instead of downloading it);
//! 5. `upload` — copy the files to the artifact store, when one is configured;
//! 6. `extract` — unpack archives, with `post_download.extract`;
//! 7. `record` — write the release to the version database, only when every file got through.
//!
//! What happened is a [`DownloadReport`] (its types are in `report`); per-file failures are
//! [`DownloadError`]s, reported as their messages while the other files carry on.

mod authenticate;
pub mod checksum;
mod commit;
mod error;
mod extract;
pub mod fetch;
mod plan;
mod record;
mod report;
mod segmented;
mod upload;
mod verify;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar};
use tokio::sync::Semaphore;

use crate::config::{Config, ExtractLimits};
use crate::db::{Database, VersionDb};
use crate::github::Forges;
use crate::mirror::{DedupIndex, Layout, discard_part, part_path};
use crate::monitor::Report;
use crate::repo::RepoId;
use crate::storage::ArtifactStore;
use authenticate::{Authenticator, Evidence};
use checksum::{Digests, Upstream};
use plan::{Job, PlannedFile};

pub use error::DownloadError;
pub use report::{
    CheckResult, DownloadReport, Failed, MirroredFile, Placement, Planned, RecordedRelease,
    SignatureCheck, Skipped, UploadedObject, VerificationSummary,
};

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

/// Downloads the releases of `report`, and copies every verified file and its sidecar to
/// `artifacts` (when given) before the release is recorded: a release is recorded only when all
/// its uploads succeeded.
///
/// `db` is the database as loaded at the start of the run (the caller loads it, so a damaged
/// file stops the command before any request); records are written through `store`.
///
/// Releases run concurrently (at most `download.concurrency` transfers at a time); their
/// entries are reported in the monitor report's order.
pub async fn run(
    config: &Config,
    forges: Arc<Forges>,
    store: Arc<dyn VersionDb>,
    artifacts: Option<Arc<dyn ArtifactStore>>,
    db: &Database,
    report: &Report,
    opts: Options,
) -> DownloadReport {
    let ctx = Arc::new(Context::new(config, artifacts, opts).await);
    let mut tasks = tokio::task::JoinSet::new();
    let mut out = DownloadReport::default();
    for (index, release) in report.releases.iter().enumerate() {
        let job = match plan::decide(config, &forges, db, release, opts) {
            Ok(job) => job,
            Err(skipped) => {
                out.skipped.push(skipped);
                continue;
            }
        };
        let (ctx, store) = (ctx.clone(), store.clone());
        tasks.spawn(async move { (index, download_release(&ctx, store, job).await) });
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
        out.extend(r);
    }
    out.verification = out.verification_summary();
    out
}

/// What every release's download shares.
struct Context {
    /// The artifact store, with `download.s3_storage`.
    artifacts: Option<Arc<dyn ArtifactStore>>,
    /// Where files go in the mirror.
    layout: Layout,
    /// One permit per connection of a transfer, or per upload (`download.concurrency`).
    permits: Semaphore,
    /// `download.segments`.
    segmenting: segmented::Segmenting,
    /// The mirror's files by digest, extended as files are committed.
    dedup: Mutex<DedupIndex>,
    /// One lock per expected SHA-256 being mirrored in this run: two selected files with the same
    /// digest (one file attached to two releases) are fetched once; the other waits, then finds
    /// it in `dedup` and links it.
    in_flight: Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Progress bars when a person watches stderr; plain log lines otherwise.
    bars: Option<MultiProgress>,
    /// `verification.require`.
    require: crate::config::Require,
    /// `verification.signature` and what it needs.
    auth: Authenticator,
    /// `Some` with `post_download.extract`.
    extract_limits: Option<ExtractLimits>,
    /// How this run goes (dry run, force, flat).
    opts: Options,
}

impl Context {
    /// Reads the settings and indexes the mirror for deduplication (an index that cannot be
    /// built is logged and left empty: deduplication only saves bytes).
    async fn new(
        config: &Config,
        artifacts: Option<Arc<dyn ArtifactStore>>,
        opts: Options,
    ) -> Context {
        let layout = if opts.flat {
            Layout::flat(config.download.directory.clone())
        } else {
            Layout::new(config.download.directory.clone())
        };
        let post = &config.download.post_download;
        // Bars when a person watches stderr; plain log lines otherwise (CI, pipes, files).
        let bars = (std::io::IsTerminal::is_terminal(&std::io::stderr()) && !opts.dry_run)
            .then(MultiProgress::new);
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
        Context {
            artifacts,
            layout,
            permits: Semaphore::new(config.download.concurrency.max(1) as usize),
            segmenting: segmented::Segmenting {
                connections: config.download.segments.connections.max(1) as usize,
                min_size: config.download.segments.min_size,
            },
            dedup: Mutex::new(dedup),
            in_flight: Mutex::new(std::collections::HashMap::new()),
            bars,
            require: config.download.verification.require,
            auth: Authenticator::new(config),
            extract_limits: post.extract.then_some(post.extract_limits),
            opts,
        }
    }
}

/// One release: plan → fetch → verify → commit (per file) → upload → extract → record. The
/// release is recorded only when every planned file is in the mirror (and uploaded); otherwise
/// its files stay and are re-verified next run.
async fn download_release(ctx: &Context, store: Arc<dyn VersionDb>, job: Job) -> DownloadReport {
    let started = Instant::now();
    let mut out = DownloadReport::default();
    let tag = job.tag();

    // Plan: the files to take, and what each must hash to.
    let selection = plan::select(&job);
    out.skipped.extend(selection.skipped.iter().cloned());
    if selection.is_empty() {
        out.skipped
            .push(job.skipped(None, "no asset matches asset_patterns"));
        return out;
    }
    let mut checksums = plan::fetch_checksums(&job.client, &job.release).await;
    let mut evidence = Evidence::default();
    if ctx.auth.checks_release_files() {
        evidence = authenticate::fetch_evidence(&job.client, &job.release).await;
        authenticate::check_checksum_files(
            &ctx.auth,
            &job.trust,
            &mut evidence,
            checksums.files_mut(),
        );
    }
    let evidence = Arc::new(evidence);
    let files = plan::plan_files(&ctx.layout, ctx.require, &job, &selection, &checksums);
    if !ctx.opts.dry_run
        && let Err(e) = plan::make_room(&ctx.layout, &job, &selection)
    {
        out.failed.push(job.failed(None, &e));
        return out;
    }

    // Fetch, verify and commit the files into the mirror (or, in a dry run, report the plan).
    // All the files of the release go at once: the transfer permits (`download.concurrency`,
    // shared by every release of the run) decide how many actually run, so the pool is filled
    // by assets, not by releases. Results keep the plan's order.
    let mut entries = Vec::new();
    for file in files {
        match file {
            Ok(file) if ctx.opts.dry_run => {
                let evidence = ctx.auth.checks_release_files().then_some(&*evidence);
                out.planned.push(file.planned(&job, evidence));
            }
            entry => entries.push(entry),
        }
    }
    let (job_ref, evidence_ref) = (&job, &evidence);
    let results = futures_util::future::join_all(entries.into_iter().map(|entry| async move {
        let file = entry?;
        mirror_file(ctx, job_ref, evidence_ref, &file)
            .await
            .map_err(|e| (failure_name(&file), e))
    }))
    .await;
    let mut mirrored = Vec::new();
    for result in results {
        match result {
            Ok(file) => {
                if file.how.is_deduplicated() {
                    out.bytes_deduplicated += file.size;
                }
                mirrored.push(file);
            }
            Err((name, e)) => out.failed.push(job.failed(Some(&name), &e)),
        }
    }
    if !out.failed.is_empty() {
        tracing::error!(
            "{} {tag}: not recorded; {} asset(s) failed (stored files stay and are re-verified next run)",
            job.release.repository,
            out.failed.len()
        );
    }
    if ctx.opts.dry_run || !out.failed.is_empty() {
        return out;
    }

    // Upload to the artifact store.
    let uploaded = match ctx.artifacts.as_deref() {
        None => Vec::new(),
        Some(artifacts) => {
            let (uploaded, failed) = upload::upload(artifacts, &ctx.permits, &job, &mirrored).await;
            if !failed.is_empty() {
                for (name, e) in &failed {
                    out.failed.push(job.failed(Some(name), e));
                }
                tracing::error!(
                    "{} {tag}: not recorded; {} upload(s) failed (stored files stay; the upload is retried next run)",
                    job.release.repository,
                    out.failed.len()
                );
                return out;
            }
            uploaded
        }
    };

    // Extract before recording: if the process dies while extracting, the release is not
    // recorded, so the next run re-verifies its files and extracts again.
    if let Some(limits) = ctx.extract_limits {
        out.extractions = extract::extract_all(&job.release, &mirrored, limits).await;
    }

    // Record.
    match record::record(store, &job, mirrored, uploaded, started).await {
        Ok(release) => out.downloaded.push(release),
        Err(e) => out.failed.push(job.failed(None, &e)),
    }
    out
}

/// One file into the mirror: keep a mirrored copy that still verifies, or link an identical
/// mirrored file, or fetch it, verify it (once more from scratch on a mismatch) and commit it.
async fn mirror_file(
    ctx: &Context,
    job: &Job,
    evidence: &Arc<Evidence>,
    file: &PlannedFile,
) -> Result<MirroredFile, DownloadError> {
    // Held until the file is committed, so a file waiting for its twin finds it in the index.
    let twin_lock = file
        .expected()
        .filter(|_| !file.is_archive())
        .and_then(|e| {
            let mut map = ctx.in_flight.lock().ok()?;
            Some(map.entry(e.checksum.hex().to_string()).or_default().clone())
        });
    let _same_digest = match twin_lock {
        Some(lock) => Some(lock.lock_owned().await),
        None => None,
    };
    fetch_verify_commit(ctx, job, evidence, file).await
}

/// The steps for one file, in order; see [`mirror_file`]. Authentication runs on the bytes
/// before they take their final name (a transfer's part file, or the identical mirrored file a
/// duplicate would be linked to); a stored copy from an earlier run is authenticated again.
async fn fetch_verify_commit(
    ctx: &Context,
    job: &Job,
    evidence: &Arc<Evidence>,
    file: &PlannedFile,
) -> Result<MirroredFile, DownloadError> {
    if !file.is_archive()
        && let Some(e) = ctx
            .auth
            .doomed(evidence, &file.name, &file.checksum_files())
    {
        return Err(DownloadError::Refused(e));
    }
    if let Some((kept, digests)) = verify::stored_copy(file).await? {
        // Authenticated again: the configuration may have changed since it was stored.
        return match authenticate(ctx, job, evidence, file, &kept.path, &digests).await {
            Ok(proved) => {
                verify::settle(&kept.path, file.hidden_sidecar, &digests.sha256)?;
                Ok(with_proofs(kept, proved))
            }
            Err(e) => {
                // A refused copy leaves its final path, unless the database records it (a
                // forced download of the held version): then it stays, and the refusal is
                // reported.
                if job.current.as_deref() != Some(job.tag()) {
                    verify::withdraw(&kept.path, file.hidden_sidecar);
                }
                Err(e)
            }
        };
    }
    if let Some((existing, digests)) = commit::duplicate_of(&ctx.dedup, file).await {
        let proved = authenticate(ctx, job, evidence, file, &existing, &digests).await?;
        if let Some(placed) = commit::place_duplicate(file, &existing).await {
            return Ok(with_proofs(placed, proved));
        }
    }
    let request = file.request()?;
    let mut second_try = false;
    loop {
        // A permit is a connection: it is held while bytes flow only, so the next transfer
        // starts while this file is verified, authenticated and committed. A large asset may
        // take several (`download.segments`).
        let make_bar = || match (&ctx.bars, file.size()) {
            (Some(multi), Some(size)) => {
                Some(new_bar(multi, &job.repo, job.tag(), &file.name, size))
            }
            _ => None,
        };
        let fetched = segmented::transfer(
            &job.client,
            &ctx.permits,
            &request,
            ctx.segmenting,
            &make_bar,
        )
        .await?;
        let part = part_path(&file.destination);
        let checked = match verify::check_fetched(file, &fetched) {
            Ok(verified_by) => authenticate(ctx, job, evidence, file, &part, &fetched.digests)
                .await
                .map(|proved| (verified_by, proved)),
            Err(e) => Err(e.into()),
        };
        match checked {
            Ok((verified_by, proved)) => {
                let placed = commit::commit_fetched(&ctx.dedup, file, fetched, verified_by)?;
                return Ok(with_proofs(placed, proved));
            }
            Err(e) => {
                // Never keep bytes that failed verification.
                discard_part(&part);
                // A refused signature over bytes that matched their upstream checksum is not a
                // transfer error: fetching again would not help.
                let transfer_may_be_at_fault = matches!(
                    e,
                    DownloadError::Verify(_) | DownloadError::EvidenceChanged { .. }
                ) || file.expected().is_none();
                if second_try || !transfer_may_be_at_fault {
                    return Err(e);
                }
                tracing::warn!("{e}; downloading it once more from scratch");
                second_try = true;
            }
        }
    }
}

/// What authentication proved for a file, with the checksum sources its bytes matched.
struct Proved {
    /// The checks that held, strongest last.
    verification: Vec<String>,
    /// The strongest.
    verified_by: crate::db::VerifiedBy,
    /// Each signature found and what became of it.
    signatures: Vec<SignatureCheck>,
    /// GitHub's attestations answer, when one of its bundles verified (kept beside the file).
    attestations: Option<bytes::Bytes>,
}

/// Authenticates the bytes at `path` (the file's, hashing to `digests`).
async fn authenticate(
    ctx: &Context,
    job: &Job,
    evidence: &Arc<Evidence>,
    file: &PlannedFile,
    path: &std::path::Path,
    digests: &Digests,
) -> Result<Proved, DownloadError> {
    let matched: Vec<Upstream> = file
        .expected()
        .map(|e| e.matched(digests).cloned().collect())
        .unwrap_or_default();
    // Source archives are made by GitHub on request: nothing signs them.
    if file.is_archive() {
        return Ok(Proved {
            verification: Vec::new(),
            verified_by: crate::db::VerifiedBy::None,
            signatures: Vec::new(),
            attestations: None,
        });
    }
    let found = ctx
        .auth
        .authenticate(
            &job.client,
            &job.trust,
            evidence,
            &file.name,
            path,
            digests,
            &matched,
        )
        .await
        .inspect_err(|e| tracing::error!("{} {}: {e}", job.repo, file.name))?;
    let (verification, verified_by) = found.verification(&matched);
    Ok(Proved {
        verification,
        verified_by,
        signatures: found.checks,
        attestations: found.attestations,
    })
}

/// `placed` with what authentication proved (archives keep what they had); verified
/// attestations are kept beside the file (a failure to keep them is logged: the file itself is
/// proved and placed).
fn with_proofs(mut placed: MirroredFile, proved: Proved) -> MirroredFile {
    if let Some(answer) = &proved.attestations
        && let Err(e) = crate::mirror::keep_attestations(&placed.path, answer)
    {
        tracing::warn!(
            "{}: cannot keep its attestations: {e}",
            placed.path.display()
        );
    }
    if !proved.verification.is_empty() {
        placed.verified_by = proved.verified_by;
        placed.verification = proved.verification;
    }
    placed.signatures = proved.signatures;
    placed
}

/// The name a failed file has in the report: the asset's name, or `source archive`.
fn failure_name(file: &PlannedFile) -> String {
    if file.is_archive() {
        "source archive".to_string()
    } else {
        file.name.clone()
    }
}

/// A progress bar for one asset.
fn new_bar(multi: &MultiProgress, repo: &RepoId, tag: &str, asset: &str, size: u64) -> ProgressBar {
    let bar = multi.add(ProgressBar::new(size));
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:40!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12} {eta:>4}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(format!("{repo} {tag} {asset}"));
    bar
}
