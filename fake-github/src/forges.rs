//! The other forges the fake can be: GitLab (API v4) and Gitea/Forgejo (API v1), shaped on
//! their documented APIs, over the same world (repositories, releases, assets, faults, budget).
//!
//! - GitLab: `/api/v4/projects/{url-encoded path}/releases[/{tag}]`, `/repository/tags`,
//!   `/repository/archive.{tar.gz,zip}?sha=`; nested groups (an owner may be `group/sub`);
//!   assets are `links` on the asset origin (a second host, as links often are) and `sources`;
//!   a release published in the future is listed as an `upcoming_release`; pages by `page` and
//!   `per_page` with `Link` and `X-Next-Page`; budget in `RateLimit-*` headers and a 429 with
//!   `Retry-After` when spent; the token as `PRIVATE-TOKEN` or a bearer token; a private
//!   project answers `404 Project Not Found` without it.
//! - Gitea: GitHub's routes under `/api/v1` (pages by `limit`), attachments without an API URL
//!   or digest, downloaded from the server's own host (`/{owner}/{repo}/releases/download/…`),
//!   the token as `Authorization: token …`.

use bytes::Bytes;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::handler::{
    Reply, Req, State, TAG_PATH, Urls, api, assets, authorization, decoded_segments, page_links,
};
use crate::model::{ReleaseW, RepoW, iso};

/// GitLab's error body, `{"message": …}`.
fn gitlab_error(status: u16, message: &str) -> Reply {
    Reply::json(status, &json!({ "message": message }))
}

/// `RateLimit-*` headers (GitLab's names) for the budget after this request.
fn gitlab_rate(state: &mut State, spend: bool, now: u64) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = state
        .rate_headers(spend, now)
        .into_iter()
        .filter_map(|(name, value)| {
            name.strip_prefix("x-ratelimit-")
                .filter(|n| ["limit", "remaining", "reset"].contains(n))
                .map(|n| (format!("ratelimit-{n}"), value))
        })
        .collect();
    let limit = state.world.rate_limit.limit;
    headers.push((
        "ratelimit-observed".into(),
        limit.saturating_sub(state.remaining).to_string(),
    ));
    headers
}

/// Serves a GitLab API v4 request on the API origin.
pub(crate) fn gitlab(urls: &Urls, state: &mut State, req: &Req, now: u64) -> Reply {
    let given = req
        .header("private-token")
        .map(str::trim)
        .or_else(|| authorization(req));
    let authed = match (given, &state.world.token) {
        (Some(g), Some(t)) if g == t => true,
        (Some(_), Some(_)) => {
            let mut reply = gitlab_error(401, "401 Unauthorized").noted("wrong token");
            reply.headers.extend(gitlab_rate(state, true, now));
            return reply;
        }
        _ => false,
    };
    state.refresh(now);
    if state.remaining == 0 {
        let wait = state.reset_at.saturating_sub(now).max(1);
        let mut reply = Reply::new_text(429, "Retry later\n")
            .header("retry-after", wait.to_string())
            .noted("rate budget exhausted");
        reply.headers.extend(gitlab_rate(state, false, now));
        return reply;
    }
    let mut reply = route(urls, state, req, authed);
    reply.headers.extend(gitlab_rate(state, true, now));
    reply
}

fn route(urls: &Urls, state: &State, req: &Req, authed: bool) -> Reply {
    if !req.is_get_or_head() {
        return gitlab_error(404, "404 Not Found");
    }
    let segments = decoded_segments(&req.path);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (project, rest) = match segments.as_slice() {
        ["api", "v4", "projects", project, rest @ ..] => (*project, rest),
        _ => return gitlab_error(404, "404 Not Found"),
    };
    let Some((owner, name)) = project.rsplit_once('/') else {
        return gitlab_error(404, "404 Project Not Found");
    };
    let Some(repo) = state
        .world
        .repo(owner, name)
        .filter(|r| !r.private || authed)
    else {
        return gitlab_error(404, "404 Project Not Found");
    };
    if let Some(status) = repo.status {
        return gitlab_error(status, &format!("{status} forced by the scenario"));
    }
    let encoded = utf8_percent_encode(project, NON_ALPHANUMERIC).to_string();
    let base = format!("{}/api/v4/projects/{encoded}", urls.api);
    let now = chrono::Utc::now();
    match rest {
        ["releases"] => {
            let visible: Vec<&ReleaseW> = repo.releases.iter().filter(|r| !r.draft).collect();
            let items: Vec<Value> = visible
                .iter()
                .map(|r| release_json(urls, repo, r, now))
                .collect();
            paged(req, items, &format!("{base}/releases"))
        }
        ["releases", tag @ ..] if !tag.is_empty() => {
            let tag = tag.join("/");
            match repo.releases.iter().find(|r| !r.draft && r.tag == tag) {
                Some(r) => Reply::json(200, &release_json(urls, repo, r, now)),
                None => gitlab_error(404, "404 Not Found"),
            }
        }
        ["repository", "tags"] => {
            let items: Vec<Value> = repo.tags.iter().map(|(n, s)| gitlab_tag(n, s)).collect();
            paged(req, items, &format!("{base}/repository/tags"))
        }
        ["repository", "tags", tag @ ..] if !tag.is_empty() => {
            let tag = tag.join("/");
            match repo.tags.iter().find(|(name, _)| *name == tag) {
                Some((name, sha)) => Reply::json(200, &gitlab_tag(name, sha)),
                None => gitlab_error(404, "404 Tag Not Found"),
            }
        }
        ["repository", file @ ("archive.tar.gz" | "archive.zip")] => {
            let Some(sha) = req.query_param("sha") else {
                return gitlab_error(400, "400 Bad request - sha is missing");
            };
            let sha = percent_encoding::percent_decode_str(sha)
                .decode_utf8_lossy()
                .into_owned();
            let ext = file.trim_start_matches("archive.");
            // Served by the asset origin, as a CDN would.
            Reply::new_text(302, "").header("location", archive_url(urls, repo, ext, &sha))
        }
        _ => gitlab_error(404, "404 Not Found"),
    }
}

/// A GitLab tag object.
fn gitlab_tag(name: &str, sha: &str) -> Value {
    json!({
        "name": name, "message": "", "target": sha, "protected": false, "release": null,
        "commit": {"id": sha, "short_id": &sha[..8.min(sha.len())]},
    })
}

/// The asset origin's URL of a source archive.
fn archive_url(urls: &Urls, repo: &RepoW, ext: &str, reference: &str) -> String {
    format!(
        "{}/archive/{}/{}/{ext}/{}",
        urls.assets,
        utf8_percent_encode(&repo.owner, NON_ALPHANUMERIC),
        repo.name,
        utf8_percent_encode(reference, TAG_PATH)
    )
}

/// One page of `items` (`page`, `per_page` up to 100, default 20), with GitLab's headers.
fn paged(req: &Req, items: Vec<Value>, base: &str) -> Reply {
    let per_page = req
        .query_param("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(20, |n| n.clamp(1, 100));
    let page = req
        .query_param("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let total = items.len();
    let chunk: Vec<Value> = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let mut reply = Reply::json(200, &Value::Array(chunk));
    reply.headers.extend(page_links(
        &format!("{base}?per_page={per_page}"),
        page,
        last,
    ));
    let next = if page < last {
        (page + 1).to_string()
    } else {
        String::new()
    };
    for (name, value) in [
        ("x-page", page.to_string()),
        ("x-per-page", per_page.to_string()),
        ("x-next-page", next),
        ("x-total", total.to_string()),
        ("x-total-pages", last.to_string()),
    ] {
        reply.headers.push((name.into(), value));
    }
    reply
}

fn release_json(
    urls: &Urls,
    repo: &RepoW,
    rel: &ReleaseW,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let released = rel.published_at.unwrap_or(rel.created_at);
    let tag = utf8_percent_encode(&rel.tag, TAG_PATH).to_string();
    let links: Vec<Value> = rel
        .assets
        .iter()
        .map(|a| {
            let url = format!("{}/download/{}", urls.assets, a.id);
            json!({
                "id": a.id, "name": a.name, "url": url, "direct_asset_url": url,
                "link_type": "other",
            })
        })
        .collect();
    json!({
        "name": rel.name,
        "tag_name": rel.tag,
        "description": rel.body,
        "created_at": iso(&rel.created_at),
        "released_at": iso(&released),
        "upcoming_release": released > now,
        "commit": {"id": rel.commit_sha, "short_id": &rel.commit_sha[..8.min(rel.commit_sha.len())]},
        "_links": {"self": format!("{}/{}/{}/-/releases/{tag}", urls.api, repo.owner, repo.name)},
        "assets": {
            "count": links.len() + 2,
            "sources": [
                {"format": "zip", "url": archive_url(urls, repo, "zip", &rel.tag)},
                {"format": "tar.gz", "url": archive_url(urls, repo, "tar.gz", &rel.tag)},
            ],
            "links": links,
        },
    })
}

/// Serves a Gitea API v1 request (under `/api/v1`), or a browser download from the server's
/// own host (any other path).
pub(crate) fn gitea(urls: &Urls, state: &mut State, req: &Req, now: u64) -> Reply {
    let Some(rest) = req.path.strip_prefix("/api/v1") else {
        return assets(state, req);
    };
    // Gitea's one-tag endpoint, which GitHub does not have.
    let segments = decoded_segments(rest);
    if let ["repos", owner, name, "tags", tag @ ..] = segments
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
        && !tag.is_empty()
        && req.is_get_or_head()
    {
        let tag = tag.join("/");
        let found = state
            .world
            .repo(owner, name)
            .filter(|r| !r.private)
            .and_then(|r| r.tags.iter().find(|(n, _)| *n == tag));
        return match found {
            Some((name, sha)) => Reply::json(
                200,
                &json!({"name": name, "id": sha, "commit": {"sha": sha}}),
            ),
            None => Reply::json(404, &json!({"message": "not found"})),
        };
    }
    let mut inner = req.clone();
    inner.path = if rest.is_empty() {
        "/".into()
    } else {
        rest.into()
    };
    // Gitea pages by `limit`; GitHub's routes read `per_page`.
    inner.query = req.query.as_ref().map(|q| {
        q.split('&')
            .map(|p| match p.strip_prefix("limit=") {
                Some(n) => format!("per_page={n}"),
                None => p.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let gitea_urls = Urls {
        api: format!("{}/api/v1", urls.api),
        assets: urls.api.clone(),
    };
    let mut reply = api(&gitea_urls, state, &inner, now);
    if reply.status == 200
        && let Ok(mut value) = serde_json::from_slice::<Value>(&reply.body)
    {
        let releases: Vec<&mut Value> = match &mut value {
            Value::Array(items) => items.iter_mut().collect(),
            one @ Value::Object(_) => vec![one],
            _ => Vec::new(),
        };
        for release in releases {
            for asset in release
                .get_mut("assets")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(map) = asset.as_object_mut() {
                    // Gitea attachments: no API URL, no digest, a uuid.
                    map.remove("url");
                    map.remove("digest");
                    map.insert("uuid".into(), json!(format!("uuid-{}", map["id"])));
                }
            }
        }
        reply.body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
    }
    reply
}
