//! `check`: the repository's releases as Concourse versions, oldest first.

use std::cmp::Ordering;

use serde::Deserialize;

use super::{ConcourseVersion, OrderBy, ResourceError, Source, release_id, release_time};
use crate::github::Release;
use crate::version::{Scheme, Version};

/// How many of the newest releases are listed when `max_releases` is not given.
const DEFAULT_MAX_RELEASES: usize = 100;

/// The request Concourse sends to `check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The resource's source.
    pub source: Source,
    /// The last version Concourse knows (absent on the first check).
    #[serde(default)]
    pub version: Option<ConcourseVersion>,
}

/// A release that passed the filters, with what it is ordered by.
struct Candidate {
    release: Release,
    version: Version,
    time: Option<chrono::DateTime<chrono::FixedOffset>>,
    id: u64,
}

fn parse_time(s: Option<&str>) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    s.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
}

/// Runs `check`: lists the releases, keeps those the source selects (final releases,
/// prereleases or drafts; tags that are versions under the source's rules), orders them by
/// version or time, and returns the versions from `request.version` on, oldest first. Without
/// a version it returns only the newest. When the given version is gone, it returns the
/// releases ordered after it, or the newest if none is.
pub async fn check(request: CheckRequest) -> Result<Vec<ConcourseVersion>, ResourceError> {
    let (order_by, drafts, release, pre_release) = (
        request.source.order_by,
        request.source.drafts,
        request.source.release,
        request.source.pre_release,
    );
    let max = request
        .source
        .max_releases
        .map_or(DEFAULT_MAX_RELEASES, |m| m as usize);
    let prepared = request.source.prepare(None, None, None)?;
    let client = prepared.client()?;
    let scheme = prepared.scheme();
    let releases = client
        .list_releases(&prepared.repo, max, None)
        .await
        .map_err(|source| ResourceError::Github {
            repo: prepared.repo.to_string(),
            source,
        })?;
    let listed = releases.len();
    let mut candidates: Vec<Candidate> = releases
        .into_iter()
        .filter(|r| r.draft == drafts)
        .filter(|r| if r.prerelease { pre_release } else { release })
        .filter_map(|r| match scheme.parse(&r.tag_name) {
            Ok(version) => Some(Candidate {
                time: parse_time(release_time(&r)),
                id: release_id(&r).unwrap_or_default(),
                version,
                release: r,
            }),
            Err(e) => {
                tracing::debug!("{}: skipped: {e}", r.tag_name);
                None
            }
        })
        .collect();
    tracing::info!(
        "{}: {listed} releases listed, {} selected",
        prepared.repo,
        candidates.len()
    );
    candidates.sort_by(|a, b| order(order_by, a, b));
    let Some(latest) = candidates.last() else {
        return Ok(Vec::new());
    };
    let latest = ConcourseVersion::of(&latest.release);
    let Some(given) = request.version else {
        return Ok(vec![latest]);
    };
    let by_id = drafts || order_by == OrderBy::Time;
    let position = candidates.iter().position(|c| match (&given.id, by_id) {
        (Some(id), true) => c.id.to_string() == *id,
        _ => c.release.tag_name == given.tag,
    });
    let newer: Vec<ConcourseVersion> = match position {
        Some(p) => candidates[p..]
            .iter()
            .map(|c| ConcourseVersion::of(&c.release))
            .collect(),
        None => candidates
            .iter()
            .filter(|c| after_gone(order_by, &scheme, c, &given))
            .map(|c| ConcourseVersion::of(&c.release))
            .collect(),
    };
    Ok(if newer.is_empty() {
        vec![latest]
    } else {
        newer
    })
}

/// The order of `check`'s output: by version (ties by time, then id) or by time (ties by id).
fn order(order_by: OrderBy, a: &Candidate, b: &Candidate) -> Ordering {
    let by_time = a.time.cmp(&b.time).then(a.id.cmp(&b.id));
    match order_by {
        OrderBy::Version => a.version.cmp(&b.version).then(by_time),
        OrderBy::Time => by_time,
    }
}

/// Whether `c` comes after a version that is no longer listed.
fn after_gone(order_by: OrderBy, scheme: &Scheme, c: &Candidate, gone: &ConcourseVersion) -> bool {
    match order_by {
        OrderBy::Version => scheme
            .parse(&gone.tag)
            .ok()
            .is_some_and(|v| c.version.cmp(&v) == Ordering::Greater),
        OrderBy::Time => {
            let gone_time = parse_time(gone.timestamp.as_deref());
            gone_time.is_some() && c.time > gone_time
        }
    }
}
