//! The stores a run writes: the version database and the artifact store, opened from the config.

use std::sync::Arc;

use super::PipelineError;
use crate::config::ARTIFACTORY_SCHEME;
use crate::config::{Config, Env};
use crate::db::Remotes;
use crate::db::{MemoryDb, VersionDb};
use crate::github::ClientOptions;
use crate::storage::{
    ArtifactStore, ArtifactoryArtifactStore, ArtifactoryConnection, HttpArtifactStore,
    S3ArtifactStore, S3Connection, StorageError,
};

/// The version database (the record of what is held) and, with `download.s3_storage`,
/// `download.http_storage` or `download.artifactory_storage`, the artifact store that receives a copy of every verified file:
/// what every run that writes the mirror opens, in one place.
#[derive(Clone)]
pub struct Stores {
    /// The version database: a file or an `s3://` object.
    pub db: Arc<dyn VersionDb>,
    /// Where verified artifacts are copied, if anywhere.
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
}

impl Stores {
    /// Opens the database named by `download.version_db` (a file, `s3://BUCKET/KEY` or
    /// `artifactory://REPOSITORY/PATH`) and the artifact store of `download.s3_storage`,
    /// `download.http_storage` or `download.artifactory_storage` (the loader lets only one be
    /// enabled), with credentials from the environment. The HTTP and Artifactory clients have
    /// the GitHub client's TLS roots, timeouts and retry policy.
    pub fn open(config: &Config) -> Result<Stores, PipelineError> {
        let env = Env::from_process();
        let d = &config.download;
        let http = ClientOptions::from_config(config).http_options();
        // One Artifactory connection for the files and the database (one TLS warning).
        let artifactory = &d.artifactory_storage;
        let in_artifactory = d
            .version_db
            .to_str()
            .is_some_and(|l| l.starts_with(ARTIFACTORY_SCHEME));
        let af = if artifactory.enabled || in_artifactory {
            Some(Arc::new(ArtifactoryConnection::from_settings(
                artifactory,
                &http,
            )?))
        } else {
            None
        };
        let db = crate::db::open(
            &d.version_db,
            Remotes {
                s3: || S3Connection::from_settings(Some(&d.s3_storage), &env),
                artifactory: || {
                    af.clone().ok_or_else(|| {
                        StorageError::ArtifactorySetup("no Artifactory server is set".into())
                    })
                },
            },
        )?;
        let artifacts: Option<Arc<dyn ArtifactStore>> =
            match S3ArtifactStore::from_config(&d.s3_storage, &env)? {
                Some(a) => Some(Arc::new(a)),
                None => match (&af, artifactory.enabled) {
                    (Some(conn), true) => Some(Arc::new(ArtifactoryArtifactStore::new(
                        artifactory,
                        conn.clone(),
                    ))),
                    _ => HttpArtifactStore::from_config(&d.http_storage, &http)?
                        .map(|a| Arc::new(a) as Arc<dyn ArtifactStore>),
                },
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
