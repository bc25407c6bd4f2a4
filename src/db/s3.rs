//! The version database as one object in an S3-compatible bucket (`s3://bucket/key`).
//!
//! There is no lock: every update is a conditional write. The object is read with its ETag,
//! the change is applied, and the result is written with `If-Match: <etag>` (or
//! `If-None-Match: *` when there was no database yet). If another writer got there first the
//! service answers 412, and the update is re-read, re-applied and retried with jittered
//! backoff, so no update is lost. An object that does not parse, or has another schema, is
//! refused and never written over.
//!
//! The [`VersionDb`] trait is synchronous, so the store owns a small tokio runtime and blocks
//! on it ([`Blocking`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use super::blocking::{Blocking, jitter};
use super::json_file::parse;
use super::model::{Database, now};
use super::{DbError, VersionDb};
use crate::storage::S3Connection;

/// How many times one update is tried before giving up (each conflict costs one).
const MAX_ATTEMPTS: u32 = 60;
/// First backoff after a conflict; it doubles up to [`MAX_BACKOFF`], with full jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// Longest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// The `s3://` scheme that names a database in a bucket.
pub const S3_SCHEME: &str = "s3://";

/// Splits `s3://bucket/key` into the bucket and the key; `None` if `location` is not an `s3://`
/// location, an error if it is one but malformed.
pub fn parse_s3_location(location: &str) -> Option<Result<(String, String), String>> {
    let rest = location.strip_prefix(S3_SCHEME)?;
    let Some((bucket, key)) = rest.split_once('/') else {
        return Some(Err(format!(
            "{location:?}: expected s3://BUCKET/KEY (e.g. s3://my-bucket/release-monitor/version_db.json)"
        )));
    };
    if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
        return Some(Err(format!(
            "{location:?}: expected s3://BUCKET/KEY, with a key that names an object"
        )));
    }
    if let Err(e) = Path::parse(key) {
        return Some(Err(format!("{location:?}: the key is not valid: {e}")));
    }
    Some(Ok((bucket.to_string(), key.to_string())))
}

/// The version database in an S3 object.
pub struct S3Db {
    location: String,
    key: Path,
    store: Arc<dyn ObjectStore>,
    runtime: Blocking,
}

impl std::fmt::Debug for S3Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "S3Db({})", self.location)
    }
}

impl S3Db {
    /// A store for the database at `location` (`s3://bucket/key`), reached through `conn`.
    pub fn new(location: &str, conn: &S3Connection) -> Result<S3Db, DbError> {
        let setup = |message: String| DbError::Setup {
            location: location.to_string(),
            message,
        };
        let (bucket, key) = parse_s3_location(location)
            .unwrap_or_else(|| Err(format!("{location:?} is not an s3:// location")))
            .map_err(setup)?;
        let store = conn
            .object_store(&bucket)
            .map_err(|e| setup(e.to_string()))?;
        let key = Path::parse(&key).map_err(|e| setup(e.to_string()))?;
        Ok(S3Db {
            location: location.to_string(),
            key,
            store,
            runtime: Blocking::new(location, "s3-version-db")?,
        })
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(&self.location)
    }

    fn remote(&self, context: &'static str) -> impl FnOnce(object_store::Error) -> DbError + '_ {
        move |e| DbError::Io {
            path: self.path(),
            context,
            source: std::io::Error::other(e),
        }
    }

    fn block_on<F>(&self, fut: F) -> Result<F::Output, DbError>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        self.runtime.block_on(fut)
    }

    /// The database and its ETag, or `None` when there is no object yet.
    async fn read(&self) -> Result<Option<(Database, UpdateVersion)>, DbError> {
        let found = match self.store.get(&self.key).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.remote("cannot read the version database")(e)),
        };
        let version = UpdateVersion {
            e_tag: found.meta.e_tag.clone(),
            version: found.meta.version.clone(),
        };
        let bytes = found
            .bytes()
            .await
            .map_err(self.remote("cannot read the version database"))?;
        let db = parse(&self.path(), &bytes)?;
        Ok(Some((db, version)))
    }
}

impl VersionDb for S3Db {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn load(&self) -> Result<Database, DbError> {
        Ok(self
            .block_on(self.read())??
            .map_or_else(|| Database::new(&now()), |(db, _)| db))
    }

    fn exists(&self) -> Result<bool, DbError> {
        Ok(self.block_on(self.read())??.is_some())
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Database) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        self.update_local(change)
    }
}

impl S3Db {
    /// The read-modify-write loop. Only the network steps run on the runtime; `change` runs on
    /// the caller's thread (it need not be `Send`).
    fn update_local(
        &self,
        change: &mut dyn FnMut(&mut Database) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=MAX_ATTEMPTS {
            let (mut db, mode) = match self.block_on(self.read())?? {
                Some((db, version)) if version.e_tag.is_some() => (db, PutMode::Update(version)),
                Some(_) => {
                    return Err(DbError::Io {
                        path: self.path(),
                        context: "cannot update the version database safely",
                        source: std::io::Error::other(
                            "the service returned no ETag, so a conditional write is impossible",
                        ),
                    });
                }
                None => (Database::new(&now()), PutMode::Create),
            };
            change(&mut db)?;
            let mut bytes = serde_json::to_vec_pretty(&db).map_err(|e| DbError::Io {
                path: self.path(),
                context: "cannot serialise the version database",
                source: std::io::Error::other(e),
            })?;
            bytes.push(b'\n');
            let opts = PutOptions {
                mode,
                ..Default::default()
            };
            let put = self
                .store
                .put_opts(&self.key, PutPayload::from(bytes), opts);
            match self.block_on(put)? {
                Ok(_) => return Ok(()),
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => {
                    let wait = jitter(backoff);
                    tracing::debug!(
                        "{}: changed by another writer (attempt {attempt}); retrying in {wait:?}",
                        self.location
                    );
                    std::thread::sleep(wait);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(e) => return Err(self.remote("cannot write the version database")(e)),
            }
        }
        Err(DbError::Io {
            path: self.path(),
            context: "cannot update the version database",
            source: std::io::Error::other(format!(
                "it kept changing under us: {MAX_ATTEMPTS} conditional writes were refused"
            )),
        })
    }
}
