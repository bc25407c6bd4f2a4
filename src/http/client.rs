//! The one HTTP client and its one send-with-retry loop.
//!
//! [`HttpClient`] holds the connection pools (rustls, the system roots plus an optional extra CA,
//! connect and read timeouts, the user agent, a redirect policy that refuses plain-http redirects
//! and loops; HTTP/2 where offered for requests read whole, HTTP/1.1 for streamed transfers, so
//! each has a connection of its own) and the [`RetryPolicy`]. Every request goes through one loop (`run`), which checks
//! the HTTPS rule, sends, asks the policy after each failure or error status, waits and tries
//! again. [`HttpClient::send`] hands back a response with its body unread (a download streams
//! it), [`HttpClient::fetch`] reads the body inside the loop (a cut-off body counts as a failed
//! attempt), and [`HttpClient::post`] is the webhook POST, which names its destination by a label
//! because the URL itself is a secret.
//!
//! Nothing here adds credentials: a caller that needs them (`github`, for its API origin only)
//! puts them in [`Request::headers`] itself.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use super::check_transport;
use super::retry::{Decision, RetryPolicy, Signals};

/// Most redirects followed for one request: more is a loop, refused like an insecure redirect.
pub const MAX_REDIRECTS: usize = 10;

/// The most of an error body quoted in a [`PostError`].
const MAX_QUOTED_BODY: usize = 200;

/// What the client is built from. A plain struct so this layer does not depend on `config`;
/// `github` fills it from the configuration.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// A PEM bundle trusted in addition to the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Connect and read timeout of requests read whole (API calls, small files).
    pub timeout: Duration,
    /// Connect and read timeout of streamed transfers ([`HttpClient::send`]): how long a
    /// download may wait for its next bytes (`download.timeout`).
    pub transfer_timeout: Duration,
    /// Accept any server certificate. Only for `download.artifactory_storage.verify_ssl: false`,
    /// which is warned about on every run; everything else verifies.
    pub accept_invalid_certs: bool,
    /// Retries and rate-limit waits.
    pub policy: RetryPolicy,
}

/// The client could not be built (an unreadable or invalid CA file). The message says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// The one HTTP client of the tool. Cheap to clone (the pools are shared) and safe to use from
/// concurrent tasks.
///
/// It keeps two connection pools built alike (same roots, timeouts, user agent, redirect rule,
/// retry policy): one for requests read whole, which may multiplex over HTTP/2, and one for
/// streamed transfers ([`HttpClient::send`]), held to HTTP/1.1 so each transfer has a connection
/// of its own. Asset hosts limit each connection; over HTTP/2 every transfer to a host would
/// share one connection and one limit.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    transfers: reqwest::Client,
    policy: RetryPolicy,
}

/// One request for the send loop; it is sent again as it is on each retry.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`...
    pub method: Method,
    /// Where it goes (checked against the HTTPS rule before anything is sent).
    pub url: Url,
    /// All headers (the client adds only its user agent).
    pub headers: HeaderMap,
    /// The body, if any.
    pub body: Option<Body>,
    /// Statuses handed back as a response besides 2xx (`304` for a conditional GET, `416` for a
    /// resumed download); every other status is retried or becomes [`SendError::Status`].
    pub also_final: &'static [StatusCode],
}

impl Request {
    /// A GET of `url` with `headers`, final on 2xx only.
    pub fn get(url: Url, headers: HeaderMap) -> Request {
        Request {
            method: Method::GET,
            url,
            headers,
            body: None,
            also_final: &[],
        }
    }

    /// A POST of `body` to `url` with `headers`, final on 2xx only.
    pub fn post(url: Url, headers: HeaderMap, body: Bytes) -> Request {
        Request {
            method: Method::POST,
            url,
            headers,
            body: Some(Body::Bytes(body)),
            also_final: &[],
        }
    }
}

/// A request body the send loop can make again for every attempt: bytes in memory, or a stream
/// opened afresh each time (a file uploaded to a store, never read whole into memory).
#[derive(Debug, Clone)]
pub enum Body {
    /// Bytes, sent again as they are.
    Bytes(Bytes),
    /// A stream made by [`BodySource::open`] for each attempt.
    Stream(Arc<dyn BodySource>),
}

/// Makes the stream of a [`Body::Stream`], once per attempt.
pub trait BodySource: Send + Sync + std::fmt::Debug {
    /// A fresh body for the next attempt, or why none can be made (the attempt then fails as a
    /// transport error would).
    fn open(&self) -> Result<reqwest::Body, String>;
}

/// A response read whole by [`HttpClient::fetch`].
#[derive(Debug, Clone)]
pub struct Reply {
    /// A 2xx or one of [`Request::also_final`].
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

/// An error response the loop did not retry (or stopped retrying), kept whole so the caller can
/// word the error from its body.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body (empty if it could not be read).
    pub body: Bytes,
    /// Attempts made.
    pub attempts: u32,
}

/// Why the send loop gave up. Never holds a URL: the caller knows which form of it (redacted, or
/// a label for a secret URL) may be shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The URL broke the HTTPS rule; nothing was sent. The message is [`check_transport`]'s.
    #[error("{0}")]
    Refused(String),
    /// A redirect broke the HTTPS rule or went on too long (never retried).
    #[error("{0}")]
    Redirect(String),
    /// The network failed (connection, timeout, a cut-off body), after retries.
    #[error("{message} (after {attempts} attempt(s))")]
    Transport {
        /// What failed, with its root cause.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// An error status that is final, or still there after `max_attempts`.
    #[error("HTTP {}", .0.status.as_u16())]
    Status(Box<Rejection>),
    /// A rate limit that resets later than the policy may wait.
    #[error("rate limited (HTTP {})", .rejection.status.as_u16())]
    RateLimited {
        /// The response that said so.
        rejection: Box<Rejection>,
        /// When it resets, in seconds since the epoch, if known.
        reset: Option<u64>,
        /// How long that is, if known.
        wait: Option<Duration>,
    },
}

/// Watches one request's exchanges. It exists so callers can count, log and read rate-limit
/// budgets without a send loop of their own; every method has a sensible default.
pub trait Observer: Sync {
    /// Called before each attempt (count it, log it).
    fn attempt(&self, _attempt: u32) {}

    /// Called with every response's status and headers, before the loop decides anything.
    fn response(&self, _status: StatusCode, _headers: &HeaderMap) {}

    /// What an error response says about retrying; by default [`Signals::from_headers`]. A
    /// caller that knows the body's format adds its message.
    fn signals(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        _body: &[u8],
        now: SystemTime,
    ) -> Signals {
        Signals::from_headers(status.as_u16(), headers, now)
    }

    /// Called before waiting `after` to retry, for the log. The default logs nothing.
    fn retrying(&self, _reason: &str, _attempt: u32, _after: Duration) {}
}

/// A successful answer to [`HttpClient::post`].
#[derive(Debug, Clone)]
pub struct PostResponse {
    /// The 2xx status.
    pub status: u16,
    /// The body (Slack answers `ok`).
    pub body: Bytes,
}

/// Why a [`HttpClient::post`] failed, worded with the destination's label, never its URL (a
/// webhook URL is a credential).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostError {
    /// The URL or a redirect broke the HTTPS rule.
    #[error("{0}")]
    Insecure(String),
    /// The network failed, after retries.
    #[error("{label}: {message} (after {attempts} attempt(s))")]
    Transport {
        /// `slack`, `webhook#1`...
        label: String,
        /// What failed.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// An error status, final or after retries; `message` quotes the body's start.
    #[error("HTTP {status} from {label}: {message} (after {attempts} attempt(s))")]
    Http {
        /// The status.
        status: u16,
        /// `slack`, `webhook#1`...
        label: String,
        /// The body's start, or the status's reason.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
}

impl HttpClient {
    /// Builds the client: rustls with the system roots plus `ca_cert`, the timeouts, this tool's
    /// user agent and the redirect policy.
    pub fn new(opts: &HttpOptions) -> Result<HttpClient, SetupError> {
        let certs = match &opts.ca_cert {
            None => None,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    SetupError(format!("cannot read ca_cert {}: {e}", path.display()))
                })?;
                Some(reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    SetupError(format!(
                        "ca_cert {} is not a PEM bundle: {e}",
                        path.display()
                    ))
                })?)
            }
        };
        let build = |http1_only: bool| {
            let timeout = if http1_only {
                opts.transfer_timeout
            } else {
                opts.timeout
            };
            let mut builder = reqwest::Client::builder()
                .user_agent(concat!("release-monitor/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(timeout)
                .read_timeout(timeout)
                .redirect(redirect_policy());
            if http1_only {
                builder = builder.http1_only();
            }
            if opts.accept_invalid_certs {
                builder = builder.tls_danger_accept_invalid_certs(true);
            }
            if let Some(certs) = &certs {
                builder = builder.tls_certs_merge(certs.clone());
            }
            builder
                .build()
                .map_err(|e| SetupError(format!("cannot build the HTTP client: {e}")))
        };
        Ok(HttpClient {
            inner: build(false)?,
            transfers: build(true)?,
            policy: opts.policy,
        })
    }

    /// The retry policy, for callers that retry at a higher level with the same rules (a
    /// download resuming a cut-off transfer, mail over SMTP).
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Sends `req` with retries and returns the final response with its body unread, for
    /// streaming: a transfer, over HTTP/1.1 on a connection of its own.
    pub async fn send(
        &self,
        req: &Request,
        observer: &dyn Observer,
    ) -> Result<reqwest::Response, SendError> {
        self.run(
            &self.transfers,
            req,
            observer,
            |resp| async move { Ok(resp) },
        )
        .await
    }

    /// Sends `req` with retries and reads the final response's body; a body cut off mid-way
    /// counts as a failed attempt and is retried like a connection error.
    pub async fn fetch(&self, req: &Request, observer: &dyn Observer) -> Result<Reply, SendError> {
        self.run(&self.inner, req, observer, |resp| async move {
            let status = resp.status();
            let headers = resp.headers().clone();
            resp.bytes().await.map(|body| Reply {
                status,
                headers,
                body,
            })
        })
        .await
    }

    /// POSTs `body` to a URL that is itself a secret (a notification webhook), with the same
    /// pool, TLS roots, HTTPS rule, redirect rule and retry policy as every other request:
    /// connection errors, timeouts, 408, 429 and 5xx are retried (honouring `Retry-After`); any
    /// other 4xx is final. `label` (`slack`, `webhook#1`) names the destination in logs and
    /// errors instead of the URL; `extra` adds headers (a signature). This client holds no
    /// credentials, so nothing but `extra` goes along.
    pub async fn post(
        &self,
        url: &Url,
        label: &str,
        content_type: &str,
        body: Bytes,
        extra: &HeaderMap,
    ) -> Result<PostResponse, PostError> {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(CONTENT_TYPE, v);
        }
        merge_headers(&mut headers, extra);
        let req = Request::post(url.clone(), headers, body);
        let observer = Labelled(label);
        let outcome = self
            .run(&self.inner, &req, &observer, |resp| async move {
                let status = resp.status().as_u16();
                Ok(PostResponse {
                    status,
                    body: resp.bytes().await.unwrap_or_default(),
                })
            })
            .await;
        outcome.map_err(|e| match e {
            SendError::Refused(_) => PostError::Insecure(format!(
                "{label}: refusing the URL: only https:// is allowed (http:// only for loopback \
                 hosts)"
            )),
            SendError::Redirect(_) => PostError::Insecure(format!(
                "{label}: refused a redirect (to plain http:// off loopback, or more than \
                 {MAX_REDIRECTS})"
            )),
            SendError::Transport { message, attempts } => PostError::Transport {
                label: label.to_string(),
                message,
                attempts,
            },
            SendError::Status(r) | SendError::RateLimited { rejection: r, .. } => PostError::Http {
                status: r.status.as_u16(),
                label: label.to_string(),
                // Some servers quote the request line back: never the secret URL's parts.
                message: quoted_body(&r.body).map_or_else(
                    || {
                        r.status
                            .canonical_reason()
                            .unwrap_or("no message")
                            .to_string()
                    },
                    |quoted| scrub_url(&quoted, url),
                ),
                attempts: r.attempts,
            },
        })
    }

    /// The send-with-retry loop: every request of the tool goes through here. `finish` turns a
    /// final response into the caller's value; its failure (a cut-off body) is retried.
    async fn run<T, F, Fut>(
        &self,
        pool: &reqwest::Client,
        req: &Request,
        observer: &dyn Observer,
        finish: F,
    ) -> Result<T, SendError>
    where
        F: Fn(reqwest::Response) -> Fut,
        Fut: Future<Output = Result<T, reqwest::Error>>,
    {
        check_transport(&req.url).map_err(SendError::Refused)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            observer.attempt(attempt);
            let builder = pool
                .request(req.method.clone(), req.url.clone())
                .headers(req.headers.clone());
            let builder = match &req.body {
                None => builder,
                Some(Body::Bytes(bytes)) => builder.body(bytes.clone()),
                Some(Body::Stream(source)) => match source.open() {
                    Ok(body) => builder.body(body),
                    // A local file that cannot be read does not get better by retrying.
                    Err(message) => {
                        return Err(SendError::Transport {
                            message,
                            attempts: attempt,
                        });
                    }
                },
            };
            let failure = match builder.send().await {
                Err(e) => {
                    if let Some(msg) = insecure_redirect(&e) {
                        return Err(SendError::Redirect(msg));
                    }
                    describe_reqwest(&e)
                }
                Ok(resp) => {
                    let status = resp.status();
                    observer.response(status, resp.headers());
                    if status.is_success() || req.also_final.contains(&status) {
                        match finish(resp).await {
                            Ok(value) => return Ok(value),
                            Err(e) => describe_reqwest(&e),
                        }
                    } else {
                        let headers = resp.headers().clone();
                        let body = resp.bytes().await.unwrap_or_default();
                        let now = SystemTime::now();
                        let signals = observer.signals(status, &headers, &body, now);
                        let decision = self.policy.after_response(&signals, attempt, now);
                        let rejection = || {
                            Box::new(Rejection {
                                status,
                                headers: headers.clone(),
                                body: body.clone(),
                                attempts: attempt,
                            })
                        };
                        match decision {
                            Decision::Retry { after, reason } => {
                                observer.retrying(&reason, attempt, after);
                                tokio::time::sleep(after).await;
                                continue;
                            }
                            Decision::RateLimited { reset, wait } => {
                                return Err(SendError::RateLimited {
                                    rejection: rejection(),
                                    reset,
                                    wait,
                                });
                            }
                            Decision::Accept | Decision::GiveUp => {
                                return Err(SendError::Status(rejection()));
                            }
                        }
                    }
                }
            };
            match self.policy.after_failure(attempt) {
                Decision::Retry { after, .. } => {
                    observer.retrying(&failure, attempt, after);
                    tokio::time::sleep(after).await;
                }
                _ => {
                    return Err(SendError::Transport {
                        message: failure,
                        attempts: attempt,
                    });
                }
            }
        }
    }
}

/// Adds `extra` to `headers`, each name in `extra` replacing that name's values (reqwest's
/// `RequestBuilder::headers` rule), so callers can layer their headers over a base set.
pub fn merge_headers(headers: &mut HeaderMap, extra: &HeaderMap) {
    for name in extra.keys() {
        headers.remove(name);
        for value in extra.get_all(name) {
            headers.append(name.clone(), value.clone());
        }
    }
}

/// The observer of a POST to a secret URL: logs by label, never the URL.
struct Labelled<'a>(&'a str);

impl Observer for Labelled<'_> {
    fn attempt(&self, attempt: u32) {
        tracing::debug!(target_name = self.0, attempt, "POST");
    }

    fn retrying(&self, reason: &str, attempt: u32, after: Duration) {
        tracing::warn!(
            "{}: {reason} (attempt {attempt}); retrying in {:.1}s",
            self.0,
            after.as_secs_f64()
        );
    }
}

/// The start of an error body on one line, when it is text (Slack answers `invalid_payload`,
/// `no_service`...).
fn quoted_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return None;
    }
    Some(match line.char_indices().nth(MAX_QUOTED_BODY) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    })
}

/// `text` with every part of the secret `url` that could identify it replaced by `***`: the
/// whole URL, its path and query, and each path segment and query value of six characters or
/// more (a webhook's token is one of those). Used on error bodies a server sends back, which
/// may quote the request.
fn scrub_url(text: &str, url: &Url) -> String {
    let mut parts: Vec<String> = vec![url.as_str().to_string()];
    let path = url.path();
    if path.len() > 1 {
        parts.push(path.to_string());
    }
    if let Some(query) = url.query() {
        parts.push(format!("{path}?{query}"));
        parts.push(query.to_string());
        parts.extend(url.query_pairs().map(|(_, v)| v.into_owned()));
    }
    parts.extend(path.split('/').map(str::to_string));
    parts.retain(|p| p.len() >= 6);
    // Longest first, so a part inside a longer one does not leave the rest behind.
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut out = text.to_string();
    for part in parts {
        out = out.replace(&part, "***");
    }
    out
}

/// Follows up to ten redirects, each to `https://` (or loopback `http://`). reqwest itself drops
/// `Authorization` when a redirect changes scheme, host or port.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(RedirectRefused(format!(
                "more than {MAX_REDIRECTS} redirects (a redirect loop?)"
            )));
        }
        match check_transport(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(msg) => attempt.error(RedirectRefused(format!("redirect {msg}"))),
        }
    })
}

/// A redirect our policy refused.
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// The refusal message, when `e` is a redirect our policy refused (never retried).
fn insecure_redirect(e: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RedirectRefused>() {
            return Some(r.0.clone());
        }
        source = s.source();
    }
    None
}

/// A one-line description of a transport error, with its root cause.
fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off"
    } else {
        "request failed"
    };
    let mut root = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if root.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderName;

    #[test]
    fn extra_headers_replace_by_name() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert("x-a", HeaderValue::from_static("1"));
        let mut extra = HeaderMap::new();
        extra.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        extra.append(
            HeaderName::from_static("x-b"),
            HeaderValue::from_static("2"),
        );
        extra.append(
            HeaderName::from_static("x-b"),
            HeaderValue::from_static("3"),
        );
        merge_headers(&mut h, &extra);
        assert_eq!(h[CONTENT_TYPE], "text/plain");
        assert_eq!(h["x-a"], "1");
        assert_eq!(h.get_all("x-b").iter().count(), 2);
    }

    #[test]
    fn a_secret_urls_parts_are_scrubbed_from_text() {
        let url =
            Url::parse("https://hooks.example.com/services/T0/B0/XyzToken123?key=sEcReT77&x=1")
                .unwrap();
        let text = "POST /services/T0/B0/XyzToken123?key=sEcReT77&x=1 refused; token XyzToken123, \
                    key sEcReT77, url https://hooks.example.com/services/T0/B0/XyzToken123?key=sEcReT77&x=1";
        let out = scrub_url(text, &url);
        assert!(
            !out.contains("XyzToken123") && !out.contains("sEcReT77"),
            "{out}"
        );
        assert!(out.starts_with("POST *** refused"), "{out}");
        // Short, common parts (`T0`, `x=1`'s value) are left alone.
        assert_eq!(scrub_url("T0 1", &url), "T0 1");
    }

    #[test]
    fn error_bodies_are_quoted_on_one_line_and_cut() {
        assert_eq!(quoted_body(b" no_service\n"), Some("no_service".into()));
        assert_eq!(quoted_body(b"  "), None);
        assert_eq!(quoted_body(&[0xff, 0xfe]), None);
        let long = "x".repeat(300);
        let q = quoted_body(long.as_bytes()).unwrap();
        assert!(q.ends_with('…') && q.chars().count() == MAX_QUOTED_BODY + 1);
    }

    #[test]
    fn an_insecure_url_is_refused_before_sending() {
        let client = HttpClient::new(&HttpOptions {
            ca_cert: None,
            timeout: Duration::from_secs(1),
            transfer_timeout: Duration::from_secs(1),
            accept_invalid_certs: false,
            policy: RetryPolicy::default(),
        })
        .unwrap();
        let url = Url::parse("http://hooks.example.com/SECRET?sig=x").unwrap();
        let req = Request::get(url, HeaderMap::new());
        struct Never;
        impl Observer for Never {
            fn attempt(&self, _: u32) {
                panic!("nothing may be sent");
            }
        }
        let err = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(client.fetch(&req, &Never))
            .unwrap_err();
        assert!(
            matches!(err, SendError::Refused(ref m) if m.contains("loopback")),
            "{err}"
        );
    }
}
