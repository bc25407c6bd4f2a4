//! `POST /graphql`: the one GraphQL query release-monitor sends, recognised by its operation name
//! `ReleaseMonitorReleases`, answered from the scenario. There is no general GraphQL parser: the
//! query must carry, for each `i`, the alias `ri: repository(owner: $oi, name: $ni)`, with the
//! variables `oi` / `ni` and `first`. Anything else gets a GraphQL `errors` answer.
//!
//! Like GitHub it needs a token (401 without one), spends the `graphql` budget (not `core`),
//! answers HTTP 200 with `errors` for per-repository failures (`NOT_FOUND` with the alias in
//! `path`, the other repositories still answered) and for an exhausted budget (`RATE_LIMITED`),
//! and reports `rateLimit { cost remaining resetAt limit used }`.

use chrono::{DateTime, Utc};
use percent_encoding::utf8_percent_encode;
use serde_json::{Map, Value, json};

use crate::handler::{Reply, Req, State, authorization, error_body, resource_header_values};
use crate::model::{ReleaseW, iso};

/// The operation name release-monitor's query carries.
pub(crate) const OPERATION: &str = "ReleaseMonitorReleases";

const AUTH_DOCS: &str =
    "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql";

/// Answers one `POST /graphql`.
pub(crate) fn answer(state: &mut State, req: &Req, authed: bool, now: u64) -> Reply {
    state.refresh(now);
    if authorization(req).is_none() {
        let mut reply = Reply::json(
            401,
            &error_body(
                401,
                "This endpoint requires you to be authenticated.",
                AUTH_DOCS,
            ),
        );
        reply.headers.extend(headers(state));
        return reply;
    }
    if state.graphql_remaining == 0 {
        let mut reply = Reply::json(
            200,
            &json!({"errors": [{
                "type": "RATE_LIMITED",
                "message": "API rate limit exceeded for user ID 1.",
            }]}),
        );
        reply.headers.extend(headers(state));
        return reply;
    }
    let request: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            let mut reply = Reply::json(
                400,
                &error_body(
                    400,
                    "Problems parsing JSON",
                    "https://docs.github.com/graphql",
                ),
            );
            reply.headers.extend(headers(state));
            return reply;
        }
    };
    let query = request.get("query").and_then(Value::as_str).unwrap_or("");
    let empty = Map::new();
    let variables = request
        .get("variables")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let parsed = parse(query, variables);
    let (first, repos) = match parsed {
        Ok(p) => p,
        Err(message) => {
            let mut reply = Reply::json(200, &json!({"errors": [{"message": message}]}));
            reply.headers.extend(headers(state));
            return reply;
        }
    };
    // GitHub's formula: one request per repository's `releases` connection, divided by 100,
    // rounded, at least 1.
    let cost = u32::try_from(repos.len().div_ceil(100))
        .unwrap_or(u32::MAX)
        .max(1);
    state.graphql_remaining = state.graphql_remaining.saturating_sub(cost);
    let mut data = Map::new();
    let mut errors = Vec::new();
    for (alias, owner, name) in &repos {
        match repository(state, authed, owner, name, first) {
            Ok(value) => {
                data.insert(alias.clone(), value);
            }
            Err((kind, message)) => {
                data.insert(alias.clone(), Value::Null);
                errors.push(json!({
                    "type": kind,
                    "path": [alias],
                    "locations": [{"line": 1, "column": 1}],
                    "message": message,
                }));
            }
        }
    }
    if query.contains("rateLimit") {
        let limit = state.world.rate_limit.limit;
        let reset = DateTime::<Utc>::from_timestamp(i64::try_from(state.reset_at).unwrap_or(0), 0)
            .unwrap_or(DateTime::UNIX_EPOCH);
        data.insert(
            "rateLimit".into(),
            json!({
                "cost": cost,
                "limit": limit,
                "remaining": state.graphql_remaining,
                "used": limit.saturating_sub(state.graphql_remaining),
                "resetAt": iso(&reset),
            }),
        );
    }
    let mut body = json!({ "data": data });
    if !errors.is_empty()
        && let Some(map) = body.as_object_mut()
    {
        map.insert("errors".into(), Value::Array(errors));
    }
    let mut reply = Reply::json(200, &body);
    reply.headers.extend(headers(state));
    reply
}

type Aliased = Vec<(String, String, String)>;

/// Checks the query is ours and reads `first` and each alias's owner and name.
fn parse(query: &str, variables: &Map<String, Value>) -> Result<(usize, Aliased), String> {
    if !query.contains(OPERATION) {
        return Err(format!(
            "fake-github answers only release-monitor's {OPERATION} query"
        ));
    }
    let first = variables
        .get("first")
        .and_then(Value::as_u64)
        .ok_or_else(|| "Variable $first of type Int! was provided invalid value".to_string())?;
    if !(1..=100).contains(&first) {
        return Err(format!(
            "Requesting {first} records on the `releases` connection exceeds the `first` limit \
             of 100 records."
        ));
    }
    let mut repos = Vec::new();
    for i in 0.. {
        let (Some(owner), Some(name)) = (
            variables.get(&format!("o{i}")).and_then(Value::as_str),
            variables.get(&format!("n{i}")).and_then(Value::as_str),
        ) else {
            break;
        };
        let alias = format!("r{i}");
        let field = format!("{alias}: repository(owner: $o{i}, name: $n{i})");
        if !query.contains(&field) {
            return Err(format!("the query has no field `{field}`"));
        }
        repos.push((alias, owner.to_string(), name.to_string()));
    }
    if repos.is_empty() {
        return Err("the query names no repository (variables o0, n0, ...)".into());
    }
    Ok((usize::try_from(first).unwrap_or(100), repos))
}

/// One alias's `repository { releases { ... } }`, or the error type and message.
fn repository(
    state: &State,
    authed: bool,
    owner: &str,
    name: &str,
    first: usize,
) -> Result<Value, (&'static str, String)> {
    let not_found = || {
        (
            "NOT_FOUND",
            format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
        )
    };
    let repo = state.world.repo(owner, name).ok_or_else(not_found)?;
    if repo.private && !authed {
        return Err(not_found());
    }
    match repo.status {
        Some(404) => return Err(not_found()),
        Some(401 | 403) => {
            return Err((
                "FORBIDDEN",
                format!("Resource not accessible by integration ({owner}/{name})"),
            ));
        }
        Some(status) => {
            return Err((
                "INTERNAL",
                format!("Something went wrong while executing your query (fake status {status})"),
            ));
        }
        None => {}
    }
    let mut visible: Vec<&ReleaseW> = repo
        .releases
        .iter()
        .filter(|r| !r.draft || authed)
        .collect();
    // orderBy: {field: CREATED_AT, direction: DESC}; the sort is stable, so ties keep the
    // scenario's order (the REST listing's).
    visible.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let nodes: Vec<Value> = visible
        .iter()
        .take(first)
        .map(|rel| {
            json!({
                "databaseId": rel.id,
                "tagName": rel.tag,
                "name": rel.name,
                "isDraft": rel.draft,
                "isPrerelease": rel.prerelease,
                "publishedAt": rel.published_at.as_ref().map(iso),
                "createdAt": iso(&rel.created_at),
                "url": format!(
                    "https://github.com/{}/{}/releases/tag/{}",
                    repo.owner,
                    repo.name,
                    utf8_percent_encode(&rel.tag, crate::handler::TAG_PATH)
                ),
            })
        })
        .collect();
    Ok(json!({
        "releases": {
            "totalCount": visible.len(),
            "pageInfo": {"hasNextPage": visible.len() > first},
            "nodes": nodes,
        }
    }))
}

/// The `graphql` resource's rate-limit headers.
fn headers(state: &State) -> Vec<(String, String)> {
    resource_header_values(
        "graphql",
        state.world.rate_limit.limit,
        state.graphql_remaining,
        state.reset_at,
    )
}
