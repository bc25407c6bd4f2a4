//! What the GitHub client counts and what GitHub says about its rate limits: the request counts
//! ([`CallStats`]), the REST and GraphQL budgets ([`RateBudget`]), and the
//! [`Observer`] that feeds them from every exchange of the shared send-with-retry loop, adding
//! GitHub's error body (`message`, `documentation_url`, which name a secondary rate limit) to the
//! retry [`Signals`].
//!
//! Both `client` (REST) and `graphql` use it; it uses neither (only `limit`, which it tells of
//! answers that want fewer calls at once).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use url::Url;

use super::limit::ApiLimit;
use super::models::ErrorBody;
use crate::http::{Observer, Signals, redact};

/// Counts of requests, for `--explain` and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallStats {
    /// API requests sent (retries included).
    pub requests: u64,
    /// Of those, answered `304 Not Modified` (free of rate limit).
    pub not_modified: u64,
    /// Of those, answered with anything else: each costs one call of the rate limit.
    pub rate_limited: u64,
    /// Retries after transient failures or rate limits.
    pub retries: u64,
    /// Of `requests`, GraphQL queries (`POST /graphql`, retries included).
    pub graphql_queries: u64,
    /// The GraphQL points those queries cost (the sum of `rateLimit.cost`).
    pub graphql_cost: u64,
}

/// The rate-limit budget as last reported by GitHub, so `--explain` can say what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateBudget {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset` (seconds since the epoch).
    pub reset: Option<u64>,
}

impl RateBudget {
    /// The budget from a response's `X-RateLimit-*` headers (GitHub, Gitea) or `RateLimit-*`
    /// headers (GitLab); `None` without a remaining count.
    fn from_headers(headers: &HeaderMap) -> Option<RateBudget> {
        let num = |name: &str| {
            [format!("x-{name}"), name.to_string()]
                .iter()
                .find_map(|n| headers.get(n.as_str()))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let b = RateBudget {
            limit: num("ratelimit-limit"),
            remaining: num("ratelimit-remaining"),
            reset: num("ratelimit-reset"),
        };
        b.remaining.is_some().then_some(b)
    }
}

/// The client's counters and budgets, shared by REST and GraphQL calls.
#[derive(Debug, Default)]
pub(super) struct Counters {
    requests: AtomicU64,
    not_modified: AtomicU64,
    retries: AtomicU64,
    budget: Mutex<Option<RateBudget>>,
    graphql_queries: AtomicU64,
    graphql_cost: AtomicU64,
    graphql_budget: Mutex<Option<RateBudget>>,
}

impl Counters {
    /// The counts so far.
    pub(super) fn stats(&self) -> CallStats {
        let requests = self.requests.load(Ordering::Relaxed);
        let not_modified = self.not_modified.load(Ordering::Relaxed);
        CallStats {
            requests,
            not_modified,
            rate_limited: requests - not_modified,
            retries: self.retries.load(Ordering::Relaxed),
            graphql_queries: self.graphql_queries.load(Ordering::Relaxed),
            graphql_cost: self.graphql_cost.load(Ordering::Relaxed),
        }
    }

    /// The REST budget from the last response that had one.
    pub(super) fn budget(&self) -> Option<RateBudget> {
        self.budget.lock().ok().and_then(|b| *b)
    }

    /// The GraphQL budget (the lowest of the current window).
    pub(super) fn graphql_budget(&self) -> Option<RateBudget> {
        self.graphql_budget.lock().ok().and_then(|b| *b)
    }

    /// Adds a query's `rateLimit.cost`.
    pub(super) fn add_graphql_cost(&self, cost: u64) {
        self.graphql_cost.fetch_add(cost, Ordering::Relaxed);
    }

    /// Keeps the lowest GraphQL budget of the current window: concurrent queries answer out of
    /// order.
    pub(super) fn note_graphql_budget(&self, new: RateBudget) {
        if let Ok(mut guard) = self.graphql_budget.lock() {
            let keep_old = guard.is_some_and(|old| {
                old.reset >= new.reset && old.remaining.is_some() && old.remaining < new.remaining
            });
            if !keep_old && new.remaining.is_some() {
                *guard = Some(new);
            }
        }
    }

    fn note_rest_budget(&self, headers: &HeaderMap) {
        if let Some(b) = RateBudget::from_headers(headers)
            && let Ok(mut guard) = self.budget.lock()
        {
            *guard = Some(b);
        }
    }
}

/// Which API a request is for: they count and budget differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    /// A REST `GET` (API calls and asset downloads).
    Rest,
    /// A GraphQL `POST`.
    Graphql,
}

/// The [`Observer`] of one GitHub request: counts it, keeps the budgets, reads GitHub's error
/// body into the retry signals, and logs retries with the redacted URL.
pub(super) struct ApiObserver<'a> {
    /// The client's counters.
    pub(super) counters: &'a Counters,
    /// The request's URL (logged redacted).
    pub(super) url: &'a Url,
    /// REST or GraphQL.
    pub(super) api: Api,
    /// The adaptive API limit, told of rate limits, server errors and transport failures
    /// (`None` for transfers, which do not count against it).
    pub(super) limit: Option<&'a ApiLimit>,
}

/// A rate-limit answer (`429`, or `403` with `Retry-After` or no budget left) or a server
/// error: the API wants fewer calls at once.
fn wants_fewer(status: StatusCode, headers: &HeaderMap) -> bool {
    let no_budget = headers
        .get("x-ratelimit-remaining")
        .or_else(|| headers.get("ratelimit-remaining"))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0");
    status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || (status == StatusCode::FORBIDDEN && (headers.contains_key("retry-after") || no_budget))
}

impl Observer for ApiObserver<'_> {
    fn attempt(&self, attempt: u32) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        match self.api {
            Api::Rest => tracing::debug!(url = %redact(self.url), attempt, "GET"),
            Api::Graphql => {
                self.counters
                    .graphql_queries
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(url = %redact(self.url), attempt, "POST (GraphQL)");
            }
        }
    }

    fn response(&self, status: StatusCode, headers: &HeaderMap) {
        if let Some(limit) = self.limit
            && wants_fewer(status, headers)
        {
            limit.troubled();
        }
        match self.api {
            Api::Rest => {
                self.counters.note_rest_budget(headers);
                if status == StatusCode::NOT_MODIFIED {
                    self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
                }
            }
            Api::Graphql => {
                if let Some(b) = RateBudget::from_headers(headers) {
                    self.counters.note_graphql_budget(b);
                }
            }
        }
    }

    fn signals(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Signals {
        let error: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        Signals {
            message: error.message,
            documentation_url: error.documentation_url,
            ..Signals::from_headers(status.as_u16(), headers, now)
        }
    }

    fn retrying(&self, reason: &str, attempt: u32, after: Duration) {
        tracing::warn!(
            "{}: {reason} (attempt {attempt}); retrying in {:.1}s",
            redact(self.url),
            after.as_secs_f64()
        );
        if let Some(limit) = self.limit {
            // Also a connection or a timeout failure; a status was already counted.
            limit.troubled();
        }
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
    }
}

/// Seconds since the epoch as RFC 3339, for the rate-limit message.
pub(super) fn format_epoch(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .map_or_else(|| secs.to_string(), |t| t.to_rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn github_error_bodies_and_headers_become_signals() {
        let counters = Counters::default();
        let url = Url::parse("https://api.github.com/x").unwrap();
        let o = ApiObserver {
            counters: &counters,
            url: &url,
            api: Api::Rest,
            limit: None,
        };
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "100"),
            ("retry-after", "3"),
        ]);
        let s = o.signals(
            StatusCode::FORBIDDEN,
            &h,
            br#"{"message":"You have exceeded a secondary rate limit"}"#,
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(s.status, 403);
        assert_eq!(s.remaining, Some(0));
        assert_eq!(s.reset, Some(100));
        assert_eq!(s.retry_after, Some(Duration::from_secs(3)));
        assert!(s.message.unwrap().contains("secondary"));
        o.response(StatusCode::NOT_MODIFIED, &h);
        o.attempt(1);
        assert_eq!(counters.stats().not_modified, 1);
        assert_eq!(counters.budget().and_then(|b| b.remaining), Some(0));
        assert_eq!(format_epoch(0), "1970-01-01T00:00:00+00:00");
    }

    #[test]
    fn gitlab_ratelimit_headers_are_read_too() {
        let h = headers(&[
            ("ratelimit-limit", "2000"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "1700000000"),
        ]);
        let b = RateBudget::from_headers(&h).unwrap();
        assert_eq!(
            (b.limit, b.remaining, b.reset),
            (Some(2000), Some(0), Some(1_700_000_000))
        );
        assert!(wants_fewer(StatusCode::FORBIDDEN, &h));
        let s = crate::http::Signals::from_headers(429, &h, SystemTime::UNIX_EPOCH);
        assert_eq!((s.remaining, s.reset), (Some(0), Some(1_700_000_000)));
    }

    #[test]
    fn the_graphql_budget_keeps_the_lowest_of_a_window() {
        let c = Counters::default();
        let b = |remaining, reset| RateBudget {
            limit: Some(5000),
            remaining: Some(remaining),
            reset: Some(reset),
        };
        c.note_graphql_budget(b(10, 100));
        c.note_graphql_budget(b(20, 100));
        assert_eq!(c.graphql_budget(), Some(b(10, 100)));
        c.note_graphql_budget(b(4999, 200));
        assert_eq!(c.graphql_budget(), Some(b(4999, 200)));
    }
}
