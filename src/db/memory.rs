//! A version database held in memory.

use std::sync::Mutex;

use super::{Database, DbError, VersionDb};

/// A [`VersionDb`] that lives only as long as the process.
///
/// It exists for runs that must download without keeping a database: the Concourse resource's
/// `in` step (Concourse itself remembers which versions were fetched), and tests.
#[derive(Debug, Default)]
pub struct MemoryDb {
    db: Mutex<Option<Database>>,
}

impl MemoryDb {
    /// An empty store (no database yet).
    pub fn new() -> MemoryDb {
        MemoryDb::default()
    }

    /// A store holding `db`.
    pub fn with(db: Database) -> MemoryDb {
        MemoryDb {
            db: Mutex::new(Some(db)),
        }
    }
}

impl VersionDb for MemoryDb {
    fn location(&self) -> String {
        "(in memory)".to_string()
    }

    fn load(&self) -> Result<Database, DbError> {
        let guard = self.db.lock().unwrap_or_else(|p| p.into_inner());
        Ok(guard
            .clone()
            .unwrap_or_else(|| Database::new(&super::now())))
    }

    fn exists(&self) -> Result<bool, DbError> {
        Ok(self.db.lock().unwrap_or_else(|p| p.into_inner()).is_some())
    }

    fn update(
        &self,
        change: &mut dyn FnMut(&mut Database) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let mut guard = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let mut db = guard
            .clone()
            .unwrap_or_else(|| Database::new(&super::now()));
        change(&mut db)?;
        *guard = Some(db);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Recording;
    use crate::repo::RepoId;

    #[test]
    fn records_and_reads_back() {
        let store = MemoryDb::new();
        assert!(!store.exists().unwrap());
        let repo = RepoId::new("o", "r").unwrap();
        let rec = Recording {
            version: "v1.0.0".into(),
            files: Vec::new(),
            download_time: 0.0,
            recorded_by: None,
        };
        assert_eq!(store.record_download(&repo, &rec).unwrap(), None);
        assert!(store.exists().unwrap());
        assert_eq!(
            store.current_version(&repo).unwrap().as_deref(),
            Some("v1.0.0")
        );
    }
}
