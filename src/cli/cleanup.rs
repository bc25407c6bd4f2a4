//! `release-monitor cleanup`: retention on demand, and after downloads when
//! `download.cleanup_old_versions` is on.

use std::io::{self, Write};

use super::{CleanupArgs, CommandError, GlobalArgs, load_config, stdout_error};
use crate::config::Config;
use crate::db::VersionDb;
use crate::exit;
use crate::repo::RepoId;
use crate::retention::{self, RetentionFailure, RetentionReport};
use crate::storage::{ArtifactStore, release_prefix};

/// Plans retention on the database as it is now and, unless `dry_run`, carries it out.
///
/// With `artifacts` (S3 storage), each release's objects are deleted before its local folder.
pub(super) fn run_retention(
    config: &Config,
    store: &dyn VersionDb,
    dry_run: bool,
    artifacts: Option<(&dyn ArtifactStore, &tokio::runtime::Runtime)>,
) -> RetentionReport {
    let db = match store.load() {
        Ok(db) => db,
        Err(e) => {
            return RetentionReport {
                keep_versions: config.download.keep_versions,
                failed: vec![RetentionFailure {
                    repository: String::new(),
                    tag_name: None,
                    error: format!("cannot read the version database: {e}"),
                }],
                ..RetentionReport::default()
            };
        }
    };
    let plan = retention::plan(config, &db);
    if dry_run {
        return plan;
    }
    match artifacts {
        None => retention::apply(config, store, plan, None),
        Some((artifacts, runtime)) => {
            let mut remote = |repo: &RepoId, tag: &str| -> Result<Vec<String>, String> {
                let prefix = release_prefix(repo, tag).map_err(|e| e.to_string())?;
                runtime.block_on(async {
                    let keys = artifacts.list(&prefix).await.map_err(|e| e.to_string())?;
                    artifacts
                        .delete_prefix(&prefix)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(keys.iter().map(|k| artifacts.url_of(k)).collect())
                })
            };
            retention::apply(config, store, plan, Some(&mut remote))
        }
    }
}

/// Runs `cleanup`.
pub(super) fn run(global: &GlobalArgs, args: CleanupArgs) -> Result<u8, CommandError> {
    let mut config = load_config(global)?.config;
    if let Some(keep) = args.keep {
        config.download.keep_versions = keep;
    }
    let (store, artifacts) = super::download::open_stores(&config)?;
    // A damaged database stops here (exit 2), before anything is deleted.
    store.load()?;
    let runtime = super::runtime()?;
    let remote = artifacts.as_deref().map(|a| (a, &runtime));
    let report = run_retention(&config, &*store, args.dry_run, remote);
    let text = serde_json::to_string_pretty(&report).map_err(|e| CommandError::Io {
        context: "serialising the result",
        source: io::Error::other(e),
    })?;
    writeln!(io::stdout().lock(), "{text}").map_err(stdout_error)?;
    Ok(if report.failed.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL_FAILURE
    })
}
