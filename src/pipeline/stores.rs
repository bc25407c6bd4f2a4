//! The stores a run writes: the version database and the artifact store, opened from the config.

use std::sync::Arc;

use super::PipelineError;
use crate::config::{Config, Env};
use crate::db::{MemoryDb, VersionDb};
use crate::storage::{ArtifactStore, S3ArtifactStore, S3Connection};

/// The version database (the record of what is held) and, with `download.s3_storage`, the
/// artifact store that receives a copy of every verified file: what every run that writes the
/// mirror opens, in one place.
#[derive(Clone)]
pub struct Stores {
    /// The version database: a file or an `s3://` object.
    pub db: Arc<dyn VersionDb>,
    /// Where verified artifacts are copied, if anywhere.
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
}

impl Stores {
    /// Opens the database named by `download.version_db` (a file or `s3://BUCKET/KEY`) and the
    /// artifact store of `download.s3_storage`, with credentials from the environment.
    pub fn open(config: &Config) -> Result<Stores, PipelineError> {
        let env = Env::from_process();
        let s3 = &config.download.s3_storage;
        let db = crate::db::open(&config.download.version_db, || {
            S3Connection::from_settings(Some(s3), &env)
        })?;
        let artifacts =
            S3ArtifactStore::from_config(s3, &env)?.map(|a| Arc::new(a) as Arc<dyn ArtifactStore>);
        Ok(Stores { db, artifacts })
    }

    /// A database that keeps nothing past the process and no artifact store: for a Concourse
    /// `in` step, whose only output is the step's directory.
    pub fn in_memory() -> Stores {
        Stores {
            db: Arc::new(MemoryDb::new()),
            artifacts: None,
        }
    }
}
