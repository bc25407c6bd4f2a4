//! `release-monitor db ...`: inspect and edit the version database.

use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;

use super::table::{render, short_time, table};
use super::{CommandError, DbArgs, DbCommand, GlobalArgs, OutputFormat, load_config, stdout_error};
use std::sync::Arc;

use crate::config::{ARTIFACTORY_SCHEME, Config, Env, artifactory_from_env, version_db_from_env};
use crate::db::{HistoryEntry, Recording, Remotes, RepoRecord, S3_SCHEME};
use crate::exit;
use crate::github::ClientOptions;
use crate::http::{HttpOptions, RetryPolicy};
use crate::repo::RepoId;
use crate::storage::S3Connection;
use crate::storage::{ArtifactoryConnection, StorageError};
use crate::version::Version;

/// Where the database is when neither `--db`, `VERSION_DB_PATH` nor a config file says.
pub const DEFAULT_DB: &str = "./version_db.json";

/// `--db` (or `VERSION_DB_PATH`), else `download.version_db` of the config (which the
/// environment also sets), else the environment alone (`VERSION_DB_S3_BUCKET`), else
/// `./version_db.json`. A config file named explicitly must load; the default `config.yaml` is
/// only read if it exists. Returns the location and the config (for an `s3://` location's
/// endpoint and region, an `artifactory://` one's server and credentials).
fn db_location(
    global: &GlobalArgs,
    flag: Option<PathBuf>,
    env: &Env,
) -> Result<(PathBuf, Option<Config>), CommandError> {
    let is_s3 = |p: &PathBuf| {
        p.to_str()
            .is_some_and(|t| t.starts_with(S3_SCHEME) || t.starts_with(ARTIFACTORY_SCHEME))
    };
    // A local path given on the command line needs no config at all (a broken config.yaml
    // must not stop `db` commands that name their file).
    if let Some(path) = &flag
        && !is_s3(path)
    {
        return Ok((path.clone(), None));
    }
    let config = if global.config.is_none() && !global.config_path().exists() {
        None
    } else {
        Some(load_config(global)?.config)
    };
    if let Some(path) = flag {
        return Ok((path, config));
    }
    let path = match &config {
        Some(c) => c.download.version_db.clone(),
        None => version_db_from_env(env).unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
    };
    Ok((path, config))
}

/// The Artifactory connection of the config, or of the `ARTIFACTORY_*` variables alone.
fn artifactory_connection(
    config: Option<&Config>,
    env: &Env,
) -> Result<Arc<ArtifactoryConnection>, StorageError> {
    let (settings, http) = match config {
        Some(c) => {
            let http = ClientOptions::from_config(c).http_options();
            (c.download.artifactory_storage.clone(), http)
        }
        None => {
            let settings = artifactory_from_env(env)
                .map_err(|e| StorageError::ArtifactorySetup(e.to_string()))?;
            let http = HttpOptions {
                ca_cert: env.get_non_empty("SSL_CERT_FILE").map(PathBuf::from),
                timeout: std::time::Duration::from_secs(30),
                transfer_timeout: std::time::Duration::from_secs(300),
                accept_invalid_certs: false,
                policy: RetryPolicy::default(),
            };
            (settings, http)
        }
    };
    ArtifactoryConnection::from_settings(&settings, &http).map(Arc::new)
}

fn parse_repo(s: &str) -> Result<RepoId, CommandError> {
    s.parse()
        .map_err(|e: String| CommandError::Usage(format!("repository {e}")))
}

fn print_json<T: Serialize>(value: &T) -> Result<(), CommandError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CommandError::Io {
        context: "serialising JSON",
        source: io::Error::other(e),
    })?;
    writeln!(io::stdout().lock(), "{text}").map_err(stdout_error)
}

fn print_text(text: &str) -> Result<(), CommandError> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(stdout_error)
}

/// Runs one `db` subcommand.
pub(super) fn run(global: &GlobalArgs, args: DbArgs) -> Result<u8, CommandError> {
    let env = Env::from_process();
    let (path, config) = db_location(global, args.db, &env)?;
    let s3 = config.as_ref().map(|c| c.download.s3_storage.clone());
    let store = crate::db::open(
        &path,
        Remotes {
            s3: || S3Connection::from_settings(s3.as_ref(), &env),
            artifactory: || artifactory_connection(config.as_ref(), &env),
        },
    )?;
    let not_found = |repo: &RepoId| {
        CommandError::NotFound(format!(
            "{repo} is not in the version database {}",
            path.display()
        ))
    };
    match args.command {
        DbCommand::Show { repo, format } => {
            let db = store.load()?;
            let records: Vec<&RepoRecord> = match &repo {
                Some(r) => {
                    let id = parse_repo(r)?;
                    vec![db.get(&id).ok_or_else(|| not_found(&id))?]
                }
                None => db.repositories.values().collect(),
            };
            let format = OutputFormat::or_default(format, false);
            let text = match records.as_slice() {
                [one] if repo.is_some() => render(format, one, || records_table(&records))?,
                _ => render(format, &db.repositories, || records_table(&records))?,
            };
            print_text(&text)?;
        }
        DbCommand::History { repo, format } => {
            let id = parse_repo(&repo)?;
            let db = store.load()?;
            let record = db.get(&id).ok_or_else(|| not_found(&id))?;
            // Newest first, as the seed tool shows it; the file keeps them oldest first.
            let history: Vec<&HistoryEntry> = record.history_newest_first().collect();
            let format = OutputFormat::or_default(format, false);
            print_text(&render(format, &history, || history_table(&history))?)?;
        }
        DbCommand::Set { repo, version } => {
            let id = parse_repo(&repo)?;
            let version = version.trim().to_string();
            if version.is_empty() {
                return Err(CommandError::Usage("VERSION must not be empty".into()));
            }
            if let Err(e) = Version::parse(&version) {
                tracing::warn!("recording it anyway: {e}");
            }
            let rec = Recording {
                version: version.clone(),
                files: Vec::new(),
                download_time: 0.0,
                recorded_by: Some("db set".to_string()),
            };
            let previous = store.record_download(&id, &rec)?;
            tracing::info!(
                "{id}: now holds {version} (was {})",
                previous.as_deref().unwrap_or("nothing")
            );
            print_json(&json!({
                "repository": id.to_string(),
                "current_version": version,
                "previous_version": previous,
            }))?;
        }
        DbCommand::Forget { repo, all } => match repo {
            Some(r) if !all => {
                let id = parse_repo(&r)?;
                let found = store.forget(&id)?;
                if found {
                    tracing::info!("{id}: forgotten; its next release will be downloaded");
                } else {
                    tracing::warn!("{id} was not in the version database {}", path.display());
                }
                print_json(&json!({"repository": id.to_string(), "forgotten": found}))?;
            }
            _ => {
                let n = store.forget_all()?;
                tracing::info!("forgot {n} repositories");
                print_json(&json!({"forgotten": n}))?;
            }
        },
        DbCommand::Stats { format } => {
            let stats = store.stats()?;
            let mut value = serde_json::to_value(&stats).map_err(|e| CommandError::Io {
                context: "serialising JSON",
                source: io::Error::other(e),
            })?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert("path".into(), json!(path.display().to_string()));
                obj.insert("exists".into(), json!(store.exists()?));
            }
            let format = OutputFormat::or_default(format, false);
            print_text(&render(format, &value, || stats_table(&value))?)?;
        }
        DbCommand::Check => {
            let db = if store.exists()? {
                Some(store.load()?)
            } else {
                None
            };
            let Some(db) = db else {
                tracing::info!(
                    "no version database at {} yet; it is created by the first update",
                    path.display()
                );
                print_json(&json!({"path": path.display().to_string(), "exists": false}))?;
                return Ok(exit::OK);
            };
            let problems = db.lint();
            for p in &problems {
                tracing::warn!("{}: {p}", path.display());
            }
            tracing::info!(
                "{} is a valid version database ({} repositories)",
                path.display(),
                db.repositories.len()
            );
            print_json(&json!({
                "path": path.display().to_string(),
                "exists": true,
                "valid": true,
                "schema_version": db.metadata.version,
                "repositories": db.repositories.len(),
                "warnings": problems,
            }))?;
        }
    }
    Ok(exit::OK)
}

/// `db stats` for people: one line per figure.
fn stats_table(value: &serde_json::Value) -> String {
    let rows = value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    vec![k.clone(), v]
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["FIGURE", "VALUE"], rows)
}

fn records_table(records: &[&RepoRecord]) -> String {
    let rows = records
        .iter()
        .map(|r| {
            vec![
                format!("{}/{}", r.owner, r.repo),
                r.current_version.clone().unwrap_or_else(|| "-".into()),
                short_time(r.last_updated.as_deref()),
                r.download_history.len().to_string(),
            ]
        })
        .collect();
    table(
        &["REPOSITORY", "CURRENT VERSION", "LAST UPDATED", "HISTORY"],
        rows,
    )
}

fn history_table(history: &[&HistoryEntry]) -> String {
    let rows = history
        .iter()
        .map(|h| {
            let m = &h.metadata;
            let files = m
                .files
                .len()
                .max(m.downloaded_files.as_ref().map_or(0, Vec::len));
            let verified = match (&m.recorded_by, m.files.is_empty()) {
                (Some(by), true) => by.clone(),
                (_, true) => "-".to_string(),
                (_, false) => {
                    let mut kinds: Vec<&str> =
                        m.files.iter().map(|f| f.verified_by.as_str()).collect();
                    kinds.sort();
                    kinds.dedup();
                    kinds.join(",")
                }
            };
            vec![
                h.version.clone(),
                h.previous_version.clone().unwrap_or_else(|| "-".into()),
                short_time(Some(&h.downloaded_at)),
                files.to_string(),
                m.total_size.map_or_else(|| "-".into(), |s| s.to_string()),
                verified,
            ]
        })
        .collect();
    table(
        &[
            "VERSION",
            "PREVIOUS",
            "RECORDED",
            "FILES",
            "BYTES",
            "VERIFIED BY",
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let t = table(
            &["A", "LONGER"],
            vec![
                vec!["xyz".into(), "1".into()],
                vec!["q".into(), "22".into()],
            ],
        );
        assert_eq!(t, "A    LONGER\nxyz  1\nq    22\n");
    }

    #[test]
    fn times_are_shortened_for_tables() {
        assert_eq!(
            short_time(Some("2026-01-15T10:30:00.123456+00:00")),
            "2026-01-15 10:30:00"
        );
        assert_eq!(short_time(Some("yesterday")), "yesterday");
        assert_eq!(short_time(None), "-");
    }
}
