//! The REST calls the monitor and the downloader make, on top of the client: a repository's
//! releases (pages followed through `Link: rel="next"`, never off the API origin), one release by
//! tag or id, a tag's commit SHA. Each page is requested conditionally when an [`EtagCache`] is
//! given, so an unchanged answer costs no rate limit.

use bytes::Bytes;
use url::Url;

use super::GithubError;
use super::client::{ACCEPT_SHA, GithubClient};
use super::etag::EtagCache;
use super::models::Release;
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
        self.list_pages(repo, "releases", max, cache).await
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
        let mut url = self.endpoint(&format!(
            "repos/{}/{}/{what}?per_page={per_page}",
            repo.owner(),
            repo.repo()
        ))?;
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
        let mut url = self.endpoint(&format!(
            "repos/{}/{}/releases/tags",
            repo.owner(),
            repo.repo()
        ))?;
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
                let next = resp.next_page().map(str::to_string);
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
                serde_json::from_slice(&body)
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
