//! Remote copies of the mirror: where verified artifacts go besides the download directory.
//!
//! The downloader stores every verified asset locally first; an [`ArtifactStore`] then receives a
//! copy of it and of its `.sha256` sidecar, under `{prefix}{owner}_{repo}/{tag}/{name}` (the
//! local layout's relative path, so a mirror and its bucket look alike). [`S3ArtifactStore`] is
//! the S3-compatible backend, built on the `object_store` crate (no hand-written requests or
//! signing); [`HttpArtifactStore`] the WebDAV / plain HTTP one and [`ArtifactoryArtifactStore`]
//! the Artifactory one, both over the tool's own HTTP client. The retention feature deletes old
//! tag folders through
//! [`ArtifactStore::delete_prefix`].
//!
//! Connection settings ([`S3Connection`]) are shared with the S3 version database
//! ([`crate::db::S3Db`]).

mod artifactory;
mod http;
mod s3;

use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

pub use artifactory::{ArtifactoryArtifactStore, ArtifactoryConnection, ItemInfo};
pub use http::HttpArtifactStore;
pub use s3::{S3_ENDPOINT_VARS, S3ArtifactStore, S3Connection};

use crate::mirror::{SIDECAR_SUFFIX, check_asset_name, encode_tag, sidecar_line};
use crate::repo::RepoId;

/// Why a remote store could not be set up, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The settings cannot work (bad endpoint, bad bucket or prefix). A configuration error.
    #[error("S3 storage: {0}")]
    Setup(String),
    /// The HTTP storage settings cannot work. A configuration error.
    #[error("HTTP storage: {0}")]
    HttpSetup(String),
    /// The Artifactory settings cannot work. A configuration error.
    #[error("Artifactory storage: {0}")]
    ArtifactorySetup(String),
    /// A WebDAV, HTTP or Artifactory server refused or failed a request.
    #[error("{location}: {context}: {message}")]
    Http {
        /// The file's or folder's URL (it never holds credentials).
        location: String,
        /// What was being done.
        context: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A key would not be a plain object name.
    #[error("cannot store {name:?}: {reason}")]
    BadKey {
        /// The offending name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The remote store refused or failed a request.
    #[error("{location}: {context}: {source}")]
    Remote {
        /// `s3://bucket/key` of the object.
        location: String,
        /// What was being done.
        context: &'static str,
        /// The underlying error (it never holds credentials: requests are signed, not carrying
        /// secrets in URLs).
        source: object_store::Error,
    },
    /// Reading the local file failed.
    #[error("{}: {context}: {source}", path.display())]
    Local {
        /// The local file.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The local file no longer has the bytes that were verified: it is not uploaded.
    #[error(
        "{}: its SHA-256 is now {actual}, not the verified {expected}; not uploaded",
        path.display()
    )]
    Changed {
        /// The local file.
        path: PathBuf,
        /// The verified SHA-256.
        expected: String,
        /// What its bytes hash to now.
        actual: String,
    },
}

/// What [`upload_verified`] did with one file, reported as the upload's `how` (the serialized
/// strings are part of the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UploadHow {
    /// The object was uploaded.
    Uploaded,
    /// An object with the same size and SHA-256 was already there; nothing was sent.
    AlreadyPresent,
    /// Artifactory already held these bytes elsewhere and copied them by their checksum
    /// (`X-Checksum-Deploy`); nothing was sent.
    ChecksumDeployed,
}

impl UploadHow {
    /// `uploaded` or `already-present`, as reported.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadHow::Uploaded => "uploaded",
            UploadHow::AlreadyPresent => "already-present",
            UploadHow::ChecksumDeployed => "checksum-deployed",
        }
    }
}

/// A remote place that keeps copies of verified artifacts.
///
/// Keys are relative to the store's own prefix (`jqlang_jq/jq-1.7.1/jq-linux-amd64`), so
/// callers never deal with the configured prefix; [`release_key`] builds them.
#[async_trait]
pub trait ArtifactStore: Send + Sync + fmt::Debug {
    /// Where an object lives, for messages and reports (`s3://bucket/prefix/key`).
    fn url_of(&self, key: &str) -> String;

    /// Uploads the local file `file` (of `size` bytes, whose verified SHA-256 is `sha256`) as
    /// `key`, streaming it (multipart for large files). The bytes are hashed while they are sent
    /// and the upload is abandoned if they no longer match `sha256`. An object already there
    /// with the same size and SHA-256 is left alone; a store that learns the SHA-256 from our
    /// uploaded sidecar reads it at `sidecar_key` (which is `.{name}.sha256` when the release
    /// publishes a `{name}.sha256` of its own).
    async fn upload_file(
        &self,
        key: &str,
        sidecar_key: &str,
        file: &Path,
        size: u64,
        sha256: &str,
    ) -> Result<UploadHow, StorageError>;

    /// Stores a small object (a sidecar) as `key`.
    async fn put_small(&self, key: &str, bytes: Bytes) -> Result<(), StorageError>;

    /// A small object's bytes, or `None` if it does not exist.
    async fn get_small(&self, key: &str) -> Result<Option<Bytes>, StorageError>;

    /// Every key under `prefix` (relative keys, as given to the other methods).
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;

    /// Deletes one object (absent is not an error).
    async fn delete(&self, key: &str) -> Result<(), StorageError>;

    /// Deletes every object under `prefix` (a folder such as `owner_repo/tag/`); returns how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError>;
}

/// `{owner}_{repo}/{tag}/` (the repository's [`RepoId::folder`]): the folder of one release, with the tag encoded as the local layout
/// encodes it ([`encode_tag`]), so a tag such as `cli/v1.2.0` stays one folder.
pub fn release_prefix(repo: &RepoId, tag: &str) -> Result<String, StorageError> {
    let tag = encode_tag(tag).map_err(|e| StorageError::BadKey {
        name: tag.to_string(),
        reason: e.to_string(),
    })?;
    Ok(format!("{}/{tag}/", repo.folder()))
}

/// `{owner}_{repo}/{tag}/{name}`: the key of one asset. The name must be a plain file name
/// (it was checked before the file was stored; it is checked again here).
pub fn release_key(repo: &RepoId, tag: &str, name: &str) -> Result<String, StorageError> {
    check_asset_name(name).map_err(|e| StorageError::BadKey {
        name: name.to_string(),
        reason: e.to_string(),
    })?;
    Ok(format!("{}{name}", release_prefix(repo, tag)?))
}

/// Uploads one verified file and then its sidecar `{name}.sha256` (`"<hex>  <name>\n"`, as
/// stored locally; `.{name}.sha256` when `hidden_sidecar`, as locally, because the release
/// publishes a `{name}.sha256` itself). The sidecar goes last, so a sidecar in the bucket always
/// describes a complete object; a missing or different sidecar is (re)written even when the
/// object itself was already there.
pub async fn upload_verified(
    store: &dyn ArtifactStore,
    key: &str,
    name: &str,
    file: &Path,
    size: u64,
    sha256: &str,
    hidden_sidecar: bool,
) -> Result<UploadHow, StorageError> {
    let sidecar_key = match key.strip_suffix(name) {
        Some(folder) if hidden_sidecar => format!("{folder}.{name}{SIDECAR_SUFFIX}"),
        _ => format!("{key}{SIDECAR_SUFFIX}"),
    };
    let how = store
        .upload_file(key, &sidecar_key, file, size, sha256)
        .await?;
    let line = sidecar_line(sha256, name);
    let current = store.get_small(&sidecar_key).await?;
    if current.as_deref() != Some(line.as_bytes()) {
        store
            .put_small(&sidecar_key, Bytes::from(line.into_bytes()))
            .await?;
    }
    Ok(how)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_local_layout() {
        let repo = RepoId::new("jqlang", "jq").unwrap();
        assert_eq!(
            release_key(&repo, "jq-1.7.1", "jq-linux-amd64").unwrap(),
            "jqlang_jq/jq-1.7.1/jq-linux-amd64"
        );
        assert_eq!(
            release_prefix(&repo, "cli/v1.2.0").unwrap(),
            "jqlang_jq/cli%2Fv1.2.0/"
        );
        assert!(release_key(&repo, "v1", "../x").is_err());
        assert!(release_key(&repo, "v1", "..").is_err());
        assert!(release_key(&repo, "", "a").is_err());
    }
}
