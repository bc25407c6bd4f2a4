//! `release-monitor download`: download the releases of a monitor report.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use super::{CommandError, DownloadArgs, GlobalArgs, load_config, stdout_error};
use crate::config::{Config, Env};
use crate::db::{Database, VersionDb};
use crate::download::{self, DownloadReport, Options};
use crate::exit;
use crate::github::{ClientOptions, GithubClient, Token};
use crate::monitor::Report;
use crate::notify::{NotificationResult, Summary};
use crate::storage::{ArtifactStore, S3ArtifactStore, S3Connection};

/// The one client, the database (loaded once) and a runtime, shared by `monitor`, `download` and
/// `monitor --download` (one client, so one connection pool and one retry policy per run).
pub(super) struct Stage {
    pub client: Arc<GithubClient>,
    pub store: Arc<dyn VersionDb>,
    pub db: Database,
    pub runtime: tokio::runtime::Runtime,
    /// Where verified artifacts are copied (`download.s3_storage`), if anywhere.
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
}

impl Stage {
    /// Sets everything up; a damaged database stops here (exit 2), before any request.
    pub(super) fn new(config: &Config) -> Result<Stage, CommandError> {
        let token = Token::from_env(&Env::from_process());
        if token.is_none() {
            tracing::info!(
                "no GITHUB_TOKEN or GH_TOKEN: unauthenticated requests are limited to 60 per hour"
            );
        }
        let (store, artifacts) = open_stores(config)?;
        let db = store.load()?;
        let client = Arc::new(GithubClient::new(
            ClientOptions::from_config(config),
            token,
        )?);
        let runtime = super::runtime()?;
        Ok(Stage {
            client,
            store,
            db,
            runtime,
            artifacts,
        })
    }

    /// With `download.cleanup_old_versions`: retention after the downloads (only planned with
    /// `dry_run`).
    pub(super) fn retention(
        &self,
        config: &Config,
        dry_run: bool,
    ) -> Option<crate::retention::RetentionReport> {
        config.download.cleanup_old_versions.then(|| {
            let remote = self.artifacts.as_deref().map(|a| (a, &self.runtime));
            super::cleanup::run_retention(config, &*self.store, dry_run, remote)
        })
    }

    /// Runs the downloader on `report` and logs a one-line summary.
    pub(super) fn download(
        &self,
        config: &Config,
        report: &Report,
        opts: Options,
    ) -> DownloadReport {
        let result = self.runtime.block_on(download::run_with_uploads(
            config,
            self.client.clone(),
            self.store.clone(),
            self.artifacts.clone(),
            &self.db,
            report,
            opts,
        ));
        let files: usize = result.downloaded.iter().map(|r| r.files.len()).sum();
        tracing::info!(
            "{}{} releases downloaded ({files} files), {} skipped, {} failed",
            if opts.dry_run { "dry run: " } else { "" },
            result.downloaded.len(),
            result.skipped.len(),
            result.failed.len()
        );
        result
    }
}

impl Stage {
    /// Sends the run's notifications (after the database is written) and logs each outcome.
    /// Nothing is sent when the summary is empty or no target is configured.
    pub(super) fn notify(&self, config: &Config, summary: &Summary) -> Vec<NotificationResult> {
        if summary.is_empty() || !config.notify.any_target() {
            return Vec::new();
        }
        let results =
            self.runtime
                .block_on(crate::notify::send_all(config, self.client.http(), summary));
        for r in &results {
            match &r.error {
                None => tracing::info!("notification sent: {}", r.target),
                Some(e) => tracing::error!("notification {} failed: {e}", r.target),
            }
        }
        results
    }
}

/// The version database and the artifact bucket, if any.
pub(super) type Stores = (Arc<dyn VersionDb>, Option<Arc<dyn ArtifactStore>>);

/// The version database (a file or `s3://`) and, with `download.s3_storage`, the bucket the
/// artifacts are copied to: what every command that writes the mirror opens.
pub(super) fn open_stores(config: &Config) -> Result<Stores, CommandError> {
    let env = Env::from_process();
    let s3 = &config.download.s3_storage;
    let store = crate::db::open(&config.download.version_db, || {
        S3Connection::from_settings(Some(s3), &env)
    })?;
    let artifacts =
        S3ArtifactStore::from_config(s3, &env)?.map(|a| Arc::new(a) as Arc<dyn ArtifactStore>);
    Ok((store, artifacts))
}

/// Adds `notifications` to a JSON result object when any was attempted.
pub(super) fn add_notifications(
    value: &mut serde_json::Value,
    results: &[NotificationResult],
) -> Result<(), CommandError> {
    if results.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_value(results).map_err(|e| CommandError::Io {
        context: "serialising the result",
        source: io::Error::other(e),
    })?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("notifications".to_string(), list);
    }
    Ok(())
}

fn read_input(input: Option<&Path>) -> Result<Report, CommandError> {
    let mut text = String::new();
    match input {
        None => io::stdin().read_to_string(&mut text),
        Some(p) if p.as_os_str() == "-" => io::stdin().read_to_string(&mut text),
        Some(p) => std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut text)),
    }
    .map_err(|source| CommandError::Io {
        context: "reading the monitor report",
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| CommandError::Usage(format!("the input is not a monitor report: {e}")))
}

/// Runs `download`.
pub(super) fn run(global: &GlobalArgs, args: DownloadArgs) -> Result<u8, CommandError> {
    let config = load_config(global)?.config;
    let report = read_input(args.input.as_deref())?;
    let stage = Stage::new(&config)?;
    let result = stage.download(
        &config,
        &report,
        Options {
            dry_run: args.dry_run,
            force: args.force,
            flat: false,
        },
    );
    let retention = stage.retention(&config, args.dry_run);
    // Downloads are recorded by now; a failed notification cannot undo them.
    let notifications = if args.dry_run {
        Vec::new()
    } else {
        let summary = Summary::from_run(&config.notify.on, &report, false, Some(&result));
        stage.notify(&config, &summary)
    };
    let mut value = with_retention(&result, retention.as_ref())?;
    add_notifications(&mut value, &notifications)?;
    let text = serde_json::to_string_pretty(&value).map_err(|e| CommandError::Io {
        context: "serialising the result",
        source: io::Error::other(e),
    })?;
    writeln!(io::stdout().lock(), "{text}").map_err(stdout_error)?;
    let retention_failed = retention.is_some_and(|r| !r.failed.is_empty());
    let notify_failed = notifications.iter().any(|n| !n.ok);
    Ok(
        if !result.has_failures() && !retention_failed && !notify_failed {
            exit::OK
        } else {
            exit::PARTIAL_FAILURE
        },
    )
}

/// The download result as JSON, with the retention result (if any) under `retention`.
pub(super) fn with_retention(
    result: &DownloadReport,
    retention: Option<&crate::retention::RetentionReport>,
) -> Result<serde_json::Value, CommandError> {
    let serialise = |e: serde_json::Error| CommandError::Io {
        context: "serialising the result",
        source: io::Error::other(e),
    };
    let mut value = serde_json::to_value(result).map_err(serialise)?;
    if let (Some(r), Some(obj)) = (retention, value.as_object_mut()) {
        obj.insert(
            "retention".to_string(),
            serde_json::to_value(r).map_err(serialise)?,
        );
    }
    Ok(value)
}
