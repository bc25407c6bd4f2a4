//! The stores a run writes: the version database and the artifact store, opened from the config.

use std::sync::Arc;

use super::PipelineError;
use crate::config::{Config, Env};
use crate::db::{MemoryDb, VersionDb};
use crate::github::ClientOptions;
use crate::http::HttpOptions;
use crate::storage::{ArtifactStore, HttpArtifactStore, S3ArtifactStore, S3Connection};

/// The version database (the record of what is held) and, with `download.s3_storage` or
/// `download.http_storage`, the artifact store that receives a copy of every verified file:
/// what every run that writes the mirror opens, in one place.
#[derive(Clone)]
pub struct Stores {
    /// The version database: a file or an `s3://` object.
    pub db: Arc<dyn VersionDb>,
    /// Where verified artifacts are copied, if anywhere.
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
}

impl Stores {
    /// Opens the database named by `download.version_db` (a file or `s3://BUCKET/KEY`) and the
    /// artifact store of `download.s3_storage` or `download.http_storage` (the loader lets only
    /// one be enabled), with credentials from the environment. The HTTP store's client has the
    /// GitHub client's TLS roots, timeout and retry policy.
    pub fn open(config: &Config) -> Result<Stores, PipelineError> {
        let env = Env::from_process();
        let s3 = &config.download.s3_storage;
        let db = crate::db::open(&config.download.version_db, || {
            S3Connection::from_settings(Some(s3), &env)
        })?;
        let artifacts = match S3ArtifactStore::from_config(s3, &env)? {
            Some(a) => Some(Arc::new(a) as Arc<dyn ArtifactStore>),
            None => {
                let client = ClientOptions::from_config(config);
                let http = HttpOptions {
                    ca_cert: client.ca_cert,
                    timeout: client.timeout,
                    policy: client.policy,
                };
                HttpArtifactStore::from_config(&config.download.http_storage, &http)?
                    .map(|a| Arc::new(a) as Arc<dyn ArtifactStore>)
            }
        };
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
