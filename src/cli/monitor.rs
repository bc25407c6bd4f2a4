//! `release-monitor monitor`: check every repository and report new releases (and, with
//! `--download`, carry the report through the rest of the [`pipeline`](crate::pipeline)).

use std::io::{self, Write};
use std::sync::Arc;

use super::{CommandError, GlobalArgs, MonitorArgs, OutputFormat, load_config, stdout_error};
use crate::github::{CallStats, EtagCache, RateBudget};
use crate::monitor::Options;
use crate::pipeline::{Origin, Pipeline, Steps};

/// Runs the monitor and writes the report.
pub(super) fn run(global: &GlobalArgs, args: MonitorArgs) -> Result<u8, CommandError> {
    let loaded = load_config(global)?;
    let pipeline = Pipeline::open(loaded.config)?;
    let runtime = super::runtime()?;
    let cache = Arc::new(EtagCache::load(&args.state_file));
    let opts = Options {
        force_check: args.force_check,
        explain: args.explain,
    };
    let report = runtime.block_on(pipeline.monitor(cache.clone(), opts));
    if let Err(e) = cache.save() {
        tracing::warn!(
            "cannot write the state file {}: {e} (the next run will not use conditional requests)",
            args.state_file.display()
        );
    }
    let client = pipeline.client();
    if args.explain {
        eprintln!(
            "{}",
            explain_calls(&client.stats(), client.budget(), client.graphql_budget())
        );
        let limit = client.api_limit();
        eprintln!(
            "API concurrency limit: peaked at {}, now {} (adaptive between 1 and \
             settings.concurrency)",
            limit.peak(),
            limit.current()
        );
    }
    let checked = report.total_repositories_checked;
    let found = report.new_releases_found;
    let failed = report.errors.len();
    let steps = Steps {
        download: args.download,
        dry_run: args.dry_run,
        force: false,
    };
    let outcome = runtime.block_on(pipeline.process(Origin::Monitor, report, steps));
    let value = outcome.to_json().map_err(|e| CommandError::Io {
        context: "serialising the report",
        source: io::Error::other(e),
    })?;
    let format = OutputFormat::or_default(args.format, args.output.is_some());
    let bytes = super::table::render(format, &value, || super::table::outcome_table(&outcome))?
        .into_bytes();
    match &args.output {
        Some(path) => crate::fsutil::write_atomic(path, &bytes, "report")
            .map_err(|(context, source)| CommandError::Io { context, source })?,
        None => io::stdout()
            .lock()
            .write_all(&bytes)
            .map_err(stdout_error)?,
    }
    tracing::info!("{checked} repositories checked, {found} new releases, {failed} failed");
    Ok(outcome.exit_status())
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
