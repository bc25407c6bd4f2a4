//! The REST calls the monitor and the downloader make, on top of the client: a repository's
//! releases (pages followed through `Link: rel="next"`, never off the API origin), one release by
//! tag or id, a tag's commit SHA. Each page is requested conditionally when an [`EtagCache`] is
//! given, so an unchanged answer costs no rate limit.

use bytes::Bytes;
use url::Url;

use serde_json::Value;

use super::GithubError;
use super::client::{ACCEPT_SHA, GithubClient};
use super::dialect;
use super::etag::EtagCache;
use super::models::Release;
use crate::config::ForgeKind;
use crate::http::redact;
use crate::repo::RepoId;

impl GithubClient {
    /// A repository's releases, newest first, up to `max` (pages of up to 100, following
    /// `Link: rel="next"`). With a cache, each page is requested conditionally.
    pub async fn list_releases(
        &self,
        repo: &RepoId,
        max: usize,
        cache: Option<&EtagCache>,
    ) -> Result<Vec<Release>, GithubError> {
        match self.kind() {
            ForgeKind::Github => self.list_pages(repo, "releases", max, cache).await,
            ForgeKind::Gitea => {
                let items: Vec<Value> = self.list_pages(repo, "releases", max, cache).await?;
                items
                    .into_iter()
                    .map(|v| dialect::gitea_release(v).map_err(|e| self.decode_error(repo, e)))
                    .collect()
            }
            ForgeKind::Gitlab => {
                let items: Vec<Value> = self.list_pages(repo, "releases", max, cache).await?;
                items
                    .into_iter()
                    .filter(|v| !dialect::gitlab_upcoming(v))
                    .map(|v| dialect::gitlab_release(v).map_err(|e| self.decode_error(repo, e)))
                    .collect()
            }
        }
    }

    /// A listing of `repo` that did not have the expected shape.
    fn decode_error(&self, repo: &RepoId, e: serde_json::Error) -> GithubError {
        GithubError::Decode {
            url: format!("{} ({repo})", redact(self.api_url())),
            message: e.to_string(),
        }
    }

    /// The API path listing `what` (`releases` or `tags`) of `repo`, `per_page` at a time, in
    /// the forge's dialect.
    fn list_path(&self, repo: &RepoId, what: &str, per_page: usize) -> String {
        let (o, r) = (repo.owner(), repo.repo());
        match self.kind() {
            ForgeKind::Github => format!("repos/{o}/{r}/{what}?per_page={per_page}"),
            ForgeKind::Gitea => format!("repos/{o}/{r}/{what}?limit={per_page}"),
            ForgeKind::Gitlab => {
                let what = if what == "tags" {
                    "repository/tags"
                } else {
                    what
                };
                format!(
                    "{}/{what}?per_page={per_page}",
                    dialect::gitlab_project(repo)
                )
            }
        }
    }

    /// One release as the forge answered it, in the GitHub shape.
    fn decode_release(&self, body: &[u8]) -> Result<Release, serde_json::Error> {
        match self.kind() {
            ForgeKind::Github => serde_json::from_slice(body),
            ForgeKind::Gitea => dialect::gitea_release(serde_json::from_slice(body)?),
            ForgeKind::Gitlab => dialect::gitlab_release(serde_json::from_slice(body)?),
        }
    }

    /// Fills in the size of each asset whose forge stated none (GitLab's links) by asking its
    /// host for the first byte (`Range: bytes=0-0`; the total is in `Content-Range`, or the
    /// whole length in `Content-Length`). The token goes only where it always goes: to the
    /// API's origin. An asset whose size cannot be learnt keeps 0 and fails its size check
    /// when downloaded.
    pub async fn fill_sizes(&self, release: &mut Release) {
        for asset in release.assets.iter_mut().filter(|a| a.size == 0) {
            let Ok(url) = Url::parse(&asset.url) else {
                continue;
            };
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::RANGE,
                reqwest::header::HeaderValue::from_static("bytes=0-0"),
            );
            match self.send(&url, super::ACCEPT_OCTET, &headers).await {
                Ok(resp) => {
                    let total = resp
                        .headers()
                        .get(reqwest::header::CONTENT_RANGE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.rsplit_once('/'))
                        .and_then(|(_, n)| n.trim().parse::<u64>().ok());
                    let size = match resp.status().as_u16() {
                        206 => total,
                        _ => resp.content_length(),
                    };
                    match size {
                        Some(n) => asset.size = n,
                        None => tracing::warn!(
                            "{}: {} states no size; its download will fail its size check",
                            release.tag_name,
                            asset.name
                        ),
                    }
                }
                Err(e) => tracing::warn!(
                    "{}: cannot learn the size of {}: {e}",
                    release.tag_name,
                    asset.name
                ),
            }
        }
    }

    /// The items of a paginated list under `repos/{o}/{r}/{what}`, up to `max` (pages of up to
    /// 100, following `Link: rel="next"` on the API's origin only), each page conditional when a
    /// cache is given.
    async fn list_pages<T: serde::de::DeserializeOwned>(
        &self,
        repo: &RepoId,
        what: &str,
        max: usize,
        cache: Option<&EtagCache>,
    ) -> Result<Vec<T>, GithubError> {
        let per_page = max.clamp(1, 100);
        let mut url = self.endpoint(&self.list_path(repo, what, per_page))?;
        let mut items = Vec::new();
        loop {
            let (body, next) = self
                .get_cached(&url, cache)
                .await
                .map_err(|e| e.for_repository(repo))?;
            let page: Vec<T> = serde_json::from_slice(&body).map_err(|e| GithubError::Decode {
                url: redact(&url),
                message: e.to_string(),
            })?;
            let empty = page.is_empty();
            items.extend(page);
            if items.len() >= max || empty {
                break;
            }
            match next {
                Some(n) => {
                    url = Url::parse(&n).map_err(|e| GithubError::Decode {
                        url: redact(&url),
                        message: format!("bad Link URL: {e}"),
                    })?;
                    if !self.is_api_origin(&url) {
                        return Err(GithubError::Insecure(format!(
                            "refusing to follow a Link to {} (not the API host)",
                            redact(&url)
                        )));
                    }
                }
                None => break,
            }
        }
        items.truncate(max);
        Ok(items)
    }

    /// A repository's tags (`GET /repos/{o}/{r}/tags`, newest first, up to `max`), each as a
    /// release without assets: for projects that publish no releases. The tag's commit is kept
    /// in `extra.commit.sha`; a tag that reads as a prerelease (`rc`, `beta`, …) is flagged as
    /// one, since tags carry no flag.
    pub async fn list_tags(
        &self,
        repo: &RepoId,
        max: usize,
        cache: Option<&EtagCache>,
    ) -> Result<Vec<Release>, GithubError> {
        #[derive(serde::Deserialize)]
        struct TagJson {
            name: String,
            #[serde(default)]
            zipball_url: Option<String>,
            #[serde(default)]
            tarball_url: Option<String>,
            #[serde(default)]
            commit: Option<serde_json::Value>,
        }
        if self.kind() == ForgeKind::Gitlab {
            let project = dialect::gitlab_project(repo);
            let api = self.api_url().to_string();
            let items: Vec<Value> = self.list_pages(repo, "tags", max, cache).await?;
            return Ok(items
                .iter()
                .filter_map(|v| dialect::gitlab_tag(&api, &project, v))
                .collect());
        }
        let tags: Vec<TagJson> = self.list_pages(repo, "tags", max, cache).await?;
        Ok(tags
            .into_iter()
            .map(|t| {
                let mut extra = serde_json::Map::new();
                if let Some(commit) = t.commit {
                    extra.insert("commit".into(), commit);
                }
                Release {
                    prerelease: crate::version::has_prerelease_marker(&t.name),
                    tag_name: t.name,
                    name: None,
                    draft: false,
                    published_at: None,
                    tarball_url: t.tarball_url,
                    zipball_url: t.zipball_url,
                    html_url: None,
                    assets: Vec::new(),
                    extra,
                }
            })
            .collect())
    }

    /// The release tagged `tag` (`GET /repos/{o}/{r}/releases/tags/{tag}`), or `None` if there
    /// is none. The tag is percent-encoded as one path segment.
    pub async fn release_by_tag(
        &self,
        repo: &RepoId,
        tag: &str,
    ) -> Result<Option<Release>, GithubError> {
        let mut url = self.endpoint(&match self.kind() {
            ForgeKind::Gitlab => format!("{}/releases", dialect::gitlab_project(repo)),
            _ => format!("repos/{}/{}/releases/tags", repo.owner(), repo.repo()),
        })?;
        url.path_segments_mut()
            .map_err(|()| GithubError::Setup {
                message: "the API URL cannot have a path".to_string(),
            })?
            .push(tag);
        self.optional_release(&url, None).await
    }

    /// GETs `url`, conditional on the ETag `cache` holds for it (a `304` is answered from the
    /// cache and costs no rate limit), and stores a new answer with its ETag. Returns the body
    /// and the `Link: rel="next"` URL.
    async fn get_cached(
        &self,
        url: &Url,
        cache: Option<&EtagCache>,
    ) -> Result<(Bytes, Option<String>), GithubError> {
        let key = url.to_string();
        let cached = cache.and_then(|c| c.get(&key));
        let resp = self
            .get(url, cached.as_ref().map(|c| c.etag.as_str()))
            .await?;
        Ok(match (resp.status, cached) {
            (304, Some(c)) => (c.body, c.next),
            _ => {
                let next = resp.next_page_of(url);
                if let (Some(cache), Some(etag)) = (cache, resp.etag()) {
                    cache.put(&key, etag, resp.body.clone(), next.clone());
                }
                (resp.body, next)
            }
        })
    }

    /// GETs one release (conditionally, with a cache); `None` on 404.
    async fn optional_release(
        &self,
        url: &Url,
        cache: Option<&EtagCache>,
    ) -> Result<Option<Release>, GithubError> {
        match self.get_cached(url, cache).await {
            Ok((body, _)) => {
                self.decode_release(&body)
                    .map(Some)
                    .map_err(|e| GithubError::Decode {
                        url: redact(url),
                        message: e.to_string(),
                    })
            }
            Err(GithubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The release with id `id` (`GET /repos/{o}/{r}/releases/{id}`; drafts too, with a token
    /// that can push), or `None` if there is none. With a cache the request is conditional on
    /// the state file's ETag: this is how a release found through GraphQL gets its REST asset
    /// objects (with `digest`) for the report, for free when unchanged.
    pub async fn release_by_id(
        &self,
        repo: &RepoId,
        id: u64,
        cache: Option<&EtagCache>,
    ) -> Result<Option<Release>, GithubError> {
        let url = self.endpoint(&format!(
            "repos/{}/{}/releases/{id}",
            repo.owner(),
            repo.repo()
        ))?;
        self.optional_release(&url, cache).await
    }

    /// The SHA of the commit `reference` (a tag) points at, from `GET
    /// /repos/{o}/{r}/commits/{ref}` with `Accept: application/vnd.github.sha` (the bare SHA,
    /// not the commit with its diff). `None` when GitHub knows no such commit (404 or 422).
    pub async fn commit_sha(
        &self,
        repo: &RepoId,
        reference: &str,
    ) -> Result<Option<String>, GithubError> {
        if self.kind() != ForgeKind::Github {
            return self.tag_commit(repo, reference).await;
        }
        let mut url = self.endpoint(&format!("repos/{}/{}/commits", repo.owner(), repo.repo()))?;
        url.path_segments_mut()
            .map_err(|()| GithubError::Setup {
                message: "the API URL cannot have a path".to_string(),
            })?
            .push(reference);
        match self.get_as(&url, ACCEPT_SHA, None).await {
            Ok(resp) => {
                let text = String::from_utf8_lossy(&resp.body).trim().to_string();
                if text.len() >= 40
                    && text.len() <= 64
                    && text.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    Ok(Some(text))
                } else {
                    Err(GithubError::Decode {
                        url: redact(&url),
                        message: "the body is not a commit SHA".to_string(),
                    })
                }
            }
            Err(GithubError::NotFound { .. } | GithubError::Http { status: 422, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The commit of tag `tag` on GitLab (`GET /projects/{p}/repository/tags/{tag}`, its
    /// `commit.id`) or Gitea (`GET /repos/{o}/{r}/tags/{tag}`, its `commit.sha`); `None` when
    /// there is no such tag.
    async fn tag_commit(&self, repo: &RepoId, tag: &str) -> Result<Option<String>, GithubError> {
        let (base, pointer) = match self.kind() {
            ForgeKind::Gitlab => (
                format!("{}/repository/tags", dialect::gitlab_project(repo)),
                "/commit/id",
            ),
            _ => (
                format!("repos/{}/{}/tags", repo.owner(), repo.repo()),
                "/commit/sha",
            ),
        };
        let mut url = self.endpoint(&base)?;
        url.path_segments_mut()
            .map_err(|()| GithubError::Setup {
                message: "the API URL cannot have a path".to_string(),
            })?
            .push(tag);
        match self.get(&url, None).await {
            Ok(resp) => {
                let value: Value =
                    serde_json::from_slice(&resp.body).map_err(|e| GithubError::Decode {
                        url: redact(&url),
                        message: e.to_string(),
                    })?;
                Ok(value
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_string))
            }
            Err(GithubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The artifact attestations GitHub holds for a file with SHA-256 `sha256` (`GET
    /// /repos/{o}/{r}/attestations/sha256:{hex}`, up to 100), as the raw answer for the verifier;
    /// `None` when there are none (404). Asked only for files being downloaded, so a run with
    /// nothing new spends nothing on it.
    pub async fn attestations(
        &self,
        repo: &RepoId,
        sha256: &str,
    ) -> Result<Option<Bytes>, GithubError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GithubError::Setup {
                message: format!("{sha256:?} is not a SHA-256"),
            });
        }
        let url = self.endpoint(&format!(
            "repos/{}/{}/attestations/sha256:{sha256}?per_page=100",
            repo.owner(),
            repo.repo()
        ))?;
        match self.get(&url, None).await {
            Ok(resp) => Ok(Some(resp.body)),
            Err(GithubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
