//! `release-monitor monitor` with a token: releases listed through GraphQL (50 repositories per
//! query), REST only for the releases it reports, and REST as the fallback.

use assert_cmd::Command;
use fake_github::{Origin, RecordedRequest};
use serde_json::Value;

const TOKEN: &str = "ghp_GRAPHQLTOKEN0123456789abcdefSECRET";

use crate::support::FakeSetup;

impl FakeSetup {
    /// Sets `github.graphql` in the config.
    fn graphql(self, on: bool) -> FakeSetup {
        let path = self.path("config.yaml");
        let text = std::fs::read_to_string(&path).expect("config");
        std::fs::write(
            &path,
            text.replacen("github:\n", &format!("github:\n  graphql: {on}\n"), 1),
        )
        .expect("write config");
        self
    }

    /// A version database holding `held` (`owner/repo`, version).
    fn hold(&self, held: &[(String, &str)]) {
        let repos: serde_json::Map<String, Value> = held
            .iter()
            .map(|(full, version)| {
                let (owner, repo) = full.split_once('/').expect("owner/repo");
                (
                    full.clone(),
                    serde_json::json!({
                        "owner": owner, "repo": repo, "current_version": version,
                        "last_updated": "2026-01-01T00:00:00.000000+00:00",
                        "download_history": []
                    }),
                )
            })
            .collect();
        let db = serde_json::json!({
            "metadata": {
                "created_at": "2026-01-01T00:00:00.000000+00:00",
                "version": "1.0",
                "description": "GitHub Release Monitor Version Database",
                "last_updated": "2026-01-01T00:00:00.000000+00:00"
            },
            "repositories": repos
        });
        std::fs::write(
            self.path("version_db.json"),
            serde_json::to_vec_pretty(&db).expect("JSON"),
        )
        .expect("write db");
    }

    fn api_requests(&self) -> Vec<RecordedRequest> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.origin == Origin::Api)
            .collect()
    }
}

fn graphql_posts(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/graphql")
        .collect()
}

fn rest_gets(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.method == "GET").collect()
}

fn report(cmd: &mut Command, code: i32) -> Value {
    let out = cmd.assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).expect("the report is JSON")
}

fn tags(report: &Value) -> Vec<String> {
    report["releases"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    format!(
                        "{}@{}",
                        r["repository"].as_str().unwrap_or_default(),
                        r["tag_name"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The report without its timestamp, for comparing two runs.
fn comparable(mut report: Value) -> Value {
    if let Some(obj) = report.as_object_mut() {
        obj.remove("timestamp");
    }
    report
}

/// `n` repositories `org/r{i}`, each with v1.1.0 (one asset) and v1.0.0.
fn many(n: usize) -> (String, Vec<String>) {
    let mut yaml = format!("token: {TOKEN}\nrepositories:\n");
    let mut names = Vec::new();
    for i in 0..n {
        yaml.push_str(&format!(
            "  - owner: org\n    repo: r{i}\n    releases:\n      - tag_name: v1.1.0\n        assets:\n          - {{name: r{i}-linux-amd64.tar.gz, content: \"r{i}\"}}\n      - {{tag_name: v1.0.0}}\n"
        ));
        names.push(format!("org/r{i}"));
    }
    (yaml, names)
}

const MIXED: &str = r#"
token: ghp_GRAPHQLTOKEN0123456789abcdefSECRET
repositories:
  - owner: acme
    repo: tool
    releases:
      - {tag_name: v2.0.0, draft: true}
      - {tag_name: v1.3.0-rc.1, prerelease: true}
      - tag_name: v1.2.0
        name: "Tool 1.2.0"
        published_at: "2024-01-15T10:00:00Z"
        body: "notes"
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "hello tool"}
          - {name: tool-old.zip, size: 64, digest: null}
          - {name: checksums.txt, content: "abc  tool-linux-amd64.tar.gz\n", label: ""}
      - {tag_name: v1.10.0-beta, prerelease: true}
      - {tag_name: v1.1.0}
  - owner: acme
    repo: secret
    private: true
    releases:
      - tag_name: s-2.0
        assets:
          - {name: secret.bin, size: 100}
  - owner: acme
    repo: pinned
    releases:
      - {tag_name: v4.0.0}
      - {tag_name: v3.0.0}
      - {tag_name: v2.0.0}
      - tag_name: v1.0.0
        assets:
          - {name: pinned.tar.gz, size: 10}
  - owner: acme
    repo: held
    releases:
      - {tag_name: "1.5", assets: [{name: held.bin, size: 5}]}
  - owner: acme
    repo: empty
    releases: []
"#;

const MIXED_REPOS: &[&str] = &[
    "acme/tool",
    "acme/secret",
    "acme/pinned",
    "acme/held",
    "acme/empty",
];

const MIXED_EXTRA: &str = "  repository_overrides:\n    acme/pinned: {target_version: \"1.0.0\"}\nsettings:\n  max_releases_per_repo: 3\n";

#[test]
fn a_token_lists_120_repositories_in_3_queries_and_uses_rest_only_for_new_releases() {
    let (scenario, names) = many(120);
    let repos: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = FakeSetup::new(&scenario, &repos, "");
    // The database holds v1.1.0 everywhere except three repositories.
    let new = ["org/r7", "org/r64", "org/r119"];
    let held: Vec<(String, &str)> = names
        .iter()
        .map(|n| {
            let v = if new.contains(&n.as_str()) {
                "v1.0.0"
            } else {
                "v1.1.0"
            };
            (n.clone(), v)
        })
        .collect();
    s.hold(&held);
    let out = s
        .monitor(Some(TOKEN))
        .arg("--explain")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(r["total_repositories_checked"], 120);
    assert_eq!(
        tags(&r),
        ["org/r7@v1.1.0", "org/r64@v1.1.0", "org/r119@v1.1.0"]
    );
    // The report's assets are REST's, with their digests.
    for rel in r["releases"].as_array().expect("releases") {
        let asset = &rel["assets"][0];
        assert!(
            asset["digest"]
                .as_str()
                .is_some_and(|d| d.starts_with("sha256:")),
            "{asset}"
        );
        assert!(asset.get("browser_download_url").is_some());
        assert!(rel["tarball_url"].as_str().is_some());
    }

    let requests = s.api_requests();
    let posts = graphql_posts(&requests);
    assert_eq!(posts.len(), 3, "120 repositories in batches of 50");
    let mut batch_sizes: Vec<usize> = posts
        .iter()
        .map(|p| {
            let body: Value = serde_json::from_str(&p.body).expect("JSON body");
            let vars = body["variables"].as_object().expect("variables");
            assert_eq!(body["variables"]["first"], 10);
            // Names travel as variables, never inside the query text.
            let query = body["query"].as_str().expect("query");
            assert!(!query.contains("org"), "{query}");
            vars.keys().filter(|k| k.starts_with('o')).count()
        })
        .collect();
    batch_sizes.sort_unstable();
    assert_eq!(batch_sizes, [20, 50, 50]);
    for p in &posts {
        assert_eq!(
            p.header("authorization").map(str::to_string),
            Some(format!("Bearer {TOKEN}"))
        );
        assert!(
            p.header("user-agent")
                .is_some_and(|u| u.starts_with("release-monitor/"))
        );
    }
    let mut gets: Vec<String> = rest_gets(&requests)
        .iter()
        .map(|g| g.path.clone())
        .collect();
    gets.sort();
    assert_eq!(gets.len(), 3, "{gets:?}");
    for (path, repo) in gets.iter().zip(["r119", "r64", "r7"]) {
        assert!(
            path.starts_with(&format!("/repos/org/{repo}/releases/")),
            "{path}"
        );
    }

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("API calls: 6 requests (3 GraphQL queries costing 3 points, 3 REST)"),
        "{stderr}"
    );
    assert!(stderr.contains("GraphQL 4997"), "{stderr}");
    assert!(stderr.contains("releases listed over GraphQL"), "{stderr}");
    assert!(
        stderr.contains("fetched v1.1.0 over REST for its assets"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
}

#[test]
fn graphql_and_rest_give_the_same_report() {
    let s = FakeSetup::new(MIXED, MIXED_REPOS, MIXED_EXTRA);
    s.hold(&[("acme/held".to_string(), "1.5")]);
    let via_graphql = report(&mut s.monitor(Some(TOKEN)), 0);
    let forced_graphql = report(s.monitor(Some(TOKEN)).arg("--force-check"), 0);
    let requests = s.api_requests();
    assert!(!graphql_posts(&requests).is_empty());
    assert!(
        !requests
            .iter()
            .any(|r| r.path.ends_with("/releases") && r.method == "GET"),
        "no REST listing on the GraphQL path"
    );

    let s = s.graphql(false);
    s.fake.clear_requests();
    let via_rest = report(&mut s.monitor(Some(TOKEN)), 0);
    let forced_rest = report(s.monitor(Some(TOKEN)).arg("--force-check"), 0);
    assert!(graphql_posts(&s.api_requests()).is_empty());

    assert_eq!(
        tags(&via_rest),
        [
            "acme/tool@v1.2.0",
            "acme/secret@s-2.0",
            "acme/pinned@v1.0.0"
        ]
    );
    assert_eq!(comparable(via_graphql), comparable(via_rest));
    assert_eq!(
        tags(&forced_rest),
        [
            "acme/tool@v1.2.0",
            "acme/secret@s-2.0",
            "acme/pinned@v1.0.0",
            "acme/held@1.5"
        ]
    );
    assert_eq!(comparable(forced_graphql), comparable(forced_rest));
}

#[test]
fn a_missing_repository_fails_alone_within_its_batch() {
    let s = FakeSetup::new(MIXED, &["acme/tool", "acme/ghost", "acme/held"], "");
    let r = report(&mut s.monitor(Some(TOKEN)), 1);
    assert_eq!(tags(&r), ["acme/tool@v1.2.0", "acme/held@1.5"]);
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(r["errors"][0]["repository"], "acme/ghost");
    assert_eq!(
        r["errors"][0]["error"],
        "repository not found, or private and the token cannot see it"
    );
    let requests = s.api_requests();
    assert_eq!(graphql_posts(&requests).len(), 1);
    // GraphQL's NOT_FOUND is final: no REST call for the ghost.
    assert!(!requests.iter().any(|r| r.path.contains("ghost")));
}

#[test]
fn a_repository_graphql_cannot_answer_is_checked_over_rest() {
    let scenario = format!("{MIXED}  - owner: acme\n    repo: locked\n    status: 403\n");
    let s = FakeSetup::new(&scenario, &["acme/tool", "acme/locked"], "");
    let r = report(&mut s.monitor(Some(TOKEN)), 1);
    assert_eq!(tags(&r), ["acme/tool@v1.2.0"]);
    assert_eq!(r["errors"][0]["repository"], "acme/locked");
    let requests = s.api_requests();
    assert!(
        requests.iter().any(|r| r.method == "GET"
            && r.path == "/repos/acme/locked/releases"
            && r.status == 403)
    );
}

#[test]
fn a_failing_graphql_endpoint_falls_back_to_rest() {
    let scenario = format!("{MIXED}faults:\n  - path: /graphql\n    responses: [502, 502, 502]\n");
    let s = FakeSetup::new(&scenario, MIXED_REPOS, MIXED_EXTRA);
    s.hold(&[("acme/held".to_string(), "1.5")]);
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(
        tags(&r),
        [
            "acme/tool@v1.2.0",
            "acme/secret@s-2.0",
            "acme/pinned@v1.0.0"
        ]
    );
    let requests = s.api_requests();
    let statuses: Vec<u16> = graphql_posts(&requests).iter().map(|p| p.status).collect();
    assert_eq!(statuses, [502, 502, 502], "retried, then given up");
    for repo in MIXED_REPOS {
        assert!(
            requests
                .iter()
                .any(|r| r.path == format!("/repos/{repo}/releases") && r.status == 200),
            "{repo} listed over REST"
        );
    }
}

#[test]
fn a_server_without_graphql_is_asked_once() {
    // Two batches, one at a time: the first query's 404 sends both batches to REST.
    let (scenario, names) = many(60);
    let scenario = format!("{scenario}faults:\n  - path: /graphql\n    responses: [404, 404]\n");
    let repos: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = FakeSetup::new(&scenario, &repos, "settings:\n  concurrency: 1\n");
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(r["new_releases_found"], 60);
    let requests = s.api_requests();
    assert_eq!(graphql_posts(&requests).len(), 1);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("/releases") && r.status == 200)
            .count(),
        60
    );
}

#[test]
fn more_releases_than_one_query_returns_are_listed_over_rest() {
    let mut releases = String::new();
    for i in 0..120 {
        // Newest first; the highest version is the oldest release, past GraphQL's 100.
        let v = if i == 119 { 999 } else { 119 - i };
        releases.push_str(&format!("      - {{tag_name: v1.{v}.0}}\n"));
    }
    let scenario = format!(
        "token: {TOKEN}\nrepositories:\n  - owner: big\n    repo: project\n    releases:\n{releases}  - owner: acme\n    repo: small\n    releases:\n      - {{tag_name: v0.1.0}}\n"
    );
    let s = FakeSetup::new(
        &scenario,
        &["big/project", "acme/small"],
        "settings:\n  max_releases_per_repo: 150\n",
    );
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&r), ["big/project@v1.999.0", "acme/small@v0.1.0"]);
    let requests = s.api_requests();
    let post = graphql_posts(&requests)[0];
    assert!(post.body.contains("\"first\":100"), "{}", post.body);
    let pages = requests
        .iter()
        .filter(|r| r.path == "/repos/big/project/releases")
        .count();
    assert_eq!(pages, 2, "the big repository is listed over REST");
    assert!(
        !requests
            .iter()
            .any(|r| r.path == "/repos/acme/small/releases"),
        "the small one is not"
    );
}

#[test]
fn without_a_token_rest_and_etags_are_used() {
    let s = FakeSetup::new(MIXED, &["acme/tool", "acme/held"], "");
    let first = report(&mut s.monitor(None), 0);
    assert!(graphql_posts(&s.api_requests()).is_empty());
    s.fake.clear_requests();
    let out = s
        .monitor(None)
        .arg("--explain")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let second: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(comparable(first), comparable(second));
    let requests = s.api_requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.status == 304 && r.method == "GET")
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "API calls: 2 requests (0 GraphQL queries costing 0 points, 2 REST), 2 answered 304 (free), 0 counted against the rate limit"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("releases listed over REST"), "{stderr}");
}

#[test]
fn a_reported_release_is_fetched_conditionally_on_the_next_run() {
    // Not downloaded, so still new next time: its REST fetch is a free 304 then.
    let s = FakeSetup::new(MIXED, &["acme/tool"], "");
    let first = report(&mut s.monitor(Some(TOKEN)), 0);
    s.fake.clear_requests();
    let second = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(comparable(first), comparable(second));
    let requests = s.api_requests();
    let gets = rest_gets(&requests);
    assert_eq!(gets.len(), 1);
    assert_eq!(gets[0].status, 304);
    assert!(gets[0].header("if-none-match").is_some());
}

#[test]
fn the_token_goes_to_the_api_origin_only() {
    let s = FakeSetup::new(MIXED, &["acme/tool", "acme/ghost"], "");
    let out = s
        .monitor(Some(TOKEN))
        .args(["--download", "-vvv", "--explain"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains("GRAPHQLTOKEN"), "the token leaked on {name}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("POST (GraphQL)"));
    let requests = s.fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.origin == Origin::Assets && r.path.starts_with("/download/")),
        "an asset was downloaded"
    );
    for r in &requests {
        let has_token = r.headers.iter().any(|(_, v)| v.contains("GRAPHQLTOKEN"));
        assert_eq!(
            has_token,
            r.origin == Origin::Api,
            "{:?} {}",
            r.origin,
            r.path
        );
    }
}
