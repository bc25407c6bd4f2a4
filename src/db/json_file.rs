//! The local JSON file backend: the seed tool's `version_db.json`, written safely.
//!
//! - Every read-modify-write holds an exclusive lock on `<db>.lock`, a separate file next to the
//!   database (locking the database itself would be lost at the rename). The lock file is never
//!   deleted, so two writers can never hold locks on two different inodes.
//! - The new content goes to a temp file in the same directory, which is fsynced, renamed over
//!   the database, and then the directory is fsynced. A reader sees the old file or the new one,
//!   never a mix; a crash leaves one of them.
//! - A file that does not parse, or has another schema, is an error and is never written.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::model::{Database, now, schema_major};
use super::{DbError, VersionDb};
use crate::fsutil;

/// The version database in a local JSON file.
#[derive(Debug, Clone)]
pub struct JsonFileDb {
    path: PathBuf,
    lock_path: PathBuf,
}

impl JsonFileDb {
    /// A store for the file at `path` (which need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> JsonFileDb {
        let path = path.into();
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        JsonFileDb {
            path,
            lock_path: PathBuf::from(lock),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_err(&self, context: &'static str) -> impl FnOnce(io::Error) -> DbError + '_ {
        move |source| DbError::Io {
            path: self.path.clone(),
            context,
            source,
        }
    }

    /// Reads and checks the file; `None` when it does not exist.
    pub fn read(&self) -> Result<Option<Database>, DbError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io_err("cannot read the version database")(e)),
        };
        parse(&self.path, &bytes).map(Some)
    }

    fn lock(&self) -> Result<File, DbError> {
        if let Some(dir) = self.dir()
            && !dir.as_os_str().is_empty()
        {
            fs::create_dir_all(dir).map_err(self.io_err("cannot create the database directory"))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&self.lock_path)
            .map_err(self.io_err("cannot open the lock file"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                tracing::info!(
                    "waiting for another process to release {}",
                    self.lock_path.display()
                );
                file.lock()
                    .map_err(self.io_err("cannot lock the lock file"))?;
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(self.io_err("cannot lock the lock file")(e));
            }
        }
        Ok(file)
    }

    fn dir(&self) -> Option<&Path> {
        self.path.parent()
    }

    /// Removes temp files left by writers that died mid-write. Only called under the lock: a
    /// live writer holds the lock for as long as its temp file exists, so any temp file seen
    /// now is an orphan.
    fn remove_orphan_temp_files(&self) {
        let prefix = fsutil::temp_prefix(&self.path);
        let Ok(entries) = fs::read_dir(fsutil::dir_of(&self.path)) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(fsutil::TEMP_SUFFIX) {
                match fs::remove_file(entry.path()) {
                    Ok(()) => tracing::debug!("removed {name}, left by an interrupted write"),
                    Err(e) => tracing::debug!("cannot remove {name}: {e}"),
                }
            }
        }
    }

    /// Writes `db` over the file durably (see [`crate::fsutil::write_atomic`]).
    fn write(&self, db: &Database) -> Result<(), DbError> {
        let mut bytes = serde_json::to_vec_pretty(db).map_err(|e| DbError::Io {
            path: self.path.clone(),
            context: "cannot serialise the version database",
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        fsutil::write_atomic(&self.path, &bytes, "db").map_err(|(context, source)| DbError::Io {
            path: self.path.clone(),
            context,
            source,
        })
    }
}

/// Parses and checks database bytes; errors name the file, the position and the key.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Database, DbError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DbError::Corrupt {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            key: "(root)".to_string(),
            message: "the file is empty (a database always has `metadata` and `repositories`)"
                .to_string(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut db: Database = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        DbError::Corrupt {
            path: path.to_path_buf(),
            line: inner.line(),
            column: inner.column(),
            key: if key == "." {
                "(root)".to_string()
            } else {
                key
            },
            message: strip_position(&inner.to_string()),
        }
    })?;
    de.end().map_err(|e| DbError::Corrupt {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        key: "(root)".to_string(),
        message: strip_position(&e.to_string()),
    })?;
    if schema_major(&db.metadata.version) != "1" {
        return Err(DbError::Schema {
            path: path.to_path_buf(),
            found: db.metadata.version.clone(),
        });
    }
    db.order_histories();
    Ok(db)
}

/// serde_json appends " at line L column C"; we print the position first instead.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl VersionDb for JsonFileDb {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<Database, DbError> {
        Ok(self.read()?.unwrap_or_else(|| Database::new(&now())))
    }

    fn exists(&self) -> Result<bool, DbError> {
        Ok(self.read()?.is_some())
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Database) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let _lock = self.lock()?;
        self.remove_orphan_temp_files();
        let mut db = self.read()?.unwrap_or_else(|| Database::new(&now()));
        change(&mut db)?;
        self.write(&db)
        // The lock is released when `_lock` is dropped, after the rename is durable.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::model::Recording;
    use crate::repo::RepoId;

    fn set(v: &str) -> Recording {
        Recording {
            version: v.into(),
            files: vec![],
            download_time: 0.0,
            recorded_by: None,
        }
    }

    #[test]
    fn a_missing_file_is_an_empty_database_and_is_created_on_update() {
        let dir = tempfile::tempdir().unwrap();
        let store = JsonFileDb::new(dir.path().join("sub/version_db.json"));
        assert!(store.load().unwrap().repositories.is_empty());
        assert!(!store.exists().unwrap());
        let id: RepoId = "a/b".parse().unwrap();
        store.record_download(&id, &set("v1")).unwrap();
        assert_eq!(store.current_version(&id).unwrap().as_deref(), Some("v1"));
        assert!(dir.path().join("sub/version_db.json.lock").exists());
        // No temp files are left behind.
        let names: Vec<String> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn corrupt_files_name_the_position_and_are_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.json");
        let garbage = b"{\"metadata\": {\"version\": \"1.0\"},\n \"repositories\": [1, 2]}";
        fs::write(&path, garbage).unwrap();
        let store = JsonFileDb::new(&path);
        let err = store.load().unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{}:2:", path.display())), "{msg}");
        assert!(msg.contains("repositories"), "{msg}");
        let id: RepoId = "a/b".parse().unwrap();
        assert!(store.record_download(&id, &set("v1")).is_err());
        assert_eq!(fs::read(&path).unwrap(), garbage);
    }

    #[test]
    fn other_schema_versions_are_refused() {
        let err = parse(
            Path::new("db.json"),
            br#"{"metadata": {"version": "2.0"}, "repositories": {}}"#,
        )
        .unwrap_err();
        assert!(matches!(err, DbError::Schema { .. }), "{err}");
        let empty = parse(Path::new("db.json"), b"  \n").unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
        let trailing = parse(
            Path::new("db.json"),
            br#"{"metadata": {"version": "1.0"}, "repositories": {}} x"#,
        )
        .unwrap_err();
        assert!(trailing.to_string().contains("trailing"), "{trailing}");
    }

    #[cfg(unix)]
    #[test]
    fn permissions_of_an_existing_file_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = JsonFileDb::new(dir.path().join("db.json"));
        let id: RepoId = "a/b".parse().unwrap();
        store.record_download(&id, &set("v1")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.path()), 0o644);
        fs::set_permissions(store.path(), fs::Permissions::from_mode(0o600)).unwrap();
        store.record_download(&id, &set("v2")).unwrap();
        assert_eq!(mode(store.path()), 0o600);
    }
}
