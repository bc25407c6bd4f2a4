//! `in`: fetch one release's assets (verified, resumable) and write its metadata files.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ConcourseVersion, ResourceError, Source, release_time};
use crate::config::asset_selected;
use crate::db::Database;
use crate::download::Options;
use crate::monitor::{Report, ReportedRelease};
use crate::pipeline::{Pipeline, Stores};

/// The files `in` writes next to the assets, as the github-release resource does.
const METADATA_FILES: [&str; 6] = ["tag", "version", "body", "url", "timestamp", "commit_sha"];

/// The `params:` of a `get` step.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InParams {
    /// Asset globs to fetch; when given they replace `source.asset_patterns` for this step.
    #[serde(default)]
    pub globs: Option<Vec<String>>,
    /// Also fetch the source tarball, as `source.tar.gz`.
    #[serde(default)]
    pub include_source_tarball: bool,
    /// Also fetch the source zip, as `source.zip`.
    #[serde(default)]
    pub include_source_zip: bool,
}

/// The request Concourse sends to `in`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InRequest {
    /// The resource's source.
    pub source: Source,
    /// The version to fetch.
    pub version: ConcourseVersion,
    /// The step's params.
    #[serde(default)]
    pub params: InParams,
}

/// One `name`/`value` pair Concourse shows next to a fetched version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataField {
    /// The label.
    pub name: String,
    /// The value.
    pub value: String,
}

/// What `in` prints: the version fetched and its metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InResponse {
    /// The version, as requested.
    pub version: ConcourseVersion,
    /// Shown in the Concourse UI.
    pub metadata: Vec<MetadataField>,
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> ResourceError {
    move |source| ResourceError::Io { context, source }
}

/// Runs `in`: finds the release (by id when the version has one, else by tag), downloads the
/// selected assets into `destination` (or `destination/assets` with `asset_dir`) through the
/// downloader (upstream checksums, resume, temp file + rename, a `.sha256` sidecar each), then
/// writes `tag`, `version`, `body`, `url`, `timestamp` and `commit_sha`.
pub async fn get(request: InRequest, destination: &Path) -> Result<InResponse, ResourceError> {
    let InRequest {
        source,
        version,
        params,
    } = request;
    let asset_dir = source.asset_dir;
    let files_dir = if asset_dir {
        destination.join("assets")
    } else {
        destination.to_path_buf()
    };
    let archives = (params.include_source_tarball, params.include_source_zip);
    let prepared = source.prepare(Some(&files_dir), params.globs, Some(archives))?;
    let client = Arc::new(prepared.client()?);
    let repo = &prepared.repo;
    let github = |source| ResourceError::Github {
        repo: repo.to_string(),
        source,
    };
    // Ids are GitHub's (GitLab releases have none): elsewhere the tag finds the release.
    let id = version
        .id
        .as_deref()
        .and_then(|i| i.parse::<u64>().ok())
        .filter(|_| prepared.kind == crate::config::ForgeKind::Github);
    let found = match id {
        Some(id) => client.release_by_id(repo, id, None).await.map_err(github)?,
        None if !version.tag.is_empty() => client
            .release_by_tag(repo, &version.tag)
            .await
            .map_err(github)?,
        None => {
            return Err(ResourceError::Request(
                "the version has neither a tag nor an id".into(),
            ));
        }
    };
    let Some(mut release) = found else {
        return Err(ResourceError::NotFound(format!(
            "{repo}: release {} not found (deleted, or not visible to the token)",
            if version.tag.is_empty() {
                format!("id {}", version.id.as_deref().unwrap_or_default())
            } else {
                version.tag.clone()
            }
        )));
    };
    if prepared.kind == crate::config::ForgeKind::Gitlab {
        // GitLab's links state no size; the download needs one.
        client.fill_sizes(&mut release).await;
    }
    if !asset_dir {
        let patterns = prepared
            .config
            .repositories
            .first()
            .map(|r| prepared.config.repository_settings(r).asset_patterns)
            .unwrap_or_default();
        if let Some(clash) = release.assets.iter().find(|a| {
            METADATA_FILES.contains(&a.name.as_str()) && asset_selected(&patterns, &a.name)
        }) {
            return Err(ResourceError::Download(format!(
                "{repo} {}: the asset {:?} has the name of a metadata file; set \
                 source.asset_dir: true to fetch assets into assets/",
                release.tag_name, clash.name
            )));
        }
    }
    std::fs::create_dir_all(&files_dir).map_err(io(format!("creating {}", files_dir.display())))?;
    let report = Report {
        timestamp: crate::db::now(),
        total_repositories_checked: 1,
        new_releases_found: 1,
        releases: vec![ReportedRelease::new(repo, &release, None)],
        errors: Vec::new(),
        pending: Vec::new(),
    };
    // The same download stage as the CLI's, into the step's directory (flat), with a database
    // that lives only as long as the step.
    let pipeline = Pipeline::from_parts(
        Arc::new(prepared.config.clone()),
        prepared.forges(client.clone()),
        Stores::in_memory(),
        Database::new(&crate::db::now()),
    );
    let result = pipeline
        .download(
            &report,
            Options {
                dry_run: false,
                force: true,
                flat: true,
            },
        )
        .await;
    if !result.failed.is_empty() {
        let errors: Vec<String> = result
            .failed
            .iter()
            .map(|f| match &f.asset {
                Some(a) => format!("{a}: {}", f.error),
                None => f.error.clone(),
            })
            .collect();
        return Err(ResourceError::Download(format!(
            "{repo} {}: {}",
            release.tag_name,
            errors.join("; ")
        )));
    }
    for s in &result.skipped {
        tracing::warn!(
            "{repo} {}{}: not fetched: {}",
            release.tag_name,
            s.asset
                .as_deref()
                .map(|a| format!(" {a}"))
                .unwrap_or_default(),
            s.reason
        );
    }
    let files = result
        .downloaded
        .iter()
        .map(|d| d.files.len())
        .sum::<usize>();
    let commit = match client.commit_sha(repo, &release.tag_name).await {
        Ok(sha) => sha.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(
                "{repo} {}: cannot find the tag's commit: {e}",
                release.tag_name
            );
            String::new()
        }
    };
    let body = release
        .extra
        .get("body")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let url = release.html_url.clone().unwrap_or_default();
    let timestamp = release_time(&release).unwrap_or_default().to_string();
    let version_text = prepared.version_text(&release.tag_name);
    for (name, value) in [
        ("tag", release.tag_name.as_str()),
        ("version", version_text.as_str()),
        ("body", body.as_str()),
        ("url", url.as_str()),
        ("timestamp", timestamp.as_str()),
        ("commit_sha", commit.as_str()),
    ] {
        let path = destination.join(name);
        std::fs::write(&path, value).map_err(io(format!("writing {}", path.display())))?;
    }
    tracing::info!(
        "{repo} {}: {files} file(s) fetched and verified",
        release.tag_name
    );
    let mut metadata = vec![
        MetadataField {
            name: "tag".into(),
            value: release.tag_name.clone(),
        },
        MetadataField {
            name: "name".into(),
            value: release.name.clone().unwrap_or_default(),
        },
        MetadataField {
            name: "url".into(),
            value: url,
        },
        MetadataField {
            name: "timestamp".into(),
            value: timestamp,
        },
        MetadataField {
            name: "files".into(),
            value: files.to_string(),
        },
    ];
    if !commit.is_empty() {
        metadata.push(MetadataField {
            name: "commit_sha".into(),
            value: commit,
        });
    }
    if !body.is_empty() {
        metadata.push(MetadataField {
            name: "body".into(),
            value: body,
        });
    }
    // Concourse expects the version back exactly as it asked for it.
    Ok(InResponse { version, metadata })
}
