//! The pipeline: the stages wired together in their fixed order, once, for every front end.
//!
//! A run opens its [`Stores`] (the version database and, with `download.s3_storage`, the
//! artifact store), loads the database once (a damaged file stops the run before any request),
//! builds the one GitHub client, and then goes through the stages in the order the data flows:
//!
//! ```text
//! monitor ──report──▶ download ──▶ retention ──▶ notify ──▶ Outcome (result JSON, exit status)
//! ```
//!
//! Downloads are recorded before retention looks at the database, and notifications are sent
//! last, so a failed notification can never undo or hide a download. The command line
//! (`monitor`, `download`, `cleanup`), the Concourse resource (`in`) and a long-running service
//! all drive the same [`Pipeline`]; they differ only in how they read their input and present
//! the [`Outcome`].

mod outcome;
mod stores;

use std::sync::Arc;

pub use outcome::{Origin, Outcome};
pub use stores::Stores;

use crate::config::{Config, Env, GithubApp};
use crate::db::{Database, DbError};
use crate::download::{self, DownloadReport};
use crate::github::{AppAuth, ClientOptions, EtagCache, Forges, GithubClient, GithubError, Token};
use crate::monitor::{self, Report};
use crate::notify::{NotificationResult, Summary};
use crate::repo::RepoId;
use crate::retention::{self, RetentionFailure, RetentionReport};
use crate::storage::{StorageError, release_prefix};

/// Why a run could not start. Each kind keeps the error of the stage that raised it, so every
/// front end maps it to the same exit status and message.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The version database is damaged, or could not be read.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The GitHub client cannot be built (a bad CA file, a plain-http API URL).
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The artifact store's settings cannot work (bad endpoint, bucket or prefix).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What the stages after the monitor do with a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Steps {
    /// Download the report's releases (then apply retention, when configured).
    pub download: bool,
    /// Plan only: write no file, no database record, send no notification.
    pub dry_run: bool,
    /// Download even when the database already holds the version.
    pub force: bool,
}

/// One run's wiring: the configuration, the one GitHub client (one connection pool, one retry
/// policy), the stores, and the database as it was when the run started.
pub struct Pipeline {
    config: Arc<Config>,
    forges: Arc<Forges>,
    stores: Stores,
    db: Database,
}

impl Pipeline {
    /// Opens everything a run needs: the stores (from the config), the database (loaded once),
    /// and the client (with the token from `GITHUB_TOKEN` or `GH_TOKEN`).
    pub fn open(config: Config) -> Result<Pipeline, PipelineError> {
        let mut token = Token::from_env(&Env::from_process());
        let app = match &config.github.app {
            Some(GithubApp {
                id: Some(id),
                private_key: Some(key),
                installation_id,
                ..
            }) => Some(
                AppAuth::new(*id, key.expose(), *installation_id)
                    .map_err(|e| GithubError::Setup { message: e.0 })?,
            ),
            _ => None,
        };
        if app.is_some() && token.take().is_some() {
            tracing::warn!(
                "github.app is configured: its installation tokens are used, not GITHUB_TOKEN"
            );
        }
        if token.is_none() && app.is_none() {
            tracing::info!(
                "no GITHUB_TOKEN or GH_TOKEN: unauthenticated requests are limited to 60 per hour"
            );
        }
        let stores = Stores::open(&config)?;
        let db = stores.db.load()?;
        let mut client = GithubClient::new(ClientOptions::from_config(&config), token)?;
        if let Some(app) = app {
            client = client.with_app(app);
        }
        let forges = Forges::from_config(&config, Arc::new(client), &Env::from_process())?;
        Ok(Pipeline {
            config: Arc::new(config),
            forges: Arc::new(forges),
            stores,
            db,
        })
    }

    /// A pipeline over parts the caller already has: the Concourse resource brings its own
    /// client(s) and an in-memory database.
    pub fn from_parts(
        config: Arc<Config>,
        forges: Arc<Forges>,
        stores: Stores,
        db: Database,
    ) -> Pipeline {
        Pipeline {
            config,
            forges,
            stores,
            db,
        }
    }

    /// The configuration this run follows.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The run's default GitHub client (its call counts and budgets feed `--explain`).
    pub fn client(&self) -> &Arc<GithubClient> {
        self.forges.default_client()
    }

    /// Every forge client of the run.
    pub fn forges(&self) -> &Arc<Forges> {
        &self.forges
    }

    /// Stage 1: checks every configured repository against the database.
    pub async fn monitor(&self, cache: Arc<EtagCache>, opts: monitor::Options) -> Report {
        monitor::run(&self.config, self.forges.clone(), &self.db, cache, opts).await
    }

    /// Stage 2: downloads, verifies, stores, uploads and records the releases of `report`, and
    /// logs a one-line summary.
    pub async fn download(&self, report: &Report, opts: download::Options) -> DownloadReport {
        let result = download::run(
            &self.config,
            self.forges.clone(),
            self.stores.db.clone(),
            self.stores.artifacts.clone(),
            &self.db,
            report,
            opts,
        )
        .await;
        let files: usize = result.downloaded.iter().map(|r| r.files.len()).sum();
        tracing::info!(
            "{}{} releases downloaded ({files} files), {} skipped, {} failed",
            if opts.dry_run { "dry run: " } else { "" },
            result.downloaded.len(),
            result.skipped.len(),
            result.failed.len()
        );
        if !opts.dry_run && files > 0 {
            tracing::info!("verification: {}", result.verification_summary());
        }
        result
    }

    /// Stage 3, after downloads: retention when `download.cleanup_old_versions` is on.
    pub async fn retention(&self, dry_run: bool) -> Option<RetentionReport> {
        if !self.config.download.cleanup_old_versions {
            return None;
        }
        Some(cleanup(self.config.clone(), &self.stores, dry_run).await)
    }

    /// Stage 4: sends the run's notifications (after the database is written) and logs each
    /// outcome. Nothing is sent when the summary is empty or no target is configured.
    pub async fn notify(&self, summary: &Summary) -> Vec<NotificationResult> {
        if summary.is_empty() || !self.config.notify.any_target() {
            return Vec::new();
        }
        let results = crate::notify::send_all(&self.config, self.client().http(), summary).await;
        for r in &results {
            match &r.error {
                None => tracing::info!("notification sent: {}", r.target),
                Some(e) => tracing::error!("notification {} failed: {e}", r.target),
            }
        }
        results
    }

    /// Stages 2 to 4 in their fixed order on a report: download (when `steps.download`), then
    /// retention (only after downloads), then notifications (never on a dry run).
    ///
    /// `origin` says where the report came from: this run's monitor (the result is the report
    /// with `download_results`, and its errors count) or an input file (the result is the
    /// download result).
    pub async fn process(&self, origin: Origin, report: Report, steps: Steps) -> Outcome {
        let downloads = if steps.download {
            let opts = download::Options {
                dry_run: steps.dry_run,
                force: steps.force,
                flat: false,
            };
            Some(self.download(&report, opts).await)
        } else {
            None
        };
        let retention = match downloads {
            Some(_) => self.retention(steps.dry_run).await,
            None => None,
        };
        // Downloads and retention are recorded by now; a failed notification cannot undo them.
        let notifications = if steps.dry_run {
            Vec::new()
        } else {
            let found = origin == Origin::Monitor;
            let summary =
                Summary::from_run(&self.config.notify.on, &report, found, downloads.as_ref());
            self.notify(&summary).await
        };
        Outcome {
            origin,
            report,
            downloads,
            retention,
            notifications,
        }
    }
}

/// Plans retention on the database as it is now and, unless `dry_run`, carries it out; with
/// an artifact store, each release's objects are deleted before its local folder.
///
/// `cleanup` runs this on its own; [`Pipeline::retention`] runs it after downloads. It reloads
/// the database, since the downloads of this run have changed it.
pub async fn cleanup(config: Arc<Config>, stores: &Stores, dry_run: bool) -> RetentionReport {
    let db = stores.db.clone();
    let artifacts = stores.artifacts.clone();
    let keep_versions = config.download.keep_versions;
    let handle = tokio::runtime::Handle::current();
    let job = tokio::task::spawn_blocking(move || {
        let loaded = match db.load() {
            Ok(loaded) => loaded,
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
        let plan = retention::plan(&config, &loaded);
        if dry_run {
            return plan;
        }
        match artifacts {
            None => retention::apply(&config, &*db, plan, None),
            Some(artifacts) => {
                let mut remote = |repo: &RepoId, tag: &str| -> Result<Vec<String>, String> {
                    let prefix = release_prefix(repo, tag).map_err(|e| e.to_string())?;
                    handle.block_on(async {
                        let keys = artifacts.list(&prefix).await.map_err(|e| e.to_string())?;
                        artifacts
                            .delete_prefix(&prefix)
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(keys.iter().map(|k| artifacts.url_of(k)).collect())
                    })
                };
                retention::apply(&config, &*db, plan, Some(&mut remote))
            }
        }
    });
    match job.await {
        Ok(report) => report,
        Err(e) => RetentionReport {
            keep_versions,
            failed: vec![RetentionFailure {
                repository: String::new(),
                tag_name: None,
                error: format!("retention stopped: {e}"),
            }],
            ..RetentionReport::default()
        },
    }
}
