//! Everything that knows a forge, on top of the shared [`http`](crate::http) layer: the client
//! ([`GithubClient`]: API URLs, the token sent to the API's origin only, errors that say what to
//! do), its REST calls (`Link` pagination, ETag caching), GraphQL batches, rate-limit budgets and
//! request counts, and the release and asset models. GitHub is the model; the same client
//! speaks GitLab's and Gitea's dialects ([`ForgeKind`](crate::config::ForgeKind)), turning their
//! answers into GitHub-shaped releases, so nothing after it knows which forge a release came
//! from.
//!
//! Files, each using only those listed before it: `token`, `models`, `link`, `etag`, `limit`
//! (the adaptive limit on API calls at once), `ratelimit` (counts, budgets, GitHub's error body
//! as retry signals), `dialect` (GitLab's and Gitea's shapes), `client` (the client and its one
//! way of sending), `rest` and `graphql` (the calls, on top of the client), `forges` (one client
//! per forge host).

mod app;
mod client;
mod dialect;
mod forges;
pub mod etag;
mod graphql;
mod limit;
pub mod link;
mod models;
mod ratelimit;
mod rest;
#[cfg(test)]
mod test_support;
mod token;

pub use app::{AppAuth, AppKeyError, REFRESH_BEFORE, check_key};
pub use client::{
    ACCEPT_JSON, ACCEPT_OCTET, API_VERSION, ApiResponse, ClientOptions, GithubClient,
};
pub use etag::{CachedPage, EtagCache};
pub use forges::Forges;
pub use graphql::{BATCH_SIZE, Listing, MAX_FIRST};
pub use limit::{ApiLimit, ApiPermit, MAX_CONCURRENT};
pub use models::{Asset, ErrorBody, Release};
pub use ratelimit::{CallStats, RateBudget};
pub use token::Token;

use crate::repo::RepoId;

/// Why a GitHub request failed, worded to say what to do. Never contains the token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GithubError {
    /// The forge rejected the token.
    #[error("bad credentials (check {token})")]
    Unauthorized {
        /// Where the token came from (`GITHUB_TOKEN`, a forge's `token_env`).
        token: String,
    },
    /// 404 from GitHub.
    #[error("not found: {url}")]
    NotFound {
        /// The URL, without its query.
        url: String,
    },
    /// 404 for a repository.
    #[error("repository not found, or private and the token cannot see it")]
    RepositoryNotFound {
        /// The repository.
        repo: String,
    },
    /// Any other error status; `message` is GitHub's.
    #[error("HTTP {status} from {url}: {message} (after {attempts} attempt(s))")]
    Http {
        /// The status.
        status: u16,
        /// The URL, without its query.
        url: String,
        /// GitHub's `message`.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The rate limit is exhausted and resets later than `github.max_rate_limit_wait`.
    #[error(
        "the API's rate limit is exhausted{}{}; not waiting longer than github.max_rate_limit_wait ({max_wait_secs} s)",
        reset.as_ref().map(|r| format!(", it resets at {r}")).unwrap_or_default(),
        wait_secs.map(|w| format!(" (in {w} s)")).unwrap_or_default()
    )]
    RateLimited {
        /// When it resets.
        reset: Option<String>,
        /// How long that is.
        wait_secs: Option<u64>,
        /// The configured maximum wait.
        max_wait_secs: u64,
    },
    /// The network failed, after retries.
    #[error("{url}: {message} (after {attempts} attempt(s))")]
    Transport {
        /// The URL, without its query.
        url: String,
        /// What failed.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// A URL or redirect broke the HTTPS rule.
    #[error("{0}")]
    Insecure(String),
    /// The GitHub App could not get an installation token (not installed, a wrong key or
    /// App id, GitHub refusing the JWT).
    #[error("GitHub App authentication failed: {0}")]
    App(String),
    /// A response did not have the expected shape.
    #[error("unexpected response from {url}: {message}")]
    Decode {
        /// The URL, without its query.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A GraphQL answer without data (its `errors`, or an unexpected shape).
    #[error("GraphQL query failed: {message}")]
    Graphql {
        /// GitHub's error messages, joined.
        message: String,
    },
    /// A release GraphQL listed that REST no longer finds.
    #[error(
        "release {tag} was listed, but REST does not find it now (deleted or retagged meanwhile?); the next run will see"
    )]
    Vanished {
        /// Its tag.
        tag: String,
    },
    /// The client could not be built (a bad CA file, a bad URL).
    #[error("{message}")]
    Setup {
        /// What was wrong.
        message: String,
    },
}

impl GithubError {
    /// Words a 404 as being about `repo`.
    pub fn for_repository(self, repo: &RepoId) -> GithubError {
        match self {
            GithubError::NotFound { .. } => GithubError::RepositoryNotFound {
                repo: repo.to_string(),
            },
            other => other,
        }
    }
}
