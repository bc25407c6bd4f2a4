//! An in-process stand-in for a JFrog Artifactory server, for the tests that run the binary
//! against Artifactory storage.
//!
//! It follows the Artifactory 6.x/7.x REST API, under the context path `/artifactory`, for one
//! generic local repository ([`REPO`]):
//!
//! - Deploy Artifact: `PUT /artifactory/{repo}/{path}` with the content as the body. When the
//!   client sends `X-Checksum-Sha1` or `X-Checksum-Sha256` and it does not match the received
//!   content, the deploy is refused with 409 (the `client-checksums` policy) and nothing is
//!   stored. A path ending in `/` creates a folder.
//! - Deploy Artifact by Checksum: the same `PUT` with `X-Checksum-Deploy: true` and a checksum
//!   header; 201 when some stored file has that checksum (a copy is stored at the path), 404
//!   otherwise. The body is ignored.
//! - Retrieve Artifact: `GET`/`HEAD /artifactory/{repo}/{path}`, with `Content-Length`,
//!   `X-Checksum-Sha1`, `X-Checksum-Sha256`, `ETag` (the SHA-1) and `Last-Modified`. A folder
//!   path answers 200 with a small HTML listing, like Artifactory's directory browsing. Ranges
//!   are not supported: a `Range` header is ignored and the whole file is sent.
//! - File Info and Folder Info: `GET /artifactory/api/storage/{repo}/{path}` (direct children
//!   only, sorted by name). Query parameters (`?list`, `?properties`, ...) are other APIs and
//!   are refused with 400.
//! - Delete Item: `DELETE /artifactory/{repo}/{path}`, a file or a folder with everything under
//!   it; 204, or 404 when nothing is there.
//!
//! Every request must authenticate (before anything else but an injected fault) with a
//! credential from [`Creds`]: `Authorization: Basic` with the username and the password or the
//! API key, `X-JFrog-Art-Api: <api key>`, or `Authorization: Bearer <access token>`. Every
//! credential a request carries must be valid; a request carrying none is refused unless no
//! credential is configured at all (anonymous access). Refusals are 401 with
//! `WWW-Authenticate: Basic realm="Artifactory Realm"`. Errors are always
//! `{"errors":[{"status":N,"message":"..."}]}` as `application/json`.
//!
//! Request paths are percent-decoded once per segment, so the stored names are the decoded ones
//! (`cli%252Fv1` on the wire is the folder `cli%2Fv1`). Like Tomcat in front of Artifactory, an
//! encoded `/` inside a segment (`%2F` on the wire) is refused with 400, empty segments (`//`)
//! are collapsed, and `.`/`..` segments are refused with 400. Matrix parameters (`;key=value`)
//! are not interpreted: they stay part of the name.
//!
//! Folders are the explicitly created ones plus every prefix of a stored file's path; unlike
//! real Artifactory, a folder that was only implied by files disappears with its last file.
//!
//! Faults ([`Artifactory::fail_next`], [`Artifactory::corrupt_next_uploads`],
//! [`Artifactory::replace_after_reads`]) and inspection methods take `&self` and are thread-safe.
//! The server binds 127.0.0.1 on a free port, is ready when [`Artifactory::start`] returns, and
//! stops when dropped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::receivers::{LoopbackServer, Received, read_request};

/// The key of the one repository the stand-in serves (a generic local repository).
pub const REPO: &str = "generic-local";

/// The credentials the server accepts; `None` ones are not accepted in any form.
#[derive(Debug, Clone, Default)]
pub struct Creds {
    pub username: Option<String>,
    pub password: Option<String>,
    pub api_key: Option<String>,
    pub access_token: Option<String>,
}

impl Creds {
    fn none_configured(&self) -> bool {
        self.username.is_none()
            && self.password.is_none()
            && self.api_key.is_none()
            && self.access_token.is_none()
    }
}

/// One request the server got, with the status it answered.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// As sent: still percent-encoded, with the query.
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body_len: usize,
    pub status: u16,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The Artifactory stand-in.
pub struct Artifactory {
    state: Arc<Mutex<State>>,
    server: LoopbackServer,
}

impl Artifactory {
    pub fn start(creds: Creds) -> Artifactory {
        // The base URL needs the port, which the server has once it is bound.
        let state = Arc::new(Mutex::new(State::new(String::new(), creds)));
        let server = LoopbackServer::start(state.clone(), handle);
        state.lock().expect("lock").base_url = format!("http://{}/artifactory", server.addr);
        Artifactory { state, server }
    }

    /// `http://127.0.0.1:PORT/artifactory`.
    pub fn base_url(&self) -> String {
        format!("http://{}/artifactory", self.server.addr)
    }

    /// From now on the access token is refused with 401 `Token expired`.
    pub fn expire_token(&self) {
        self.lock().token_expired = true;
    }

    /// The next `times` requests whose method is `method` (any case) and whose raw path (with
    /// the query) contains `path_contains` answer `status` with an errors body, before
    /// authentication or anything else. Requests that do not match are served normally and do
    /// not count.
    pub fn fail_next(&self, method: &str, path_contains: &str, times: usize, status: u16) {
        StatusCode::from_u16(status).expect("a valid status");
        if times > 0 {
            self.lock().faults.push(Fault {
                method: method.to_string(),
                path_contains: path_contains.to_string(),
                left: times,
                status,
            });
        }
    }

    /// The next `times` full deploys (not checksum deploys, not folders) that get past
    /// authentication have one byte of the received body flipped before the checksums are
    /// compared (an empty body gets a byte appended), as if damaged on the way: a deploy with
    /// checksum headers gets 409, one without stores the damaged content.
    pub fn corrupt_next_uploads(&self, times: usize) {
        self.lock().corrupt_uploads += times;
    }

    /// After the `reads`-th successful `GET` of the file `path` (repo-relative, decoded; `HEAD`
    /// and the storage API do not count), its content becomes `bytes`: another writer wrote
    /// between a client's read and its write. With `reads == 0` it is replaced right away.
    pub fn replace_after_reads(&self, path: &str, reads: usize, bytes: Vec<u8>) {
        let path = path.trim_start_matches('/').to_string();
        let mut st = self.lock();
        if reads == 0 {
            st.store(&path, bytes, "replacer");
        } else {
            st.replacements.push(Replacement {
                path,
                reads_left: reads,
                bytes,
            });
        }
    }

    /// The content of the file at `path` (repo-relative, decoded).
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.lock().files.get(path.trim_start_matches('/')).cloned()
    }

    /// Every stored file's path (repo-relative, decoded), sorted.
    pub fn paths(&self) -> Vec<String> {
        self.lock().files.keys().cloned().collect()
    }

    /// Stores a file directly (repo-relative, decoded path), counting as no upload.
    pub fn put_file(&self, path: &str, bytes: &[u8]) {
        self.lock()
            .store(path.trim_start_matches('/'), bytes.to_vec(), "seed");
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Seen> {
        self.lock().requests.clone()
    }

    /// Successful deploys by checksum.
    pub fn checksum_deploys(&self) -> usize {
        self.lock().checksum_deploys
    }

    /// Successful full deploys (content sent; folders not counted).
    pub fn full_uploads(&self) -> usize {
        self.lock().full_uploads
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("lock")
    }
}

struct Fault {
    method: String,
    path_contains: String,
    left: usize,
    status: u16,
}

struct Replacement {
    path: String,
    reads_left: usize,
    bytes: Vec<u8>,
}

struct Meta {
    created: DateTime<Utc>,
    created_by: String,
    modified: DateTime<Utc>,
    modified_by: String,
}

struct State {
    base_url: String,
    creds: Creds,
    token_expired: bool,
    started: DateTime<Utc>,
    /// Decoded path within the repository, without a leading slash → content.
    files: BTreeMap<String, Vec<u8>>,
    meta: HashMap<String, Meta>,
    /// Folders created explicitly (a `PUT` of a path ending in `/`).
    folders: BTreeSet<String>,
    faults: Vec<Fault>,
    corrupt_uploads: usize,
    replacements: Vec<Replacement>,
    requests: Vec<Seen>,
    checksum_deploys: usize,
    full_uploads: usize,
}

/// An answer before it becomes a hyper response.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// A `HEAD` answer: the headers of the `GET`, no body.
    head: bool,
}

impl Answer {
    fn new(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            head: false,
        }
    }

    fn json(status: u16, value: &Value) -> Answer {
        let mut a = Answer::new(status);
        a.headers
            .push(("content-type", "application/json".to_string()));
        a.body = serde_json::to_vec_pretty(value).expect("JSON");
        a
    }

    fn error(status: u16, message: impl Into<String>) -> Answer {
        Answer::json(
            status,
            &json!({"errors": [{"status": status, "message": message.into()}]}),
        )
    }

    fn unauthorized(message: &str) -> Answer {
        let mut a = Answer::error(401, message);
        a.headers.push((
            "www-authenticate",
            "Basic realm=\"Artifactory Realm\"".to_string(),
        ));
        a
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let len = self.body.len();
        let body = if self.head { Vec::new() } else { self.body };
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        *resp.status_mut() = StatusCode::from_u16(self.status).expect("status");
        let h = resp.headers_mut();
        for (name, value) in self.headers {
            h.append(
                name,
                hyper::header::HeaderValue::from_str(&value).expect("header value"),
            );
        }
        if self.status != 204 {
            h.insert(hyper::header::CONTENT_LENGTH, len.into());
        }
        resp
    }
}

/// A request path split into the repository key and the decoded path within it.
struct Target {
    repo: String,
    /// Decoded, segments joined with `/`, no leading or trailing slash; empty for the root.
    path: String,
    /// The raw path ended in `/`.
    folder: bool,
}

/// Per-segment encoding for the URIs in JSON answers: everything but unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let Received {
        method,
        path,
        headers,
        body,
    } = read_request(req).await?;
    let answer = {
        let mut st = state.lock().expect("lock");
        let body_len = body.len();
        let answer = st.serve(&method, &path, &headers, body);
        st.requests.push(Seen {
            method,
            path,
            headers,
            body_len,
            status: answer.status,
        });
        answer
    };
    Ok(answer.into_response())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// `/a/b` for `a/b`, `/` for the root.
fn json_path(path: &str) -> String {
    format!("/{path}")
}

/// Splits `{repo}/{path}` (after the context path or `api/storage/`) and decodes each segment.
fn parse_target(rest: &str) -> Result<Target, Answer> {
    let folder = rest.ends_with('/');
    let mut segments = Vec::new();
    for raw in rest.split('/').filter(|s| !s.is_empty()) {
        let decoded = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| Answer::error(400, format!("Invalid path segment '{raw}': not UTF-8")))?;
        if decoded.contains('/') {
            return Err(Answer::error(
                400,
                format!("Invalid path segment '{raw}': encoded slash"),
            ));
        }
        if decoded == "." || decoded == ".." {
            return Err(Answer::error(400, format!("Invalid path segment '{raw}'")));
        }
        segments.push(decoded.into_owned());
    }
    if segments.is_empty() {
        return Err(Answer::error(404, "Repository key missing"));
    }
    let repo = segments.remove(0);
    Ok(Target {
        repo,
        path: segments.join("/"),
        folder,
    })
}

impl State {
    fn new(base_url: String, creds: Creds) -> State {
        State {
            base_url,
            creds,
            token_expired: false,
            started: Utc::now(),
            files: BTreeMap::new(),
            meta: HashMap::new(),
            folders: BTreeSet::new(),
            faults: Vec::new(),
            corrupt_uploads: 0,
            replacements: Vec::new(),
            requests: Vec::new(),
            checksum_deploys: 0,
            full_uploads: 0,
        }
    }

    fn serve(
        &mut self,
        method: &str,
        raw: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Answer {
        if let Some(status) = self.take_fault(method, raw) {
            let reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("fault");
            return Answer::error(status, format!("Injected fault: {reason}"));
        }
        let user = match self.authenticate(headers) {
            Ok(user) => user,
            Err(refused) => return refused,
        };
        let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
        let Some(rest) = path.strip_prefix("/artifactory/") else {
            return Answer::error(404, format!("Not found: {path}"));
        };
        if let Some(rest) = rest.strip_prefix("api/storage/") {
            if method != "GET" {
                return Answer::error(405, format!("Method {method} not allowed"));
            }
            if !query.is_empty() {
                return Answer::error(
                    400,
                    format!(
                        "Unsupported storage API query '{query}' (the stand-in only implements \
                         File Info and Folder Info)"
                    ),
                );
            }
            let target = match self.target(rest) {
                Ok(t) => t,
                Err(a) => return a,
            };
            return self.storage_info(&target.path);
        }
        if rest.starts_with("api/") || rest == "api" {
            return Answer::error(404, format!("Unsupported API: {path}"));
        }
        let target = match self.target(rest) {
            Ok(t) => t,
            Err(a) => return a,
        };
        match method {
            "GET" => self.retrieve(&target.path, false),
            "HEAD" => self.retrieve(&target.path, true),
            "PUT" => self.deploy(&target, headers, body, &user),
            "DELETE" => self.delete(&target.path),
            _ => Answer::error(405, format!("Method {method} not allowed")),
        }
    }

    fn target(&self, rest: &str) -> Result<Target, Answer> {
        let target = parse_target(rest)?;
        if target.repo != REPO {
            return Err(Answer::error(
                404,
                format!("Repository '{}' not found", target.repo),
            ));
        }
        Ok(target)
    }

    fn take_fault(&mut self, method: &str, raw: &str) -> Option<u16> {
        let i = self.faults.iter().position(|f| {
            f.left > 0 && f.method.eq_ignore_ascii_case(method) && raw.contains(&f.path_contains)
        })?;
        let status = self.faults[i].status;
        self.faults[i].left -= 1;
        if self.faults[i].left == 0 {
            self.faults.remove(i);
        }
        Some(status)
    }

    /// The user the request acts as, or the 401 answer.
    fn authenticate(&self, headers: &[(String, String)]) -> Result<String, Answer> {
        let c = &self.creds;
        let mut presented = false;
        let mut bad = false;
        let mut expired = false;
        for (name, value) in headers {
            match name.as_str() {
                "authorization" => {
                    presented = true;
                    let value = value.trim();
                    if let Some(encoded) = strip_prefix_ci(value, "basic ") {
                        let decoded = base64::engine::general_purpose::STANDARD
                            .decode(encoded.trim())
                            .ok()
                            .and_then(|d| String::from_utf8(d).ok());
                        let ok = decoded
                            .as_deref()
                            .and_then(|d| d.split_once(':'))
                            .is_some_and(|(user, secret)| {
                                c.username.as_deref() == Some(user)
                                    && (c.password.as_deref() == Some(secret)
                                        || c.api_key.as_deref() == Some(secret))
                            });
                        bad |= !ok;
                    } else if let Some(token) = strip_prefix_ci(value, "bearer ") {
                        if c.access_token.as_deref() == Some(token.trim()) {
                            expired |= self.token_expired;
                        } else {
                            bad = true;
                        }
                    } else {
                        bad = true;
                    }
                }
                "x-jfrog-art-api" => {
                    presented = true;
                    bad |= c.api_key.as_deref() != Some(value.trim());
                }
                _ => {}
            }
        }
        if bad || (!presented && !c.none_configured()) {
            return Err(Answer::unauthorized("Bad credentials"));
        }
        if expired {
            return Err(Answer::unauthorized("Token expired"));
        }
        Ok(c.username
            .clone()
            .unwrap_or_else(|| "anonymous".to_string()))
    }

    fn is_file(&self, path: &str) -> bool {
        !path.is_empty() && self.files.contains_key(path)
    }

    /// The root, an explicit folder, or a prefix of a stored file or explicit folder.
    fn is_folder(&self, path: &str) -> bool {
        if path.is_empty() || self.folders.contains(path) {
            return true;
        }
        let prefix = format!("{path}/");
        let under = |k: &String| k.starts_with(&prefix);
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| under(k))
            || self
                .folders
                .range(prefix.clone()..)
                .next()
                .is_some_and(under)
    }

    /// Why nothing can be stored at `path` as a file (`as_folder` false) or a folder: the
    /// path is a folder (or a file) already, or one of its parents is a file.
    fn conflict(&self, path: &str, as_folder: bool) -> Option<String> {
        if !as_folder && self.is_folder(path) {
            return Some(format!(
                "Cannot deploy file '{path}': a folder exists there"
            ));
        }
        if as_folder && self.is_file(path) {
            return Some(format!(
                "Cannot create folder '{path}': a file exists there"
            ));
        }
        let mut parent = path;
        while let Some((p, _)) = parent.rsplit_once('/') {
            if self.is_file(p) {
                return Some(format!("Cannot deploy '{path}': parent '{p}' is a file"));
            }
            parent = p;
        }
        None
    }

    fn store(&mut self, path: &str, bytes: Vec<u8>, by: &str) {
        let now = Utc::now();
        self.files.insert(path.to_string(), bytes);
        self.meta
            .entry(path.to_string())
            .and_modify(|m| {
                m.modified = now;
                m.modified_by = by.to_string();
            })
            .or_insert_with(|| Meta {
                created: now,
                created_by: by.to_string(),
                modified: now,
                modified_by: by.to_string(),
            });
    }

    fn download_uri(&self, path: &str) -> String {
        format!("{}/{REPO}/{}", self.base_url, encode_path(path))
    }

    fn storage_uri(&self, path: &str) -> String {
        if path.is_empty() {
            format!("{}/api/storage/{REPO}", self.base_url)
        } else {
            format!("{}/api/storage/{REPO}/{}", self.base_url, encode_path(path))
        }
    }

    /// The Deploy Artifact answer (`info` false) or the File Info one.
    fn file_json(&self, path: &str, info: bool) -> Value {
        let bytes = &self.files[path];
        let meta = &self.meta[path];
        let checksums = json!({"sha1": sha1_hex(bytes), "sha256": sha256_hex(bytes)});
        let mut v = serde_json::Map::new();
        v.insert("repo".into(), json!(REPO));
        v.insert("path".into(), json!(json_path(path)));
        v.insert("created".into(), json!(iso(meta.created)));
        v.insert("createdBy".into(), json!(meta.created_by));
        if info {
            v.insert("lastModified".into(), json!(iso(meta.modified)));
            v.insert("modifiedBy".into(), json!(meta.modified_by));
            v.insert("lastUpdated".into(), json!(iso(meta.modified)));
        }
        v.insert("downloadUri".into(), json!(self.download_uri(path)));
        v.insert("mimeType".into(), json!("application/octet-stream"));
        v.insert("size".into(), json!(bytes.len().to_string()));
        v.insert("checksums".into(), checksums.clone());
        v.insert("originalChecksums".into(), checksums);
        v.insert("uri".into(), json!(self.storage_uri(path)));
        Value::Object(v)
    }

    /// The direct children of a folder, sorted by name: name → is a folder.
    fn children(&self, path: &str) -> BTreeMap<String, bool> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let mut out = BTreeMap::new();
        let files = self.files.keys().map(|k| (k, false));
        let folders = self.folders.iter().map(|k| (k, true));
        for (key, explicit_folder) in files.chain(folders) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                continue;
            };
            let (name, folder) = match rest.split_once('/') {
                Some((name, _)) => (name, true),
                None => (rest, explicit_folder),
            };
            if !name.is_empty() {
                *out.entry(name.to_string()).or_insert(false) |= folder;
            }
        }
        out
    }

    fn storage_info(&self, path: &str) -> Answer {
        if self.is_file(path) {
            return Answer::json(200, &self.file_json(path, true));
        }
        if !self.is_folder(path) {
            return Answer::error(404, "Unable to find item");
        }
        let children: Vec<Value> = self
            .children(path)
            .into_iter()
            .map(|(name, folder)| json!({"uri": format!("/{name}"), "folder": folder}))
            .collect();
        let t = iso(self.started);
        Answer::json(
            200,
            &json!({
                "repo": REPO,
                "path": json_path(path),
                "created": t,
                "createdBy": "system",
                "lastModified": t,
                "modifiedBy": "system",
                "lastUpdated": t,
                "children": children,
                "uri": self.storage_uri(path),
            }),
        )
    }

    fn retrieve(&mut self, path: &str, head: bool) -> Answer {
        if self.is_file(path) {
            let bytes = self.files[path].clone();
            let sha1 = sha1_hex(&bytes);
            let mut a = Answer::new(200);
            a.headers
                .push(("content-type", "application/octet-stream".to_string()));
            a.headers.push(("x-checksum-sha1", sha1.clone()));
            a.headers.push(("x-checksum-sha256", sha256_hex(&bytes)));
            a.headers.push(("etag", sha1));
            a.headers
                .push(("last-modified", http_date(self.meta[path].modified)));
            a.body = bytes;
            a.head = head;
            if !head {
                self.count_read(path);
            }
            return a;
        }
        if !self.is_folder(path) {
            return Answer::error(404, "Could not find resource");
        }
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><title>Index of {REPO}/{path}</title></head>\n\
             <body>\n<h1>Index of {REPO}/{path}</h1>\n<pre>\n"
        );
        for (name, folder) in self.children(path) {
            let slash = if folder { "/" } else { "" };
            let href = utf8_percent_encode(&name, SEGMENT);
            let _ = writeln!(html, "<a href=\"{href}{slash}\">{name}{slash}</a>");
        }
        html.push_str("</pre>\n</body></html>\n");
        let mut a = Answer::new(200);
        a.headers
            .push(("content-type", "text/html; charset=utf-8".to_string()));
        a.body = html.into_bytes();
        a.head = head;
        a
    }

    fn count_read(&mut self, path: &str) {
        let mut fired = Vec::new();
        self.replacements.retain_mut(|r| {
            if r.path != path {
                return true;
            }
            r.reads_left -= 1;
            if r.reads_left == 0 {
                fired.push(std::mem::take(&mut r.bytes));
                false
            } else {
                true
            }
        });
        for bytes in fired {
            self.store(path, bytes, "replacer");
        }
    }

    fn deploy(
        &mut self,
        target: &Target,
        headers: &[(String, String)],
        mut body: Vec<u8>,
        user: &str,
    ) -> Answer {
        let path = target.path.as_str();
        let by_checksum =
            header(headers, "x-checksum-deploy").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if target.folder {
            if by_checksum {
                return Answer::error(400, "Checksum deploy of a folder");
            }
            if path.is_empty() {
                return Answer::error(400, "Cannot create the repository root");
            }
            if let Some(why) = self.conflict(path, true) {
                return Answer::error(409, why);
            }
            self.folders.insert(path.to_string());
            let t = iso(Utc::now());
            return Answer::json(
                201,
                &json!({
                    "repo": REPO,
                    "path": format!("/{path}/"),
                    "created": t,
                    "createdBy": user,
                    "uri": self.storage_uri(path),
                }),
            );
        }
        if path.is_empty() {
            return Answer::error(400, "Cannot deploy a file at the repository root");
        }
        let sent_sha1 = header(headers, "x-checksum-sha1").map(str::to_ascii_lowercase);
        let sent_sha256 = header(headers, "x-checksum-sha256").map(str::to_ascii_lowercase);
        if by_checksum {
            let Some(wanted) = sent_sha256.as_ref().or(sent_sha1.as_ref()) else {
                return Answer::error(
                    400,
                    "Checksum deploy requires X-Checksum-Sha256 or X-Checksum-Sha1",
                );
            };
            let source = self.files.values().find(|bytes| {
                sent_sha1.as_ref().is_none_or(|s| *s == sha1_hex(bytes))
                    && sent_sha256.as_ref().is_none_or(|s| *s == sha256_hex(bytes))
            });
            let Some(bytes) = source.cloned() else {
                return Answer::error(
                    404,
                    format!("Checksum deploy failed: no artifact with checksum {wanted}"),
                );
            };
            if let Some(why) = self.conflict(path, false) {
                return Answer::error(409, why);
            }
            self.store(path, bytes, user);
            self.checksum_deploys += 1;
            return Answer::json(201, &self.file_json(path, false));
        }
        if self.corrupt_uploads > 0 {
            self.corrupt_uploads -= 1;
            let middle = body.len() / 2;
            match body.get_mut(middle) {
                Some(b) => *b ^= 0xff,
                None => body.push(0),
            }
        }
        let mismatch = sent_sha1.as_ref().is_some_and(|s| *s != sha1_hex(&body))
            || sent_sha256
                .as_ref()
                .is_some_and(|s| *s != sha256_hex(&body));
        if mismatch {
            return Answer::error(
                409,
                "Checksum policy 'client-checksums' rejected the artifact: the checksum sent \
                 does not match the content",
            );
        }
        if let Some(why) = self.conflict(path, false) {
            return Answer::error(409, why);
        }
        self.store(path, body, user);
        self.full_uploads += 1;
        Answer::json(201, &self.file_json(path, false))
    }

    fn delete(&mut self, path: &str) -> Answer {
        if self.is_file(path) {
            self.files.remove(path);
            self.meta.remove(path);
            return Answer::new(204);
        }
        if !self.is_folder(path) {
            return Answer::error(404, format!("Could not locate artifact '{REPO}:{path}'"));
        }
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in gone {
            self.files.remove(&k);
            self.meta.remove(&k);
        }
        self.folders
            .retain(|f| f != path && !f.starts_with(&prefix));
        Answer::new(204)
    }
}

/// A raw HTTP/1.1 client for the self-checks below (one request per connection).
#[cfg(test)]
fn send(
    server: &Artifactory,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.server.addr).expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        server.server.addr,
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    stream.write_all(body).expect("write body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the headers");
    let head = String::from_utf8(answer[..split].to_vec()).expect("UTF-8 head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, answer[split + 4..].to_vec())
}

#[cfg(test)]
fn found<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    header(headers, name)
}

#[cfg(test)]
fn message(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).expect("an errors body");
    v["errors"][0]["message"]
        .as_str()
        .expect("a message")
        .to_string()
}

#[cfg(test)]
fn all_creds() -> Creds {
    Creds {
        username: Some("deployer".into()),
        password: Some("s3cret".into()),
        api_key: Some("AKCkey".into()),
        access_token: Some("tok.en".into()),
    }
}

#[cfg(test)]
fn basic(user: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

#[test]
fn artifactory_stand_in_authenticates_every_request() {
    let a = Artifactory::start(all_creds());
    let root = format!("/artifactory/api/storage/{REPO}");

    let (status, headers, body) = send(&a, "GET", &root, &[], b"");
    assert_eq!(status, 401);
    assert_eq!(
        found(&headers, "www-authenticate"),
        Some("Basic realm=\"Artifactory Realm\"")
    );
    assert_eq!(found(&headers, "content-type"), Some("application/json"));
    assert_eq!(message(&body), "Bad credentials");

    let good_basic = basic("deployer", "s3cret");
    let key_basic = basic("deployer", "AKCkey");
    let wrong_basic = basic("deployer", "nope");
    let accepted: [(&str, &str); 4] = [
        ("Authorization", &good_basic),
        ("Authorization", &key_basic),
        ("X-JFrog-Art-Api", "AKCkey"),
        ("Authorization", "Bearer tok.en"),
    ];
    for (name, value) in accepted {
        let (status, _, _) = send(&a, "GET", &root, &[(name, value)], b"");
        assert_eq!(status, 200, "{name}: {value}");
    }
    let refused: [(&str, &str); 4] = [
        ("Authorization", &wrong_basic),
        ("X-JFrog-Art-Api", "other"),
        ("Authorization", "Bearer other"),
        ("Authorization", "Token tok.en"),
    ];
    for (name, value) in refused {
        let (status, _, body) = send(&a, "GET", &root, &[(name, value)], b"");
        assert_eq!(status, 401, "{name}: {value}");
        assert_eq!(message(&body), "Bad credentials");
    }
    // A valid credential does not excuse an invalid one next to it.
    let (status, _, _) = send(
        &a,
        "GET",
        &root,
        &[("Authorization", &good_basic), ("X-JFrog-Art-Api", "other")],
        b"",
    );
    assert_eq!(status, 401);

    a.expire_token();
    let (status, _, body) = send(&a, "GET", &root, &[("Authorization", "Bearer tok.en")], b"");
    assert_eq!(status, 401);
    assert_eq!(message(&body), "Token expired");

    // An injected fault comes before authentication; another repository is 404.
    a.fail_next("get", "api/storage", 1, 503);
    let (status, _, body) = send(&a, "GET", &root, &[], b"");
    assert_eq!(status, 503);
    assert!(message(&body).starts_with("Injected fault"));
    let (status, _, _) = send(
        &a,
        "GET",
        "/artifactory/api/storage/other-local",
        &[("X-JFrog-Art-Api", "AKCkey")],
        b"",
    );
    assert_eq!(status, 404);
    let seen = a.requests();
    assert_eq!(seen.len(), 13);
    assert_eq!(seen[11].status, 503);
    assert_eq!(seen[12].header("X-JFrog-Art-Api"), Some("AKCkey"));
}

#[test]
fn artifactory_stand_in_checks_checksums_and_deploys_by_checksum() {
    let a = Artifactory::start(Creds {
        api_key: Some("k".into()),
        ..Creds::default()
    });
    let auth = ("X-JFrog-Art-Api", "k");
    let content = b"release notes".as_slice();
    let sha256 = sha256_hex(content);
    let sha1 = sha1_hex(content);
    let target = format!("/artifactory/{REPO}/cli%252Fv1/notes%20a.txt");

    let wrong = sha256_hex(b"other");
    let (status, _, body) = send(
        &a,
        "PUT",
        &target,
        &[auth, ("X-Checksum-Sha256", &wrong)],
        content,
    );
    assert_eq!(status, 409);
    assert!(message(&body).starts_with("Checksum policy 'client-checksums' rejected"));
    assert!(a.paths().is_empty());

    let (status, _, body) = send(
        &a,
        "PUT",
        &target,
        &[
            auth,
            ("X-Checksum-Deploy", "true"),
            ("X-Checksum-Sha256", &sha256),
        ],
        b"",
    );
    assert_eq!(status, 404);
    assert!(message(&body).starts_with("Checksum deploy failed: no artifact with checksum"));

    let upper = sha256.to_ascii_uppercase();
    let (status, _, body) = send(
        &a,
        "PUT",
        &target,
        &[
            auth,
            ("X-Checksum-Sha256", &upper),
            ("X-Checksum-Sha1", &sha1),
        ],
        content,
    );
    assert_eq!(status, 201);
    let deployed: Value = serde_json::from_slice(&body).expect("deploy JSON");
    assert_eq!(deployed["path"], "/cli%2Fv1/notes a.txt");
    assert_eq!(deployed["size"], "13");
    assert_eq!(deployed["checksums"]["sha256"], sha256.as_str());
    assert_eq!(
        deployed["downloadUri"],
        format!("{}/{REPO}/cli%252Fv1/notes%20a.txt", a.base_url())
    );
    assert_eq!(a.file("cli%2Fv1/notes a.txt").as_deref(), Some(content));

    let (status, _, _) = send(
        &a,
        "PUT",
        &format!("/artifactory/{REPO}/copy/notes.txt"),
        &[
            auth,
            ("X-Checksum-Deploy", "true"),
            ("X-Checksum-Sha256", &sha256),
        ],
        b"",
    );
    assert_eq!(status, 201);
    assert_eq!(a.file("copy/notes.txt").as_deref(), Some(content));
    assert_eq!((a.full_uploads(), a.checksum_deploys()), (1, 1));
    let deploy = a.requests().pop().expect("the checksum deploy");
    assert_eq!(
        (
            deploy.method.as_str(),
            deploy.path.as_str(),
            deploy.body_len
        ),
        (
            "PUT",
            format!("/artifactory/{REPO}/copy/notes.txt").as_str(),
            0
        )
    );
    assert_eq!(deploy.header("x-checksum-deploy"), Some("true"));

    let (status, headers, body) = send(&a, "GET", &target, &[auth], b"");
    assert_eq!(status, 200);
    assert_eq!(body, content);
    assert_eq!(found(&headers, "x-checksum-sha256"), Some(sha256.as_str()));
    assert_eq!(found(&headers, "etag"), Some(sha1.as_str()));
    let (status, headers, body) = send(&a, "HEAD", &target, &[auth], b"");
    assert_eq!(status, 200);
    assert!(body.is_empty());
    assert_eq!(found(&headers, "content-length"), Some("13"));

    // A body damaged on the way is refused when checksums come with it, stored otherwise.
    a.corrupt_next_uploads(2);
    let (status, _, _) = send(
        &a,
        "PUT",
        &format!("/artifactory/{REPO}/damaged.txt"),
        &[auth, ("X-Checksum-Sha1", &sha1)],
        content,
    );
    assert_eq!(status, 409);
    let (status, _, _) = send(
        &a,
        "PUT",
        &format!("/artifactory/{REPO}/damaged.txt"),
        &[auth],
        content,
    );
    assert_eq!(status, 201);
    assert_ne!(a.file("damaged.txt").as_deref(), Some(content));
}

#[test]
fn artifactory_stand_in_lists_folders_and_deletes_them() {
    let a = Artifactory::start(Creds {
        access_token: Some("t".into()),
        ..Creds::default()
    });
    let auth = ("Authorization", "Bearer t");
    a.put_file("cli%2Fv1/a b.txt", b"one");
    a.put_file("cli%2Fv1/sub/c.txt", b"two");
    a.put_file("top.txt", b"three");
    let (status, _, _) = send(
        &a,
        "PUT",
        &format!("/artifactory/{REPO}/empty/"),
        &[auth],
        b"",
    );
    assert_eq!(status, 201);

    let (status, _, body) = send(
        &a,
        "GET",
        &format!("/artifactory/api/storage/{REPO}/cli%252Fv1"),
        &[auth],
        b"",
    );
    assert_eq!(status, 200);
    let info: Value = serde_json::from_slice(&body).expect("folder JSON");
    assert_eq!(info["path"], "/cli%2Fv1");
    assert_eq!(
        info["children"],
        json!([{"uri": "/a b.txt", "folder": false}, {"uri": "/sub", "folder": true}])
    );
    let (_, _, body) = send(
        &a,
        "GET",
        &format!("/artifactory/api/storage/{REPO}"),
        &[auth],
        b"",
    );
    let root: Value = serde_json::from_slice(&body).expect("root JSON");
    assert_eq!(
        root["children"],
        json!([
            {"uri": "/cli%2Fv1", "folder": true},
            {"uri": "/empty", "folder": true},
            {"uri": "/top.txt", "folder": false},
        ])
    );
    let (status, _, body) = send(
        &a,
        "GET",
        &format!("/artifactory/api/storage/{REPO}/top.txt"),
        &[auth],
        b"",
    );
    assert_eq!(status, 200);
    let file: Value = serde_json::from_slice(&body).expect("file JSON");
    assert_eq!(file["size"], "5");
    assert_eq!(file["checksums"]["sha1"], sha1_hex(b"three").as_str());

    // A folder's artifact URL is an HTML listing; an encoded slash is refused, like Tomcat does.
    let (status, headers, body) = send(&a, "GET", &format!("/artifactory/{REPO}/"), &[auth], b"");
    assert_eq!(status, 200);
    assert_eq!(
        found(&headers, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(String::from_utf8_lossy(&body).contains("<a href=\"cli%252Fv1/\">cli%2Fv1/</a>"));
    let (status, _, _) = send(
        &a,
        "GET",
        &format!("/artifactory/{REPO}/cli%2Fv1/sub/c.txt"),
        &[auth],
        b"",
    );
    assert_eq!(status, 400);

    // Another writer replaces the file after the client's first read.
    a.replace_after_reads("top.txt", 1, b"four".to_vec());
    let top = format!("/artifactory/{REPO}/top.txt");
    let (_, _, first) = send(&a, "GET", &top, &[auth], b"");
    let (_, _, second) = send(&a, "GET", &top, &[auth], b"");
    assert_eq!(
        (first.as_slice(), second.as_slice()),
        (&b"three"[..], &b"four"[..])
    );

    let (status, _, _) = send(
        &a,
        "DELETE",
        &format!("/artifactory/{REPO}/cli%252Fv1/"),
        &[auth],
        b"",
    );
    assert_eq!(status, 204);
    assert_eq!(a.paths(), vec!["top.txt".to_string()]);
    let (status, _, _) = send(
        &a,
        "DELETE",
        &format!("/artifactory/{REPO}/cli%252Fv1"),
        &[auth],
        b"",
    );
    assert_eq!(status, 404);
    let (status, _, _) = send(
        &a,
        "GET",
        &format!("/artifactory/api/storage/{REPO}/cli%252Fv1"),
        &[auth],
        b"",
    );
    assert_eq!(status, 404);
}
