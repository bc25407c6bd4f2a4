//! `release-monitor monitor`: check every repository and report new releases.

use std::io::{self, Write};
use std::sync::Arc;

use super::{CommandError, GlobalArgs, MonitorArgs, ReportFormat, load_config, stdout_error};
use crate::exit;
use crate::github::EtagCache;
use crate::monitor::{self, Options};
use crate::post::notify::Summary;

/// Runs the monitor and writes the report.
pub(super) fn run(global: &GlobalArgs, args: MonitorArgs) -> Result<u8, CommandError> {
    let loaded = load_config(global)?;
    let config = loaded.config;
    let stage = super::download::Stage::new(&config)?;
    let client = stage.client.clone();
    let cache = Arc::new(EtagCache::load(&args.state_file));
    let opts = Options {
        force_check: args.force_check,
        explain: args.explain,
    };
    let report = stage.runtime.block_on(monitor::run(
        &config,
        client.clone(),
        &stage.db,
        cache.clone(),
        opts,
    ));
    if let Err(e) = cache.save() {
        tracing::warn!(
            "cannot write the state file {}: {e} (the next run will not use conditional requests)",
            args.state_file.display()
        );
    }
    let stats = client.stats();
    if args.explain {
        let budget = client
            .budget()
            .and_then(|b| b.remaining)
            .map_or_else(|| "unknown".to_string(), |r| r.to_string());
        eprintln!(
            "API calls: {} requests, {} answered 304 (free), {} counted against the rate limit, {} retries; remaining budget {budget}",
            stats.requests, stats.not_modified, stats.rate_limited, stats.retries
        );
    }
    let downloads = args.download.then(|| {
        stage.download(
            &config,
            &report,
            crate::download::Options {
                dry_run: args.dry_run,
                force: false,
                flat: false,
            },
        )
    });
    let retention = downloads
        .as_ref()
        .and_then(|_| stage.retention(&config, args.dry_run));
    // After the database is written (downloads and retention); `--dry-run` sends nothing.
    let notifications = if args.dry_run {
        Vec::new()
    } else {
        let summary = Summary::from_run(&config.notify.on, &report, true, downloads.as_ref());
        stage.notify(&config, &summary)
    };
    let mut value = serde_json::to_value(&report).map_err(|e| CommandError::Io {
        context: "serialising the report",
        source: io::Error::other(e),
    })?;
    if let (Some(d), Some(obj)) = (&downloads, value.as_object_mut()) {
        let results = super::download::with_retention(d, retention.as_ref())?;
        obj.insert("download_results".to_string(), results);
    }
    super::download::add_notifications(&mut value, &notifications)?;
    let text = match args.format {
        ReportFormat::Json => {
            serde_json::to_string_pretty(&value).map_err(|e| CommandError::Io {
                context: "serialising the report",
                source: io::Error::other(e),
            })?
        }
        ReportFormat::Yaml => serde_saphyr::to_string(&value).map_err(|e| CommandError::Io {
            context: "serialising the report",
            source: io::Error::other(e.to_string()),
        })?,
    };
    let mut bytes = text.into_bytes();
    if !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    match &args.output {
        Some(path) => crate::fsutil::write_atomic(path, &bytes, "report")
            .map_err(|(context, source)| CommandError::Io { context, source })?,
        None => io::stdout()
            .lock()
            .write_all(&bytes)
            .map_err(stdout_error)?,
    }
    tracing::info!(
        "{} repositories checked, {} new releases, {} failed",
        report.total_repositories_checked,
        report.new_releases_found,
        report.errors.len()
    );
    let download_failed = downloads
        .as_ref()
        .is_some_and(crate::download::DownloadReport::has_failures)
        || retention.is_some_and(|r| !r.failed.is_empty());
    let notify_failed = notifications.iter().any(|n| !n.ok);
    Ok(
        if report.errors.is_empty() && !download_failed && !notify_failed {
            exit::OK
        } else {
            exit::PARTIAL_FAILURE
        },
    )
}
