//! The service's Prometheus metrics (`/metrics`, the text format of the `prometheus-client`
//! crate): runs by outcome and their duration, each repository's last success and failures,
//! bytes and files downloaded by what verified them, deduplicated bytes, and the API budget left.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::download::Placement;
use crate::pipeline::Outcome;

/// `outcome="success|partial|failed"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

/// `repository="owner/repo"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RepoLabel {
    repository: String,
}

/// `verified_by="checksum-file|…"`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerifiedLabel {
    verified_by: String,
}

/// Every metric the service keeps, registered once.
pub(super) struct Metrics {
    registry: Registry,
    runs: Family<OutcomeLabel, Counter>,
    duration: Histogram,
    last_success: Family<RepoLabel, Gauge>,
    failures: Family<RepoLabel, Counter>,
    bytes: Family<VerifiedLabel, Counter>,
    files: Family<VerifiedLabel, Counter>,
    deduplicated: Counter,
    rate_remaining: Gauge<i64>,
    last_run: Gauge<f64, AtomicU64>,
}

impl Metrics {
    pub(super) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("release_monitor");
        let runs = Family::<OutcomeLabel, Counter>::default();
        registry.register("runs", "Runs by outcome", runs.clone());
        let duration = Histogram::new(exponential_buckets(0.5, 2.0, 14));
        registry.register(
            "run_duration_seconds",
            "How long each run took",
            duration.clone(),
        );
        let last_success = Family::<RepoLabel, Gauge>::default();
        registry.register(
            "repository_last_success_timestamp_seconds",
            "When each repository was last checked (and its downloads done) without an error",
            last_success.clone(),
        );
        let failures = Family::<RepoLabel, Counter>::default();
        registry.register(
            "repository_failures",
            "Runs in which a repository's check or download failed",
            failures.clone(),
        );
        let bytes = Family::<VerifiedLabel, Counter>::default();
        registry.register(
            "downloaded_bytes",
            "Bytes downloaded, by what verified them",
            bytes.clone(),
        );
        let files = Family::<VerifiedLabel, Counter>::default();
        registry.register(
            "downloaded_files",
            "Files downloaded, by what verified them",
            files.clone(),
        );
        let deduplicated = Counter::default();
        registry.register(
            "deduplicated_bytes",
            "Bytes not downloaded because the mirror already held them",
            deduplicated.clone(),
        );
        let rate_remaining = Gauge::<i64>::default();
        registry.register(
            "github_rate_limit_remaining",
            "The GitHub API budget left after the last run (-1: unknown)",
            rate_remaining.clone(),
        );
        rate_remaining.set(-1);
        let last_run = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_run_timestamp_seconds",
            "When the last run ended",
            last_run.clone(),
        );
        Metrics {
            registry,
            runs,
            duration,
            last_success,
            failures,
            bytes,
            files,
            deduplicated,
            rate_remaining,
            last_run,
        }
    }

    /// Counts a run that could not start (a damaged database, a bad client setting).
    pub(super) fn failed_to_start(&self, seconds: f64, now: f64) {
        self.count("failed", seconds, now);
    }

    fn count(&self, outcome: &str, seconds: f64, now: f64) {
        self.runs
            .get_or_create(&OutcomeLabel {
                outcome: outcome.to_string(),
            })
            .inc();
        self.duration.observe(seconds);
        self.last_run.set(now);
    }

    /// Records what a run did.
    pub(super) fn observe(
        &self,
        outcome: &Outcome,
        seconds: f64,
        now: f64,
        remaining: Option<u64>,
        repositories: &[String],
    ) {
        let ok = outcome.exit_status() == crate::exit::OK;
        self.count(if ok { "success" } else { "partial" }, seconds, now);
        let mut failed: Vec<&str> = outcome
            .report
            .errors
            .iter()
            .map(|e| e.repository.as_str())
            .collect();
        if let Some(d) = &outcome.downloads {
            failed.extend(d.failed.iter().map(|f| f.repository.as_str()));
            for release in &d.downloaded {
                // Fetched this run (whole or resumed), not found in place or deduplicated.
                for file in release
                    .files
                    .iter()
                    .filter(|f| matches!(f.how, Placement::Downloaded | Placement::Resumed))
                {
                    let label = VerifiedLabel {
                        verified_by: file.verified_by.as_str().to_string(),
                    };
                    self.bytes.get_or_create(&label).inc_by(file.size);
                    self.files.get_or_create(&label).inc();
                }
            }
            self.deduplicated.inc_by(d.bytes_deduplicated);
        }
        for repository in repositories {
            let label = RepoLabel {
                repository: repository.clone(),
            };
            if failed.contains(&repository.as_str()) {
                self.failures.get_or_create(&label).inc();
            } else {
                self.last_success.get_or_create(&label).set(now as i64);
            }
        }
        if let Some(n) = remaining {
            self.rate_remaining
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition.
    pub(super) fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        out
    }
}
