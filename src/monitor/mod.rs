//! The monitor: for each configured repository, list its releases, pick the one the rules
//! allow, compare it with the version database, and report what is new.
//!
//! With a token (and `github.graphql`, the default), the listings come from GraphQL, 50
//! repositories per query; a release that will be reported is then fetched over REST for its
//! asset objects (GraphQL has no `digest`). A repository GraphQL could not answer, or a batch
//! whose query failed, is checked over REST with the ETag state instead.

mod report;
pub mod select;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Semaphore;

pub use report::{PendingRelease, RepoFailure, Report, ReportedRelease};
pub use select::{Rules, Selection, is_new, same_pin, select, version_of};

use crate::config::{Config, ForgeKind, ReleaseSource};
use crate::db::{Database, now};
use crate::github::{
    BATCH_SIZE, EtagCache, Forges, GithubClient, GithubError, Listing, MAX_FIRST, Release,
};
use crate::repo::RepoId;

/// How the monitor runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Report the selected release of every repository, new or not.
    pub force_check: bool,
    /// Write each repository's candidates, drops, winner and comparison to stderr.
    pub explain: bool,
}

/// What happened to one repository.
#[derive(Debug)]
struct Outcome {
    repo: RepoId,
    result: Result<Option<ReportedRelease>, GithubError>,
    explain: Vec<String>,
    /// A new release the cooldown holds back.
    pending: Option<PendingRelease>,
}

/// Checks every repository of `config` (at most `settings.concurrency` at once) and builds the
/// report. A failing repository is listed in `errors`; the others are still checked.
pub async fn run(
    config: &Config,
    forges: Arc<Forges>,
    db: &Database,
    cache: Arc<EtagCache>,
    opts: Options,
) -> Report {
    let permits = Arc::new(Semaphore::new(config.settings.concurrency.max(1) as usize));
    let max = config.settings.max_releases_per_repo as usize;
    let mut jobs = Vec::new();
    for (index, repository) in config.repositories.iter().enumerate() {
        let effective = config.repository_settings(repository);
        let repo = match effective.id() {
            Ok(r) => r,
            Err(e) => {
                // The config loader already checked names; keep going if one slips through.
                tracing::error!("{}/{}: {e}", effective.owner, effective.repo);
                continue;
            }
        };
        jobs.push((index, repo, Rules::for_repository(&effective)));
    }
    let client = forges.default_client().clone();
    let mut prefetched = if client.can_batch() && config.github.graphql {
        // Tag-only repositories, and those on other forges, are listed over REST.
        let repos: Vec<(usize, RepoId)> = jobs
            .iter()
            .filter(|(_, r, rules)| rules.source == ReleaseSource::Releases && r.host().is_none())
            .map(|(i, r, _)| (*i, r.clone()))
            .collect();
        prefetch(&client, repos, max, &permits).await
    } else {
        HashMap::new()
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (index, repo, rules) in jobs {
        let current = db.current_version(&repo).map(str::to_string);
        let listed = prefetched.remove(&index);
        let client = forges.for_repo(&repo).cloned();
        let (cache, permits) = (cache.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = match client {
                Ok(client) => {
                    check(&client, &cache, repo, &rules, current, max, listed, opts).await
                }
                Err(e) => Outcome {
                    repo,
                    explain: vec![format!("  error: {e}")],
                    result: Err(e),
                    pending: None,
                },
            };
            (index, outcome)
        });
    }
    let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(o) => outcomes.push(o),
            Err(e) => tracing::error!("a repository check panicked: {e}"),
        }
    }
    outcomes.sort_by_key(|(i, _)| *i);
    let mut report = Report {
        timestamp: now(),
        total_repositories_checked: outcomes.len(),
        new_releases_found: 0,
        releases: Vec::new(),
        errors: Vec::new(),
        pending: Vec::new(),
    };
    for (index, o) in outcomes {
        if opts.explain {
            eprintln!("{}:", o.repo);
            for line in &o.explain {
                eprintln!("{line}");
            }
            if let Ok(Some(release)) = &o.result {
                for line in explain_signatures(config, release) {
                    eprintln!("{line}");
                }
            }
        }
        report.pending.extend(o.pending);
        match o.result {
            Ok(Some(mut release)) => {
                // The config's free-text description travels with the release (report,
                // notifications), so people see what a repository is for.
                release.description = config
                    .repositories
                    .get(index)
                    .and_then(|r| r.description.clone());
                report.releases.push(release);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!("{}: {e}", o.repo);
                report.errors.push(RepoFailure {
                    repository: o.repo.to_string(),
                    error: e.to_string(),
                });
            }
        }
    }
    report.new_releases_found = report.releases.len();
    report
}

/// A repository's listing obtained through GraphQL, or why it failed for good.
#[derive(Debug)]
enum Prefetched {
    /// Every release the check needs, newest first (GraphQL fields only, no assets).
    Listed(Vec<Release>),
    /// GitHub cannot resolve it (404), or rejected the token: REST would say the same.
    Failed(GithubError),
}

/// Lists the releases of `repos` through GraphQL, [`BATCH_SIZE`] per query, at most
/// `settings.concurrency` queries at once. Repositories absent from the result are checked
/// over REST: those of a batch whose query failed, those GraphQL answered with an error other
/// than "not found", and those with more than 100 releases wanted and more available.
async fn prefetch(
    client: &Arc<GithubClient>,
    repos: Vec<(usize, RepoId)>,
    max: usize,
    permits: &Arc<Semaphore>,
) -> HashMap<usize, Prefetched> {
    let first = max.clamp(1, MAX_FIRST);
    // Once GraphQL is missing (404: an Enterprise server without it), later batches skip it.
    let missing = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for batch in repos.chunks(BATCH_SIZE) {
        let batch = batch.to_vec();
        let (client, permits, missing) = (client.clone(), permits.clone(), missing.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            if missing.load(Ordering::Relaxed) {
                return Vec::new();
            }
            let ids: Vec<RepoId> = batch.iter().map(|(_, r)| r.clone()).collect();
            match client.releases_batch(&ids, first).await {
                Ok(listings) => batch
                    .into_iter()
                    .zip(listings)
                    .filter_map(|((index, repo), listing)| match listing {
                        Listing::Releases { mut releases, more } => {
                            if more && releases.len() < max {
                                tracing::debug!(
                                    "{repo}: more than {first} releases wanted; listing them over REST"
                                );
                                return None;
                            }
                            releases.truncate(max);
                            Some((index, Prefetched::Listed(releases)))
                        }
                        Listing::NotFound => Some((
                            index,
                            Prefetched::Failed(GithubError::RepositoryNotFound {
                                repo: repo.to_string(),
                            }),
                        )),
                        Listing::Failed(message) => {
                            tracing::warn!("{repo}: GraphQL: {message}; checking it over REST");
                            None
                        }
                    })
                    .collect(),
                Err(e @ GithubError::Unauthorized { .. }) => batch
                    .into_iter()
                    .map(|(index, _)| (index, Prefetched::Failed(e.clone())))
                    .collect(),
                Err(e) => {
                    if matches!(e, GithubError::NotFound { .. }) {
                        missing.store(true, Ordering::Relaxed);
                    }
                    tracing::warn!(
                        "the GraphQL query for {} repositories failed: {e}; checking them over REST",
                        batch.len()
                    );
                    Vec::new()
                }
            }
        });
    }
    let mut out = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(listed) => out.extend(listed),
            Err(e) => tracing::error!("a GraphQL batch panicked: {e}"),
        }
    }
    out
}

/// The release for a pinned `target`, trying the spelling given, then with or without a `v`.
async fn fetch_pinned(
    client: &GithubClient,
    repo: &RepoId,
    target: &str,
) -> Result<Option<crate::github::Release>, GithubError> {
    let target = target.trim();
    let mut spellings = vec![target.to_string()];
    match target.strip_prefix(['v', 'V']) {
        Some(bare) => spellings.push(bare.to_string()),
        None => spellings.push(format!("v{target}")),
    }
    for tag in spellings {
        if let Some(r) = client
            .release_by_tag(repo, &tag)
            .await
            .map_err(|e| e.for_repository(repo))?
            && !r.draft
        {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// The REST release for a winner found through GraphQL: the report needs REST's asset objects
/// (with `digest`), exactly as REST returns them.
async fn full_release(
    client: &GithubClient,
    cache: &EtagCache,
    repo: &RepoId,
    listed: &Release,
) -> Result<Release, GithubError> {
    let found = match listed.extra.get("id").and_then(serde_json::Value::as_u64) {
        Some(id) => client.release_by_id(repo, id, Some(cache)).await,
        None => client.release_by_tag(repo, &listed.tag_name).await,
    }
    .map_err(|e| e.for_repository(repo))?;
    match found {
        Some(r) if r.tag_name == listed.tag_name => Ok(r),
        _ => Err(GithubError::Vanished {
            tag: listed.tag_name.clone(),
        }),
    }
}

/// The `--explain` lines about a new release's signatures, with `verification.signature`: each
/// signature asset found, what it signs, and whether it will be checked or skipped (no key of
/// its kind configured). Read from asset names only: nothing is fetched while monitoring.
fn explain_signatures(config: &Config, release: &ReportedRelease) -> Vec<String> {
    use crate::trust::detect::{Format, signature_assets};
    let v = &config.download.verification;
    if !v.signature {
        return Vec::new();
    }
    let signing = release
        .repository
        .parse::<RepoId>()
        .ok()
        .and_then(|id| config.find_repository(&id))
        .map(|r| config.repository_settings(r).signing)
        .unwrap_or_default();
    let (minisign, pgp, cosign) = (
        signing.minisign.as_ref().map_or(0, Vec::len),
        signing.pgp.as_ref().map_or(0, Vec::len),
        signing.cosign.as_ref().map_or(0, Vec::len),
    );
    let keys = |kind: &str, n: usize| {
        if n == 0 {
            format!("skipped: no {kind} key is configured")
        } else {
            format!("checked with the {n} configured {kind} key(s)")
        }
    };
    let names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    let found = signature_assets(&names);
    let mut lines = vec![format!(
        "  signatures: {} found (verification.require: {})",
        found.len(),
        serde_json::to_value(v.require)
            .map(|j| j.to_string().trim_matches('"').to_string())
            .unwrap_or_default()
    )];
    for sig in found {
        let target = sig.target.as_deref().unwrap_or("every asset it lists");
        let what = match sig.format {
            Format::Minisign => keys("minisign", minisign),
            Format::OpenPgp => keys("pgp", pgp),
            Format::Sig => format!(
                "OpenPGP or cosign (told by its content): {}; {}",
                keys("pgp", pgp),
                keys("cosign", cosign)
            ),
            Format::Bundle | Format::Provenance => format!(
                "checked against the Sigstore roots; signer: GitHub Actions of {}{}",
                signing
                    .repository
                    .clone()
                    .unwrap_or_else(|| release.repository.clone()),
                signing
                    .workflow
                    .as_ref()
                    .map(|w| format!(", workflow {w}"))
                    .unwrap_or_default()
            ),
            Format::Certificate => "a certificate (marks a keyless cosign signature)".into(),
        };
        lines.push(format!(
            "    {} ({}) for {target}: {what}",
            sig.name,
            sig.format.as_str()
        ));
    }
    if v.attestations {
        lines.push(
            "    attestations: GitHub is asked for each downloaded asset's digest".to_string(),
        );
    }
    lines
}

#[allow(clippy::too_many_arguments)]
async fn check(
    client: &GithubClient,
    cache: &EtagCache,
    repo: RepoId,
    rules: &Rules,
    current: Option<String>,
    max: usize,
    listed: Option<Prefetched>,
    opts: Options,
) -> Outcome {
    let (releases, mut via_graphql) = match listed {
        Some(Prefetched::Listed(r)) => (r, true),
        Some(Prefetched::Failed(e)) => {
            return Outcome {
                repo,
                explain: vec![format!("  error: {e}")],
                result: Err(e),
                pending: None,
            };
        }
        None => match match rules.source {
            ReleaseSource::Releases => client.list_releases(&repo, max, Some(cache)).await,
            ReleaseSource::Tags => client.list_tags(&repo, max, Some(cache)).await,
        } {
            Ok(r) => (r, false),
            Err(e) => {
                return Outcome {
                    repo,
                    explain: vec![format!("  error: {e}")],
                    result: Err(e),
                    pending: None,
                };
            }
        },
    };
    let mut selection = select(&releases, rules);
    selection.explain.insert(
        0,
        format!(
            "  {} {} listed over {}",
            releases.len(),
            match rules.source {
                ReleaseSource::Releases => "releases",
                ReleaseSource::Tags => "tags",
            },
            if via_graphql { "GraphQL" } else { "REST" }
        ),
    );
    if let (None, Some(target), ReleaseSource::Releases) =
        (&selection.winner, &rules.target_version, rules.source)
    {
        // The pin may be older than the releases listed: ask for it by tag.
        match fetch_pinned(client, &repo, target).await {
            Ok(Some(release)) => {
                selection.explain.push(format!(
                    "  {target} is not among the {} listed releases; fetched it by tag",
                    releases.len()
                ));
                let pinned = select(std::slice::from_ref(&release), rules);
                selection.explain.extend(pinned.explain);
                selection.winner = pinned.winner;
                // Fetched over REST: it has its assets already.
                via_graphql = false;
            }
            Ok(None) => selection
                .explain
                .push(format!("  target_version {target}: no such release")),
            Err(e) => {
                return Outcome {
                    repo,
                    explain: vec![format!("  error: {e}")],
                    result: Err(e),
                    pending: None,
                };
            }
        }
    }
    for w in &selection.warnings {
        tracing::warn!("{repo}: {w}");
    }
    // A held-back release is reported when it is new compared with what the database holds.
    let pending = selection.pending.take().and_then(|(release, version, at)| {
        let (new, why) = is_new(
            &release.tag_name,
            &version,
            current.as_deref(),
            rules,
            &releases,
        );
        selection
            .explain
            .push(format!("  pending {}: {why}", release.tag_name));
        new.then(|| PendingRelease {
            repository: repo.to_string(),
            tag_name: release.tag_name.clone(),
            published_at: release.published_at.clone(),
            eligible_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            current_version: current.clone(),
        })
    });
    let result = match &selection.winner {
        None => Ok(None),
        Some((release, version)) => {
            let (new, why) = is_new(
                &release.tag_name,
                version,
                current.as_deref(),
                rules,
                &releases,
            );
            selection.explain.push(format!("  {why}"));
            if !(new || opts.force_check) {
                Ok(None)
            } else if via_graphql {
                match full_release(client, cache, &repo, release).await {
                    Ok(full) => {
                        selection.explain.push(format!(
                            "  fetched {} over REST for its assets",
                            full.tag_name
                        ));
                        Ok(Some(ReportedRelease::new(&repo, &full, current.clone())))
                    }
                    Err(e) => {
                        selection.explain.push(format!("  error: {e}"));
                        Err(e)
                    }
                }
            } else if release.assets.iter().any(|a| a.size == 0)
                && client.kind() == ForgeKind::Gitlab
            {
                // GitLab's links state no size; the download needs one.
                let mut sized = release.clone();
                client.fill_sizes(&mut sized).await;
                Ok(Some(ReportedRelease::new(&repo, &sized, current.clone())))
            } else {
                Ok(Some(ReportedRelease::new(&repo, release, current.clone())))
            }
        }
    };
    Outcome {
        repo,
        result,
        explain: selection.explain,
        pending,
    }
}
