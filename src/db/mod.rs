//! The version database: which version of each repository is held, and what was downloaded.
//!
//! It decides what gets downloaded, so an update must never be lost and a damaged file must never
//! be replaced by an empty one. [`VersionDb`] is the interface; [`JsonFileDb`] is the local
//! backend (the seed tool's `version_db.json`), [`S3Db`] keeps it as an object in an
//! S3-compatible bucket (`s3://bucket/key`), [`ArtifactoryDb`] as a file in an Artifactory
//! repository (`artifactory://repository/path`), [`MemoryDb`] keeps nothing past the process.
//! [`open`] picks the backend from the location.
//!
//! The trait is synchronous: a store does a few small reads and writes per run, and its local
//! backend blocks on `fsync` and file locks anyway. Async callers run it on a blocking thread.

mod artifactory;
mod blocking;
mod json_file;
mod memory;
mod model;
mod s3;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use artifactory::{ArtifactoryDb, parse_artifactory_location};
pub use json_file::JsonFileDb;
pub use memory::MemoryDb;
pub use model::{
    DESCRIPTION, Database, FileRecord, HISTORY_LIMIT, HistoryEntry, HistoryMetadata, Metadata,
    RETENTION, Recording, RepoRecord, SCHEMA_VERSION, Stats, VerifiedBy, now,
};
pub use s3::{S3_SCHEME, S3Db, parse_s3_location};

use crate::repo::RepoId;

/// Why the database could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file does not parse, or does not have the database's shape. It is left untouched.
    #[error("{}:{line}:{column}: {key}: {message} (the file was left untouched)", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// Column of the problem.
        column: usize,
        /// Key path of the problem (`repositories.a/b.download_history`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The file was written by an incompatible schema.
    #[error(
        "{}: unsupported database schema version {found:?}; this release-monitor reads 1.x \
         (the file was left untouched)",
        path.display()
    )]
    Schema {
        /// The database file.
        path: PathBuf,
        /// `metadata.version` in the file.
        found: String,
    },
    /// The location cannot be used as given (a malformed `s3://` location, a bad S3 endpoint).
    #[error("{location}: {message}")]
    Setup {
        /// The database location as given.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// Reading, locking or writing failed.
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl DbError {
    /// True when the file itself is bad, or its location cannot work (as opposed to the machine
    /// or the network failing to read or write it): a usage error, exit 2.
    pub fn is_invalid_file(&self) -> bool {
        matches!(
            self,
            DbError::Corrupt { .. } | DbError::Schema { .. } | DbError::Setup { .. }
        )
    }
}

/// How a remote database is reached, asked for only when the location names one: the S3
/// connection (endpoint, region, credentials) and the Artifactory one (server, repository,
/// credentials, TLS).
pub struct Remotes<S, A>
where
    S: FnOnce() -> Result<crate::storage::S3Connection, crate::storage::StorageError>,
    A: FnOnce() -> Result<Arc<crate::storage::ArtifactoryConnection>, crate::storage::StorageError>,
{
    /// The S3 connection.
    pub s3: S,
    /// The Artifactory connection.
    pub artifactory: A,
}

/// Opens the database at `location`: an `s3://bucket/key` location is an [`S3Db`], an
/// `artifactory://repository/path` one an [`ArtifactoryDb`] (each reached through `remotes`),
/// anything else a [`JsonFileDb`] path.
///
/// It exists so `monitor`, `download` and every `db` command accept the same locations.
pub fn open<S, A>(location: &Path, remotes: Remotes<S, A>) -> Result<Arc<dyn VersionDb>, DbError>
where
    S: FnOnce() -> Result<crate::storage::S3Connection, crate::storage::StorageError>,
    A: FnOnce() -> Result<Arc<crate::storage::ArtifactoryConnection>, crate::storage::StorageError>,
{
    let s3 = remotes.s3;
    match location.to_str() {
        Some(text) if text.starts_with(crate::config::ARTIFACTORY_SCHEME) => {
            let conn = (remotes.artifactory)().map_err(|e| DbError::Setup {
                location: text.to_string(),
                message: e.to_string(),
            })?;
            Ok(Arc::new(ArtifactoryDb::new(text, conn)?))
        }
        Some(text) if text.starts_with(S3_SCHEME) => {
            let conn = s3().map_err(|e| DbError::Setup {
                location: text.to_string(),
                message: e.to_string(),
            })?;
            Ok(Arc::new(S3Db::new(text, &conn)?))
        }
        _ => Ok(Arc::new(JsonFileDb::new(location))),
    }
}

/// A place that keeps the version database.
///
/// Backends implement [`load`](VersionDb::load) and [`update`](VersionDb::update); the rest
/// are built on them. `update` must apply its change under mutual exclusion with every other
/// writer (a lock, or a conditional write that re-reads and re-applies `change` on conflict),
/// and must never write over a file that did not load.
pub trait VersionDb: Send + Sync {
    /// Where the database lives, for messages.
    fn location(&self) -> String;

    /// The current database (an empty one if none exists yet).
    fn load(&self) -> Result<Database, DbError>;

    /// Whether a database exists yet (a damaged one counts as an error, not as absent).
    fn exists(&self) -> Result<bool, DbError>;

    /// Applies `change` to the current database and stores the result atomically.
    fn update(
        &self,
        change: &mut dyn FnMut(&mut Database) -> Result<(), DbError>,
    ) -> Result<(), DbError>;

    /// The version held for `repo`.
    fn current_version(&self, repo: &RepoId) -> Result<Option<String>, DbError> {
        Ok(self.load()?.current_version(repo).map(str::to_string))
    }

    /// Records that `repo` now holds `rec.version`; returns the version held before.
    fn record_download(&self, repo: &RepoId, rec: &Recording) -> Result<Option<String>, DbError> {
        let mut previous = None;
        self.update(&mut |db| {
            previous = db.record(repo, rec, &now());
            Ok(())
        })?;
        Ok(previous)
    }

    /// `repo`'s history, newest first (empty when unknown).
    fn history(&self, repo: &RepoId) -> Result<Vec<HistoryEntry>, DbError> {
        Ok(self
            .load()?
            .get(repo)
            .map(|r| r.history_newest_first().cloned().collect())
            .unwrap_or_default())
    }

    /// Every record, in file order.
    fn list(&self) -> Result<Vec<RepoRecord>, DbError> {
        Ok(self.load()?.repositories.into_values().collect())
    }

    /// Removes `repo`'s record so its next release is downloaded again; true if there was one.
    fn forget(&self, repo: &RepoId) -> Result<bool, DbError> {
        let mut found = false;
        self.update(&mut |db| {
            found = db.forget(repo, &now()).is_some();
            Ok(())
        })?;
        Ok(found)
    }

    /// Removes every record; returns how many there were.
    fn forget_all(&self) -> Result<usize, DbError> {
        let mut n = 0;
        self.update(&mut |db| {
            n = db.forget_all(&now());
            Ok(())
        })?;
        Ok(n)
    }

    /// Figures about the database.
    fn stats(&self) -> Result<Stats, DbError> {
        Ok(self.load()?.stats())
    }
}
