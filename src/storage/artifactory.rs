//! Artifactory storage: the mirror's layout in a generic Artifactory repository, at
//! `{base_url}/{repository}/{path_prefix}{owner}_{repo}/{tag}/{asset}`, as the seed tool writes it.
//!
//! It follows Artifactory's REST API as documented for Artifactory 6.x and 7.x (Deploy Artifact,
//! Deploy Artifact by Checksum, File Info / Folder Info under `/api/storage`, Retrieve Artifact,
//! Delete Item):
//! - a file is first deployed **by checksum** (`X-Checksum-Deploy: true` with its SHA-256 and
//!   SHA-1, no body): when Artifactory already holds those bytes anywhere it answers `201` and
//!   nothing is sent; an unknown checksum answers `404`, and the file is then sent whole;
//! - every deploy carries `X-Checksum-Sha256` and `X-Checksum-Sha1`, so Artifactory refuses
//!   bytes that were damaged on the way (`409`); such a refusal is sent once more, then reported;
//! - whether a file is already there, and what a folder holds, is asked through the storage API
//!   (`GET /api/storage/{repository}/{path}`: size, checksums, children); folders are made by
//!   Artifactory itself on deploy; retention `DELETE`s a release's folder.
//!
//! Requests go through the tool's HTTP client (its TLS roots, HTTPS rule, redirect rule, retry
//! policy). Credentials — an access token as a bearer token, an API key (`X-JFrog-Art-Api`, or
//! basic auth with the username), or username and password — are marked sensitive, go only to
//! the server's origin, and are never part of a URL, message or report.
//! [`ArtifactoryConnection`] is shared with the version database kept in Artifactory
//! ([`crate::db::ArtifactoryDb`]).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::Url;

use super::http::{Credential, VerifiedFile, send};
use super::{ArtifactStore, StorageError, UploadHow};
use crate::config::ArtifactoryStorage;
use crate::http::{Body, HttpClient, HttpOptions, Reply, Request, redact};

const X_CHECKSUM_DEPLOY: HeaderName = HeaderName::from_static("x-checksum-deploy");
const X_CHECKSUM_SHA256: HeaderName = HeaderName::from_static("x-checksum-sha256");
const X_CHECKSUM_SHA1: HeaderName = HeaderName::from_static("x-checksum-sha1");
const X_JFROG_ART_API: HeaderName = HeaderName::from_static("x-jfrog-art-api");

/// A file's or folder's entry in the storage API (File Info / Folder Info).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemInfo {
    /// A file's size (Artifactory sends it as a string).
    #[serde(default)]
    pub size: Option<String>,
    /// A file's checksums.
    #[serde(default)]
    pub checksums: Option<Checksums>,
    /// A folder's direct children.
    #[serde(default)]
    pub children: Option<Vec<Child>>,
}

/// The checksums Artifactory keeps for a file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Checksums {
    /// Hex SHA-256.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Hex SHA-1.
    #[serde(default)]
    pub sha1: Option<String>,
}

/// One child of a folder.
#[derive(Debug, Clone, Deserialize)]
pub struct Child {
    /// `/name`.
    pub uri: String,
    /// Whether it is a folder.
    #[serde(default)]
    pub folder: bool,
}

impl ItemInfo {
    /// The file's SHA-256, lower case, if Artifactory reported one.
    pub fn sha256(&self) -> Option<String> {
        self.checksums
            .as_ref()
            .and_then(|c| c.sha256.as_deref())
            .map(str::to_ascii_lowercase)
    }

    /// The file's size, if reported.
    pub fn size(&self) -> Option<u64> {
        self.size.as_deref().and_then(|s| s.parse().ok())
    }
}

/// One Artifactory server and repository, with its credentials: what the artifact store and
/// the version database kept in Artifactory both talk to.
pub struct ArtifactoryConnection {
    http: HttpClient,
    /// `{base_url}/`.
    base: Url,
    repository: String,
    /// The credential header (marked sensitive: never logged, never quoted).
    auth: Option<Credential>,
}

impl fmt::Debug for ArtifactoryConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ArtifactoryConnection({}{})",
            redact(&self.base),
            self.repository
        )
    }
}

/// A 256 KiB-at-a-time SHA-1 and SHA-256 of a file, read on the blocking pool.
async fn file_digests(path: &Path) -> Result<(String, String, u64), std::io::Error> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path)?;
        let (mut sha1, mut sha256, mut size) = (Sha1::new(), Sha256::new(), 0u64);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            sha1.update(&buf[..n]);
            sha256.update(&buf[..n]);
            size += n as u64;
        }
        Ok((
            hex::encode(sha1.finalize()),
            hex::encode(sha256.finalize()),
            size,
        ))
    })
    .await
    .map_err(std::io::Error::other)?
}

impl ArtifactoryConnection {
    /// The connection `cfg` describes (whether or not the store is enabled: the version
    /// database may live there alone). `http` carries the TLS roots, timeouts and retry policy of
    /// the rest of the tool. `verify_ssl: false` is honoured with a warning every time.
    pub fn from_settings(
        cfg: &ArtifactoryStorage,
        http: &HttpOptions,
    ) -> Result<ArtifactoryConnection, StorageError> {
        let setup = |m: &str| StorageError::ArtifactorySetup(m.to_string());
        let url = cfg.base_url.as_deref().ok_or_else(|| {
            setup("download.artifactory_storage.base_url (or ARTIFACTORY_URL) is required")
        })?;
        let repository = cfg.repository.clone().ok_or_else(|| {
            setup("download.artifactory_storage.repository (or ARTIFACTORY_REPOSITORY) is required")
        })?;
        if repository.contains('/') || repository == "." || repository == ".." {
            return Err(setup(
                "download.artifactory_storage.repository must be a repository key, not a path",
            ));
        }
        let mut base = Url::parse(url).map_err(|e| {
            StorageError::ArtifactorySetup(format!(
                "download.artifactory_storage.base_url is not a URL: {e}"
            ))
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let auth = match (
            &cfg.access_token,
            &cfg.api_key,
            &cfg.username,
            &cfg.password,
        ) {
            (Some(token), _, _, _) => Some(Credential::bearer(token.expose())),
            (None, Some(key), Some(user), _) => Some(Credential::basic(user, key.expose())),
            (None, Some(key), None, _) => Some(Credential::new(
                X_JFROG_ART_API,
                key.expose().to_string(),
                &[],
            )),
            (None, None, Some(user), Some(password)) => {
                Some(Credential::basic(user, password.expose()))
            }
            _ => None,
        }
        .transpose()
        .map_err(|()| {
            setup(
                "download.artifactory_storage: the credentials hold characters a header cannot \
                 carry",
            )
        })?;
        let mut http = http.clone();
        if !cfg.verify_ssl {
            tracing::warn!(
                "download.artifactory_storage.verify_ssl is false (or \
                 ARTIFACTORY_SKIP_SSL_VERIFICATION is set): the certificate of {} is NOT \
                 verified, so anyone on the network path can read the credentials and change \
                 what is stored. Give the server's CA in github.ca_cert or SSL_CERT_FILE instead",
                redact(&base)
            );
            http.accept_invalid_certs = true;
        }
        let http = HttpClient::new(&http).map_err(|e| StorageError::ArtifactorySetup(e.0))?;
        Ok(ArtifactoryConnection {
            http,
            base,
            repository,
            auth,
        })
    }

    /// `{base}/{segments...}`, each segment percent-encoded (a tag's `%2F` stays one segment).
    fn url_with(&self, head: &[&str], path: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(head.iter().copied())
                .extend(path.split('/'));
        }
        url
    }

    /// The repository key.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The URL of the item `path` (repository-relative; a folder when it ends in `/`).
    pub fn item_url(&self, path: &str) -> Url {
        self.url_with(&[&self.repository], path)
    }

    /// The storage API's URL for `path` (File Info / Folder Info).
    fn info_url(&self, path: &str) -> Url {
        self.url_with(&["api", "storage", &self.repository], path)
    }

    /// Where `path` lives, for messages (no credentials).
    pub fn location(&self, path: &str) -> String {
        redact(&self.item_url(path))
    }

    /// Sends one request about `target`; statuses in `also_final` come back as replies, every
    /// other failure as [`StorageError::Http`] naming the item.
    async fn call(
        &self,
        method: Method,
        target: Target<'_>,
        headers: HeaderMap,
        body: Option<Body>,
        also_final: &'static [StatusCode],
        context: &'static str,
    ) -> Result<Reply, StorageError> {
        let (url, path) = match target {
            Target::Item(path) => (self.item_url(path), path),
            Target::Info(path) => (self.info_url(path), path),
        };
        let req = Request {
            method,
            url,
            headers,
            body,
            also_final,
        };
        send(
            &self.http,
            req,
            self.auth.as_ref(),
            self.location(path),
            context,
        )
        .await
    }

    /// File Info or Folder Info for `path`, or `None` when nothing is there.
    pub async fn info(&self, path: &str) -> Result<Option<ItemInfo>, StorageError> {
        let reply = self
            .call(
                Method::GET,
                Target::Info(path),
                HeaderMap::new(),
                None,
                &[StatusCode::NOT_FOUND],
                "cannot ask the storage API",
            )
            .await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        serde_json::from_slice(&reply.body)
            .map(Some)
            .map_err(|e| StorageError::Http {
                location: self.location(path),
                context: "cannot read the storage API's answer",
                message: e.to_string(),
            })
    }

    /// A file's bytes, or `None` when it does not exist.
    pub async fn get(&self, path: &str) -> Result<Option<Bytes>, StorageError> {
        let reply = self
            .call(
                Method::GET,
                Target::Item(path),
                HeaderMap::new(),
                None,
                &[StatusCode::NOT_FOUND],
                "cannot read the file",
            )
            .await?;
        Ok((reply.status != StatusCode::NOT_FOUND).then_some(reply.body))
    }

    /// Deploys small bytes as `path`, with their checksums (Artifactory refuses them with `409`
    /// if they arrive different).
    pub async fn put_bytes(&self, path: &str, bytes: Bytes) -> Result<(), StorageError> {
        let headers = checksum_headers(
            &hex::encode(Sha256::digest(&bytes)),
            &hex::encode(Sha1::digest(&bytes)),
        )?;
        self.call(
            Method::PUT,
            Target::Item(path),
            headers,
            Some(Body::Bytes(bytes)),
            &[],
            "cannot deploy the file",
        )
        .await
        .map(drop)
    }

    /// Deletes the file or folder `path` (absent is not an error).
    pub async fn delete(&self, path: &str) -> Result<(), StorageError> {
        self.call(
            Method::DELETE,
            Target::Item(path),
            HeaderMap::new(),
            None,
            &[StatusCode::NOT_FOUND],
            "cannot delete",
        )
        .await
        .map(drop)
    }
}

/// What a request is about: an item (`{repository}/{path}`) or its storage API entry.
#[derive(Clone, Copy)]
enum Target<'a> {
    Item(&'a str),
    Info(&'a str),
}

/// `X-Checksum-Sha256` and `X-Checksum-Sha1`.
fn checksum_headers(sha256: &str, sha1: &str) -> Result<HeaderMap, StorageError> {
    let mut headers = HeaderMap::new();
    for (name, value) in [(X_CHECKSUM_SHA256, sha256), (X_CHECKSUM_SHA1, sha1)] {
        let value = HeaderValue::from_str(value).map_err(|_| StorageError::BadKey {
            name: value.to_string(),
            reason: "not a hex checksum".to_string(),
        })?;
        headers.insert(name, value);
    }
    Ok(headers)
}

/// The mirror's layout in an Artifactory repository, under `path_prefix`.
pub struct ArtifactoryArtifactStore {
    conn: Arc<ArtifactoryConnection>,
    /// `path_prefix` as a folder (`release-monitor/`, or empty).
    folder: String,
}

impl fmt::Debug for ArtifactoryArtifactStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ArtifactoryArtifactStore({})",
            self.conn.location(&self.folder)
        )
    }
}

impl ArtifactoryArtifactStore {
    /// The store under `cfg`'s `path_prefix`, over `conn` (shared with a database kept there).
    pub fn new(
        cfg: &ArtifactoryStorage,
        conn: Arc<ArtifactoryConnection>,
    ) -> ArtifactoryArtifactStore {
        ArtifactoryArtifactStore {
            conn,
            folder: cfg.folder(),
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.folder)
    }

    /// Whether `path` already holds `size` bytes with SHA-256 `sha256`.
    async fn holds(&self, path: &str, size: u64, sha256: &str) -> Result<bool, StorageError> {
        Ok(self.conn.info(path).await?.is_some_and(|info| {
            info.size() == Some(size)
                && info
                    .sha256()
                    .is_some_and(|s| s.eq_ignore_ascii_case(sha256))
        }))
    }

    /// One whole deploy of the verified file, hashed as it is sent; its last chunk is held
    /// back unless the bytes still match. `Ok(false)` when Artifactory refused the bytes as
    /// damaged (`409`).
    async fn deploy_whole(
        &self,
        path: &str,
        file: &Path,
        size: u64,
        sha256: &str,
        sha1: &str,
    ) -> Result<bool, StorageError> {
        let source = VerifiedFile::new(file, size, sha256);
        let mut headers = checksum_headers(sha256, sha1)?;
        headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
        let sent = self
            .conn
            .call(
                Method::PUT,
                Target::Item(path),
                headers,
                Some(Body::Stream(source.clone())),
                &[StatusCode::CONFLICT],
                "cannot deploy the file",
            )
            .await;
        if let Some(actual) = source.changed() {
            return Err(StorageError::Changed {
                path: file.to_path_buf(),
                expected: sha256.to_string(),
                actual,
            });
        }
        let reply = sent?;
        if reply.status == StatusCode::CONFLICT {
            tracing::warn!(
                "{}: Artifactory refused the bytes as damaged (HTTP 409: {})",
                self.conn.location(path),
                String::from_utf8_lossy(&reply.body)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(200)
                    .collect::<String>()
            );
            return Ok(false);
        }
        Ok(true)
    }
}

#[async_trait]
impl ArtifactStore for ArtifactoryArtifactStore {
    fn url_of(&self, key: &str) -> String {
        self.conn.location(&self.path(key))
    }

    async fn upload_file(
        &self,
        key: &str,
        _sidecar_key: &str,
        file: &Path,
        size: u64,
        sha256: &str,
    ) -> Result<UploadHow, StorageError> {
        let path = self.path(key);
        if self.holds(&path, size, sha256).await? {
            return Ok(UploadHow::AlreadyPresent);
        }
        // SHA-1 for Artifactory's checksum headers; the file must still be what was verified.
        let (sha1, actual, read) =
            file_digests(file)
                .await
                .map_err(|source| StorageError::Local {
                    path: file.to_path_buf(),
                    context: "cannot read the file to upload",
                    source,
                })?;
        if read != size || !actual.eq_ignore_ascii_case(sha256) {
            return Err(StorageError::Changed {
                path: file.to_path_buf(),
                expected: sha256.to_string(),
                actual: format!("{actual} ({read} bytes)"),
            });
        }
        // Deploy by checksum: nothing is sent when Artifactory already holds these bytes.
        let mut headers = checksum_headers(sha256, &sha1)?;
        headers.insert(X_CHECKSUM_DEPLOY, HeaderValue::from_static("true"));
        let reply = self
            .conn
            .call(
                Method::PUT,
                Target::Item(&path),
                headers,
                None,
                &[StatusCode::NOT_FOUND],
                "cannot deploy the file by checksum",
            )
            .await?;
        let how = if reply.status == StatusCode::NOT_FOUND {
            // Unknown content: send it whole, once more if Artifactory found it damaged.
            let mut deployed = false;
            for _ in 0..2 {
                if self.deploy_whole(&path, file, size, sha256, &sha1).await? {
                    deployed = true;
                    break;
                }
            }
            if !deployed {
                return Err(StorageError::Http {
                    location: self.conn.location(&path),
                    context: "cannot deploy the file",
                    message: "Artifactory refused the bytes twice as not matching their \
                              checksums (HTTP 409)"
                        .to_string(),
                });
            }
            UploadHow::Uploaded
        } else {
            UploadHow::ChecksumDeployed
        };
        // Artifactory must hold what was verified.
        if self.holds(&path, size, sha256).await? {
            Ok(how)
        } else {
            Err(StorageError::Http {
                location: self.conn.location(&path),
                context: "the deploy did not take",
                message: format!(
                    "the storage API does not report {size} bytes with SHA-256 {sha256}"
                ),
            })
        }
    }

    async fn put_small(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.conn.put_bytes(&self.path(key), bytes).await
    }

    async fn get_small(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        self.conn.get(&self.path(key)).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let folder = if prefix.ends_with('/') || prefix.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        let Some(info) = self.conn.info(&self.path(&folder)).await? else {
            return Ok(Vec::new());
        };
        let mut keys: Vec<String> = info
            .children
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !c.folder)
            .filter_map(|c| {
                let name = c.uri.trim_start_matches('/');
                (!name.is_empty() && !name.contains('/')).then(|| format!("{folder}{name}"))
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.conn.delete(&self.path(key)).await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let keys = self.list(prefix).await?;
        let folder = if prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        self.conn.delete(&self.path(&folder)).await?;
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn options() -> HttpOptions {
        HttpOptions {
            ca_cert: None,
            timeout: std::time::Duration::from_secs(5),
            transfer_timeout: std::time::Duration::from_secs(5),
            accept_invalid_certs: false,
            policy: crate::http::RetryPolicy::default(),
        }
    }

    fn settings() -> ArtifactoryStorage {
        ArtifactoryStorage {
            enabled: true,
            base_url: Some("https://af.example.com/artifactory".into()),
            repository: Some("generic-local".into()),
            ..ArtifactoryStorage::default()
        }
    }

    #[test]
    fn paths_become_item_and_storage_api_urls() {
        let conn = ArtifactoryConnection::from_settings(&settings(), &options()).unwrap();
        assert_eq!(
            conn.item_url("release-monitor/o_r/cli%2Fv1/a b.zip")
                .as_str(),
            "https://af.example.com/artifactory/generic-local/release-monitor/o_r/cli%252Fv1/a%20b.zip"
        );
        assert_eq!(
            conn.info_url("release-monitor/o_r/v1/").as_str(),
            "https://af.example.com/artifactory/api/storage/generic-local/release-monitor/o_r/v1/"
        );
    }

    #[test]
    fn the_credential_header_follows_the_kind_of_secret() {
        let header = |cfg: ArtifactoryStorage| {
            ArtifactoryConnection::from_settings(&cfg, &options())
                .unwrap()
                .auth
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.value.to_str().unwrap().to_string(),
                        c.value.is_sensitive(),
                    )
                })
        };
        assert_eq!(header(settings()), None);
        let token = ArtifactoryStorage {
            access_token: Some(Secret::new("tok")),
            ..settings()
        };
        assert_eq!(
            header(token),
            Some(("authorization".into(), "Bearer tok".into(), true))
        );
        let key = ArtifactoryStorage {
            api_key: Some(Secret::new("AKC")),
            ..settings()
        };
        assert_eq!(
            header(key),
            Some(("x-jfrog-art-api".into(), "AKC".into(), true))
        );
        let basic_auth = ArtifactoryStorage {
            username: Some("me".into()),
            password: Some(Secret::new("pw")),
            ..settings()
        };
        assert_eq!(
            header(basic_auth),
            Some(("authorization".into(), "Basic bWU6cHc=".into(), true))
        );
        let conn = ArtifactoryConnection::from_settings(
            &ArtifactoryStorage {
                password: Some(Secret::new("hunter2")),
                username: Some("me".into()),
                ..settings()
            },
            &options(),
        )
        .unwrap();
        assert!(!format!("{conn:?}").contains("hunter2"));
    }

    #[test]
    fn a_repository_key_with_a_slash_is_refused() {
        let cfg = ArtifactoryStorage {
            repository: Some("a/b".into()),
            ..settings()
        };
        assert!(matches!(
            ArtifactoryConnection::from_settings(&cfg, &options()),
            Err(StorageError::ArtifactorySetup(_))
        ));
    }

    #[test]
    fn storage_api_answers_parse() {
        let file: ItemInfo = serde_json::from_str(
            r#"{"repo":"g","path":"/a","size":"12","checksums":{"sha1":"x","sha256":"ABC"}}"#,
        )
        .unwrap();
        assert_eq!((file.size(), file.sha256()), (Some(12), Some("abc".into())));
        let folder: ItemInfo = serde_json::from_str(
            r#"{"repo":"g","path":"/a","children":[{"uri":"/x","folder":false},{"uri":"/d","folder":true}]}"#,
        )
        .unwrap();
        assert_eq!(folder.children.unwrap().len(), 2);
    }
}
