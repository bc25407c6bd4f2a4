//! `release-monitor monitor`: check every repository and report new releases.

use std::io::{self, Write};
use std::sync::Arc;

use super::{CommandError, GlobalArgs, MonitorArgs, ReportFormat, load_config, stdout_error};
use crate::exit;
use crate::github::{CallStats, EtagCache, RateBudget};
use crate::monitor::{self, Options};
use crate::notify::Summary;

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
        eprintln!(
            "{}",
            explain_calls(&stats, client.budget(), client.graphql_budget())
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

/// The `--explain` line about API calls: how many, over which API, what they cost, and the
/// budget left (REST's from the `X-RateLimit-*` headers, GraphQL's from `rateLimit`).
fn explain_calls(
    stats: &CallStats,
    rest: Option<RateBudget>,
    graphql: Option<RateBudget>,
) -> String {
    let left = |b: Option<RateBudget>| {
        b.and_then(|b| b.remaining)
            .map_or_else(|| "unknown".to_string(), |r| r.to_string())
    };
    let mut budget = format!("REST {}", left(rest));
    if stats.graphql_queries > 0 {
        budget.push_str(&format!(", GraphQL {}", left(graphql)));
    }
    format!(
        "API calls: {} requests ({} GraphQL queries costing {} points, {} REST), {} answered 304 \
         (free), {} counted against the rate limit, {} retries; remaining budget: {budget}",
        stats.requests,
        stats.graphql_queries,
        stats.graphql_cost,
        stats.requests - stats.graphql_queries,
        stats.not_modified,
        stats.rate_limited,
        stats.retries
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explain_line_splits_graphql_from_rest() {
        let stats = CallStats {
            requests: 23,
            not_modified: 2,
            rate_limited: 21,
            retries: 1,
            graphql_queries: 20,
            graphql_cost: 20,
        };
        let budget = |n| {
            Some(RateBudget {
                limit: Some(5000),
                remaining: Some(n),
                reset: None,
            })
        };
        assert_eq!(
            explain_calls(&stats, budget(4997), budget(4980)),
            "API calls: 23 requests (20 GraphQL queries costing 20 points, 3 REST), 2 answered \
             304 (free), 21 counted against the rate limit, 1 retries; remaining budget: REST \
             4997, GraphQL 4980"
        );
        let rest_only = CallStats {
            graphql_queries: 0,
            graphql_cost: 0,
            ..stats
        };
        assert!(explain_calls(&rest_only, None, None).ends_with("remaining budget: REST unknown"));
    }
}
