//! The monitor: for each configured repository, list its releases, pick the one the rules
//! allow, compare it with the version database, and report what is new.

mod report;
pub mod select;

use std::sync::Arc;

use tokio::sync::Semaphore;

pub use report::{RepoFailure, Report, ReportedRelease};
pub use select::{Rules, Selection, is_new, same_pin, select, version_of};

use crate::config::Config;
use crate::db::{Database, now};
use crate::github::{EtagCache, GithubClient, GithubError};
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
}

/// Checks every repository of `config` (at most `settings.concurrency` at once) and builds the
/// report. A failing repository is listed in `errors`; the others are still checked.
pub async fn run(
    config: &Config,
    client: Arc<GithubClient>,
    db: &Database,
    cache: Arc<EtagCache>,
    opts: Options,
) -> Report {
    let permits = Arc::new(Semaphore::new(config.settings.concurrency.max(1) as usize));
    let max = config.settings.max_releases_per_repo as usize;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, repository) in config.repositories.iter().enumerate() {
        let effective = config.repository_settings(repository);
        let repo = match RepoId::new(&effective.owner, &effective.repo) {
            Ok(r) => r,
            Err(e) => {
                // The config loader already checked names; keep going if one slips through.
                tracing::error!("{}/{}: {e}", effective.owner, effective.repo);
                continue;
            }
        };
        let rules = Rules::for_repository(&effective);
        let current = db.current_version(&repo).map(str::to_string);
        let (client, cache, permits) = (client.clone(), cache.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = check(&client, &cache, repo, &rules, current, max, opts).await;
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
    };
    for (_, o) in outcomes {
        if opts.explain {
            eprintln!("{}:", o.repo);
            for line in &o.explain {
                eprintln!("{line}");
            }
        }
        match o.result {
            Ok(Some(release)) => report.releases.push(release),
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

async fn check(
    client: &GithubClient,
    cache: &EtagCache,
    repo: RepoId,
    rules: &Rules,
    current: Option<String>,
    max: usize,
    opts: Options,
) -> Outcome {
    let releases = match client.list_releases(&repo, max, Some(cache)).await {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                repo,
                explain: vec![format!("  error: {e}")],
                result: Err(e),
            };
        }
    };
    let mut selection = select(&releases, rules);
    if let (None, Some(target)) = (&selection.winner, &rules.target_version) {
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
            }
            Ok(None) => selection
                .explain
                .push(format!("  target_version {target}: no such release")),
            Err(e) => {
                return Outcome {
                    repo,
                    explain: vec![format!("  error: {e}")],
                    result: Err(e),
                };
            }
        }
    }
    for w in &selection.warnings {
        tracing::warn!("{repo}: {w}");
    }
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
            (new || opts.force_check)
                .then(|| ReportedRelease::new(&repo, release, current.clone()))
                .map_or(Ok(None), |r| Ok(Some(r)))
        }
    };
    Outcome {
        repo,
        result,
        explain: selection.explain,
    }
}
