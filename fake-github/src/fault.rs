//! Faults: misbehaviour injected into matching requests (5xx, rate limits, broken transfers).
//!
//! To add a fault: add a [`FaultKind`] variant, a field to `FaultSpec` and its two conversions
//! below, and its effect in `handler.rs` (`replace_with_fault` for faults that replace the
//! response, `BodyFault` for faults that damage a normal response's body).

use serde::{Deserialize, Serialize};

use crate::scenario::check_status;

/// Which of the two HTTPS origins a request went to (or a fault applies to).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The API origin, `https://127.0.0.1:PORT` (like api.github.com).
    #[default]
    Api,
    /// The asset origin, `https://localhost:PORT2` (like objects.githubusercontent.com).
    Assets,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Origin::Api => "api",
            Origin::Assets => "assets",
        })
    }
}

/// One injected fault: which requests it hits, what it does, and how many times.
///
/// It exists so tests can script failures (a flaky server, a rate limit, a cut download) with a
/// count, and the server recovers by itself afterwards, as real services do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FaultSpec", into = "FaultSpec")]
pub struct Fault {
    /// The requests this fault applies to.
    pub rule: FaultMatch,
    /// What happens to them.
    pub kind: FaultKind,
    /// How many matching requests it hits (`None`: every one). Ignored by
    /// [`FaultKind::Statuses`], whose list length is the count.
    pub times: Option<u32>,
    /// How many matching requests it lets through before it starts (`0`: none), to hit a
    /// later request of a sequence (the second piece of a transfer, say).
    pub after: u32,
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultMatch {
    /// The origin (default: the API).
    pub origin: Origin,
    /// The path (the query string is ignored).
    pub path: PathMatch,
    /// Only this method, e.g. `GET` (default: any).
    pub method: Option<String>,
}

/// How a fault matches the request path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PathMatch {
    /// Every path.
    #[default]
    Any,
    /// Exactly this path, e.g. `/repos/acme/tool/releases`.
    Exact(String),
    /// Paths starting with this, e.g. `/download/`.
    Prefix(String),
}

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer the n-th matching request with the n-th status (body `{"message": "Server Error"}`
    /// or the status's usual message); later requests are served normally.
    Statuses(Vec<u16>),
    /// A primary rate limit: `status` (403 or 429), `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset` = now + `reset_in` seconds.
    RateLimited {
        /// 403 or 429.
        status: u16,
        /// Seconds until the advertised reset.
        reset_in: u64,
    },
    /// A secondary rate limit: `status` with `Retry-After` and the secondary-limit message.
    SecondaryRateLimit {
        /// 403 or 429.
        status: u16,
        /// The `Retry-After` value in seconds (`None`: no header).
        retry_after: Option<u64>,
    },
    /// Send only the first N bytes of the normal body, then drop the connection (the
    /// `Content-Length` still announces the full size).
    TruncateAfter(u64),
    /// Send the first N bytes of the normal body, then stop sending without closing.
    StallAfter(u64),
    /// Send the first N bytes of the normal body, then reset the TCP connection (`SO_LINGER` 0,
    /// so the peer gets an RST, not a FIN). Unlike [`FaultKind::TruncateAfter`], this breaks the
    /// whole connection: every h2 stream on it fails too.
    ResetAfter(u64),
    /// Flip the byte at offset N of the normal body (XOR `0xFF`), keeping its length and every
    /// header (`ETag`, `Content-Length`): data corrupted in flight, which only a checksum catches.
    /// The offset counts from the start of the body sent (for a `206`, of the range).
    CorruptAt(u64),
    /// Answer `302 Found` with this `Location`, whatever the request was.
    RedirectTo(String),
    /// Ignore the request's `Range` and send the whole body with `200`, as a server without
    /// range support does.
    IgnoreRange,
}

impl FaultMatch {
    /// Whether a request on `origin` with this method and path is hit.
    pub(crate) fn matches(&self, origin: Origin, method: &str, path: &str) -> bool {
        self.origin == origin
            && self
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && match &self.path {
                PathMatch::Any => true,
                PathMatch::Exact(p) => p == path,
                PathMatch::Prefix(p) => path.starts_with(p.as_str()),
            }
    }
}

impl Fault {
    /// A fault hitting requests to `path` on the API origin.
    pub fn api(path: impl Into<String>, kind: FaultKind) -> Fault {
        Fault {
            rule: FaultMatch {
                origin: Origin::Api,
                path: PathMatch::Exact(path.into()),
                method: None,
            },
            kind,
            times: None,
            after: 0,
        }
    }

    /// A fault hitting requests under `prefix` on the asset origin.
    pub fn assets(prefix: impl Into<String>, kind: FaultKind) -> Fault {
        Fault {
            rule: FaultMatch {
                origin: Origin::Assets,
                path: PathMatch::Prefix(prefix.into()),
                method: None,
            },
            kind,
            times: None,
            after: 0,
        }
    }

    /// Lets the first `after` matching requests through (builder style).
    pub fn after(mut self, after: u32) -> Fault {
        self.after = after;
        self
    }

    /// Limits the fault to the first `times` matching requests (builder style).
    pub fn times(mut self, times: u32) -> Fault {
        self.times = Some(times);
        self
    }

    /// How many matching requests this fault hits (`None`: unlimited).
    pub(crate) fn budget(&self) -> Option<u32> {
        match &self.kind {
            FaultKind::Statuses(list) => Some(u32::try_from(list.len()).unwrap_or(u32::MAX)),
            _ => self.times,
        }
    }

    /// Checks statuses and required values.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match &self.kind {
            FaultKind::Statuses(list) => {
                if list.is_empty() {
                    return Err("`responses` is empty".into());
                }
                list.iter().try_for_each(|s| check_status(*s))
            }
            FaultKind::RateLimited { status, .. }
            | FaultKind::SecondaryRateLimit { status, .. } => check_status(*status),
            FaultKind::RedirectTo(url) if url.is_empty() => Err("`redirect_to` is empty".into()),
            FaultKind::TruncateAfter(_)
            | FaultKind::StallAfter(_)
            | FaultKind::ResetAfter(_)
            | FaultKind::CorruptAt(_)
            | FaultKind::RedirectTo(_)
            | FaultKind::IgnoreRange => Ok(()),
        }
    }
}

/// The flat YAML shape of a fault: match fields, one action field, an optional `times`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path_prefix: Option<String>,
    #[serde(default)]
    origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    #[serde(default, skip_serializing_if = "is_zero")]
    after: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    responses: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate_limited: Option<RateLimitedSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secondary_rate_limit: Option<SecondarySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    truncate_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stall_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reset_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    corrupt_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_to: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    ignore_range: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitedSpec {
    #[serde(default = "default_limited_status")]
    status: u16,
    #[serde(default = "default_reset_in")]
    reset_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondarySpec {
    #[serde(default = "default_limited_status")]
    status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn default_limited_status() -> u16 {
    403
}

fn default_reset_in() -> u64 {
    60
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;

    fn try_from(spec: FaultSpec) -> Result<Fault, String> {
        let path = match (spec.path, spec.path_prefix) {
            (Some(_), Some(_)) => return Err("give `path` or `path_prefix`, not both".into()),
            (Some(p), None) => PathMatch::Exact(p),
            (None, Some(p)) => PathMatch::Prefix(p),
            (None, None) => PathMatch::Any,
        };
        let mut times = spec.times;
        let mut kinds = Vec::new();
        if let Some(list) = spec.responses {
            kinds.push(FaultKind::Statuses(list));
        }
        if let Some(r) = spec.rate_limited {
            times = merge_times(times, r.times)?;
            kinds.push(FaultKind::RateLimited {
                status: r.status,
                reset_in: r.reset_in,
            });
        }
        if let Some(s) = spec.secondary_rate_limit {
            times = merge_times(times, s.times)?;
            kinds.push(FaultKind::SecondaryRateLimit {
                status: s.status,
                retry_after: s.retry_after,
            });
        }
        if let Some(n) = spec.truncate_after {
            kinds.push(FaultKind::TruncateAfter(n));
        }
        if let Some(n) = spec.stall_after {
            kinds.push(FaultKind::StallAfter(n));
        }
        if let Some(n) = spec.reset_after {
            kinds.push(FaultKind::ResetAfter(n));
        }
        if let Some(n) = spec.corrupt_at {
            kinds.push(FaultKind::CorruptAt(n));
        }
        if let Some(url) = spec.redirect_to {
            kinds.push(FaultKind::RedirectTo(url));
        }
        if spec.ignore_range {
            kinds.push(FaultKind::IgnoreRange);
        }
        let kind = match kinds.len() {
            1 => kinds.remove(0),
            0 => {
                return Err("a fault needs one of responses, rate_limited, \
                            secondary_rate_limit, truncate_after, stall_after, reset_after, \
                            corrupt_at, redirect_to, ignore_range"
                    .into());
            }
            _ => {
                return Err(
                    "a fault has more than one action; list them as separate faults".into(),
                );
            }
        };
        let fault = Fault {
            rule: FaultMatch {
                origin: spec.origin,
                path,
                method: spec.method,
            },
            kind,
            times,
            after: spec.after,
        };
        fault.validate()?;
        Ok(fault)
    }
}

fn merge_times(outer: Option<u32>, inner: Option<u32>) -> Result<Option<u32>, String> {
    match (outer, inner) {
        (Some(a), Some(b)) if a != b => Err(format!("`times` given twice ({a} and {b})")),
        (a, b) => Ok(b.or(a)),
    }
}

impl From<Fault> for FaultSpec {
    fn from(fault: Fault) -> FaultSpec {
        let (path, path_prefix) = match fault.rule.path {
            PathMatch::Any => (None, None),
            PathMatch::Exact(p) => (Some(p), None),
            PathMatch::Prefix(p) => (None, Some(p)),
        };
        let mut spec = FaultSpec {
            path,
            path_prefix,
            origin: fault.rule.origin,
            method: fault.rule.method,
            times: fault.times,
            after: fault.after,
            ..FaultSpec::default()
        };
        match fault.kind {
            FaultKind::Statuses(list) => {
                spec.responses = Some(list);
                spec.times = None;
            }
            FaultKind::RateLimited { status, reset_in } => {
                spec.rate_limited = Some(RateLimitedSpec {
                    status,
                    reset_in,
                    times: None,
                });
            }
            FaultKind::SecondaryRateLimit {
                status,
                retry_after,
            } => {
                spec.secondary_rate_limit = Some(SecondarySpec {
                    status,
                    retry_after,
                    times: None,
                });
            }
            FaultKind::TruncateAfter(n) => spec.truncate_after = Some(n),
            FaultKind::StallAfter(n) => spec.stall_after = Some(n),
            FaultKind::ResetAfter(n) => spec.reset_after = Some(n),
            FaultKind::CorruptAt(n) => spec.corrupt_at = Some(n),
            FaultKind::RedirectTo(url) => spec.redirect_to = Some(url),
            FaultKind::IgnoreRange => spec.ignore_range = true,
        }
        spec
    }
}
