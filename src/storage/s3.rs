//! S3-compatible storage through `object_store`'s `aws` backend: the connection settings shared
//! by artifact uploads and the S3 version database, and the artifact store itself.

use std::fmt;
use std::path::Path as FsPath;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, Certificate, ClientConfigKey, ClientOptions, GetOptions,
    ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use url::Url;

use super::{ArtifactStore, StorageError, UploadHow};
use crate::config::{Env, S3Storage, Secret};

/// The variables that name an S3-compatible endpoint, first found wins: the seed tool's
/// `S3_ENDPOINT`, then the AWS SDKs' `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL`.
pub const S3_ENDPOINT_VARS: [&str; 3] = ["S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"];

/// Region used when neither the config nor `AWS_REGION` / `AWS_DEFAULT_REGION` names one.
const DEFAULT_REGION: &str = "us-east-1";

/// AWS credential-provider variables passed to `object_store` as they are (web identity for
/// EKS, container credentials for ECS). Nothing else from `AWS_*` is read: in particular
/// `AWS_ALLOW_HTTP` cannot lift the HTTPS rule.
const PASSTHROUGH: [(&str, AmazonS3ConfigKey); 6] = [
    (
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        AmazonS3ConfigKey::WebIdentityTokenFile,
    ),
    ("AWS_ROLE_ARN", AmazonS3ConfigKey::RoleArn),
    ("AWS_ROLE_SESSION_NAME", AmazonS3ConfigKey::RoleSessionName),
    (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
    ),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        AmazonS3ConfigKey::ContainerCredentialsFullUri,
    ),
    (
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        AmazonS3ConfigKey::ContainerAuthorizationTokenFile,
    ),
];

/// How to reach an S3-compatible service: endpoint, region and credentials.
///
/// It exists so the artifact store and the version database connect the same way, from the
/// config's `s3_storage` and the usual variables. The environment wins over the config, as
/// every other override of this tool does. `Debug` never shows a credential.
#[derive(Clone, Default)]
pub struct S3Connection {
    endpoint: Option<Url>,
    region: Option<String>,
    access_key_id: Option<Secret>,
    secret_access_key: Option<Secret>,
    session_token: Option<Secret>,
    passthrough: Vec<(AmazonS3ConfigKey, String)>,
    ca_pem: Option<(std::path::PathBuf, Vec<u8>)>,
}

impl fmt::Debug for S3Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Connection")
            .field("endpoint", &self.endpoint.as_ref().map(Url::as_str))
            .field("region", &self.region)
            .field("credentials", &self.access_key_id.is_some())
            .finish_non_exhaustive()
    }
}

impl S3Connection {
    /// Reads the settings: endpoint from `S3_ENDPOINT` / `AWS_ENDPOINT_URL_S3` /
    /// `AWS_ENDPOINT_URL`, else `s3_storage.endpoint_url`; region from `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, else `s3_storage.region`, else `us-east-1`; credentials from
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (else the AWS
    /// web-identity, container or instance credentials); extra CA from `SSL_CERT_FILE`.
    ///
    /// The endpoint must be `https://`, or `http://` on a loopback host (for local test
    /// servers); anything else is a setup error.
    pub fn from_settings(cfg: Option<&S3Storage>, env: &Env) -> Result<S3Connection, StorageError> {
        let endpoint_text = S3_ENDPOINT_VARS
            .iter()
            .find_map(|v| env.get_non_empty(v).map(|e| (*v, e.to_string())))
            .or_else(|| {
                cfg.and_then(|c| c.endpoint_url.clone())
                    .map(|e| ("download.s3_storage.endpoint_url", e))
            });
        let endpoint = match endpoint_text {
            None => None,
            Some((from, text)) => {
                let url = Url::parse(&text).map_err(|e| {
                    StorageError::Setup(format!("{from}: {text:?} is not a URL: {e}"))
                })?;
                crate::http::check_transport(&url)
                    .map_err(|e| StorageError::Setup(format!("{from}: {e}")))?;
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(StorageError::Setup(format!(
                        "{from}: the endpoint must not contain a user name or password"
                    )));
                }
                Some(url)
            }
        };
        let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|v| env.get_non_empty(v).map(str::to_string))
            .or_else(|| cfg.and_then(|c| c.region.clone()));
        let secret = |v: &str| env.get_non_empty(v).map(Secret::new);
        let access_key_id = secret("AWS_ACCESS_KEY_ID");
        let secret_access_key = secret("AWS_SECRET_ACCESS_KEY");
        if access_key_id.is_some() != secret_access_key.is_some() {
            return Err(StorageError::Setup(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together".to_string(),
            ));
        }
        let passthrough = PASSTHROUGH
            .iter()
            .filter_map(|(var, key)| env.get_non_empty(var).map(|v| (*key, v.to_string())))
            .collect();
        let ca_pem = match env.get_non_empty("SSL_CERT_FILE") {
            None => None,
            Some(p) => {
                let path = std::path::PathBuf::from(p);
                let pem = std::fs::read(&path).map_err(|e| {
                    StorageError::Setup(format!("SSL_CERT_FILE {}: {e}", path.display()))
                })?;
                Some((path, pem))
            }
        };
        Ok(S3Connection {
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            session_token: secret("AWS_SESSION_TOKEN"),
            passthrough,
            ca_pem,
        })
    }

    /// The endpoint, if one is set (else AWS's own, from the region).
    pub fn endpoint(&self) -> Option<&Url> {
        self.endpoint.as_ref()
    }

    /// An `object_store` client for `bucket`, with conditional puts (`If-Match` /
    /// `If-None-Match`) on, path-style requests to a custom endpoint, and plain HTTP allowed
    /// only for a loopback endpoint.
    pub fn object_store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        check_bucket(bucket)?;
        let mut client = ClientOptions::new().with_config(
            ClientConfigKey::UserAgent,
            concat!("release-monitor/", env!("CARGO_PKG_VERSION")),
        );
        if let Some((path, pem)) = &self.ca_pem {
            let certs = Certificate::from_pem_bundle(pem).map_err(|e| {
                StorageError::Setup(format!("SSL_CERT_FILE {}: {e}", path.display()))
            })?;
            for cert in certs {
                client = client.with_root_certificate(cert);
            }
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(self.region.as_deref().unwrap_or(DEFAULT_REGION))
            .with_conditional_put(S3ConditionalPut::ETagMatch);
        if let Some(url) = &self.endpoint {
            // Only reachable after `check_transport`: http here means a loopback host.
            client = client.with_allow_http(url.scheme() == "http");
            builder = builder
                .with_endpoint(url.as_str().trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(id), Some(key)) = (&self.access_key_id, &self.secret_access_key) {
            builder = builder
                .with_access_key_id(id.expose())
                .with_secret_access_key(key.expose());
            if let Some(token) = &self.session_token {
                builder = builder.with_token(token.expose());
            }
        }
        for (key, value) in &self.passthrough {
            builder = builder.with_config(*key, value);
        }
        let store = builder.with_client_options(client).build().map_err(|e| {
            StorageError::Setup(format!("cannot set up the S3 client for {bucket:?}: {e}"))
        })?;
        Ok(Arc::new(store))
    }
}

/// S3 bucket names: 3 to 63 characters of lowercase letters, digits, `.` and `-`.
fn check_bucket(bucket: &str) -> Result<(), StorageError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !bucket.starts_with(['.', '-'])
        && !bucket.ends_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(StorageError::Setup(format!(
            "{bucket:?} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')"
        )))
    }
}

/// Files up to this size are sent with one `PUT`; larger ones with a multipart upload.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// The part size of multipart uploads (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one file in flight at once; with [`PART_SIZE`] this bounds the memory an upload
/// holds.
const PARTS_IN_FLIGHT: usize = 4;
/// The user metadata key (`x-amz-meta-sha256`) holding an object's SHA-256.
const SHA256_METADATA: &str = "sha256";
/// Sidecars and other small objects read into memory are at most this big.
const MAX_SMALL_OBJECT: u64 = 1024 * 1024;

/// Artifacts in an S3-compatible bucket, under a key prefix.
#[derive(Clone)]
pub struct S3ArtifactStore {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    multipart_threshold: u64,
    part_size: usize,
}

impl fmt::Debug for S3ArtifactStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3ArtifactStore(s3://{}/{})", self.bucket, self.prefix)
    }
}

impl S3ArtifactStore {
    /// A store for `bucket` under `prefix` (`release-monitor/`; a `/` is added if missing, a
    /// leading one dropped; empty means the bucket's root).
    pub fn new(
        conn: &S3Connection,
        bucket: &str,
        prefix: &str,
    ) -> Result<S3ArtifactStore, StorageError> {
        let mut prefix = prefix.trim_start_matches('/').to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        if !prefix.is_empty() {
            Path::parse(&prefix).map_err(|e| {
                StorageError::Setup(format!("prefix {prefix:?} is not a valid key prefix: {e}"))
            })?;
        }
        Ok(S3ArtifactStore {
            store: conn.object_store(bucket)?,
            bucket: bucket.to_string(),
            prefix,
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: PART_SIZE,
        })
    }

    /// The store `download.s3_storage` describes, or `None` when it is not enabled.
    pub fn from_config(
        cfg: &S3Storage,
        env: &Env,
    ) -> Result<Option<S3ArtifactStore>, StorageError> {
        if !cfg.enabled {
            return Ok(None);
        }
        let bucket = cfg.bucket.as_deref().ok_or_else(|| {
            StorageError::Setup("download.s3_storage.bucket is required".to_string())
        })?;
        let conn = S3Connection::from_settings(Some(cfg), env)?;
        S3ArtifactStore::new(&conn, bucket, &cfg.prefix).map(Some)
    }

    /// Changes when multipart uploads are used and their part size (at least 5 MiB, S3's
    /// minimum), for tuning and for tests.
    pub fn with_multipart(mut self, threshold: u64, part_size: usize) -> S3ArtifactStore {
        self.multipart_threshold = threshold;
        self.part_size = part_size.max(5 * 1024 * 1024);
        self
    }

    /// The underlying client, for callers (tests, tools) that need object-level access.
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    fn path(&self, key: &str) -> Result<Path, StorageError> {
        Path::parse(format!("{}{key}", self.prefix)).map_err(|e| StorageError::BadKey {
            name: key.to_string(),
            reason: e.to_string(),
        })
    }

    fn remote(
        &self,
        key: &str,
        context: &'static str,
    ) -> impl FnOnce(object_store::Error) -> StorageError + '_ {
        let location = self.url_of(key);
        move |source| StorageError::Remote {
            location,
            context,
            source,
        }
    }

    /// True when `key` already holds `size` bytes whose SHA-256 is `sha256` (by the object's
    /// `sha256` metadata, else by its uploaded sidecar).
    async fn already_present(
        &self,
        key: &str,
        sidecar_key: &str,
        size: u64,
        sha256: &str,
    ) -> Result<bool, StorageError> {
        let head = GetOptions {
            head: true,
            ..Default::default()
        };
        let found = match self.store.get_opts(&self.path(key)?, head).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(self.remote(key, "cannot look up the object")(e)),
        };
        if found.meta.size != size {
            return Ok(false);
        }
        let by_metadata = found
            .attributes
            .get(&Attribute::Metadata(SHA256_METADATA.into()))
            .map(|v| v.as_ref().eq_ignore_ascii_case(sha256));
        if let Some(matches) = by_metadata {
            return Ok(matches);
        }
        let sidecar = self.get_small(sidecar_key).await?;
        Ok(sidecar.is_some_and(|b| {
            String::from_utf8_lossy(&b)
                .split_whitespace()
                .next()
                .is_some_and(|hex| hex.eq_ignore_ascii_case(sha256))
        }))
    }

    fn attributes(sha256: &str) -> Attributes {
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::Metadata(SHA256_METADATA.into()),
            AttributeValue::from(sha256.to_ascii_lowercase()),
        );
        attributes
    }

    /// One `PUT` of a file small enough to hold in memory.
    async fn put_whole(&self, key: &str, file: &FsPath, sha256: &str) -> Result<(), StorageError> {
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|source| StorageError::Local {
                path: file.to_path_buf(),
                context: "cannot read the file to upload",
                source,
            })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if !actual.eq_ignore_ascii_case(sha256) {
            return Err(StorageError::Changed {
                path: file.to_path_buf(),
                expected: sha256.to_string(),
                actual,
            });
        }
        let opts = PutOptions {
            attributes: Self::attributes(sha256),
            ..Default::default()
        };
        self.store
            .put_opts(&self.path(key)?, PutPayload::from(bytes), opts)
            .await
            .map_err(self.remote(key, "upload failed"))?;
        Ok(())
    }

    /// A multipart upload, streamed from the file part by part; abandoned (and aborted on the
    /// server) on any error or if the bytes no longer hash to `sha256`.
    async fn put_multipart(
        &self,
        key: &str,
        file: &FsPath,
        size: u64,
        sha256: &str,
    ) -> Result<(), StorageError> {
        let local = |context: &'static str| {
            let path = file.to_path_buf();
            move |source| StorageError::Local {
                path,
                context,
                source,
            }
        };
        let mut reader = tokio::fs::File::open(file)
            .await
            .map_err(local("cannot open the file to upload"))?;
        let opts = PutMultipartOptions {
            attributes: Self::attributes(sha256),
            ..Default::default()
        };
        let upload = self
            .store
            .put_multipart_opts(&self.path(key)?, opts)
            .await
            .map_err(self.remote(key, "cannot start the multipart upload"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut hasher = Sha256::new();
        let mut sent = 0u64;
        let mut buf = vec![0u8; 1024 * 1024];
        let failure = loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) => break Some(local("cannot read the file to upload")(e)),
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                break Some(self.remote(key, "multipart upload failed")(e));
            }
            hasher.update(&buf[..n]);
            writer.write(&buf[..n]);
            sent += n as u64;
        };
        let actual = hex::encode(hasher.finalize());
        let failure = failure.or_else(|| {
            (sent != size || !actual.eq_ignore_ascii_case(sha256)).then(|| StorageError::Changed {
                path: file.to_path_buf(),
                expected: sha256.to_string(),
                actual: format!("{actual} ({sent} bytes)"),
            })
        });
        if let Some(e) = failure {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(
                    "{}: cannot abort the multipart upload: {abort}",
                    self.url_of(key)
                );
            }
            return Err(e);
        }
        writer
            .finish()
            .await
            .map_err(self.remote(key, "cannot complete the multipart upload"))?;
        Ok(())
    }
}

#[async_trait]
impl ArtifactStore for S3ArtifactStore {
    fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{}{key}", self.bucket, self.prefix)
    }

    async fn upload_file(
        &self,
        key: &str,
        sidecar_key: &str,
        file: &FsPath,
        size: u64,
        sha256: &str,
    ) -> Result<UploadHow, StorageError> {
        if self.already_present(key, sidecar_key, size, sha256).await? {
            tracing::debug!("{}: already present, not uploaded again", self.url_of(key));
            return Ok(UploadHow::AlreadyPresent);
        }
        if size <= self.multipart_threshold {
            self.put_whole(key, file, sha256).await?;
        } else {
            self.put_multipart(key, file, size, sha256).await?;
        }
        tracing::info!("{}: uploaded {size} bytes", self.url_of(key));
        Ok(UploadHow::Uploaded)
    }

    async fn put_small(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&self.path(key)?, PutPayload::from(bytes))
            .await
            .map_err(self.remote(key, "upload failed"))?;
        Ok(())
    }

    async fn get_small(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let found = match self.store.get(&self.path(key)?).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.remote(key, "cannot read the object")(e)),
        };
        if found.meta.size > MAX_SMALL_OBJECT {
            return Ok(None);
        }
        found
            .bytes()
            .await
            .map(Some)
            .map_err(self.remote(key, "cannot read the object"))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let full = format!("{}{prefix}", self.prefix);
        let under = if full.trim_matches('/').is_empty() {
            None
        } else {
            Some(self.path(prefix)?)
        };
        let metas: Vec<_> = self
            .store
            .list(under.as_ref())
            .try_collect()
            .await
            .map_err(self.remote(prefix, "cannot list objects"))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                m.location
                    .as_ref()
                    .strip_prefix(&self.prefix)
                    .map(str::to_string)
            })
            .filter(|k| k.starts_with(prefix))
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.remote(key, "cannot delete the object")(e)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let keys = self.list(prefix).await?;
        let paths = keys
            .iter()
            .map(|k| self.path(k))
            .collect::<Result<Vec<_>, _>>()?;
        let deleted: Vec<Path> = self
            .store
            .delete_stream(futures_util::stream::iter(paths.into_iter().map(Ok)).boxed())
            .try_collect()
            .await
            .map_err(self.remote(prefix, "cannot delete objects"))?;
        Ok(deleted.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn endpoints_must_be_https_unless_loopback() {
        for ok in [
            "https://s3.example.com",
            "http://127.0.0.1:9000",
            "http://localhost:1",
        ] {
            let c = S3Connection::from_settings(None, &env(&[("S3_ENDPOINT", ok)])).unwrap();
            assert!(c.endpoint().is_some(), "{ok}");
        }
        let err = S3Connection::from_settings(None, &env(&[("S3_ENDPOINT", "http://minio:9000")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("S3_ENDPOINT") && err.contains("loopback"),
            "{err}"
        );
        let cfg = S3Storage {
            endpoint_url: Some("http://10.0.0.1".into()),
            ..Default::default()
        };
        let err = S3Connection::from_settings(Some(&cfg), &Env::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("endpoint_url"), "{err}");
    }

    #[test]
    fn environment_wins_over_the_config() {
        let cfg = S3Storage {
            endpoint_url: Some("https://config.example.com".into()),
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let c = S3Connection::from_settings(
            Some(&cfg),
            &env(&[
                ("AWS_ENDPOINT_URL", "https://env.example.com"),
                ("AWS_DEFAULT_REGION", "ap-south-1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.endpoint().unwrap().host_str(), Some("env.example.com"));
        assert_eq!(c.region.as_deref(), Some("ap-south-1"));
        let c = S3Connection::from_settings(Some(&cfg), &Env::default()).unwrap();
        assert_eq!(c.endpoint().unwrap().host_str(), Some("config.example.com"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn credentials_are_never_shown() {
        let c = S3Connection::from_settings(
            None,
            &env(&[
                ("AWS_ACCESS_KEY_ID", "AKIDVISIBLE"),
                ("AWS_SECRET_ACCESS_KEY", "SECRETVALUE"),
                ("AWS_SESSION_TOKEN", "TOKENVALUE"),
            ]),
        )
        .unwrap();
        let shown = format!("{c:?}");
        for secret in ["AKIDVISIBLE", "SECRETVALUE", "TOKENVALUE"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let half = S3Connection::from_settings(None, &env(&[("AWS_ACCESS_KEY_ID", "AKID")]));
        assert!(half.is_err());
    }

    #[test]
    fn buckets_and_prefixes_are_checked() {
        let c = S3Connection::default();
        assert!(S3ArtifactStore::new(&c, "ok-bucket", "release-monitor/").is_ok());
        assert!(S3ArtifactStore::new(&c, "Bad_Bucket", "").is_err());
        assert!(S3ArtifactStore::new(&c, "ok-bucket", "a//b/").is_err());
        let s = S3ArtifactStore::new(&c, "ok-bucket", "/mirror").unwrap();
        assert_eq!(s.url_of("o_r/v1/a"), "s3://ok-bucket/mirror/o_r/v1/a");
        let s = S3ArtifactStore::new(&c, "ok-bucket", "").unwrap();
        assert_eq!(s.url_of("o_r/v1/a"), "s3://ok-bucket/o_r/v1/a");
    }
}
