//! The version database as one file in an Artifactory repository
//! (`artifactory://{repository}/{path}`, by default the seed tool's
//! `{path_prefix}version_db.json` beside the mirrored files).
//!
//! Artifactory has no conditional write: a deploy ignores `If-Match`, and there is no
//! create-if-absent. What it offers is the SHA-256 of every file through its storage API, so an
//! update is an optimistic read-modify-write with two checks:
//! 1. the file is read and hashed, the change applied; right before the deploy the storage API
//!    is asked for the file's SHA-256 (or its absence): if it changed since the read, the file
//!    is read again and the change re-applied to it;
//! 2. after the deploy the SHA-256 is asked again: if another writer's deploy landed after
//!    ours, the file is read and, unless every record this update changed is still there, the
//!    change is re-applied on top of the other writer's file.
//!
//! The guarantee, in the docs' words: an update is lost only when another writer's deploy,
//! checked before ours landed, lands after our second check — the other writer's check and
//! deploy must straddle our whole deploy and confirmation. That is a narrow window, not an
//! impossibility: for certainty run one writer at a time (Concourse `serial: true`), or keep the
//! database in S3 (`If-Match`) or a local file (a lock). A file that does not parse, or has
//! another schema, is refused and never written over.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::blocking::{Blocking, jitter};
use super::json_file::parse;
use super::model::{Database, now};
use super::{DbError, VersionDb};
use crate::config::ARTIFACTORY_SCHEME;
use crate::storage::ArtifactoryConnection;

/// How many times one update is tried before giving up (each conflict costs one).
const MAX_ATTEMPTS: u32 = 30;
/// First backoff after a conflict; it doubles up to [`MAX_BACKOFF`], with full jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
/// Longest backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(1000);

/// The repository-relative path of an `artifactory://{repository}/{path}` location, and its
/// repository; `None` if `location` is not an `artifactory://` location, an error if it is one
/// but malformed.
pub fn parse_artifactory_location(location: &str) -> Option<Result<(String, String), String>> {
    let rest = location.strip_prefix(ARTIFACTORY_SCHEME)?;
    match rest.split_once('/') {
        Some((repo, path))
            if !repo.is_empty()
                && !path.is_empty()
                && !path.ends_with('/')
                && path
                    .split('/')
                    .all(|s| !s.is_empty() && s != "." && s != "..") =>
        {
            Some(Ok((repo.to_string(), path.to_string())))
        }
        _ => Some(Err(format!(
            "{location:?}: expected artifactory://REPOSITORY/PATH (e.g. \
             artifactory://generic-local/release-monitor/version_db.json)"
        ))),
    }
}

/// The version database in an Artifactory file.
pub struct ArtifactoryDb {
    location: String,
    path: String,
    conn: Arc<ArtifactoryConnection>,
    runtime: Blocking,
}

impl std::fmt::Debug for ArtifactoryDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ArtifactoryDb({})", self.location)
    }
}

/// What one read found: the database and the SHA-256 of its bytes (`None`: no file yet).
struct Read {
    db: Database,
    sha256: Option<String>,
}

impl ArtifactoryDb {
    /// A store for the database at `location` (`artifactory://{repository}/{path}`), reached
    /// through `conn`, which must be for that repository.
    pub fn new(location: &str, conn: Arc<ArtifactoryConnection>) -> Result<ArtifactoryDb, DbError> {
        let setup = |message: String| DbError::Setup {
            location: location.to_string(),
            message,
        };
        let (repo, path) = parse_artifactory_location(location)
            .unwrap_or_else(|| Err(format!("{location:?} is not an artifactory:// location")))
            .map_err(setup)?;
        let repository = conn.repository();
        if repo != repository {
            return Err(setup(format!(
                "the database is in repository {repo:?}, but download.artifactory_storage \
                 (or ARTIFACTORY_REPOSITORY) names {repository:?}"
            )));
        }
        Ok(ArtifactoryDb {
            location: location.to_string(),
            path,
            conn,
            runtime: Blocking::new(location, "artifactory-version-db")?,
        })
    }

    fn file(&self) -> PathBuf {
        PathBuf::from(&self.location)
    }

    fn io(&self, context: &'static str) -> impl FnOnce(crate::storage::StorageError) -> DbError {
        let path = self.file();
        move |e| DbError::Io {
            path,
            context,
            source: std::io::Error::other(e.to_string()),
        }
    }

    async fn read(&self) -> Result<Read, DbError> {
        match self
            .conn
            .get(&self.path)
            .await
            .map_err(self.io("cannot read the version database"))?
        {
            None => Ok(Read {
                db: Database::new(&now()),
                sha256: None,
            }),
            Some(bytes) => Ok(Read {
                db: parse(&self.file(), &bytes)?,
                sha256: Some(hex::encode(Sha256::digest(&bytes))),
            }),
        }
    }

    /// The file's SHA-256 as the storage API reports it now (`None`: no file).
    async fn current(&self) -> Result<Option<String>, DbError> {
        let info = self
            .conn
            .info(&self.path)
            .await
            .map_err(self.io("cannot ask for the version database's checksum"))?;
        match info {
            None => Ok(None),
            Some(info) => info.sha256().map(Some).ok_or_else(|| DbError::Io {
                path: self.file(),
                context: "cannot update the version database safely",
                source: std::io::Error::other(
                    "the storage API reported no SHA-256 for it, so a concurrent write could \
                     not be noticed",
                ),
            }),
        }
    }

    fn serialise(&self, db: &Database) -> Result<Vec<u8>, DbError> {
        let mut bytes = serde_json::to_vec_pretty(db).map_err(|e| DbError::Io {
            path: self.file(),
            context: "cannot serialise the version database",
            source: std::io::Error::other(e),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Whether every repository record that `ours` changed from `base` is still as `ours` has it
/// in `theirs` (or, for a record another writer changed since, still carries our newest
/// history entry), and every record `ours` removed is still gone.
fn survives(base: &Database, ours: &Database, theirs: &Database) -> bool {
    let kept = ours.repositories.iter().all(|(key, mine)| {
        if base.repositories.get(key) == Some(mine) {
            return true;
        }
        match theirs.repositories.get(key) {
            Some(t) if t == mine => true,
            Some(t) => mine
                .download_history
                .last()
                .is_none_or(|newest| t.download_history.contains(newest)),
            None => false,
        }
    });
    let removed = base
        .repositories
        .keys()
        .filter(|k| !ours.repositories.contains_key(*k))
        .all(|k| !theirs.repositories.contains_key(k));
    kept && removed
}

impl VersionDb for ArtifactoryDb {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn load(&self) -> Result<Database, DbError> {
        Ok(self.runtime.block_on(self.read())??.db)
    }

    fn exists(&self) -> Result<bool, DbError> {
        Ok(self.runtime.block_on(self.read())??.sha256.is_some())
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Database) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut backoff = FIRST_BACKOFF;
        let mut read = self.runtime.block_on(self.read())??;
        for attempt in 1..=MAX_ATTEMPTS {
            let base = read.db.clone();
            let mut db = read.db;
            change(&mut db)?;
            let bytes = self.serialise(&db)?;
            let ours = hex::encode(Sha256::digest(&bytes));
            let conflict = self.runtime.block_on(async {
                // 1. Still what was read?
                if self.current().await? != read.sha256 {
                    return Ok::<_, DbError>(Some(self.read().await?));
                }
                self.conn
                    .put_bytes(&self.path, Bytes::from(bytes))
                    .await
                    .map_err(self.io("cannot write the version database"))?;
                // 2. Still ours after the deploy?
                if self.current().await?.as_deref() == Some(ours.as_str()) {
                    return Ok(None);
                }
                let theirs = self.read().await?;
                if survives(&base, &db, &theirs.db) {
                    return Ok(None);
                }
                Ok(Some(theirs))
            })??;
            match conflict {
                None => return Ok(()),
                Some(fresh) => {
                    let wait = jitter(backoff);
                    tracing::debug!(
                        "{}: changed by another writer (attempt {attempt}); re-applying in {wait:?}",
                        self.location
                    );
                    std::thread::sleep(wait);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    read = fresh;
                }
            }
        }
        Err(DbError::Io {
            path: self.file(),
            context: "cannot update the version database",
            source: std::io::Error::other(format!(
                "it kept changing under us: {MAX_ATTEMPTS} attempts met another writer"
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Recording;
    use crate::repo::RepoId;

    #[test]
    fn locations_parse_or_are_refused() {
        assert_eq!(
            parse_artifactory_location("artifactory://generic-local/rm/version_db.json"),
            Some(Ok(("generic-local".into(), "rm/version_db.json".into())))
        );
        assert_eq!(parse_artifactory_location("s3://b/k"), None);
        for bad in [
            "artifactory://",
            "artifactory://repo",
            "artifactory://repo/",
            "artifactory:///x",
            "artifactory://repo/a/../x",
            "artifactory://repo/dir/",
        ] {
            assert!(
                matches!(parse_artifactory_location(bad), Some(Err(_))),
                "{bad}"
            );
        }
    }

    fn recorded(db: &mut Database, repo: &str, version: &str, at: &str) {
        let id: RepoId = repo.parse().unwrap();
        db.record(
            &id,
            &Recording {
                version: version.into(),
                files: Vec::new(),
                download_time: 0.0,
                recorded_by: None,
            },
            at,
        );
    }

    #[test]
    fn a_change_survives_only_when_its_records_are_still_there() {
        let mut base = Database::new("2026-01-01T00:00:00Z");
        recorded(&mut base, "a/a", "v1", "2026-01-01T00:00:00Z");
        let mut ours = base.clone();
        recorded(&mut ours, "b/b", "v2", "2026-01-02T00:00:00Z");
        // Another writer that read after us kept our record and added its own.
        let mut after = ours.clone();
        recorded(&mut after, "c/c", "v3", "2026-01-03T00:00:00Z");
        assert!(survives(&base, &ours, &after));
        // ...or recorded a newer version of the same repository on top of ours.
        let mut newer = ours.clone();
        recorded(&mut newer, "b/b", "v4", "2026-01-04T00:00:00Z");
        assert!(survives(&base, &ours, &newer));
        // Another writer that read before us wrote over our record.
        let mut before = base.clone();
        recorded(&mut before, "c/c", "v3", "2026-01-03T00:00:00Z");
        assert!(!survives(&base, &ours, &before));
        // A removal is lost when the record is back.
        let mut forgot = base.clone();
        forgot.repositories.clear();
        assert!(!survives(&base, &forgot, &base));
        assert!(survives(
            &base,
            &forgot,
            &Database::new("2026-01-05T00:00:00Z")
        ));
    }
}
