//! `POST /graphql` (release-monitor's batched releases query) and the latency option.

use std::time::{Duration, Instant};

use fake_github::{FakeGithub, Fault, FaultKind, Options, Release, Repository, Scenario};
use serde_json::{Value, json};

use crate::support::client;

const TOKEN: &str = "test-token-123";

fn scenario() -> Scenario {
    Scenario::default()
        .with_token(TOKEN)
        .with_repository(
            Repository::new("acme", "tool")
                .with_release(Release {
                    draft: true,
                    ..Release::new("v2.0.0")
                })
                .with_release(Release::new("v1.1.0"))
                .with_release(Release::new("v1.0.0")),
        )
        .with_repository(Repository::new("acme", "other").with_release(Release::new("o-1")))
}

/// Release-monitor's query shape for `repos`.
fn query(repos: &[(&str, &str)], first: u64) -> Value {
    let mut vars = serde_json::Map::new();
    vars.insert("first".into(), json!(first));
    let mut fields = String::new();
    for (i, (o, n)) in repos.iter().enumerate() {
        vars.insert(format!("o{i}"), json!(o));
        vars.insert(format!("n{i}"), json!(n));
        fields.push_str(&format!(
            "r{i}: repository(owner: $o{i}, name: $n{i}) {{ ...rel }}\n"
        ));
    }
    json!({
        "query": format!("query ReleaseMonitorReleases {{ rateLimit {{ cost remaining resetAt limit }} {fields} }}"),
        "variables": vars,
    })
}

fn post(server: &FakeGithub, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = client(server)
        .post(format!("{}/graphql", server.api_url()))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&resp.bytes().unwrap()).unwrap(),
    )
}

#[test]
fn the_batched_query_answers_each_alias_with_releases_newest_first() {
    let server = FakeGithub::start(scenario()).unwrap();
    let (status, v) = post(
        &server,
        Some(TOKEN),
        &query(&[("acme", "tool"), ("ACME", "other")], 10),
    );
    assert_eq!(status, 200);
    assert!(v.get("errors").is_none(), "{v}");
    let tool = &v["data"]["r0"]["releases"];
    let tags: Vec<&str> = tool["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["tagName"].as_str().unwrap())
        .collect();
    // The token sees the draft, as REST's listing does.
    assert_eq!(tags, ["v2.0.0", "v1.1.0", "v1.0.0"]);
    assert_eq!(tool["nodes"][0]["isDraft"], true);
    assert_eq!(tool["nodes"][0]["publishedAt"], Value::Null);
    assert!(tool["nodes"][1]["databaseId"].as_u64().is_some());
    assert_eq!(tool["pageInfo"]["hasNextPage"], false);
    assert_eq!(v["data"]["r1"]["releases"]["nodes"][0]["tagName"], "o-1");
    assert_eq!(v["data"]["rateLimit"]["cost"], 1);
    assert_eq!(v["data"]["rateLimit"]["remaining"], 4999);
    // The GraphQL budget is its own resource; REST's is untouched.
    let req = server.requests().pop().unwrap();
    assert!(req.body.contains("ReleaseMonitorReleases"));
    let rest = client(&server)
        .get(format!("{}/rate_limit", server.api_url()))
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(
        rest.headers()["x-ratelimit-remaining"].to_str().unwrap(),
        "5000"
    );
}

#[test]
fn first_limits_the_nodes_and_says_there_are_more() {
    let server = FakeGithub::start(scenario()).unwrap();
    let (_, v) = post(&server, Some(TOKEN), &query(&[("acme", "tool")], 1));
    let rel = &v["data"]["r0"]["releases"];
    assert_eq!(rel["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(rel["pageInfo"]["hasNextPage"], true);
    let (_, v) = post(&server, Some(TOKEN), &query(&[("acme", "tool")], 101));
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("100"));
}

#[test]
fn a_missing_repository_is_a_not_found_error_on_its_alias_only() {
    let server = FakeGithub::start(scenario()).unwrap();
    let (status, v) = post(
        &server,
        Some(TOKEN),
        &query(&[("acme", "tool"), ("acme", "ghost")], 5),
    );
    assert_eq!(status, 200);
    assert_eq!(v["data"]["r1"], Value::Null);
    assert!(v["data"]["r0"]["releases"]["nodes"].is_array());
    assert_eq!(v["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(v["errors"][0]["path"], json!(["r1"]));
}

#[test]
fn no_token_is_401_and_a_foreign_query_is_an_error() {
    let server = FakeGithub::start(scenario()).unwrap();
    let (status, _) = post(&server, None, &query(&[("acme", "tool")], 5));
    assert_eq!(status, 401);
    let (status, _) = post(&server, Some("wrong"), &query(&[("acme", "tool")], 5));
    assert_eq!(status, 401);
    let (status, v) = post(
        &server,
        Some(TOKEN),
        &json!({"query": "{ viewer { login } }"}),
    );
    assert_eq!(status, 200);
    assert!(v["errors"][0]["message"].is_string(), "{v}");
    // Variables that do not match the query's aliases are refused, not guessed.
    let mut q = query(&[("acme", "tool")], 5);
    q["variables"]["o1"] = json!("acme");
    q["variables"]["n1"] = json!("other");
    let (_, v) = post(&server, Some(TOKEN), &q);
    assert!(
        v["errors"][0]["message"].as_str().unwrap().contains("r1"),
        "{v}"
    );
}

#[test]
fn faults_apply_to_graphql_too() {
    let server = FakeGithub::start(
        scenario().with_fault(Fault::api("/graphql", FaultKind::Statuses(vec![502]))),
    )
    .unwrap();
    let (status, _) = post(&server, Some(TOKEN), &query(&[("acme", "tool")], 5));
    assert_eq!(status, 502);
    let (status, _) = post(&server, Some(TOKEN), &query(&[("acme", "tool")], 5));
    assert_eq!(status, 200);
}

#[test]
fn latency_delays_every_response_but_not_in_series() {
    let server = FakeGithub::start_with(
        scenario(),
        Options {
            latency: Duration::from_millis(300),
            ..Options::default()
        },
    )
    .unwrap();
    let url = format!("{}/rate_limit", server.api_url());
    let c = client(&server);
    let started = Instant::now();
    c.get(&url).send().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Four requests at once take about one latency, not four.
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| c.get(&url).send().unwrap());
        }
    });
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1200), "{took:?}");
}
