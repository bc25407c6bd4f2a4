//! The GitHub client: the shared [`HttpClient`] with GitHub's knowledge on top. It builds the
//! API URLs, adds the `Accept` and API-version headers, sends the token to the API's origin only
//! (never to asset hosts, redirect targets or webhooks), and turns the send loop's failures into
//! [`GithubError`]s that say what to do. Every GitHub request, REST (`rest`), GraphQL (`graphql`)
//! and asset downloads, goes through [`GithubClient::request`] and the one send-with-retry.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, IF_NONE_MATCH};
use url::Url;

use super::GithubError;
use super::app::{AppAuth, Installation, InstallationToken};
use super::limit::ApiLimit;
use super::link::next_link;
use super::models::ErrorBody;
use super::ratelimit::{Api, ApiObserver, CallStats, Counters, RateBudget, format_epoch};
use super::token::Token;
use crate::config::{Config, ForgeKind};
use crate::http::{
    HttpClient, HttpOptions, PostError, PostResponse, Reply, Request, RetryPolicy, SendError,
    check_transport, merge_headers, redact,
};

/// `Accept` for API calls.
pub const ACCEPT_JSON: &str = "application/vnd.github+json";
/// `Accept` for a commit's bare SHA.
pub(super) const ACCEPT_SHA: &str = "application/vnd.github.sha";
/// `Accept` for asset bytes.
pub const ACCEPT_OCTET: &str = "application/octet-stream";
/// The REST API version we speak.
pub const API_VERSION: &str = "2022-11-28";

/// Statuses a GitHub `GET` hands back besides 2xx: `304` (a conditional request) and `416` (a
/// resumed download past the end).
const GET_FINAL: &[StatusCode] = &[StatusCode::NOT_MODIFIED, StatusCode::RANGE_NOT_SATISFIABLE];

/// What the client needs from the configuration, as a plain struct so tests and the Concourse
/// resource can build a client without a config file.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The API base (`https://api.github.com`, or `https://HOST/api/v3`).
    pub api_url: String,
    /// A PEM bundle trusted in addition to the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Connect and read timeout of API calls (`github.timeout`).
    pub timeout: Duration,
    /// Connect and read timeout of asset transfers (`download.timeout`): how long a download
    /// may wait for its next bytes before it is retried or resumed.
    pub transfer_timeout: Duration,
    /// Retries and rate-limit waits.
    pub policy: RetryPolicy,
    /// The most API calls at once (`settings.concurrency`): the ceiling of the adaptive limit.
    pub api_concurrency: usize,
    /// The least time between the starts of two API calls (`settings.rate_limit_delay`, the
    /// seed tool's pause); zero paces by the rate-limit headers and the adaptive limit alone.
    pub min_interval: Duration,
}

impl ClientOptions {
    /// The HTTP client's options: these TLS roots, timeouts and retry policy, certificates
    /// verified. The remote stores build their clients from them too.
    pub fn http_options(&self) -> HttpOptions {
        HttpOptions {
            ca_cert: self.ca_cert.clone(),
            timeout: self.timeout,
            transfer_timeout: self.transfer_timeout,
            accept_invalid_certs: false,
            policy: self.policy,
        }
    }

    /// Options from the `github:` section and `download.retry`.
    pub fn from_config(config: &Config) -> ClientOptions {
        let retry = &config.download.retry;
        ClientOptions {
            api_url: config.github.api_url.as_str().to_string(),
            ca_cert: config.github.ca_cert.clone(),
            timeout: config.github.timeout.as_duration(),
            transfer_timeout: config.download.timeout.as_duration(),
            api_concurrency: config.settings.concurrency as usize,
            min_interval: config.settings.rate_limit_delay.as_duration(),
            policy: RetryPolicy {
                max_attempts: retry.max_attempts.max(1),
                base_delay: retry.delay.as_duration(),
                max_delay: Duration::from_secs(60),
                max_rate_limit_wait: config.github.max_rate_limit_wait.as_duration(),
            },
        }
    }
}

/// A final API response (a success or `304`), read whole, with the headers pagination and ETag
/// caching need.
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

    /// The next page of `url`: the `Link` header's, else GitLab's `X-Next-Page` number (which
    /// GitLab sends where it leaves `Link` out) put in `url`'s `page` parameter.
    pub fn next_page_of(&self, url: &Url) -> Option<String> {
        if let Some(next) = self.next_page() {
            return Some(next.to_string());
        }
        let page: u64 = self
            .headers
            .get("x-next-page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())?;
        let mut next = url.clone();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        next.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair("page", &page.to_string());
        Some(next.to_string())
    }
}

/// The GitHub client. Cheap to share behind an `Arc`; requests may run concurrently.
#[derive(Debug)]
pub struct GithubClient {
    http: HttpClient,
    api: Url,
    token: Option<Token>,
    /// A GitHub App instead of a token: installation tokens fetched and refreshed as needed.
    app: Option<Arc<AppAuth>>,
    counters: Counters,
    limit: ApiLimit,
    pacing: Pacing,
    /// Which API the server speaks: how the token is sent, which headers go along, and
    /// which calls list releases.
    kind: ForgeKind,
    /// Where the token came from, for "bad credentials" messages.
    token_name: String,
}

/// `settings.rate_limit_delay`: API calls start at least `interval` apart, across every task
/// that shares the client. Each call takes the next free start time, so waiting callers keep
/// their order and no two share a slot.
#[derive(Debug)]
struct Pacing {
    interval: Duration,
    next: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl Pacing {
    /// Waits for this call's start time.
    async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let start = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = tokio::time::Instant::now();
            let start = next.map_or(now, |at| at.max(now));
            *next = Some(start + self.interval);
            start
        };
        tokio::time::sleep_until(start).await;
    }
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
        let http = HttpClient::new(&opts.http_options())
            .map_err(|e| GithubError::Setup { message: e.0 })?;
        Ok(GithubClient {
            http,
            api,
            token,
            app: None,
            counters: Counters::default(),
            limit: ApiLimit::new(opts.api_concurrency),
            pacing: Pacing {
                interval: opts.min_interval,
                next: std::sync::Mutex::new(None),
            },
            kind: ForgeKind::Github,
            token_name: "GITHUB_TOKEN".to_string(),
        })
    }

    /// Speaks `kind`'s API, with its token from `token_name` (named in error messages).
    pub fn for_forge(mut self, kind: ForgeKind, token_name: &str) -> GithubClient {
        self.kind = kind;
        self.token_name = token_name.to_string();
        self
    }

    /// Which API the server speaks.
    pub fn kind(&self) -> ForgeKind {
        self.kind
    }

    /// The shared HTTP client underneath (no token), for requests that are not GitHub's.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The API base, always ending in `/`.
    pub fn api_url(&self) -> &Url {
        &self.api
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

    /// Authenticates as the GitHub App `app` (its installation tokens replace the token).
    pub fn with_app(mut self, app: AppAuth) -> GithubClient {
        self.app = Some(Arc::new(app));
        self
    }

    /// True when requests are authenticated (a token, or a GitHub App).
    pub fn has_token(&self) -> bool {
        self.token.is_some() || self.app.is_some()
    }

    /// True when one credential serves every repository, so their listings can be batched in
    /// GraphQL queries: a token, or an App with a fixed installation. An App that finds its
    /// installation per owner asks REST, each repository with its owner's token.
    pub fn can_batch(&self) -> bool {
        self.kind == ForgeKind::Github && self.token.is_some()
            || self
                .app
                .as_ref()
                .is_some_and(|a| a.installation_id().is_some())
    }

    /// Request counts so far.
    pub fn stats(&self) -> CallStats {
        self.counters.stats()
    }

    /// The budget from the last response's headers.
    pub fn budget(&self) -> Option<RateBudget> {
        self.counters.budget()
    }

    /// The counters, for the GraphQL calls' cost and budget.
    pub(super) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The retry policy, for callers that retry whole transfers (a body cut off mid-way).
    pub fn policy(&self) -> &RetryPolicy {
        self.http.policy()
    }

    /// The headers of a request to `url`: `headers`, plus `Authorization` when `url` is on the
    /// API's origin and a token (or a GitHub App) is configured. The one place the token is put on
    /// a request.
    pub(super) async fn authorize(
        &self,
        url: &Url,
        mut headers: HeaderMap,
    ) -> Result<HeaderMap, GithubError> {
        if !self.is_api_origin(url) {
            return Ok(headers);
        }
        let token = match (&self.app, &self.token) {
            (Some(app), _) => Some(self.app_token(app, url).await?),
            (None, Some(token)) => Some(token.clone()),
            (None, None) => None,
        };
        if let Some(token) = token {
            match self.kind {
                // GitLab takes its personal, project and group access tokens as a bearer token
                // too (instead of `PRIVATE-TOKEN`): `Authorization` is the header every HTTP
                // stack drops on a redirect to another host.
                ForgeKind::Github | ForgeKind::Gitlab => {
                    headers.insert(AUTHORIZATION, bearer(token.expose())?);
                }
                ForgeKind::Gitea => {
                    headers.insert(
                        AUTHORIZATION,
                        sensitive(&format!("token {}", token.expose()))?,
                    );
                }
            }
        }
        Ok(headers)
    }

    /// `owner` and `repo` of an API URL under `repos/{owner}/{repo}/`.
    fn repo_of<'u>(&self, url: &'u Url) -> (Option<&'u str>, Option<&'u str>) {
        let rest = url.path().strip_prefix(self.api.path()).unwrap_or_default();
        let mut parts = rest.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("repos"), Some(owner), repo) if !owner.is_empty() => {
                (Some(owner), repo.filter(|r| !r.is_empty()))
            }
            _ => (None, None),
        }
    }

    /// The installation token for a request to `url`: the configured installation's, else the
    /// installation of the repository's owner (found once per owner). Cached until
    /// [`REFRESH_BEFORE`](super::REFRESH_BEFORE) its expiry.
    async fn app_token(&self, app: &AppAuth, url: &Url) -> Result<Token, GithubError> {
        let (owner, repo) = self.repo_of(url);
        if let Some(id) = app.known_installation(owner).await
            && let Some(token) = app.cached(id).await
        {
            return Ok(token);
        }
        // One fetch at a time: the others wait and then find the answer cached.
        let _guard = app.fetch_guard().await;
        let id = match app.known_installation(owner).await {
            Some(id) => id,
            None => {
                let (Some(owner), Some(repo)) = (owner, repo) else {
                    return Err(GithubError::App(
                        "this request names no repository, so the App's installation cannot be                          found from it; set github.app.installation_id"
                            .to_string(),
                    ));
                };
                let url = self.app_url(&format!("repos/{owner}/{repo}/installation"))?;
                let reply = self
                    .app_call(Request::get(url.clone(), self.jwt_headers(app)?))
                    .await?;
                let found: Installation =
                    serde_json::from_slice(&reply.body).map_err(|e| GithubError::Decode {
                        url: redact(&url),
                        message: e.to_string(),
                    })?;
                app.remember_owner(owner, found.id).await;
                found.id
            }
        };
        if let Some(token) = app.cached(id).await {
            return Ok(token);
        }
        let url = self.app_url(&format!("app/installations/{id}/access_tokens"))?;
        let reply = self
            .app_call(Request::post(
                url.clone(),
                self.jwt_headers(app)?,
                Bytes::new(),
            ))
            .await?;
        let answer: InstallationToken =
            serde_json::from_slice(&reply.body).map_err(|e| GithubError::Decode {
                url: redact(&url),
                message: e.to_string(),
            })?;
        app.store(id, answer)
            .await
            .map_err(|e| GithubError::App(e.0))
    }

    fn app_url(&self, path: &str) -> Result<Url, GithubError> {
        self.api.join(path).map_err(|e| GithubError::Setup {
            message: format!("cannot build the App's URL: {e}"),
        })
    }

    /// `Accept`, the API version and the App's JWT: for the App's own endpoints.
    fn jwt_headers(&self, app: &AppAuth) -> Result<HeaderMap, GithubError> {
        let jwt = app.jwt().map_err(|e| GithubError::App(e.0))?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_JSON));
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        headers.insert(AUTHORIZATION, bearer(&jwt)?);
        Ok(headers)
    }

    /// One call to an App endpoint; a refusal is an [`GithubError::App`] that says what to
    /// check (never quoting the JWT).
    async fn app_call(&self, req: Request) -> Result<Reply, GithubError> {
        self.request(&req, Api::Rest).await.map_err(|e| match e {
            GithubError::Unauthorized { .. } => GithubError::App(
                "GitHub refused the App's JWT (check the App id and its private key)".to_string(),
            ),
            GithubError::NotFound { .. } | GithubError::RepositoryNotFound { .. } => {
                GithubError::App(format!(
                    "{}: not found (is the App installed on this owner, or is the installation id \
                     right?)",
                    redact(&req.url)
                ))
            }
            GithubError::Http {
                status, message, ..
            } => GithubError::App(format!("HTTP {status}: {message}")),
            other => other,
        })
    }

    /// Sends `req` (already [authorized](GithubClient::authorize)) through the one
    /// send-with-retry and reads the answer; `api` says how it is counted. It holds one of the
    /// adaptive API permits meanwhile, and tells the limit how the call went.
    pub(super) async fn request(&self, req: &Request, api: Api) -> Result<Reply, GithubError> {
        let _permit = self.limit.acquire().await;
        self.pacing.wait().await;
        let started = std::time::Instant::now();
        let observer = self.observer(&req.url, api, Some(&self.limit));
        let reply = self
            .http
            .fetch(req, &observer)
            .await
            .map_err(|e| self.error(&req.url, e))?;
        self.limit.answered(started.elapsed());
        Ok(reply)
    }

    /// The adaptive limit on API calls at once (see `limit`).
    pub fn api_limit(&self) -> &ApiLimit {
        &self.limit
    }

    fn observer<'a>(
        &'a self,
        url: &'a Url,
        api: Api,
        limit: Option<&'a ApiLimit>,
    ) -> ApiObserver<'a> {
        ApiObserver {
            counters: &self.counters,
            url,
            api,
            limit,
        }
    }

    /// A GitHub GET of `url`: `Accept`, the API version, `extra`, and the token on the API's
    /// origin only; final on 2xx, 304 and 416.
    async fn get_request(
        &self,
        url: &Url,
        accept: &str,
        extra: &HeaderMap,
    ) -> Result<Request, GithubError> {
        let mut headers = HeaderMap::new();
        let accept = match (self.kind, accept) {
            (ForgeKind::Github, _) => accept,
            (_, ACCEPT_JSON) => "application/json",
            (_, other) => other,
        };
        if let Ok(v) = HeaderValue::from_str(accept) {
            headers.insert(ACCEPT, v);
        }
        if self.kind == ForgeKind::Github {
            headers.insert(
                "x-github-api-version",
                HeaderValue::from_static(API_VERSION),
            );
        }
        merge_headers(&mut headers, extra);
        let headers = self.authorize(url, headers).await?;
        Ok(Request {
            also_final: GET_FINAL,
            ..Request::get(url.clone(), headers)
        })
    }

    /// The send loop's failure for `url`, worded for GitHub (the URL redacted, GitHub's
    /// `message`, the rate-limit reset).
    pub(super) fn error(&self, url: &Url, e: SendError) -> GithubError {
        match e {
            SendError::Refused(msg) | SendError::Redirect(msg) => GithubError::Insecure(msg),
            SendError::Transport { message, attempts } => GithubError::Transport {
                url: redact(url),
                message,
                attempts,
            },
            SendError::RateLimited { reset, wait, .. } => GithubError::RateLimited {
                reset: reset.map(format_epoch),
                wait_secs: wait.map(|w| w.as_secs()),
                max_wait_secs: self.policy().max_rate_limit_wait.as_secs(),
            },
            SendError::Status(r) => {
                let mut body: ErrorBody = serde_json::from_slice(&r.body).unwrap_or_default();
                // A server that quotes the request back never prints the token.
                if let (Some(token), Some(message)) = (&self.token, &mut body.message)
                    && !token.expose().is_empty()
                {
                    *message = message.replace(token.expose(), "***");
                }
                match final_error(r.status, url, body, r.attempts) {
                    GithubError::Unauthorized { .. } => GithubError::Unauthorized {
                        token: self.token_name.clone(),
                    },
                    other => other,
                }
            }
        }
    }

    /// GETs an API URL with retries; `etag` makes it conditional. Returns a 2xx or a 304;
    /// anything else is an error that says what to do.
    pub async fn get(&self, url: &Url, etag: Option<&str>) -> Result<ApiResponse, GithubError> {
        self.get_as(url, ACCEPT_JSON, etag).await
    }

    /// Like [`GithubClient::get`] with another `Accept` (a media type such as
    /// `application/vnd.github.sha`).
    pub(super) async fn get_as(
        &self,
        url: &Url,
        accept: &str,
        etag: Option<&str>,
    ) -> Result<ApiResponse, GithubError> {
        let mut extra = HeaderMap::new();
        if let Some(tag) = etag
            && let Ok(v) = HeaderValue::from_str(tag)
        {
            extra.insert(IF_NONE_MATCH, v);
        }
        let req = self.get_request(url, accept, &extra).await?;
        let reply = self.request(&req, Api::Rest).await?;
        Ok(ApiResponse {
            status: reply.status.as_u16(),
            headers: reply.headers,
            body: reply.body,
        })
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
        let req = self.get_request(url, accept, extra).await?;
        // Transfers have their own permits (`download.concurrency`), not the API's.
        let observer = self.observer(url, Api::Rest, None);
        self.http
            .send(&req, &observer)
            .await
            .map_err(|e| self.error(url, e))
    }

    /// POSTs `body` to a URL outside GitHub (a notification webhook) through the shared
    /// [`HttpClient::post`]: same pool, TLS roots, HTTPS rule, redirect rule and retry policy.
    /// It never carries the token, whatever the URL (even the API's own origin): the HTTP
    /// client underneath holds none. `label` names the destination instead of the secret URL.
    pub async fn post(
        &self,
        url: &Url,
        label: &str,
        content_type: &str,
        body: Bytes,
        extra: &HeaderMap,
    ) -> Result<PostResponse, PostError> {
        self.http.post(url, label, content_type, body, extra).await
    }
}

/// The error for a final error status: 401 and 404 have their own wording, the rest quote
/// GitHub's `message`.
pub(super) fn final_error(
    status: StatusCode,
    url: &Url,
    body: ErrorBody,
    attempts: u32,
) -> GithubError {
    match status.as_u16() {
        401 => GithubError::Unauthorized {
            token: "GITHUB_TOKEN".to_string(),
        },
        404 => GithubError::NotFound { url: redact(url) },
        code => GithubError::Http {
            status: code,
            url: redact(url),
            message: body.message.unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_string()
            }),
            attempts,
        },
    }
}

/// `Bearer {secret}`, marked sensitive so it is never logged.
fn bearer(secret: &str) -> Result<HeaderValue, GithubError> {
    sensitive(&format!("Bearer {secret}"))
}

/// A header value holding a secret, marked sensitive so it is never logged.
fn sensitive(text: &str) -> Result<HeaderValue, GithubError> {
    let mut value = HeaderValue::from_str(text).map_err(|_| GithubError::Setup {
        message: "the token contains characters not allowed in a header".to_string(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client for `api` with a token. (The other files' tests use `test_support`, which
    /// depends on this file; these tests do not, so the files do not depend on each other.)
    fn client(api: &str) -> GithubClient {
        GithubClient::new(
            ClientOptions {
                api_url: api.to_string(),
                ca_cert: None,
                timeout: Duration::from_secs(5),
                transfer_timeout: Duration::from_secs(5),
                api_concurrency: 8,
                min_interval: Duration::ZERO,
                policy: RetryPolicy::default(),
            },
            Some(Token::new("t0k3n")),
        )
        .unwrap()
    }

    #[test]
    fn the_next_page_comes_from_link_else_from_x_next_page() {
        let url = Url::parse(
            "https://gitlab.example.com/api/v4/projects/a%2Fb/releases?per_page=2&page=1",
        )
        .unwrap();
        let response = |pairs: &[(&'static str, &str)]| {
            let mut headers = HeaderMap::new();
            for (k, v) in pairs {
                headers.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            ApiResponse {
                status: 200,
                headers,
                body: Bytes::new(),
            }
        };
        let linked = response(&[
            ("link", "<https://gitlab.example.com/next>; rel=\"next\""),
            ("x-next-page", "2"),
        ]);
        assert_eq!(
            linked.next_page_of(&url).as_deref(),
            Some("https://gitlab.example.com/next")
        );
        let numbered = response(&[("x-next-page", "2")]);
        assert_eq!(
            numbered.next_page_of(&url).as_deref(),
            Some("https://gitlab.example.com/api/v4/projects/a%2Fb/releases?per_page=2&page=2")
        );
        assert_eq!(response(&[("x-next-page", "")]).next_page_of(&url), None);
        assert_eq!(response(&[]).next_page_of(&url), None);
    }

    #[test]
    fn an_error_message_quoting_the_token_never_shows_it() {
        let c = client("https://github.example.com/api/v3");
        let url = Url::parse("https://github.example.com/api/v3/repos/a/b/releases").unwrap();
        let rejection = crate::http::Rejection {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            headers: HeaderMap::new(),
            body: Bytes::from_static(br#"{"message": "Bad credentials: token t0k3n is revoked"}"#),
            attempts: 1,
        };
        let text = c
            .error(&url, SendError::Status(Box::new(rejection)))
            .to_string();
        assert!(
            text.contains("Bad credentials: token *** is revoked"),
            "{text}"
        );
        assert!(!text.contains("t0k3n"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_gives_each_call_the_next_free_start() {
        let pacing = Pacing {
            interval: Duration::from_secs(1),
            next: std::sync::Mutex::new(None),
        };
        let t0 = tokio::time::Instant::now();
        let started = std::sync::Mutex::new(Vec::new());
        let call = || async {
            pacing.wait().await;
            started.lock().unwrap().push(t0.elapsed().as_secs());
        };
        tokio::join!(call(), call(), call());
        assert_eq!(*started.lock().unwrap(), [0, 1, 2]);
        // Once idle for longer than the interval, the next call starts at once.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = tokio::time::Instant::now();
        pacing.wait().await;
        assert_eq!(before.elapsed(), Duration::ZERO);
        let none = Pacing {
            interval: Duration::ZERO,
            next: std::sync::Mutex::new(None),
        };
        none.wait().await;
        assert_eq!(before.elapsed(), Duration::ZERO);
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

    #[tokio::test]
    async fn the_token_is_put_on_api_requests_only() {
        let c = client("https://github.example.com/api/v3");
        let api = Url::parse("https://github.example.com/api/v3/repos/a/b").unwrap();
        let asset = Url::parse("https://objects.githubusercontent.com/x").unwrap();
        let req = c
            .get_request(&api, ACCEPT_JSON, &HeaderMap::new())
            .await
            .unwrap();
        let auth = req.headers.get(AUTHORIZATION).unwrap();
        assert!(auth.is_sensitive() && auth == "Bearer t0k3n");
        assert_eq!(req.headers["x-github-api-version"], API_VERSION);
        let req = c
            .get_request(&asset, ACCEPT_OCTET, &HeaderMap::new())
            .await
            .unwrap();
        assert!(req.headers.get(AUTHORIZATION).is_none());
        assert_eq!(req.headers[ACCEPT], ACCEPT_OCTET);
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
                transfer_timeout: Duration::from_secs(5),
                api_concurrency: 8,
                min_interval: Duration::ZERO,
                policy: RetryPolicy::default(),
            },
            None,
        )
        .unwrap_err();
        assert!(matches!(err, GithubError::Insecure(_)), "{err}");
    }
}
