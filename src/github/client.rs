//! The only HTTP client: TLS roots, headers, the token rule, the HTTPS rule, retries and rate
//! limits, and `Link` pagination. Everything that talks to GitHub goes through it.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, IF_NONE_MATCH};
use url::Url;

use super::GithubError;
use super::etag::EtagCache;
use super::link::next_link;
use super::models::{ErrorBody, Release};
use super::retry::{Decision, RetryPolicy, Signals, parse_retry_after};
use super::token::Token;
use crate::config::Config;
use crate::net::{check_transport, redact};
use crate::repo::RepoId;

/// `Accept` for API calls.
pub const ACCEPT_JSON: &str = "application/vnd.github+json";
/// `Accept` for a commit's bare SHA.
const ACCEPT_SHA: &str = "application/vnd.github.sha";
/// `Accept` for asset bytes.
pub const ACCEPT_OCTET: &str = "application/octet-stream";
/// The REST API version we speak.
pub const API_VERSION: &str = "2022-11-28";
/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// What the client needs from the configuration.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The API base (`https://api.github.com`, or `https://HOST/api/v3`).
    pub api_url: String,
    /// A PEM bundle trusted in addition to the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Connect and read timeout.
    pub timeout: Duration,
    /// Retries and rate-limit waits.
    pub policy: RetryPolicy,
}

impl ClientOptions {
    /// Options from the `github:` section and `download.retry`.
    pub fn from_config(config: &Config) -> ClientOptions {
        let retry = &config.download.retry;
        ClientOptions {
            api_url: config.github.api_url.as_str().to_string(),
            ca_cert: config.github.ca_cert.clone(),
            timeout: config.github.timeout.as_duration(),
            policy: RetryPolicy {
                max_attempts: retry.max_attempts.max(1),
                base_delay: retry.delay.as_duration(),
                max_delay: Duration::from_secs(60),
                max_rate_limit_wait: config.github.max_rate_limit_wait.as_duration(),
            },
        }
    }
}

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

/// The rate-limit budget as last reported by GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateBudget {
    /// `X-RateLimit-Limit`.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset` (seconds since the epoch).
    pub reset: Option<u64>,
}

/// A final response: a success or `304`.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// 2xx or 304.
    pub status: u16,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

impl ApiResponse {
    /// The `ETag` header.
    pub fn etag(&self) -> Option<&str> {
        self.headers.get("etag").and_then(|v| v.to_str().ok())
    }

    /// The `rel="next"` URL of the `Link` header.
    pub fn next_page(&self) -> Option<&str> {
        self.headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link)
    }
}

/// The GitHub client. Cheap to share behind an `Arc`; requests may run concurrently.
#[derive(Debug)]
pub struct GithubClient {
    pub(super) http: reqwest::Client,
    pub(super) api: Url,
    pub(super) token: Option<Token>,
    pub(super) policy: RetryPolicy,
    pub(super) requests: AtomicU64,
    not_modified: AtomicU64,
    retries: AtomicU64,
    budget: Mutex<Option<RateBudget>>,
    pub(super) graphql: super::graphql::GraphqlCounters,
}

impl GithubClient {
    /// Builds the client. The token, if any, is only ever sent to the API's origin.
    pub fn new(opts: ClientOptions, token: Option<Token>) -> Result<GithubClient, GithubError> {
        let mut api = Url::parse(&opts.api_url).map_err(|e| GithubError::Setup {
            message: format!("api_url {:?}: {e}", opts.api_url),
        })?;
        check_transport(&api).map_err(GithubError::Insecure)?;
        if !api.path().ends_with('/') {
            let path = format!("{}/", api.path());
            api.set_path(&path);
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("release-monitor/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(opts.timeout)
            .read_timeout(opts.timeout)
            .redirect(redirect_policy());
        if let Some(path) = &opts.ca_cert {
            let pem = std::fs::read(path).map_err(|e| GithubError::Setup {
                message: format!("cannot read ca_cert {}: {e}", path.display()),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| GithubError::Setup {
                    message: format!("ca_cert {} is not a PEM bundle: {e}", path.display()),
                })?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| GithubError::Setup {
            message: format!("cannot build the HTTP client: {e}"),
        })?;
        Ok(GithubClient {
            http,
            api,
            token,
            policy: opts.policy,
            requests: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            budget: Mutex::new(None),
            graphql: super::graphql::GraphqlCounters::default(),
        })
    }

    /// `{api_url}/{path}`.
    pub fn endpoint(&self, path: &str) -> Result<Url, GithubError> {
        self.api
            .join(path.trim_start_matches('/'))
            .map_err(|e| GithubError::Setup {
                message: format!("bad API path {path:?}: {e}"),
            })
    }

    /// True when `url` is on the API's origin (scheme, host and port), the only place the
    /// token goes.
    pub fn is_api_origin(&self, url: &Url) -> bool {
        url.scheme() == self.api.scheme()
            && url.host_str() == self.api.host_str()
            && url.port_or_known_default() == self.api.port_or_known_default()
    }

    /// Request counts so far.
    pub fn stats(&self) -> CallStats {
        let requests = self.requests.load(Ordering::Relaxed);
        let not_modified = self.not_modified.load(Ordering::Relaxed);
        CallStats {
            requests,
            not_modified,
            rate_limited: requests - not_modified,
            retries: self.retries.load(Ordering::Relaxed),
            graphql_queries: self.graphql.queries(),
            graphql_cost: self.graphql.cost(),
        }
    }

    /// The budget from the last response's headers.
    pub fn budget(&self) -> Option<RateBudget> {
        self.budget.lock().ok().and_then(|b| *b)
    }

    fn record_budget(&self, headers: &HeaderMap) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let b = RateBudget {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset: num("x-ratelimit-reset"),
        };
        if b.remaining.is_some()
            && let Ok(mut guard) = self.budget.lock()
        {
            *guard = Some(b);
        }
    }

    /// GETs an API URL with retries; `etag` makes it conditional. Returns a 2xx or a 304;
    /// anything else is an error that says what to do.
    pub async fn get(&self, url: &Url, etag: Option<&str>) -> Result<ApiResponse, GithubError> {
        self.get_as(url, ACCEPT_JSON, etag).await
    }

    /// Like [`GithubClient::get`] with another `Accept` (a media type such as
    /// `application/vnd.github.sha`).
    async fn get_as(
        &self,
        url: &Url,
        accept: &str,
        etag: Option<&str>,
    ) -> Result<ApiResponse, GithubError> {
        let mut headers = HeaderMap::new();
        if let Some(tag) = etag
            && let Ok(v) = HeaderValue::from_str(tag)
        {
            headers.insert(IF_NONE_MATCH, v);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let resp = self.send(url, accept, &headers).await?;
            let status = resp.status().as_u16();
            let resp_headers = resp.headers().clone();
            match resp.bytes().await {
                Ok(body) => {
                    return Ok(ApiResponse {
                        status,
                        headers: resp_headers,
                        body,
                    });
                }
                Err(e) => match self.policy.after_failure(attempt) {
                    Decision::Retry { after, .. } => {
                        self.note_retry(url, &describe_reqwest(&e), attempt, after)
                            .await;
                    }
                    _ => {
                        return Err(GithubError::Transport {
                            url: redact(url),
                            message: describe_reqwest(&e),
                            attempts: attempt,
                        });
                    }
                },
            }
        }
    }

    pub(super) async fn note_retry(&self, url: &Url, reason: &str, attempt: u32, after: Duration) {
        tracing::warn!(
            "{}: {reason} (attempt {attempt}); retrying in {:.1}s",
            redact(url),
            after.as_secs_f64()
        );
        self.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(after).await;
    }

    /// Sends one GET with the retry policy and returns the response with its body unread: a
    /// 2xx, a 304, or a 416 (which a resumed download handles). Every other status is retried or
    /// turned into an error. `accept` is the `Accept` header; `extra` adds headers (`Range`,
    /// `If-Range`, `If-None-Match`). The token is added only for the API's origin.
    pub async fn send(
        &self,
        url: &Url,
        accept: &str,
        extra: &HeaderMap,
    ) -> Result<reqwest::Response, GithubError> {
        check_transport(url).map_err(GithubError::Insecure)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .get(url.clone())
                .header(ACCEPT, accept)
                .header("X-GitHub-Api-Version", API_VERSION)
                .headers(extra.clone());
            if let (Some(token), true) = (&self.token, self.is_api_origin(url)) {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| GithubError::Setup {
                        message: "the token contains characters not allowed in a header"
                            .to_string(),
                    })?;
                value.set_sensitive(true);
                req = req.header(AUTHORIZATION, value);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url = %redact(url), attempt, "GET");
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => {
                    if let Some(msg) = insecure_redirect(&e) {
                        return Err(GithubError::Insecure(msg));
                    }
                    match self.policy.after_failure(attempt) {
                        Decision::Retry { after, .. } => {
                            self.note_retry(url, &describe_reqwest(&e), attempt, after)
                                .await;
                            continue;
                        }
                        _ => {
                            return Err(GithubError::Transport {
                                url: redact(url),
                                message: describe_reqwest(&e),
                                attempts: attempt,
                            });
                        }
                    }
                }
            };
            let status = resp.status();
            self.record_budget(resp.headers());
            if status == StatusCode::NOT_MODIFIED {
                self.not_modified.fetch_add(1, Ordering::Relaxed);
            }
            if status.is_success()
                || status == StatusCode::NOT_MODIFIED
                || status == StatusCode::RANGE_NOT_SATISFIABLE
            {
                return Ok(resp);
            }
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            let error_body: ErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            let now = SystemTime::now();
            let signals = signals(status.as_u16(), &headers, &error_body, now);
            match self.policy.after_response(&signals, attempt, now) {
                Decision::Retry { after, reason } => {
                    self.note_retry(url, &reason, attempt, after).await;
                }
                Decision::RateLimited { reset, wait } => {
                    return Err(GithubError::RateLimited {
                        reset: reset.map(format_epoch),
                        wait_secs: wait.map(|w| w.as_secs()),
                        max_wait_secs: self.policy.max_rate_limit_wait.as_secs(),
                    });
                }
                Decision::Accept | Decision::GiveUp => {
                    return Err(final_error(status.as_u16(), url, error_body, attempt));
                }
            }
        }
    }

    /// The retry policy, for callers that retry whole transfers (a body cut off mid-way).
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// A repository's releases, newest first, up to `max` (pages of up to 100, following
    /// `Link: rel="next"`). With a cache, each page is requested conditionally.
    pub async fn list_releases(
        &self,
        repo: &RepoId,
        max: usize,
        cache: Option<&EtagCache>,
    ) -> Result<Vec<Release>, GithubError> {
        let per_page = max.clamp(1, 100);
        let mut url = self.endpoint(&format!(
            "repos/{}/{}/releases?per_page={per_page}",
            repo.owner(),
            repo.repo()
        ))?;
        let mut releases = Vec::new();
        loop {
            let (body, next) = self
                .get_cached(&url, cache)
                .await
                .map_err(|e| e.for_repository(repo))?;
            let page: Vec<Release> =
                serde_json::from_slice(&body).map_err(|e| GithubError::Decode {
                    url: redact(&url),
                    message: e.to_string(),
                })?;
            let empty = page.is_empty();
            releases.extend(page);
            if releases.len() >= max || empty {
                break;
            }
            match next {
                Some(n) => {
                    url = Url::parse(&n).map_err(|e| GithubError::Decode {
                        url: redact(&url),
                        message: format!("bad Link URL: {e}"),
                    })?;
                    if !self.is_api_origin(&url) {
                        return Err(GithubError::Insecure(format!(
                            "refusing to follow a Link to {} (not the API host)",
                            redact(&url)
                        )));
                    }
                }
                None => break,
            }
        }
        releases.truncate(max);
        Ok(releases)
    }
}

/// A successful answer to [`GithubClient::post`].
#[derive(Debug, Clone)]
pub struct PostResponse {
    /// The 2xx status.
    pub status: u16,
    /// The body (Slack answers `ok`).
    pub body: Bytes,
}

/// The most of an error body quoted in a message.
const MAX_QUOTED_BODY: usize = 200;

impl GithubClient {
    /// POSTs `body` to a URL outside GitHub (a notification webhook), through the same
    /// connection pool, TLS roots, HTTPS rule, redirect rule and retry policy as every other
    /// request: connection errors, timeouts, 408, 429 and 5xx are retried (honouring
    /// `Retry-After`); any other 4xx is final.
    ///
    /// The GitHub token is never attached, whatever the URL (even the API's own origin): a
    /// webhook is not GitHub. The URL is a secret too, so it never appears in logs or errors;
    /// `label` (`slack`, `webhook#1`) names the destination instead. `extra` adds headers
    /// (a signature).
    pub async fn post(
        &self,
        url: &Url,
        label: &str,
        content_type: &str,
        body: Bytes,
        extra: &HeaderMap,
    ) -> Result<PostResponse, GithubError> {
        check_transport(url).map_err(|_| {
            GithubError::Insecure(format!(
                "{label}: refusing the URL: only https:// is allowed (http:// only for loopback \
                 hosts)"
            ))
        })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let req = self
                .http
                .post(url.clone())
                .header(CONTENT_TYPE, content_type)
                .headers(extra.clone())
                .body(body.clone());
            tracing::debug!(target_name = label, attempt, "POST");
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => {
                    if insecure_redirect(&e).is_some() {
                        return Err(GithubError::Insecure(format!(
                            "{label}: refused a redirect (to plain http:// off loopback, or \
                             more than {MAX_REDIRECTS})"
                        )));
                    }
                    let message = describe_reqwest(&e);
                    match self.policy.after_failure(attempt) {
                        Decision::Retry { after, .. } => {
                            self.note_post_retry(label, &message, attempt, after).await;
                            continue;
                        }
                        _ => {
                            return Err(GithubError::Transport {
                                url: label.to_string(),
                                message,
                                attempts: attempt,
                            });
                        }
                    }
                }
            };
            let status = resp.status();
            if status.is_success() {
                let body = resp.bytes().await.unwrap_or_default();
                return Ok(PostResponse {
                    status: status.as_u16(),
                    body,
                });
            }
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            let now = SystemTime::now();
            let signals = signals(status.as_u16(), &headers, &ErrorBody::default(), now);
            match self.policy.after_response(&signals, attempt, now) {
                Decision::Retry { after, reason } => {
                    self.note_post_retry(label, &reason, attempt, after).await;
                }
                Decision::RateLimited { .. } | Decision::Accept | Decision::GiveUp => {
                    return Err(GithubError::Http {
                        status: status.as_u16(),
                        url: label.to_string(),
                        message: quoted_body(&body).unwrap_or_else(|| {
                            status
                                .canonical_reason()
                                .unwrap_or("no message")
                                .to_string()
                        }),
                        attempts: attempt,
                    });
                }
            }
        }
    }

    async fn note_post_retry(&self, label: &str, reason: &str, attempt: u32, after: Duration) {
        tracing::warn!(
            "{label}: {reason} (attempt {attempt}); retrying in {:.1}s",
            after.as_secs_f64()
        );
        tokio::time::sleep(after).await;
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

impl GithubClient {
    /// The release tagged `tag` (`GET /repos/{o}/{r}/releases/tags/{tag}`), or `None` if there
    /// is none. The tag is percent-encoded as one path segment.
    pub async fn release_by_tag(
        &self,
        repo: &RepoId,
        tag: &str,
    ) -> Result<Option<Release>, GithubError> {
        let mut url = self.endpoint(&format!(
            "repos/{}/{}/releases/tags",
            repo.owner(),
            repo.repo()
        ))?;
        url.path_segments_mut()
            .map_err(|()| GithubError::Setup {
                message: "the API URL cannot have a path".to_string(),
            })?
            .push(tag);
        self.optional_release(&url, None).await
    }
}

impl GithubClient {
    /// GETs `url`, conditional on the ETag `cache` holds for it (a `304` is answered from the
    /// cache and costs no rate limit), and stores a new answer with its ETag. Returns the body
    /// and the `Link: rel="next"` URL.
    async fn get_cached(
        &self,
        url: &Url,
        cache: Option<&EtagCache>,
    ) -> Result<(Bytes, Option<String>), GithubError> {
        let key = url.to_string();
        let cached = cache.and_then(|c| c.get(&key));
        let resp = self
            .get(url, cached.as_ref().map(|c| c.etag.as_str()))
            .await?;
        Ok(match (resp.status, cached) {
            (304, Some(c)) => (c.body, c.next),
            _ => {
                let next = resp.next_page().map(str::to_string);
                if let (Some(cache), Some(etag)) = (cache, resp.etag()) {
                    cache.put(&key, etag, resp.body.clone(), next.clone());
                }
                (resp.body, next)
            }
        })
    }

    /// GETs one release (conditionally, with a cache); `None` on 404.
    async fn optional_release(
        &self,
        url: &Url,
        cache: Option<&EtagCache>,
    ) -> Result<Option<Release>, GithubError> {
        match self.get_cached(url, cache).await {
            Ok((body, _)) => {
                serde_json::from_slice(&body)
                    .map(Some)
                    .map_err(|e| GithubError::Decode {
                        url: redact(url),
                        message: e.to_string(),
                    })
            }
            Err(GithubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The release with id `id` (`GET /repos/{o}/{r}/releases/{id}`; drafts too, with a token
    /// that can push), or `None` if there is none. With a cache the request is conditional on
    /// the state file's ETag: this is how a release found through GraphQL gets its REST asset
    /// objects (with `digest`) for the report, for free when unchanged.
    pub async fn release_by_id(
        &self,
        repo: &RepoId,
        id: u64,
        cache: Option<&EtagCache>,
    ) -> Result<Option<Release>, GithubError> {
        let url = self.endpoint(&format!(
            "repos/{}/{}/releases/{id}",
            repo.owner(),
            repo.repo()
        ))?;
        self.optional_release(&url, cache).await
    }

    /// The SHA of the commit `reference` (a tag) points at, from `GET
    /// /repos/{o}/{r}/commits/{ref}` with `Accept: application/vnd.github.sha` (the bare SHA,
    /// not the commit with its diff). `None` when GitHub knows no such commit (404 or 422).
    pub async fn commit_sha(
        &self,
        repo: &RepoId,
        reference: &str,
    ) -> Result<Option<String>, GithubError> {
        let mut url = self.endpoint(&format!("repos/{}/{}/commits", repo.owner(), repo.repo()))?;
        url.path_segments_mut()
            .map_err(|()| GithubError::Setup {
                message: "the API URL cannot have a path".to_string(),
            })?
            .push(reference);
        match self.get_as(&url, ACCEPT_SHA, None).await {
            Ok(resp) => {
                let text = String::from_utf8_lossy(&resp.body).trim().to_string();
                if text.len() >= 40
                    && text.len() <= 64
                    && text.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    Ok(Some(text))
                } else {
                    Err(GithubError::Decode {
                        url: redact(&url),
                        message: "the body is not a commit SHA".to_string(),
                    })
                }
            }
            Err(GithubError::NotFound { .. } | GithubError::Http { status: 422, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
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
pub(super) fn insecure_redirect(e: &reqwest::Error) -> Option<String> {
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
pub(super) fn describe_reqwest(e: &reqwest::Error) -> String {
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

pub(super) fn signals(
    status: u16,
    headers: &HeaderMap,
    body: &ErrorBody,
    now: SystemTime,
) -> Signals {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let num = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
    Signals {
        status,
        retry_after: header("retry-after").and_then(|v| parse_retry_after(v, now)),
        remaining: num("x-ratelimit-remaining"),
        reset: num("x-ratelimit-reset"),
        message: body.message.clone(),
        documentation_url: body.documentation_url.clone(),
    }
}

pub(super) fn final_error(status: u16, url: &Url, body: ErrorBody, attempts: u32) -> GithubError {
    match status {
        401 => GithubError::Unauthorized,
        404 => GithubError::NotFound { url: redact(url) },
        _ => GithubError::Http {
            status,
            url: redact(url),
            message: body.message.unwrap_or_else(|| {
                StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("no message")
                    .to_string()
            }),
            attempts,
        },
    }
}

pub(super) fn format_epoch(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .map_or_else(|| secs.to_string(), |t| t.to_rfc3339())
}

/// The HTTP client and its headers, without anything GitHub-specific, for tests of the rules.
#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A client for `api` with a token, for unit tests in this module and its siblings.
    pub(in crate::github) fn client(api: &str) -> GithubClient {
        GithubClient::new(
            ClientOptions {
                api_url: api.to_string(),
                ca_cert: None,
                timeout: Duration::from_secs(5),
                policy: RetryPolicy::default(),
            },
            Some(Token::new("t0k3n")),
        )
        .unwrap()
    }

    #[test]
    fn the_token_goes_to_the_api_origin_only() {
        let c = client("https://github.example.com/api/v3");
        let yes = Url::parse("https://github.example.com/api/v3/repos/a/b").unwrap();
        assert!(c.is_api_origin(&yes));
        for other in [
            "https://objects.githubusercontent.com/x",
            "http://github.example.com/api/v3/x",
            "https://github.example.com:8443/api/v3/x",
            "https://github.example.com.evil.com/api/v3/x",
        ] {
            assert!(!c.is_api_origin(&Url::parse(other).unwrap()), "{other}");
        }
        assert!(!format!("{c:?}").contains("t0k3n"));
    }

    #[test]
    fn endpoints_keep_an_enterprise_path_prefix() {
        let c = client("https://github.example.com/api/v3");
        assert_eq!(
            c.endpoint("/repos/a/b/releases").unwrap().as_str(),
            "https://github.example.com/api/v3/repos/a/b/releases"
        );
        let c = client("https://api.github.com");
        assert_eq!(
            c.endpoint("repos/a/b").unwrap().as_str(),
            "https://api.github.com/repos/a/b"
        );
    }

    #[test]
    fn plain_http_to_a_remote_api_is_refused() {
        let err = GithubClient::new(
            ClientOptions {
                api_url: "http://github.example.com".into(),
                ca_cert: None,
                timeout: Duration::from_secs(5),
                policy: RetryPolicy::default(),
            },
            None,
        )
        .unwrap_err();
        assert!(matches!(err, GithubError::Insecure(_)), "{err}");
    }
}
