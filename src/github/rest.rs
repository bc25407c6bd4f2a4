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
        let per_page = max.clamp(1, 100);
        let mut url = self.endpoint(&format!(
            "repos/{}/{}/releases?per_page={per_page}",
            repo.owner(),
            repo.repo()
        ))?;
        let mut releases = Vec::new();
        loop {
            let (body, next) = self
                .get_cached(&url, cache)
                .await
                .map_err(|e| e.for_repository(repo))?;
            let page: Vec<Release> =
                serde_json::from_slice(&body).map_err(|e| GithubError::Decode {
                    url: redact(&url),
                    message: e.to_string(),
                })?;
            let empty = page.is_empty();
            releases.extend(page);
            if releases.len() >= max || empty {
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
        releases.truncate(max);
        Ok(releases)
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
