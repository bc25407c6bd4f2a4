//! Request handling for both origins: faults, auth, rate limits, routing, JSON, ranges.
//!
//! Everything here is synchronous and runs under the server's state lock, so requests are
//! answered and recorded atomically, in arrival order.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};

use crate::body::After;
use crate::fault::{FaultKind, Origin};
use crate::model::{
    AssetW, ReleaseW, RepoW, World, hex, http_date, iso, pseudo_random_bytes, sha256,
};
use crate::scenario::Forge;

const DOCS: &str = "https://docs.github.com/rest";
const RATE_DOCS: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-rate-limits";
const SECONDARY_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
const JSON_TYPE: &str = "application/json; charset=utf-8";

/// Characters escaped in a URL path segment we build (tags and file names).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/');

/// Like [`SEGMENT`] but keeps `/`, for tags such as `release/1.0`.
pub(crate) const TAG_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The two base URLs, for building absolute URLs in JSON and headers.
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    pub api: String,
    pub assets: String,
}

/// The mutable server state: the compiled scenario, fault counters, rate budget, the log.
#[derive(Debug)]
pub(crate) struct State {
    pub world: World,
    pub fault_used: Vec<u32>,
    pub remaining: u32,
    /// The GraphQL budget (resource `graphql`), separate from the REST one as on GitHub.
    pub graphql_remaining: u32,
    pub reset_at: u64,
    pub requests: Vec<crate::RecordedRequest>,
    pub served: u64,
    /// Installation tokens issued to the App, with their expiry (Unix seconds).
    pub issued: Vec<(String, u64)>,
}

impl State {
    pub(crate) fn new(world: World) -> State {
        let now = unix_now();
        let remaining = world
            .rate_limit
            .remaining
            .unwrap_or(world.rate_limit.limit)
            .min(world.rate_limit.limit);
        State {
            fault_used: vec![0; world.faults.len()],
            remaining,
            graphql_remaining: remaining,
            reset_at: now.saturating_add(world.rate_limit.reset_in),
            world,
            requests: Vec::new(),
            issued: Vec::new(),
            served: 0,
        }
    }

    /// Swaps the world, resetting fault counters and the rate budget; keeps the request log.
    pub(crate) fn replace(&mut self, world: World) {
        let requests = std::mem::take(&mut self.requests);
        let served = self.served;
        *self = State::new(world);
        self.requests = requests;
        self.served = served;
    }

    /// Starts a new rate window once the reset time has passed.
    pub(crate) fn refresh(&mut self, now: u64) {
        if now >= self.reset_at {
            self.remaining = self.world.rate_limit.limit;
            self.graphql_remaining = self.world.rate_limit.limit;
            self.reset_at = now.saturating_add(3600);
        }
    }

    /// The first fault that matches and has uses left, consuming one use.
    fn take_fault(&mut self, origin: Origin, method: &str, path: &str) -> Option<FaultKind> {
        for (index, fault) in self.world.faults.iter().enumerate() {
            if !fault.rule.matches(origin, method, path) {
                continue;
            }
            let seen = self.fault_used.get(index).copied().unwrap_or(0);
            if let Some(slot) = self.fault_used.get_mut(index) {
                *slot = seen.saturating_add(1);
            }
            // The first `after` matching requests go through; then the fault's own count.
            let Some(used) = seen.checked_sub(fault.after) else {
                continue;
            };
            if fault.budget().is_some_and(|budget| used >= budget) {
                continue;
            }
            return Some(match &fault.kind {
                FaultKind::Statuses(list) => {
                    let pick = usize::try_from(used).ok().and_then(|i| list.get(i));
                    FaultKind::Statuses(pick.map(|s| vec![*s]).unwrap_or_else(|| vec![500]))
                }
                other => other.clone(),
            });
        }
        None
    }

    /// The rate-limit headers, after spending one request if `spend`.
    pub(crate) fn rate_headers(&mut self, spend: bool, now: u64) -> Vec<(String, String)> {
        self.refresh(now);
        if spend {
            self.remaining = self.remaining.saturating_sub(1);
        }
        let limit = self.world.rate_limit.limit;
        rate_header_values(limit, self.remaining, self.reset_at)
    }
}

fn rate_header_values(limit: u32, remaining: u32, reset: u64) -> Vec<(String, String)> {
    resource_header_values("core", limit, remaining, reset)
}

/// The `X-RateLimit-*` headers of one resource (`core`, `graphql`).
pub(crate) fn resource_header_values(
    resource: &str,
    limit: u32,
    remaining: u32,
    reset: u64,
) -> Vec<(String, String)> {
    vec![
        ("x-ratelimit-limit".into(), limit.to_string()),
        ("x-ratelimit-remaining".into(), remaining.to_string()),
        (
            "x-ratelimit-used".into(),
            limit.saturating_sub(remaining).to_string(),
        ),
        ("x-ratelimit-reset".into(), reset.to_string()),
        ("x-ratelimit-resource".into(), resource.into()),
    ]
}

/// The parts of a request the handlers look at.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub origin: Origin,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The request body (a GraphQL POST's JSON; empty for a GET).
    pub body: Bytes,
}

impl Req {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then_some(value)
        })
    }

    pub(crate) fn is_get_or_head(&self) -> bool {
        self.method == "GET" || self.method == "HEAD"
    }
}

/// A response, before it becomes a hyper response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub after: After,
    /// The `Content-Length` to announce when the body is cut short.
    pub declared_len: Option<u64>,
    /// A short remark for the console log (e.g. which fault fired).
    pub note: Option<String>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            after: After::End,
            declared_len: None,
            note: None,
        }
    }

    /// A plain-text reply.
    pub(crate) fn new_text(status: u16, text: &str) -> Reply {
        Reply::new(
            status,
            "text/plain; charset=utf-8",
            Bytes::copy_from_slice(text.as_bytes()),
        )
    }

    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        let body = serde_json::to_vec(value).unwrap_or_default();
        Reply::new(status, JSON_TYPE, body)
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn noted(mut self, note: impl Into<String>) -> Reply {
        self.note = Some(note.into());
        self
    }

    /// Keeps only the first `keep` body bytes, then `after` (a transfer fault).
    fn damage(&mut self, keep: u64, after: After, what: &str) {
        let len = self.body.len() as u64;
        if keep >= len {
            self.note = Some(format!(
                "{what} {keep} (body is only {len} bytes: sent whole)"
            ));
            return;
        }
        let keep = usize::try_from(keep).unwrap_or(0);
        self.body = self.body.slice(..keep);
        self.after = after;
        self.declared_len = Some(len);
        self.note = Some(format!("{what} after {keep} of {len} bytes"));
    }

    /// Flips the body byte at `offset` (XOR `0xFF`), keeping the length and every header.
    fn corrupt(&mut self, offset: u64) {
        let len = self.body.len() as u64;
        let Some(index) = usize::try_from(offset).ok().filter(|_| offset < len) else {
            self.note = Some(format!(
                "fault: corrupt at {offset} (body is only {len} bytes: sent unchanged)"
            ));
            return;
        };
        let mut bytes = self.body.to_vec();
        if let Some(byte) = bytes.get_mut(index) {
            *byte ^= 0xFF;
        }
        self.body = Bytes::from(bytes);
        self.note = Some(format!("fault: corrupted byte {offset} of {len}"));
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn message_for(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Bad credentials",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        422 => "Validation Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

pub(crate) fn error_body(status: u16, message: &str, docs: &str) -> Value {
    json!({"message": message, "documentation_url": docs, "status": status.to_string()})
}

fn error_reply(status: u16, message: &str) -> Reply {
    Reply::json(status, &error_body(status, message, DOCS))
}

/// Answers one request and updates the state (faults, rate budget). Does not record it.
pub(crate) fn handle(urls: &Urls, state: &mut State, req: &Req) -> Reply {
    let now = unix_now();
    state.served = state.served.wrapping_add(1);
    let fault = state.take_fault(req.origin, &req.method, &req.path);
    let mut body_fault = None;
    let mut reply = match fault {
        Some(FaultKind::TruncateAfter(n)) => {
            body_fault = Some((n, After::Abort, "truncate"));
            serve(urls, state, req, now)
        }
        Some(FaultKind::StallAfter(n)) => {
            body_fault = Some((n, After::Stall, "stall"));
            serve(urls, state, req, now)
        }
        Some(FaultKind::ResetAfter(n)) => {
            body_fault = Some((n, After::Reset, "reset"));
            serve(urls, state, req, now)
        }
        Some(FaultKind::CorruptAt(offset)) => {
            let mut reply = serve(urls, state, req, now);
            reply.corrupt(offset);
            reply
        }
        Some(FaultKind::IgnoreRange) => {
            let mut whole = req.clone();
            whole
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("range"));
            serve(urls, state, &whole, now).noted("fault: range ignored")
        }
        Some(kind) => fault_reply(state, req, kind, now),
        None => serve(urls, state, req, now),
    };
    if let Some((keep, after, what)) = body_fault {
        reply.damage(keep, after, &format!("fault: {what}"));
    }
    if req.origin == Origin::Api {
        let id = format!(
            "FAKE:{:04X}:{:08X}",
            std::process::id() & 0xFFFF,
            state.served
        );
        reply.headers.push(("x-github-request-id".into(), id));
    }
    reply
}

fn serve(urls: &Urls, state: &mut State, req: &Req, now: u64) -> Reply {
    match (req.origin, state.world.forge) {
        (Origin::Api, Forge::Github) => api(urls, state, req, now),
        (Origin::Api, Forge::Gitlab) => crate::forges::gitlab(urls, state, req, now),
        (Origin::Api, Forge::Gitea) => crate::forges::gitea(urls, state, req, now),
        (Origin::Assets, _) => assets(state, req),
    }
}

/// A fault that replaces the response entirely.
fn fault_reply(state: &mut State, req: &Req, kind: FaultKind, now: u64) -> Reply {
    let is_api = req.origin == Origin::Api;
    match kind {
        FaultKind::Statuses(list) => {
            let status = list.first().copied().unwrap_or(500);
            let message = if status >= 500 {
                "Server Error"
            } else {
                message_for(status)
            };
            let mut reply = error_reply(status, message).noted(format!("fault: status {status}"));
            if is_api {
                reply.headers.extend(state.rate_headers(true, now));
            }
            reply
        }
        FaultKind::RateLimited { status, reset_in } => {
            let who = if authorization(req).is_some() {
                "user ID 1".to_string()
            } else {
                "127.0.0.1".to_string()
            };
            let message = format!(
                "API rate limit exceeded for {who}. (But here's the good news: Authenticated \
                 requests get a higher rate limit. Check out the documentation for more details.)"
            );
            let mut reply = Reply::json(status, &error_body(status, &message, RATE_DOCS))
                .noted("fault: primary rate limit");
            let limit = state.world.rate_limit.limit;
            reply
                .headers
                .extend(rate_header_values(limit, 0, now.saturating_add(reset_in)));
            reply
        }
        FaultKind::SecondaryRateLimit {
            status,
            retry_after,
        } => {
            let message = "You have exceeded a secondary rate limit. Please wait a few minutes \
                           before you try again. If you reach out to GitHub Support for help, \
                           please include the request ID.";
            let mut reply = Reply::json(status, &error_body(status, message, SECONDARY_DOCS))
                .noted("fault: secondary rate limit");
            if let Some(secs) = retry_after {
                reply.headers.push(("retry-after".into(), secs.to_string()));
            }
            if is_api {
                reply.headers.extend(state.rate_headers(true, now));
            }
            reply
        }
        FaultKind::RedirectTo(location) => {
            let mut reply = Reply::new(302, "text/html; charset=utf-8", Bytes::new())
                .header("location", location.clone())
                .noted(format!("fault: redirect to {location}"));
            if is_api {
                reply.headers.extend(state.rate_headers(true, now));
            }
            reply
        }
        // Body faults are handled by the caller; serve them as a plain error if they get here.
        FaultKind::TruncateAfter(_)
        | FaultKind::StallAfter(_)
        | FaultKind::ResetAfter(_)
        | FaultKind::CorruptAt(_)
        | FaultKind::IgnoreRange => error_reply(500, "Server Error"),
    }
}

/// The token in `Authorization: Bearer X` / `token X`; `Some("")` for any other scheme.
pub(crate) fn authorization(req: &Req) -> Option<&str> {
    let value = req.header("authorization")?.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        Some(rest.trim())
    } else {
        Some("")
    }
}

/// The App's endpoints, when the scenario has an App: `None` for every other request.
fn app_route(state: &mut State, req: &Req, now: u64) -> Option<Reply> {
    enum Call {
        /// `POST /app/installations/{id}/access_tokens`.
        Token(Option<u64>),
        /// `GET /repos/{owner}/{repo}/installation`: the owner's installation, if any.
        Installation(Option<u64>),
    }
    let app = state.world.app.clone()?;
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let call = match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["app", "installations", id, "access_tokens"]) => Call::Token(id.parse().ok()),
        ("GET", ["repos", owner, _, "installation"]) => Call::Installation(
            app.installations
                .iter()
                .find(|(o, _)| o.eq_ignore_ascii_case(owner))
                .map(|(_, id)| *id),
        ),
        _ => return None,
    };
    // A JWT signed by the App's key, issued by it, not expired.
    let jwt = authorization(req).unwrap_or_default();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(app.public_key.as_bytes()).ok()?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[app.id.to_string()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    if jsonwebtoken::decode::<Value>(jwt, &key, &validation).is_err() {
        return Some(
            error_reply(401, "A JSON web token could not be decoded").noted("bad App JWT"),
        );
    }
    Some(match call {
        Call::Installation(Some(id)) => Reply::json(200, &json!({"id": id, "app_id": app.id})),
        Call::Token(Some(id)) if app.installations.values().any(|v| *v == id) => {
            let token = format!("ghs_fakeInstallation{id}n{}", state.issued.len() + 1);
            let expires = now + app.token_ttl;
            state.issued.push((token.clone(), expires));
            let at =
                chrono::DateTime::from_timestamp(i64::try_from(expires).unwrap_or(i64::MAX), 0)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Reply::json(201, &json!({"token": token, "expires_at": at}))
        }
        _ => error_reply(404, "Not Found").noted("no such installation"),
    })
}

/// What an API route produced.
enum Out {
    Json(u16, Value, Vec<(String, String)>),
    /// A plain-text body (a media type such as `application/vnd.github.sha`).
    Text(u16, String),
    Redirect(String),
}

fn not_found() -> Out {
    Out::Json(404, error_body(404, "Not Found", DOCS), Vec::new())
}

pub(crate) fn api(urls: &Urls, state: &mut State, req: &Req, now: u64) -> Reply {
    if req
        .header("user-agent")
        .is_none_or(|ua| ua.trim().is_empty())
    {
        let message = "Request forbidden by administrative rules. \
                       Please make sure your request has a User-Agent header \
                       (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).";
        let mut reply = Reply::json(403, &error_body(403, message, DOCS)).noted("no User-Agent");
        reply.headers.extend(state.rate_headers(false, now));
        return reply;
    }
    if let Some(reply) = app_route(state, req, now) {
        return reply;
    }
    let issued = |given: &str| {
        state
            .issued
            .iter()
            .any(|(t, expires)| t == given && *expires > now)
    };
    let authed = match (authorization(req), &state.world.token) {
        (Some(given), Some(expected)) if given == expected => true,
        (Some(given), _) if issued(given) => true,
        (Some(_), Some(_)) => {
            let mut reply = error_reply(401, "Bad credentials").noted("wrong token");
            reply.headers.extend(state.rate_headers(true, now));
            return reply;
        }
        _ => false,
    };
    if req.path == "/rate_limit" && req.is_get_or_head() {
        let headers = state.rate_headers(false, now);
        let limit = state.world.rate_limit.limit;
        let core = json!({
            "limit": limit,
            "remaining": state.remaining,
            "reset": state.reset_at,
            "used": limit.saturating_sub(state.remaining),
            "resource": "core",
        });
        let value = json!({"resources": {"core": core}, "rate": core});
        return with_etag(req, Reply::json(200, &value), headers);
    }
    if req.path == "/graphql" && req.method == "POST" {
        return crate::graphql::answer(state, req, authed, now);
    }
    state.refresh(now);
    if state.remaining == 0 {
        let message = "API rate limit exceeded for 127.0.0.1. (But here's the good news: \
                       Authenticated requests get a higher rate limit. Check out the \
                       documentation for more details.)";
        let mut reply =
            Reply::json(403, &error_body(403, message, RATE_DOCS)).noted("rate budget exhausted");
        reply.headers.extend(state.rate_headers(false, now));
        return reply;
    }
    let out = if req.is_get_or_head() {
        route_api(urls, &state.world, req, authed)
    } else {
        not_found()
    };
    match out {
        Out::Text(status, text) => {
            let mut reply = Reply::new(status, "application/vnd.github.sha; charset=utf-8", text);
            reply.headers.extend(state.rate_headers(true, now));
            reply
        }
        Out::Redirect(location) => {
            let mut reply = Reply::new(302, "text/html; charset=utf-8", Bytes::new())
                .header("location", location);
            reply.headers.extend(state.rate_headers(true, now));
            reply
        }
        Out::Json(status, value, extra) => {
            let mut reply = Reply::json(status, &value);
            reply.headers.extend(extra);
            if status == 200 {
                let etag = weak_etag(&reply.body);
                if if_none_match(req, &etag) {
                    let mut not_modified = Reply {
                        status: 304,
                        headers: vec![("etag".into(), etag)],
                        body: Bytes::new(),
                        after: After::End,
                        declared_len: None,
                        note: None,
                    };
                    not_modified
                        .headers
                        .extend(reply.headers.into_iter().filter(|(n, _)| n == "link"));
                    not_modified.headers.extend(state.rate_headers(false, now));
                    return not_modified;
                }
                reply.headers.push(("etag".into(), etag));
            }
            reply.headers.extend(state.rate_headers(true, now));
            reply
        }
    }
}

/// Adds an ETag (or answers 304) for a free endpoint such as `/rate_limit`.
fn with_etag(req: &Req, mut reply: Reply, rate: Vec<(String, String)>) -> Reply {
    let etag = weak_etag(&reply.body);
    if if_none_match(req, &etag) {
        reply.status = 304;
        reply.body = Bytes::new();
        reply.headers.clear();
    }
    reply.headers.push(("etag".into(), etag));
    reply.headers.extend(rate);
    reply
}

pub(crate) fn weak_etag(body: &[u8]) -> String {
    format!("W/\"{}\"", &hex(&sha256(body))[..40])
}

/// Whether `If-None-Match` names `etag` (weak comparison) or is `*`.
fn if_none_match(req: &Req, etag: &str) -> bool {
    let Some(header) = req.header("if-none-match") else {
        return false;
    };
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let ours = bare(etag);
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || bare(tag) == ours)
}

pub(crate) fn decoded_segments(path: &str) -> Vec<String> {
    path.split('/')
        .skip(1)
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

fn route_api(urls: &Urls, world: &World, req: &Req, authed: bool) -> Out {
    let segments = decoded_segments(&req.path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["repos", owner, name, rest @ ..] => {
            repo_route(urls, world, req, authed, owner, name, rest)
        }
        _ => not_found(),
    }
}

fn repo_route(
    urls: &Urls,
    world: &World,
    req: &Req,
    authed: bool,
    owner: &str,
    name: &str,
    rest: &[&str],
) -> Out {
    let Some(repo) = world.repo(owner, name) else {
        return not_found();
    };
    if repo.private && !authed {
        return not_found();
    }
    if let Some(status) = repo.status {
        return Out::Json(
            status,
            error_body(status, message_for(status), DOCS),
            Vec::new(),
        );
    }
    let visible = |rel: &&ReleaseW| !rel.draft || authed;
    match rest {
        [] => Out::Json(200, repo_json(urls, repo), Vec::new()),
        ["releases"] => list_releases(urls, repo, req, authed),
        ["tags"] => list_tags(urls, repo, req),
        ["releases", "latest"] => repo
            .releases
            .iter()
            .filter(|r| !r.draft && !r.prerelease)
            .enumerate()
            // Newest creation date wins; on a tie, the one listed first.
            .max_by_key(|(index, r)| (r.created_at, std::cmp::Reverse(*index)))
            .map_or_else(not_found, |(_, rel)| {
                Out::Json(200, release_json(urls, repo, rel), Vec::new())
            }),
        ["releases", "tags", tag @ ..] if !tag.is_empty() => {
            let tag = tag.join("/");
            repo.releases
                .iter()
                .find(|r| !r.draft && r.tag == tag)
                .map_or_else(not_found, |rel| {
                    Out::Json(200, release_json(urls, repo, rel), Vec::new())
                })
        }
        ["releases", "assets", id] => {
            let found = id.parse::<u64>().ok().and_then(|id| {
                repo.releases
                    .iter()
                    .filter(visible)
                    .find_map(|rel| rel.assets.iter().find(|a| a.id == id).map(|a| (rel, a)))
            });
            let Some((rel, asset)) = found else {
                return not_found();
            };
            let wants_bytes = req
                .header("accept")
                .is_some_and(|a| a.to_ascii_lowercase().contains("application/octet-stream"));
            if wants_bytes {
                Out::Redirect(format!(
                    "{}/download/{}?sig={}",
                    urls.assets,
                    asset.id,
                    &hex(&sha256(format!("fake-github:{}", asset.id).as_bytes()))[..32]
                ))
            } else {
                Out::Json(200, asset_json(urls, repo, rel, asset), Vec::new())
            }
        }
        ["releases", id] => id
            .parse::<u64>()
            .ok()
            .and_then(|id| repo.releases.iter().filter(visible).find(|r| r.id == id))
            .map_or_else(not_found, |rel| {
                Out::Json(200, release_json(urls, repo, rel), Vec::new())
            }),
        // Artifact attestations by subject digest: 404 when there are none, as on GitHub.
        ["attestations", digest] => {
            let found: Vec<serde_json::Value> = repo
                .attestations
                .iter()
                .filter(|a| a.digest.eq_ignore_ascii_case(digest))
                .map(|a| {
                    json!({
                        "bundle": a.bundle,
                        "repository_id": repo.id,
                        "bundle_url": format!("{}/attestations/{}.bundle", urls.assets, a.digest),
                    })
                })
                .collect();
            if found.is_empty() {
                not_found()
            } else {
                Out::Json(200, json!({ "attestations": found }), Vec::new())
            }
        }
        // Only tags are known refs here; `Accept: application/vnd.github.sha` gets the bare SHA.
        ["commits", reference @ ..] if !reference.is_empty() => {
            let reference = reference.join("/");
            let Some(rel) = repo.releases.iter().find(|r| r.tag == reference) else {
                return Out::Json(
                    422,
                    error_body(422, &format!("No commit found for SHA: {reference}"), DOCS),
                    Vec::new(),
                );
            };
            let wants_sha = req.header("accept").is_some_and(|a| {
                a.to_ascii_lowercase()
                    .contains("application/vnd.github.sha")
            });
            if wants_sha {
                Out::Text(200, rel.commit_sha.clone())
            } else {
                Out::Json(200, json!({"sha": rel.commit_sha}), Vec::new())
            }
        }
        [kind @ ("tarball" | "zipball"), reference @ ..] if !reference.is_empty() => {
            let reference = reference.join("/");
            let ext = if *kind == "tarball" { "tar.gz" } else { "zip" };
            Out::Redirect(format!(
                "{}/archive/{}/{}/{}/{}",
                urls.assets,
                repo.owner,
                repo.name,
                ext,
                utf8_percent_encode(&reference, TAG_PATH)
            ))
        }
        _ => not_found(),
    }
}

/// `per_page` (default 30, at most 100) and `page` (from 1) of a list request.
fn page_params(req: &Req) -> (usize, usize) {
    let per_page = req
        .query_param("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(30, |n| if n == 0 { 30 } else { n.min(100) });
    let page = req
        .query_param("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    (per_page, page)
}

/// GitHub's `Link` header for `page` of `last` under `base` (a URL with its query).
pub(crate) fn page_links(base: &str, page: usize, last: usize) -> Vec<(String, String)> {
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{base}&page={}>; rel=\"prev\"", page - 1));
    }
    if page < last {
        links.push(format!("<{base}&page={}>; rel=\"next\"", page + 1));
        links.push(format!("<{base}&page={last}>; rel=\"last\""));
    }
    if page > 1 {
        links.push(format!("<{base}&page=1>; rel=\"first\""));
    }
    if links.is_empty() {
        Vec::new()
    } else {
        vec![("link".to_string(), links.join(", "))]
    }
}

/// `GET /repos/{o}/{r}/tags`: name, commit and archive links, paginated like the releases.
fn list_tags(urls: &Urls, repo: &RepoW, req: &Req) -> Out {
    let (per_page, page) = page_params(req);
    let api = format!("{}/repos/{}/{}", urls.api, repo.owner, repo.name);
    let items: Vec<Value> = repo
        .tags
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|(name, sha)| {
            let encoded = utf8_percent_encode(name, TAG_PATH);
            json!({
                "name": name,
                "zipball_url": format!("{api}/zipball/{encoded}"),
                "tarball_url": format!("{api}/tarball/{encoded}"),
                "commit": {"sha": sha, "url": format!("{api}/commits/{sha}")},
                "node_id": format!("MDM6UmVm{sha}"),
            })
        })
        .collect();
    let last = repo.tags.len().div_ceil(per_page).max(1);
    let headers = page_links(&format!("{api}/tags?per_page={per_page}"), page, last);
    Out::Json(200, Value::Array(items), headers)
}

fn list_releases(urls: &Urls, repo: &RepoW, req: &Req, authed: bool) -> Out {
    let (per_page, page) = page_params(req);
    let visible: Vec<&ReleaseW> = repo
        .releases
        .iter()
        .filter(|r| !r.draft || authed)
        .collect();
    let last = visible.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = visible
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|rel| release_json(urls, repo, rel))
        .collect();
    let base = format!(
        "{}/repos/{}/{}/releases?per_page={per_page}",
        urls.api, repo.owner, repo.name
    );
    let headers = page_links(&base, page, last);
    Out::Json(200, Value::Array(items), headers)
}

fn user_json(urls: &Urls) -> Value {
    json!({
        "login": "fake-github-bot",
        "id": 41_898_282,
        "node_id": "MDM6Qm90NDE4OTgyODI=",
        "type": "Bot",
        "site_admin": false,
        "url": format!("{}/users/fake-github-bot", urls.api),
        "html_url": "https://github.com/apps/fake-github-bot",
    })
}

fn repo_json(urls: &Urls, repo: &RepoW) -> Value {
    let full = format!("{}/{}", repo.owner, repo.name);
    json!({
        "id": repo.id,
        "node_id": format!("R_fake{}", repo.id),
        "name": repo.name,
        "full_name": full,
        "private": repo.private,
        "visibility": if repo.private { "private" } else { "public" },
        "owner": {
            "login": repo.owner,
            "id": repo.id / 7,
            "type": "Organization",
            "url": format!("{}/users/{}", urls.api, repo.owner),
        },
        "html_url": format!("https://github.com/{full}"),
        "description": format!("{full} (served by fake-github)"),
        "fork": false,
        "archived": false,
        "url": format!("{}/repos/{full}", urls.api),
        "releases_url": format!("{}/repos/{full}/releases{{/id}}", urls.api),
        "default_branch": "main",
    })
}

fn release_json(urls: &Urls, repo: &RepoW, rel: &ReleaseW) -> Value {
    let base = format!("{}/repos/{}/{}", urls.api, repo.owner, repo.name);
    let tag = utf8_percent_encode(&rel.tag, TAG_PATH).to_string();
    json!({
        "url": format!("{base}/releases/{}", rel.id),
        "assets_url": format!("{base}/releases/{}/assets", rel.id),
        "upload_url": format!("{base}/releases/{}/assets{{?name,label}}", rel.id),
        "html_url": format!("https://github.com/{}/{}/releases/tag/{tag}", repo.owner, repo.name),
        "id": rel.id,
        "author": user_json(urls),
        "node_id": format!("RE_fake{}", rel.id),
        "tag_name": rel.tag,
        "target_commitish": rel.target_commitish,
        "name": rel.name,
        "draft": rel.draft,
        "immutable": false,
        "prerelease": rel.prerelease,
        "created_at": iso(&rel.created_at),
        "updated_at": iso(&rel.published_at.unwrap_or(rel.created_at)),
        "published_at": rel.published_at.as_ref().map(iso),
        "assets": rel.assets.iter().map(|a| asset_json(urls, repo, rel, a)).collect::<Vec<_>>(),
        "tarball_url": format!("{base}/tarball/{tag}"),
        "zipball_url": format!("{base}/zipball/{tag}"),
        "body": rel.body,
    })
}

fn asset_json(urls: &Urls, repo: &RepoW, rel: &ReleaseW, asset: &AssetW) -> Value {
    let mut value = json!({
        "url": format!("{}/repos/{}/{}/releases/assets/{}", urls.api, repo.owner, repo.name, asset.id),
        "id": asset.id,
        "node_id": format!("RA_fake{}", asset.id),
        "name": asset.name,
        "label": asset.label,
        "uploader": user_json(urls),
        "content_type": asset.content_type,
        "state": asset.state,
        "size": asset.reported_size,
        "download_count": asset.download_count,
        "created_at": iso(&asset.created_at),
        "updated_at": iso(&asset.updated_at),
        "browser_download_url": format!(
            "{}/{}/{}/releases/download/{}/{}",
            urls.assets,
            repo.owner,
            repo.name,
            utf8_percent_encode(&rel.tag, TAG_PATH),
            utf8_percent_encode(&asset.name, SEGMENT)
        ),
    });
    if let (Some(digest), Some(map)) = (&asset.digest, value.as_object_mut()) {
        map.insert("digest".into(), json!(digest));
    }
    value
}

/// What the asset origin serves for a path.
pub(crate) struct Download {
    pub bytes: Bytes,
    pub etag: String,
    pub last_modified: String,
    pub content_type: &'static str,
    pub filename: String,
}

pub(crate) fn assets(state: &State, req: &Req) -> Reply {
    if !req.is_get_or_head() {
        return Reply::new(405, "text/plain; charset=utf-8", "Method Not Allowed\n");
    }
    match find_download(&state.world, req) {
        Some(download) => serve_bytes(req, download),
        None => Reply::new(404, "text/plain; charset=utf-8", "Not Found\n"),
    }
}

fn find_download(world: &World, req: &Req) -> Option<Download> {
    let segments = decoded_segments(&req.path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let from_asset = |asset: &AssetW| Download {
        bytes: asset.bytes.clone(),
        etag: asset.etag.clone(),
        last_modified: http_date(&asset.updated_at),
        content_type: "application/octet-stream",
        filename: asset.name.clone(),
    };
    match segments.as_slice() {
        ["download", id] => {
            let id = id.parse::<u64>().ok()?;
            world.asset(id).map(|(_, _, asset)| from_asset(asset))
        }
        [
            "archive",
            owner,
            name,
            ext @ ("tar.gz" | "zip"),
            reference @ ..,
        ] if !reference.is_empty() => {
            let repo = world.repo(owner, name)?;
            let reference = reference.join("/");
            let bytes = pseudo_random_bytes(
                &format!("archive:{}/{}/{ext}/{reference}", repo.owner, repo.name),
                4096,
            );
            let etag = format!("\"{}\"", hex(&sha256(&bytes)[..16]));
            let safe_ref = reference.replace('/', "-");
            Some(Download {
                bytes,
                etag,
                last_modified: "Mon, 01 Jan 2024 00:00:00 GMT".into(),
                content_type: if *ext == "zip" {
                    "application/zip"
                } else {
                    "application/x-gzip"
                },
                filename: format!("{}-{}-{safe_ref}.{ext}", repo.owner, repo.name),
            })
        }
        // browser_download_url: public repositories only (it takes no token, like github.com).
        [owner, name, "releases", "download", rest @ ..] if rest.len() >= 2 => {
            let (file, tag) = rest.split_last()?;
            let tag = tag.join("/");
            let repo = world.repo(owner, name).filter(|r| !r.private)?;
            repo.releases
                .iter()
                .filter(|r| !r.draft && r.tag == tag)
                .find_map(|r| r.assets.iter().find(|a| a.name == *file))
                .map(from_asset)
        }
        _ => None,
    }
}

/// Result of reading a `Range` header against a body size.
enum RangeRequest {
    /// Serve the whole body (no range, multiple ranges or syntax we ignore, as RFC 9110 allows).
    Whole,
    /// Bytes `start..=end`.
    Part(u64, u64),
    /// 416.
    Unsatisfiable,
}

fn parse_range(header: &str, size: u64) -> RangeRequest {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix range: the last N bytes.
        return match last.parse::<u64>() {
            Ok(0) => RangeRequest::Unsatisfiable,
            Ok(_) if size == 0 => RangeRequest::Unsatisfiable,
            Ok(n) => RangeRequest::Part(size.saturating_sub(n), size - 1),
            Err(_) => RangeRequest::Whole,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeRequest::Whole;
    };
    let end = if last.is_empty() {
        None
    } else {
        match last.parse::<u64>() {
            Ok(end) if end >= start => Some(end),
            _ => return RangeRequest::Whole,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Part(start, end.map_or(size - 1, |e| e.min(size - 1)))
}

pub(crate) fn serve_bytes(req: &Req, download: Download) -> Reply {
    let size = download.bytes.len() as u64;
    let mut reply = Reply::new(200, download.content_type, download.bytes.clone())
        .header("etag", download.etag.clone())
        .header("last-modified", download.last_modified.clone())
        .header("accept-ranges", "bytes")
        .header(
            "content-disposition",
            format!("attachment; filename={}", download.filename),
        );
    let Some(range) = req.header("range") else {
        return reply;
    };
    // If-Range: strong comparison with the ETag, or the exact Last-Modified date.
    let range_applies = req.header("if-range").is_none_or(|v| {
        let v = v.trim();
        v == download.etag || v == download.last_modified
    });
    if !range_applies {
        reply.note = Some("If-Range mismatch: whole body".into());
        return reply;
    }
    match parse_range(range, size) {
        RangeRequest::Whole => reply,
        RangeRequest::Unsatisfiable => {
            reply.status = 416;
            reply.body = Bytes::new();
            reply
                .headers
                .push(("content-range".into(), format!("bytes */{size}")));
            reply
        }
        RangeRequest::Part(start, end) => {
            let (from, to) = (
                usize::try_from(start).unwrap_or(usize::MAX),
                usize::try_from(end).unwrap_or(usize::MAX),
            );
            reply.status = 206;
            reply.body = download.bytes.slice(from..=to);
            reply.headers.push((
                "content-range".into(),
                format!("bytes {start}-{end}/{size}"),
            ));
            reply
        }
    }
}
