//! The one retry policy: what to do after each response or failure.
//!
//! Kept free of I/O so every rule is unit-tested: exponential backoff with full jitter for
//! transient failures (connection errors, timeouts, 5xx, 408, 429), `Retry-After` honoured, never
//! a retry on any other 4xx, and rate limits (a primary limit with nothing remaining, GitHub's
//! secondary limit) waited out only when the wait fits within
//! [`RetryPolicy::max_rate_limit_wait`] (`github.max_rate_limit_wait` in the configuration).
//!
//! [`HttpClient`](super::HttpClient) applies it to every HTTP request; mail sending applies
//! [`RetryPolicy::after_failure`] to SMTP failures, and the download resumes cut-off transfers
//! with it, so there is one policy for the whole tool.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often and how long to retry: the one policy every request of the tool follows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The backoff base: attempt `n` waits a random time in `[0, base × 2^(n-1)]`.
    pub base_delay: Duration,
    /// The backoff ceiling.
    pub max_delay: Duration,
    /// The longest wait for a rate-limit reset; longer waits fail instead.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            max_rate_limit_wait: Duration::from_secs(900),
        }
    }
}

/// What a response said, as far as retrying is concerned. It exists so the policy stays free of
/// HTTP types: [`Signals::from_headers`] reads the standard headers, and a caller that knows more
/// (GitHub's error body) fills in the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, already converted to a delay.
    pub retry_after: Option<Duration>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`, in seconds since the epoch.
    pub reset: Option<u64>,
    /// The body's `message`.
    pub message: Option<String>,
    /// The body's `documentation_url`.
    pub documentation_url: Option<String>,
}

/// The policy's verdict on one attempt, so the send loop holds no rules of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The response is final (a success, or an error not worth retrying).
    Accept,
    /// Wait this long, then send the request again.
    Retry {
        /// How long to wait.
        after: Duration,
        /// Why, for the log.
        reason: String,
    },
    /// The rate limit is exhausted and resets later than we may wait.
    RateLimited {
        /// When it resets, in seconds since the epoch (if known).
        reset: Option<u64>,
        /// How long that is from now.
        wait: Option<Duration>,
    },
    /// Transient failures went on past `max_attempts`.
    GiveUp,
}

impl RetryPolicy {
    /// The full-jitter backoff before attempt `attempt + 1` (attempt counts from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }

    /// What to do after a connection error or timeout on attempt `attempt`.
    pub fn after_failure(&self, attempt: u32) -> Decision {
        if attempt >= self.max_attempts {
            Decision::GiveUp
        } else {
            Decision::Retry {
                after: self.backoff(attempt),
                reason: "connection failed".to_string(),
            }
        }
    }

    /// What to do after a response on attempt `attempt`.
    pub fn after_response(&self, s: &Signals, attempt: u32, now: SystemTime) -> Decision {
        let status = s.status;
        if status < 400 {
            return Decision::Accept;
        }
        if matches!(status, 403 | 429) {
            if let Some(d) = self.rate_limit(s, attempt, now) {
                return d;
            }
            if status == 403 {
                // A plain 403 (no access, a blocked feature): retrying will not help.
                return Decision::Accept;
            }
        }
        let transient = status == 408 || status == 429 || (500..=599).contains(&status);
        if !transient {
            return Decision::Accept;
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp;
        }
        let after = match s.retry_after {
            Some(ra) if ra <= self.max_rate_limit_wait => ra,
            Some(_) => {
                return Decision::RateLimited {
                    reset: None,
                    wait: s.retry_after,
                };
            }
            None => self.backoff(attempt),
        };
        Decision::Retry {
            after,
            reason: format!("HTTP {status}"),
        }
    }

    /// GitHub's rate limits: `None` when the response is not a rate-limit response.
    fn rate_limit(&self, s: &Signals, attempt: u32, now: SystemTime) -> Option<Decision> {
        let until_reset = s.reset.map(|reset| {
            let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            // One extra second: GitHub's reset is rounded down to the second.
            Duration::from_secs(reset.saturating_sub(now) + 1)
        });
        let secondary = s
            .message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("secondary rate limit"))
            || s.documentation_url
                .as_deref()
                .is_some_and(|u| u.contains("secondary-rate-limits"));
        let primary = s.remaining == Some(0);
        let wait = if secondary {
            // Documented order: Retry-After; else the reset if nothing remains; else at least
            // a minute, growing with each attempt.
            match (s.retry_after, primary, until_reset) {
                (Some(ra), _, _) => Some(ra),
                (None, true, Some(r)) => Some(r),
                _ => Some(
                    Duration::from_secs(60)
                        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1))),
                ),
            }
        } else if primary {
            s.retry_after.or(until_reset)
        } else {
            return None;
        };
        Some(match wait {
            Some(w) if w <= self.max_rate_limit_wait && attempt <= self.max_attempts => {
                Decision::Retry {
                    after: w,
                    reason: if secondary {
                        "secondary rate limit".to_string()
                    } else {
                        "rate limit exhausted".to_string()
                    },
                }
            }
            w => Decision::RateLimited {
                reset: s.reset,
                wait: w,
            },
        })
    }
}

impl Signals {
    /// The signals any HTTP response carries: the status, `Retry-After`, and the de facto
    /// `X-RateLimit-Remaining` / `X-RateLimit-Reset` (seconds since the epoch) pair, which GitHub
    /// and many other services send. The body's `message` is left to callers that know its
    /// format.
    pub fn from_headers(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        now: SystemTime,
    ) -> Signals {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let num = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
        Signals {
            status,
            retry_after: header("retry-after").and_then(|v| parse_retry_after(v, now)),
            // GitHub and Gitea say `X-RateLimit-*`; GitLab says `RateLimit-*`.
            remaining: num("x-ratelimit-remaining").or_else(|| num("ratelimit-remaining")),
            reset: num("x-ratelimit-reset").or_else(|| num("ratelimit-reset")),
            message: None,
            documentation_url: None,
        }
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let when: SystemTime = when.with_timezone(&chrono::Utc).into();
    Some(when.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn sig(status: u16) -> Signals {
        Signals {
            status,
            ..Signals::default()
        }
    }

    #[test]
    fn backoff_is_full_jitter_within_an_exponential_cap() {
        let p = policy();
        for attempt in 1..8 {
            let cap = Duration::from_millis(100 * 2u64.pow(attempt - 1)).min(p.max_delay);
            for _ in 0..50 {
                assert!(p.backoff(attempt) <= cap);
            }
        }
    }

    #[test]
    fn transient_statuses_retry_until_max_attempts() {
        let p = policy();
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(
                matches!(
                    p.after_response(&sig(status), 1, at(0)),
                    Decision::Retry { .. }
                ),
                "{status}"
            );
            assert_eq!(p.after_response(&sig(status), 3, at(0)), Decision::GiveUp);
        }
        assert!(matches!(p.after_failure(1), Decision::Retry { .. }));
        assert_eq!(p.after_failure(3), Decision::GiveUp);
    }

    #[test]
    fn other_client_errors_are_never_retried() {
        let p = policy();
        for status in [400, 401, 403, 404, 410, 422] {
            assert_eq!(
                p.after_response(&sig(status), 1, at(0)),
                Decision::Accept,
                "{status}"
            );
        }
        assert_eq!(p.after_response(&sig(200), 1, at(0)), Decision::Accept);
        assert_eq!(p.after_response(&sig(304), 1, at(0)), Decision::Accept);
    }

    #[test]
    fn retry_after_is_honoured() {
        let p = policy();
        let s = Signals {
            retry_after: Some(Duration::from_secs(7)),
            ..sig(503)
        };
        assert_eq!(
            p.after_response(&s, 1, at(0)),
            Decision::Retry {
                after: Duration::from_secs(7),
                reason: "HTTP 503".into()
            }
        );
        assert_eq!(
            parse_retry_after("120", at(0)),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", at(40)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after("soon", at(0)), None);
    }

    #[test]
    fn primary_limit_waits_for_the_reset_or_stops() {
        let p = policy();
        let s = Signals {
            remaining: Some(0),
            reset: Some(1_030),
            ..sig(403)
        };
        assert_eq!(
            p.after_response(&s, 1, at(1_000)),
            Decision::Retry {
                after: Duration::from_secs(31),
                reason: "rate limit exhausted".into()
            }
        );
        let far = Signals {
            reset: Some(5_000),
            ..s.clone()
        };
        assert!(matches!(
            p.after_response(&far, 1, at(1_000)),
            Decision::RateLimited {
                reset: Some(5_000),
                ..
            }
        ));
        let too_many = Signals { status: 429, ..s };
        assert!(matches!(
            p.after_response(&too_many, 1, at(1_000)),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn secondary_limit_follows_the_documented_order() {
        let p = RetryPolicy {
            max_rate_limit_wait: Duration::from_secs(600),
            ..policy()
        };
        let base = Signals {
            message: Some("You have exceeded a secondary rate limit".into()),
            ..sig(403)
        };
        let with_ra = Signals {
            retry_after: Some(Duration::from_secs(3)),
            ..base.clone()
        };
        assert!(matches!(
            p.after_response(&with_ra, 1, at(0)),
            Decision::Retry { after, .. } if after == Duration::from_secs(3)
        ));
        let exhausted = Signals {
            remaining: Some(0),
            reset: Some(100),
            ..base.clone()
        };
        assert!(matches!(
            p.after_response(&exhausted, 1, at(0)),
            Decision::Retry { after, .. } if after == Duration::from_secs(101)
        ));
        assert!(matches!(
            p.after_response(&base, 1, at(0)),
            Decision::Retry { after, .. } if after == Duration::from_secs(60)
        ));
        assert!(matches!(
            p.after_response(&base, 2, at(0)),
            Decision::Retry { after, .. } if after == Duration::from_secs(120)
        ));
        let by_doc = Signals {
            message: None,
            documentation_url: Some(
                "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits".into(),
            ),
            retry_after: Some(Duration::from_secs(2)),
            ..sig(429)
        };
        assert!(matches!(
            p.after_response(&by_doc, 1, at(0)),
            Decision::Retry { after, .. } if after == Duration::from_secs(2)
        ));
    }
}
