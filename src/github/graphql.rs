//! GraphQL: the releases of up to [`BATCH_SIZE`] repositories in one query, so a check of many
//! unchanged repositories costs a few calls instead of one per repository.
//!
//! One query, `ReleaseMonitorReleases`, with an alias per repository (`r0`, `r1`, ...) whose owner
//! and name are GraphQL variables (`$o0`, `$n0`, ...), never text pasted into the query. It asks
//! for the fields release selection needs (tag, name, draft and prerelease flags, dates, URL, id)
//! and `rateLimit`. GraphQL has no asset digests, so a release that will be reported is fetched
//! again over REST ([`GithubClient::release_by_id`] with the ETag state).
//!
//! The query is a layer on top of the client: it is sent with [`GithubClient::authorize`]'s token
//! rule (only to the API's origin) through the one send-with-retry, with the same
//! [`RetryPolicy`](crate::http::RetryPolicy); GraphQL calls are counted in
//! [`CallStats`](super::CallStats) with their cost. The client knows nothing of GraphQL.

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use super::GithubError;
use super::client::GithubClient;
use super::models::Release;
use super::ratelimit::{Api, RateBudget};
use crate::http::{Request, redact};
use crate::repo::RepoId;

/// Repositories per query. 50 `releases(first: 100)` connections cost one point and stay far
/// below GitHub's 500 000-node limit.
pub const BATCH_SIZE: usize = 50;

/// GitHub's largest `first` for a connection.
pub const MAX_FIRST: usize = 100;

/// The operation name; fake-github recognises our query by it.
const OPERATION: &str = "ReleaseMonitorReleases";

/// What GraphQL said about one repository of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// Its releases, newest first, with the GraphQL fields only (no assets, no source archive
    /// URLs). `more` is true when the repository has releases past the `first` asked for.
    Releases {
        /// The releases.
        releases: Vec<Release>,
        /// More releases exist than were returned.
        more: bool,
    },
    /// GitHub cannot resolve it: missing, or private and the token cannot see it.
    NotFound,
    /// Any other error for this repository (GitHub's message): check it over REST instead.
    Failed(String),
}

/// The answer's `data` and `errors`.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    data: Option<Map<String, Value>>,
    #[serde(default)]
    errors: Vec<AnswerError>,
}

#[derive(Debug, Clone, Deserialize)]
struct AnswerError {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    path: Vec<Value>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    database_id: Option<u64>,
    tag_name: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    is_draft: bool,
    #[serde(default)]
    is_prerelease: bool,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimitField {
    #[serde(default)]
    cost: Option<u64>,
    #[serde(default)]
    remaining: Option<u64>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    reset_at: Option<String>,
}

/// The query for `count` repositories.
fn releases_query(count: usize) -> String {
    let mut q = format!("query {OPERATION}($first: Int!");
    for i in 0..count {
        q.push_str(&format!(", $o{i}: String!, $n{i}: String!"));
    }
    q.push_str(") {\n  rateLimit { cost remaining resetAt limit }\n");
    for i in 0..count {
        q.push_str(&format!(
            "  r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...releases }}\n"
        ));
    }
    q.push_str(
        "}\nfragment releases on Repository {\n  releases(first: $first, orderBy: {field: \
         CREATED_AT, direction: DESC}) {\n    pageInfo { hasNextPage }\n    nodes { databaseId \
         tagName name isDraft isPrerelease publishedAt createdAt url }\n  }\n}\n",
    );
    q
}

impl From<Node> for Release {
    fn from(n: Node) -> Release {
        let mut extra = Map::new();
        if let Some(id) = n.database_id {
            extra.insert("id".into(), json!(id));
        }
        if let Some(created) = n.created_at {
            extra.insert("created_at".into(), json!(created));
        }
        Release {
            tag_name: n.tag_name,
            name: n.name,
            draft: n.is_draft,
            prerelease: n.is_prerelease,
            published_at: n.published_at,
            tarball_url: None,
            zipball_url: None,
            html_url: n.url,
            assets: Vec::new(),
            extra,
        }
    }
}

/// One alias's listing from the answer.
fn listing(alias: &str, data: &Map<String, Value>, errors: &[AnswerError]) -> Listing {
    let error = errors
        .iter()
        .find(|e| e.path.first().and_then(Value::as_str) == Some(alias));
    match data.get(alias) {
        Some(Value::Object(repo)) => {
            let releases = repo.get("releases");
            let more = releases
                .and_then(|r| r.pointer("/pageInfo/hasNextPage"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let nodes = releases
                .and_then(|r| r.get("nodes"))
                .cloned()
                .unwrap_or(Value::Null);
            match serde_json::from_value::<Vec<Node>>(nodes) {
                Ok(nodes) => Listing::Releases {
                    releases: nodes.into_iter().map(Release::from).collect(),
                    more,
                },
                Err(e) => Listing::Failed(format!("unexpected releases in the answer: {e}")),
            }
        }
        _ => match error {
            Some(e) if e.kind.as_deref() == Some("NOT_FOUND") => Listing::NotFound,
            Some(e) => Listing::Failed(
                e.message
                    .clone()
                    .unwrap_or_else(|| "an error without a message".into()),
            ),
            None => Listing::Failed("no data for it in the answer".into()),
        },
    }
}

impl GithubClient {
    /// The GraphQL endpoint: `https://HOST/api/graphql` for an Enterprise REST base
    /// `https://HOST/api/v3`, else `{api_url}/graphql` (`https://api.github.com/graphql`).
    pub fn graphql_url(&self) -> Result<Url, GithubError> {
        let api = self.api_url();
        let mut url = api.clone();
        if let Some(prefix) = api.path().strip_suffix("/api/v3/") {
            url.set_path(&format!("{prefix}/api/graphql"));
            return Ok(url);
        }
        self.endpoint("graphql")
    }

    /// The GraphQL budget from the last query (`rateLimit`, else the `X-RateLimit-*` headers).
    pub fn graphql_budget(&self) -> Option<RateBudget> {
        self.counters().graphql_budget()
    }

    /// The releases of `repos` (at most [`BATCH_SIZE`]), up to `first` each (1–100), newest
    /// first, in one query. The result has one [`Listing`] per repository, in order; an error
    /// means the whole query failed (after retries) and the caller should use REST.
    pub async fn releases_batch(
        &self,
        repos: &[RepoId],
        first: usize,
    ) -> Result<Vec<Listing>, GithubError> {
        let mut variables = Map::new();
        variables.insert("first".into(), json!(first.clamp(1, MAX_FIRST)));
        for (i, repo) in repos.iter().enumerate() {
            variables.insert(format!("o{i}"), json!(repo.owner()));
            variables.insert(format!("n{i}"), json!(repo.repo()));
        }
        let answer = self
            .graphql(&releases_query(repos.len()), Value::Object(variables))
            .await?;
        let data = match answer.data {
            Some(d) => d,
            None => {
                let message = answer
                    .errors
                    .iter()
                    .filter_map(|e| e.message.as_deref())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(GithubError::Graphql {
                    message: if message.is_empty() {
                        "no data in the answer".into()
                    } else {
                        message
                    },
                });
            }
        };
        if let Some(rate) = data
            .get("rateLimit")
            .and_then(|v| serde_json::from_value::<RateLimitField>(v.clone()).ok())
        {
            self.counters().add_graphql_cost(rate.cost.unwrap_or(1));
            self.counters().note_graphql_budget(RateBudget {
                limit: rate.limit,
                remaining: rate.remaining,
                reset: rate
                    .reset_at
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                    .and_then(|t| u64::try_from(t.timestamp()).ok()),
            });
        } else {
            // No `rateLimit` (a GHES with rate limits off): count the query as one point.
            self.counters().add_graphql_cost(1);
        }
        Ok((0..repos.len())
            .map(|i| listing(&format!("r{i}"), &data, &answer.errors))
            .collect())
    }

    /// POSTs one GraphQL query through the one send-with-retry; a 2xx answer is decoded,
    /// anything else (after retries) is an error. The token goes to the API's origin only, and
    /// GraphQL needs it.
    async fn graphql(&self, query: &str, variables: Value) -> Result<Answer, GithubError> {
        let url = self.graphql_url()?;
        if !(self.has_token() && self.is_api_origin(&url)) {
            return Err(GithubError::Setup {
                message: "GraphQL needs a token (GITHUB_TOKEN)".into(),
            });
        }
        let body = serde_json::to_vec(&json!({
            "query": query,
            "variables": variables,
            "operationName": OPERATION,
        }))
        .map_err(|e| GithubError::Setup {
            message: format!("cannot encode the GraphQL query: {e}"),
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let headers = self.authorize(&url, headers).await?;
        let reply = self
            .request(
                &Request::post(url.clone(), headers, Bytes::from(body)),
                Api::Graphql,
            )
            .await?;
        serde_json::from_slice(&reply.body).map_err(|e| GithubError::Decode {
            url: redact(&url),
            message: format!("not a GraphQL answer: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::test_support::client;

    #[test]
    fn the_graphql_url_follows_the_rest_base() {
        for (api, gql) in [
            ("https://api.github.com", "https://api.github.com/graphql"),
            (
                "https://ghe.example.com/api/v3",
                "https://ghe.example.com/api/graphql",
            ),
            (
                "https://ghe.example.com/api/v3/",
                "https://ghe.example.com/api/graphql",
            ),
            ("https://127.0.0.1:8443", "https://127.0.0.1:8443/graphql"),
            (
                "https://proxy.example.com/gh",
                "https://proxy.example.com/gh/graphql",
            ),
        ] {
            assert_eq!(client(api).graphql_url().unwrap().as_str(), gql, "{api}");
        }
    }

    #[test]
    fn names_are_variables_never_query_text() {
        let q = releases_query(2);
        assert!(q.starts_with("query ReleaseMonitorReleases($first: Int!, $o0: String!"));
        assert!(q.contains("r1: repository(owner: $o1, name: $n1) { ...releases }"));
        assert!(q.contains("rateLimit { cost remaining resetAt limit }"));
        assert!(!q.contains('"'));
    }

    #[test]
    fn an_answer_maps_to_listings_per_alias() {
        let answer: Answer = serde_json::from_value(json!({
            "data": {
                "r0": {"releases": {"pageInfo": {"hasNextPage": true}, "nodes": [
                    {"databaseId": 7, "tagName": "v1.0.0", "name": "One", "isDraft": false,
                     "isPrerelease": true, "publishedAt": "2024-01-01T00:00:00Z",
                     "createdAt": "2023-12-31T23:50:00Z", "url": "https://github.com/a/b/releases/tag/v1.0.0"}
                ]}},
                "r1": null,
                "r2": null,
                "r3": {"releases": {"nodes": [{"tagName": 5}]}}
            },
            "errors": [
                {"type": "NOT_FOUND", "path": ["r1"], "message": "Could not resolve"},
                {"type": "FORBIDDEN", "path": ["r2"], "message": "no access"}
            ]
        }))
        .unwrap();
        let data = answer.data.unwrap();
        let Listing::Releases { releases, more } = listing("r0", &data, &answer.errors) else {
            panic!("r0 has releases");
        };
        assert!(more);
        assert_eq!(releases[0].tag_name, "v1.0.0");
        assert!(releases[0].prerelease && !releases[0].draft);
        assert_eq!(releases[0].extra["id"], 7);
        assert_eq!(
            releases[0].published_at.as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(listing("r1", &data, &answer.errors), Listing::NotFound);
        assert_eq!(
            listing("r2", &data, &answer.errors),
            Listing::Failed("no access".into())
        );
        assert!(matches!(
            listing("r3", &data, &answer.errors),
            Listing::Failed(_)
        ));
        assert!(matches!(
            listing("r9", &data, &answer.errors),
            Listing::Failed(_)
        ));
    }
}
