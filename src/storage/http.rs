//! WebDAV and plain HTTP storage: the mirror's layout under a collection URL, for servers that
//! are not S3 (Nexus raw repositories, nginx's dav module, Apache mod_dav, rclone).
//!
//! Every request goes through the tool's HTTP client (its TLS roots, HTTPS rule, redirect rule
//! and retry policy). `PUT` streams each file from disk, hashing it on the way; if the bytes no
//! longer match the verified SHA-256 the body is cut off before its last chunk, so the server
//! never completes the file. The release's folders are made with `MKCOL` before its first `PUT`
//! (once per run; nginx answers a `PUT` into a missing folder with `500`). Whether a file is already there is asked with
//! `HEAD` (its size) and its uploaded sidecar (its SHA-256). `PROPFIND` (depth 1) lists a
//! release's folder; `DELETE` removes a file or a whole folder. object_store's HTTP store was
//! not used: it cannot stream an upload (a whole file would sit in memory) and brings its own
//! client and retry policy.
//!
//! Credentials (basic auth or a bearer token) go only to the store's own origin: the redirect
//! rule drops `Authorization` when a redirect leaves it, and they are never part of a URL,
//! message or report.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures_util::stream;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use url::Url;

use super::{ArtifactStore, StorageError, UploadHow};
use crate::config::{HttpStorage, REDACTED};
use crate::http::{
    Body, BodySource, HttpClient, HttpOptions, Observer, Reply, Request, SendError, redact,
};

/// How much of a file is read (and hashed) at a time while it is sent.
const CHUNK: usize = 256 * 1024;

/// What a server without `MKCOL`, or with the folder already there, may answer to one.
const NOT_A_FOLDER_MAKER: &[StatusCode] = &[
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::CONFLICT,
    StatusCode::NOT_FOUND,
    StatusCode::BAD_REQUEST,
    StatusCode::FORBIDDEN,
    StatusCode::NOT_IMPLEMENTED,
];

/// A WebDAV or plain HTTP server holding the mirror's layout under one collection URL.
pub struct HttpArtifactStore {
    http: HttpClient,
    /// The collection, always ending in `/`.
    base: Url,
    /// `Authorization` for the base's origin (marked sensitive: never logged).
    auth: Option<Credential>,
    /// Folders made (or found) this run, so each is asked for once.
    made: Mutex<std::collections::HashSet<String>>,
}

impl fmt::Debug for HttpArtifactStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpArtifactStore({})", redact(&self.base))
    }
}

impl HttpArtifactStore {
    /// The store `download.http_storage` describes, or `None` when it is not enabled. `http`
    /// carries the TLS roots, timeouts and retry policy (those of the rest of the tool).
    pub fn from_config(
        cfg: &HttpStorage,
        http: &HttpOptions,
    ) -> Result<Option<HttpArtifactStore>, StorageError> {
        if !cfg.enabled {
            return Ok(None);
        }
        let url = cfg.url.as_deref().ok_or_else(|| {
            StorageError::HttpSetup("download.http_storage.url is required".to_string())
        })?;
        let mut base = Url::parse(url).map_err(|e| {
            StorageError::HttpSetup(format!("download.http_storage.url is not a URL: {e}"))
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let auth = match (&cfg.token, &cfg.username, &cfg.password) {
            (Some(token), _, _) => Some(Credential::bearer(token.expose())),
            (None, Some(user), Some(password)) => Some(Credential::basic(user, password.expose())),
            _ => None,
        }
        .transpose()
        .map_err(|()| {
            StorageError::HttpSetup(
                "download.http_storage: the credentials hold characters a header cannot carry"
                    .to_string(),
            )
        })?;
        let http = HttpClient::new(http).map_err(|e| StorageError::HttpSetup(e.0))?;
        Ok(Some(HttpArtifactStore {
            http,
            base,
            auth,
            made: Mutex::new(std::collections::HashSet::new()),
        }))
    }

    /// The URL of `key` (a file, or a folder when it ends in `/`), each segment percent-encoded
    /// (a tag's `%2F` stays one segment).
    fn url(&self, key: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(key.split('/'));
        }
        url
    }

    /// Sends one request for `key`; statuses in `also_final` come back as replies, every other
    /// failure as [`StorageError::Http`].
    async fn call(
        &self,
        method: Method,
        key: &str,
        headers: HeaderMap,
        body: Option<Body>,
        also_final: &'static [StatusCode],
        context: &'static str,
    ) -> Result<Reply, StorageError> {
        let req = Request {
            method,
            url: self.url(key),
            headers,
            body,
            also_final,
        };
        send(
            &self.http,
            req,
            self.auth.as_ref(),
            self.url_of(key),
            context,
        )
        .await
    }

    /// Makes the folders above `key`, top down, once per run (`MKCOL`). nginx's dav module
    /// answers a `PUT` into a missing folder with `500` (RFC 4918 says `409`; rclone makes it),
    /// so the folders are made before the first `PUT` instead of after a refusal. A server
    /// without `MKCOL` (a plain PUT server) answers with an error status, which is left to the
    /// `PUT` to confirm or refute; a folder counts as made on `201` or `405` (already there).
    async fn make_folders(&self, key: &str) -> Result<(), StorageError> {
        let mut folder = String::new();
        let mut parts: Vec<&str> = key.split('/').collect();
        parts.pop();
        for part in parts {
            folder.push_str(part);
            folder.push('/');
            if self
                .made
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&folder)
            {
                continue;
            }
            // A valid extension method: the fallback is never taken, and would only ask harmlessly.
            let mkcol = Method::from_bytes(b"MKCOL").unwrap_or(Method::OPTIONS);
            let reply = self
                .call(
                    mkcol,
                    &folder,
                    HeaderMap::new(),
                    None,
                    NOT_A_FOLDER_MAKER,
                    "cannot make the folder",
                )
                .await?;
            if reply.status.is_success() || reply.status == StatusCode::METHOD_NOT_ALLOWED {
                self.made
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(folder.clone());
            } else {
                tracing::debug!(
                    "{}: MKCOL answered {}; leaving it to the PUT",
                    self.url_of(&folder),
                    reply.status
                );
            }
        }
        Ok(())
    }

    /// PUTs `body` as `key`, in folders made first.
    async fn put(
        &self,
        key: &str,
        headers: HeaderMap,
        body: Body,
        context: &'static str,
    ) -> Result<(), StorageError> {
        self.make_folders(key).await?;
        self.call(Method::PUT, key, headers, Some(body), &[], context)
            .await
            .map(drop)
    }

    /// The size the server reports for `key` (`HEAD`), or `None` if it has no such file.
    async fn size_of(&self, key: &str) -> Result<Option<u64>, StorageError> {
        let reply = self
            .call(
                Method::HEAD,
                key,
                HeaderMap::new(),
                None,
                &[StatusCode::NOT_FOUND],
                "cannot ask for the file",
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(reply
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()))
    }
}

/// A store's credential: the header that carries it (marked sensitive, so never logged) and
/// the values no message may quote (a server could echo them back in an error body).
pub(super) struct Credential {
    pub(super) name: HeaderName,
    pub(super) value: HeaderValue,
    hidden: Vec<String>,
}

impl Credential {
    /// `name: value`, hiding `secrets` and the value itself; `Err` if a header cannot carry it.
    pub(super) fn new(name: HeaderName, value: String, secrets: &[&str]) -> Result<Credential, ()> {
        let mut header = HeaderValue::from_str(&value).map_err(drop)?;
        header.set_sensitive(true);
        let mut hidden: Vec<String> = secrets.iter().map(|s| (*s).to_string()).collect();
        hidden.extend(value.split_once(' ').map(|(_, v)| v.to_string()));
        hidden.push(value);
        hidden.retain(|s| !s.is_empty());
        // Longest first, so a secret inside another is not left half-starred.
        hidden.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Ok(Credential {
            name,
            value: header,
            hidden,
        })
    }

    /// `Authorization: Bearer {token}`.
    pub(super) fn bearer(token: &str) -> Result<Credential, ()> {
        Credential::new(AUTHORIZATION, format!("Bearer {token}"), &[token])
    }

    /// `Authorization: Basic base64(user:secret)`.
    pub(super) fn basic(user: &str, secret: &str) -> Result<Credential, ()> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
        Credential::new(AUTHORIZATION, format!("Basic {encoded}"), &[secret])
    }

    /// `message` with every hidden value starred out.
    fn scrub(&self, message: String) -> String {
        self.hidden
            .iter()
            .fold(message, |m, secret| m.replace(secret.as_str(), REDACTED))
    }
}

/// Sends `req` through `http` (its retry policy) with the credential, if any; statuses in its
/// `also_final` come back as replies, every other failure as [`StorageError::Http`] at
/// `location` (a URL without credentials), doing `context`, never quoting the credential. The
/// remote stores over the tool's client share it.
pub(super) async fn send(
    http: &HttpClient,
    mut req: Request,
    credential: Option<&Credential>,
    location: String,
    context: &'static str,
) -> Result<Reply, StorageError> {
    if let Some(c) = credential {
        req.headers.insert(c.name.clone(), c.value.clone());
    }
    http.fetch(&req, &Logged(&location)).await.map_err(|e| {
        let message = describe(e);
        StorageError::Http {
            location,
            context,
            message: credential.map_or_else(|| message.clone(), |c| c.scrub(message.clone())),
        }
    })
}

/// Logs retries by the store's URL (which carries no credentials).
struct Logged<'a>(&'a str);

impl Observer for Logged<'_> {
    fn retrying(&self, reason: &str, attempt: u32, after: std::time::Duration) {
        tracing::warn!(
            "{}: {reason}; attempt {} in {:.1}s",
            self.0,
            attempt + 1,
            after.as_secs_f64()
        );
    }
}

/// The send loop's failure in words (it never holds a URL; a body is quoted on one line).
fn describe(e: SendError) -> String {
    match e {
        SendError::Refused(m) | SendError::Redirect(m) => m,
        SendError::Transport { message, attempts } => {
            format!("{message} (after {attempts} attempt(s))")
        }
        SendError::Status(r) | SendError::RateLimited { rejection: r, .. } => {
            let body = String::from_utf8_lossy(&r.body);
            let body: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
            let body: String = body.chars().take(200).collect();
            format!(
                "HTTP {}{}{} (after {} attempt(s))",
                r.status.as_u16(),
                if body.is_empty() { "" } else { ": " },
                body,
                r.attempts
            )
        }
    }
}

/// A verified file, streamed for each attempt of its `PUT`. The bytes are hashed as they are
/// read; the last chunk is held back until the whole file matches `sha256` and `size`, so a file
/// changed since verification is never completed on the server.
#[derive(Debug)]
pub(super) struct VerifiedFile {
    pub(super) path: PathBuf,
    pub(super) size: u64,
    pub(super) sha256: String,
    /// What the bytes hashed to when they did not match (for [`StorageError::Changed`]).
    pub(super) changed: Arc<Mutex<Option<String>>>,
}

impl VerifiedFile {
    /// A source for the verified file `path` of `size` bytes with SHA-256 `sha256`.
    pub(super) fn new(path: &Path, size: u64, sha256: &str) -> Arc<VerifiedFile> {
        Arc::new(VerifiedFile {
            path: path.to_path_buf(),
            size,
            sha256: sha256.to_string(),
            changed: Arc::new(Mutex::new(None)),
        })
    }

    /// What the bytes hashed to if a send found them changed (taken once).
    pub(super) fn changed(&self) -> Option<String> {
        self.changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

struct Reading {
    file: tokio::fs::File,
    hasher: Sha256,
    read: u64,
    held: Option<Bytes>,
    done: bool,
}

impl BodySource for VerifiedFile {
    fn open(&self) -> Result<reqwest::Body, String> {
        let file = std::fs::File::open(&self.path)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        let chunks = verified_chunks(
            tokio::fs::File::from_std(file),
            self.size,
            self.sha256.clone(),
            self.changed.clone(),
        );
        Ok(reqwest::Body::wrap_stream(chunks))
    }
}

/// The chunks of `file`, hashed as they are read, the last one held back until the whole file
/// is `size` bytes with SHA-256 `sha256`; otherwise the stream ends with an error instead of its
/// last chunk, and `changed` says what the bytes hashed to.
fn verified_chunks(
    file: tokio::fs::File,
    size: u64,
    sha256: String,
    changed: Arc<Mutex<Option<String>>>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let state = Reading {
        file,
        hasher: Sha256::new(),
        read: 0,
        held: None,
        done: false,
    };
    stream::unfold(state, move |mut st| {
        let (sha256, changed) = (sha256.clone(), changed.clone());
        async move {
            if st.done {
                return None;
            }
            loop {
                let mut buf = BytesMut::with_capacity(CHUNK);
                match st.file.read_buf(&mut buf).await {
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                    Ok(0) => {
                        st.done = true;
                        let actual = hex::encode(std::mem::take(&mut st.hasher).finalize());
                        if st.read != size || !actual.eq_ignore_ascii_case(&sha256) {
                            *changed.lock().unwrap_or_else(PoisonError::into_inner) =
                                Some(format!("{actual} ({} bytes)", st.read));
                            return Some((
                                Err(std::io::Error::other(
                                    "the file changed since it was verified",
                                )),
                                st,
                            ));
                        }
                        return st.held.take().map(|last| (Ok(last), st));
                    }
                    Ok(_) => {
                        let chunk = buf.freeze();
                        st.hasher.update(&chunk);
                        st.read += chunk.len() as u64;
                        if let Some(previous) = st.held.replace(chunk) {
                            return Some((Ok(previous), st));
                        }
                    }
                }
            }
        }
    })
}

/// The hrefs of a `PROPFIND` answer's non-collection entries, decoded.
fn propfind_files(xml: &[u8]) -> Result<Vec<String>, String> {
    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut files = Vec::new();
    let (mut href, mut in_href, mut collection) = (String::new(), false, false);
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Eof => return Ok(files),
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"response" => {
                href.clear();
                collection = false;
            }
            Event::Start(e) if e.local_name().as_ref() == b"href" => in_href = true,
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"collection" => {
                collection = true;
            }
            Event::End(e) if e.local_name().as_ref() == b"href" => in_href = false,
            Event::End(e)
                if e.local_name().as_ref() == b"response"
                    && !collection
                    && !href.ends_with('/')
                    && !href.is_empty() =>
            {
                files.push(std::mem::take(&mut href));
            }
            Event::Text(t) if in_href => href.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) if in_href => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    href.push(c);
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    href.push_str(resolve_predefined_entity(&name).unwrap_or_default());
                }
            }
            _ => {}
        }
    }
}

#[async_trait]
impl ArtifactStore for HttpArtifactStore {
    fn url_of(&self, key: &str) -> String {
        redact(&self.url(key))
    }

    async fn upload_file(
        &self,
        key: &str,
        sidecar_key: &str,
        file: &Path,
        size: u64,
        sha256: &str,
    ) -> Result<UploadHow, StorageError> {
        if self.size_of(key).await? == Some(size)
            && let Some(sidecar) = self.get_small(sidecar_key).await?
            && sidecar.starts_with(format!("{sha256}  ").as_bytes())
        {
            return Ok(UploadHow::AlreadyPresent);
        }
        let source = VerifiedFile::new(file, size, sha256);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
        let sent = self
            .put(
                key,
                headers,
                Body::Stream(source.clone()),
                "cannot upload the file",
            )
            .await;
        if let Some(actual) = source.changed() {
            return Err(StorageError::Changed {
                path: file.to_path_buf(),
                expected: sha256.to_string(),
                actual,
            });
        }
        sent?;
        // The server must hold what was sent.
        match self.size_of(key).await? {
            Some(held) if held == size => Ok(UploadHow::Uploaded),
            held => Err(StorageError::Http {
                location: self.url_of(key),
                context: "the upload did not take",
                message: format!(
                    "the server holds {} after {size} bytes were sent",
                    held.map_or("no file".to_string(), |n| format!("{n} bytes"))
                ),
            }),
        }
    }

    async fn put_small(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.put(
            key,
            HeaderMap::new(),
            Body::Bytes(bytes),
            "cannot upload the file",
        )
        .await
    }

    async fn get_small(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let reply = self
            .call(
                Method::GET,
                key,
                HeaderMap::new(),
                None,
                &[StatusCode::NOT_FOUND],
                "cannot read the file",
            )
            .await?;
        Ok((reply.status != StatusCode::NOT_FOUND).then_some(reply.body))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("depth"), HeaderValue::from(1));
        let propfind = Method::from_bytes(b"PROPFIND").unwrap_or(Method::GET);
        let folder = if prefix.ends_with('/') || prefix.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        let reply = self
            .call(
                propfind,
                &folder,
                headers,
                None,
                &[
                    StatusCode::NOT_FOUND,
                    StatusCode::METHOD_NOT_ALLOWED,
                    StatusCode::NOT_IMPLEMENTED,
                ],
                "cannot list the folder",
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !reply.status.is_success() {
            // nginx's dav module alone has no PROPFIND: nothing to list, deletes still work.
            tracing::debug!(
                "{}: the server cannot list folders ({})",
                self.url_of(&folder),
                reply.status
            );
            return Ok(Vec::new());
        }
        let hrefs = propfind_files(&reply.body).map_err(|e| StorageError::Http {
            location: self.url_of(&folder),
            context: "cannot read the folder's listing",
            message: e,
        })?;
        let folder_path = self.url(&folder).path().to_string();
        let mut keys = Vec::new();
        for href in hrefs {
            // An href is a path or a full URL; either way its path must be in the folder.
            let path = match Url::parse(&href) {
                Ok(u) => u.path().to_string(),
                Err(_) => href,
            };
            if let Some(name) = path.strip_prefix(&folder_path)
                && !name.is_empty()
                && !name.contains('/')
            {
                let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
                keys.push(format!("{folder}{name}"));
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.call(
            Method::DELETE,
            key,
            HeaderMap::new(),
            None,
            &[StatusCode::NOT_FOUND],
            "cannot delete the file",
        )
        .await
        .map(drop)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let keys = self.list(prefix).await?;
        let folder = if prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        self.call(
            Method::DELETE,
            &folder,
            HeaderMap::new(),
            None,
            &[StatusCode::NOT_FOUND],
            "cannot delete the folder",
        )
        .await?;
        self.made
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|made| !made.starts_with(&folder));
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a stream of `verified_chunks` over `bytes`, expecting `sha256`, yields: the bytes
    /// before any error, whether it ended in an error, and what `changed` then says.
    async fn stream_of(bytes: &[u8], sha256: &str) -> (Vec<u8>, bool, Option<String>) {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        let changed = Arc::new(Mutex::new(None));
        let file = tokio::fs::File::open(&path).await.unwrap();
        let mut chunks = Box::pin(verified_chunks(
            file,
            bytes.len() as u64,
            sha256.to_string(),
            changed.clone(),
        ));
        let (mut sent, mut failed) = (Vec::new(), false);
        while let Some(item) = chunks.next().await {
            match item {
                Ok(chunk) => sent.extend_from_slice(&chunk),
                Err(_) => failed = true,
            }
        }
        let said = changed.lock().unwrap().take();
        (sent, failed, said)
    }

    #[tokio::test]
    async fn a_file_that_changed_since_verification_is_never_sent_whole() {
        let bytes: Vec<u8> = (0..(3 * CHUNK + 100)).map(|i| (i % 251) as u8).collect();
        let right = hex::encode(Sha256::digest(&bytes));
        let (sent, failed, said) = stream_of(&bytes, &right).await;
        assert_eq!((sent == bytes, failed, said), (true, false, None));
        // Another SHA-256: everything but the held-back last chunk went out, then an error.
        let (sent, failed, said) = stream_of(&bytes, &"0".repeat(64)).await;
        assert!(failed);
        assert!(sent.len() < bytes.len() && bytes.starts_with(&sent));
        assert!(said.is_some_and(|s| s.starts_with(&right)));
        // A small file is one chunk: nothing at all goes out.
        let (sent, failed, _) = stream_of(b"tiny", &right).await;
        assert_eq!((sent.len(), failed), (0, true));
    }

    #[test]
    fn a_credential_is_never_quoted_back() {
        let basic = Credential::basic("me", "pw-Secret-1").unwrap();
        assert!(basic.value.is_sensitive());
        let encoded = basic
            .value
            .to_str()
            .unwrap()
            .trim_start_matches("Basic ")
            .to_string();
        let echoed = format!("HTTP 400: you sent pw-Secret-1 as Basic {encoded}");
        assert_eq!(basic.scrub(echoed), "HTTP 400: you sent *** as ***");
        let bearer = Credential::bearer("tok-Secret-2").unwrap();
        assert_eq!(
            bearer.scrub("bad token Bearer tok-Secret-2".into()),
            "bad token ***"
        );
        assert!(Credential::bearer("a\nb").is_err());
    }

    #[test]
    fn a_propfind_answer_yields_its_files_not_its_folders() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<D:multistatus xmlns:D="DAV:">
  <D:response><D:href>/dav/a_b/v1/</D:href>
    <D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat>
  </D:response>
  <D:response><D:href>/dav/a_b/v1/tool%20x.tar.gz</D:href>
    <D:propstat><D:prop><D:resourcetype/></D:prop></D:propstat></D:response>
  <d:response xmlns:d="DAV:"><d:href>http://h/dav/a_b/v1/a&amp;b.sha256</d:href>
    <d:propstat><d:prop><d:resourcetype/></d:prop></d:propstat></d:response>
  <D:response><D:href>/dav/a_b/v1/sub/</D:href>
    <D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat>
  </D:response>
</D:multistatus>"#;
        assert_eq!(
            propfind_files(xml).unwrap(),
            [
                "/dav/a_b/v1/tool%20x.tar.gz",
                "http://h/dav/a_b/v1/a&b.sha256"
            ]
        );
        assert!(propfind_files(b"<a><b></a>").is_err());
    }

    #[test]
    fn keys_become_percent_encoded_urls_under_the_collection() {
        let store = HttpArtifactStore::from_config(
            &HttpStorage {
                enabled: true,
                url: Some("https://dav.example.com/mirror".into()),
                ..HttpStorage::default()
            },
            &HttpOptions {
                ca_cert: None,
                timeout: std::time::Duration::from_secs(5),
                transfer_timeout: std::time::Duration::from_secs(5),
                accept_invalid_certs: false,
                policy: crate::http::RetryPolicy::default(),
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            store.url("o_r/cli%2Fv1/a b#c.zip").as_str(),
            "https://dav.example.com/mirror/o_r/cli%252Fv1/a%20b%23c.zip"
        );
        assert_eq!(
            store.url("o_r/v1/").as_str(),
            "https://dav.example.com/mirror/o_r/v1/"
        );
        assert!(format!("{store:?}").contains("dav.example.com/mirror"));
    }
}
