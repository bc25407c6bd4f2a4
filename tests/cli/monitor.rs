//! `release-monitor monitor` against the project's fake GitHub (HTTPS on 127.0.0.1, test CA).

use std::time::Duration;

use assert_cmd::Command;
use fake_github::{Origin, Scenario};
use predicates::prelude::*;
use serde_json::Value;

const TOKEN: &str = "ghp_TESTTOKEN0123456789abcdefSECRET";

use crate::support::FakeSetup;

/// A fake GitHub and a config: scenario, config additions, repositories.
fn setup(scenario: &str, config_extra: &str, repos: &[&str]) -> FakeSetup {
    FakeSetup::new(scenario, repos, config_extra)
}

impl FakeSetup {
    /// Keeps every call on REST (`github.graphql: false`): for the tests of REST behaviour
    /// (retries, rate limits, redirects, ETags) that need a token. `monitor_graphql`
    /// covers the GraphQL path.
    fn rest_only(self) -> FakeSetup {
        let path = self.path("config.yaml");
        let text = std::fs::read_to_string(&path).expect("config");
        std::fs::write(
            &path,
            text.replacen("github:\n", "github:\n  graphql: false\n", 1),
        )
        .expect("write config");
        self
    }
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
                .map(|r| r["tag_name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const BASIC: &str = r#"
token: ghp_TESTTOKEN0123456789abcdefSECRET
repositories:
  - owner: acme
    repo: tool
    releases:
      - {tag_name: v2.0.0, draft: true}
      - {tag_name: v1.3.0-rc.1, prerelease: true}
      - tag_name: v1.2.0
        published_at: "2024-01-15T10:00:00Z"
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "hello tool"}
      - {tag_name: v1.10.0-beta, prerelease: true}
      - {tag_name: v1.1.0}
  - owner: acme
    repo: other
    releases:
      - {tag_name: other-1.0}
"#;

#[test]
fn the_report_has_the_seed_format() {
    let s = setup(BASIC, "", &["acme/tool", "acme/other"]).rest_only();
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    for key in [
        "timestamp",
        "total_repositories_checked",
        "new_releases_found",
        "releases",
        "errors",
    ] {
        assert!(r.get(key).is_some(), "report has {key}");
    }
    assert_eq!(r["total_repositories_checked"], 2);
    assert_eq!(r["new_releases_found"], 2);
    let rel = &r["releases"][0];
    for key in [
        "repository",
        "owner",
        "repo",
        "tag_name",
        "name",
        "published_at",
        "tarball_url",
        "zipball_url",
        "html_url",
        "prerelease",
        "draft",
        "assets",
        "current_version",
    ] {
        assert!(rel.get(key).is_some(), "release has {key}");
    }
    assert_eq!(rel["repository"], "acme/tool");
    assert_eq!(rel["tag_name"], "v1.2.0");
    assert_eq!(rel["draft"], false);
    assert_eq!(rel["current_version"], Value::Null);
    let asset = &rel["assets"][0];
    assert_eq!(asset["name"], "tool-linux-amd64.tar.gz");
    assert!(
        asset["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{asset}"
    );
    assert!(asset.get("browser_download_url").is_some());
    // The timestamp is ISO 8601 with an offset.
    assert!(
        r["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with("+00:00"))
    );
    // Required request headers.
    let req = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/repos/acme/tool/releases")
        .expect("releases requested");
    assert!(
        req.header("user-agent")
            .is_some_and(|u| u.starts_with("release-monitor/"))
    );
    assert_eq!(req.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(req.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(
        req.header("authorization").map(str::to_string),
        Some(format!("Bearer {TOKEN}"))
    );
}

#[test]
fn yaml_output_and_output_file() {
    let s = setup(BASIC, "", &["acme/tool"]);
    s.monitor(Some(TOKEN))
        .args(["--format", "yaml", "--output"])
        .arg(s.path("out.yaml"))
        .assert()
        .success()
        .stdout("");
    let text = std::fs::read_to_string(s.path("out.yaml")).expect("report file");
    assert!(text.contains("tag_name: v1.2.0"), "{text}");
}

#[test]
fn prereleases_only_when_asked_and_drafts_never() {
    let s = setup(
        BASIC,
        "settings:\n  include_prereleases: true\n",
        &["acme/tool"],
    );
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    // v1.10.0-beta > v1.3.0-rc.1 > v1.2.0; the v2.0.0 draft is never taken.
    assert_eq!(tags(&r), ["v1.10.0-beta"]);
}

#[test]
fn target_version_pins_a_release() {
    let s = setup(
        BASIC,
        "  repository_overrides:\n    acme/tool: {target_version: \"1.1.0\"}\n",
        &["acme/tool"],
    );
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&r), ["v1.1.0"]);
}

#[test]
fn a_target_version_older_than_the_listed_releases_is_fetched_by_tag() {
    let s = setup(
        BASIC,
        "  repository_overrides:\n    acme/tool: {target_version: \"v1.1.0\"}\nsettings:\n  max_releases_per_repo: 2\n",
        &["acme/tool"],
    );
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&r), ["v1.1.0"]);
    assert!(
        s.fake
            .requests()
            .iter()
            .any(|r| r.path == "/repos/acme/tool/releases/tags/v1.1.0" && r.status == 200)
    );
}

#[test]
fn what_the_database_holds_is_not_new() {
    let s = setup(BASIC, "", &["acme/tool", "acme/other"]);
    Command::cargo_bin("release-monitor")
        .expect("binary")
        .current_dir(s.dir.path())
        .args(["db", "set", "acme/tool", "v1.2.0"])
        .assert()
        .success();
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&r), ["other-1.0"]);
    let forced = report(s.monitor(Some(TOKEN)).arg("--force-check"), 0);
    assert_eq!(tags(&forced), ["v1.2.0", "other-1.0"]);
    assert_eq!(forced["releases"][0]["current_version"], "v1.2.0");
}

#[test]
fn pagination_follows_link_across_three_pages() {
    let mut releases = String::new();
    for i in 0..250 {
        // Newest first; the highest version is on the last page.
        let v = if i == 249 { 999 } else { 249 - i };
        releases.push_str(&format!("      - {{tag_name: v1.{v}.0}}\n"));
    }
    let scenario =
        format!("repositories:\n  - owner: big\n    repo: project\n    releases:\n{releases}");
    let s = setup(
        &scenario,
        "settings:\n  max_releases_per_repo: 250\n",
        &["big/project"],
    );
    let r = report(&mut s.monitor(None), 0);
    assert_eq!(tags(&r), ["v1.999.0"]);
    let pages: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repos/big/project/releases")
        .collect();
    assert_eq!(pages.len(), 3, "three pages");
    assert!(pages.iter().all(|p| {
        p.query
            .as_deref()
            .is_some_and(|q| q.contains("per_page=100"))
    }));
}

#[test]
fn a_missing_repository_fails_alone() {
    let s = setup(BASIC, "", &["acme/tool", "acme/ghost", "acme/other"]);
    let r = report(&mut s.monitor(Some(TOKEN)), 1);
    assert_eq!(tags(&r), ["v1.2.0", "other-1.0"]);
    assert_eq!(r["total_repositories_checked"], 3);
    assert_eq!(r["errors"][0]["repository"], "acme/ghost");
    assert!(
        r["errors"][0]["error"].as_str().is_some_and(
            |e| e.contains("repository not found, or private and the token cannot see it")
        ),
        "{}",
        r["errors"]
    );
}

#[test]
fn bad_credentials_say_what_to_do() {
    let s = setup(BASIC, "", &["acme/tool"]);
    let out = s.monitor(Some("ghp_wrong_token_value")).assert().code(1);
    let stdout: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert!(
        stdout["errors"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("bad credentials (check GITHUB_TOKEN)"))
    );
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(!stderr.contains("ghp_wrong_token_value"), "{stderr}");
}

#[test]
fn a_burst_of_502s_is_retried_and_recovered() {
    let scenario =
        format!("{BASIC}faults:\n  - path: /repos/acme/tool/releases\n    responses: [502, 502]\n");
    let s = setup(&scenario, "", &["acme/tool"]).rest_only();
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&r), ["v1.2.0"]);
    let statuses: Vec<u16> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repos/acme/tool/releases")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [502, 502, 200]);
}

#[test]
fn a_primary_rate_limit_is_waited_out() {
    let scenario = format!(
        "{BASIC}faults:\n  - path: /repos/acme/tool/releases\n    rate_limited: {{status: 403, reset_in: 2, times: 1}}\n"
    );
    let s = setup(&scenario, "", &["acme/tool"]).rest_only();
    let r = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&r), ["v1.2.0"]);
    let hits: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repos/acme/tool/releases")
        .collect();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].status, 403);
    let waited = hits[1]
        .received_at
        .duration_since(hits[0].received_at)
        .unwrap_or_default();
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
}

#[test]
fn a_rate_limit_too_far_away_stops_with_the_reset_time() {
    let scenario = format!(
        "{BASIC}faults:\n  - path: /repos/acme/tool/releases\n    rate_limited: {{status: 429, reset_in: 3600, times: 5}}\n"
    );
    let s = setup(&scenario, "", &["acme/tool"]).rest_only();
    let r = report(&mut s.monitor(Some(TOKEN)), 1);
    let err = r["errors"][0]["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("rate limit") && err.contains("resets at"),
        "{err}"
    );
}

#[test]
fn a_second_run_uses_etags_and_gets_304s() {
    let s = setup(BASIC, "", &["acme/tool", "acme/other"]).rest_only();
    let first = report(&mut s.monitor(Some(TOKEN)), 0);
    s.fake.clear_requests();
    let second = report(&mut s.monitor(Some(TOKEN)), 0);
    assert_eq!(tags(&first), tags(&second));
    let api: Vec<_> = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Api)
        .collect();
    assert_eq!(api.len(), 2);
    for req in &api {
        assert!(req.header("if-none-match").is_some(), "{}", req.path);
        assert_eq!(req.status, 304, "{}", req.path);
    }
    let explain = s
        .monitor(Some(TOKEN))
        .arg("--explain")
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let explain = String::from_utf8_lossy(&explain);
    assert!(explain.contains("2 answered 304"), "{explain}");
}

#[test]
fn the_token_never_appears_in_output_even_at_trace_level() {
    let s = setup(BASIC, "", &["acme/tool", "acme/ghost"]);
    let out = s
        .monitor(Some(TOKEN))
        .args(["-vvv", "--explain"])
        .assert()
        .code(1);
    let o = out.get_output();
    for (name, stream) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(TOKEN), "the token leaked on {name}");
        assert!(
            !text.contains("TESTTOKEN"),
            "part of the token leaked on {name}"
        );
    }
    // The trace level really was on (so the check above means something).
    assert!(String::from_utf8_lossy(&o.stderr).contains("GET"));
}

#[test]
fn plain_http_to_a_remote_api_is_refused() {
    let s = setup(BASIC, "", &["acme/tool"]);
    s.monitor(Some(TOKEN))
        .env("GITHUB_API_URL", "http://github.example.com/api/v3")
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("GITHUB_API_URL").and(predicate::str::contains("https")));
    // No request left the machine's fake either.
    assert!(s.fake.requests().is_empty());
}

#[test]
fn a_damaged_version_database_stops_the_run() {
    let s = setup(BASIC, "", &["acme/tool"]);
    std::fs::write(s.path("version_db.json"), b"{not json").expect("write");
    s.monitor(Some(TOKEN))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("version_db.json:1:"));
    assert_eq!(
        std::fs::read(s.path("version_db.json")).expect("read"),
        b"{not json"
    );
}

#[test]
fn the_token_is_never_sent_to_another_host_after_a_redirect() {
    let s = setup(BASIC, "", &["acme/tool"]).rest_only();
    // GitHub redirects renamed repositories; here the listing moves to the second origin.
    let moved = format!(
        "{BASIC}faults:\n  - path: /repos/acme/tool/releases\n    redirect_to: \"{}/repos/acme/tool/releases\"\n",
        s.fake.asset_origin()
    );
    s.fake
        .set_scenario(Scenario::from_yaml(&moved).expect("scenario parses"));
    s.monitor(Some(TOKEN)).assert().code(1);
    let requests = s.fake.requests();
    let api = requests
        .iter()
        .find(|r| r.origin == Origin::Api)
        .expect("the API was asked");
    assert!(
        api.header("authorization").is_some(),
        "the API gets the token"
    );
    let other: Vec<_> = requests
        .iter()
        .filter(|r| r.origin == Origin::Assets)
        .collect();
    assert!(!other.is_empty(), "the redirect was followed");
    for r in other {
        assert_eq!(r.header("authorization"), None, "no token to {}", r.path);
        assert!(
            r.headers.iter().all(|(_, v)| !v.contains("TESTTOKEN")),
            "no token in any header to {}",
            r.path
        );
    }
}

#[test]
fn a_redirect_to_plain_http_is_refused() {
    let scenario = format!(
        "{BASIC}faults:\n  - path: /repos/acme/tool/releases\n    redirect_to: \"http://downloads.example.com/releases\"\n"
    );
    let s = setup(&scenario, "", &["acme/tool", "acme/other"]).rest_only();
    let r = report(&mut s.monitor(Some(TOKEN)), 1);
    assert_eq!(tags(&r), ["other-1.0"]);
    let err = r["errors"][0]["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("refusing") && err.contains("http://downloads.example.com"),
        "{err}"
    );
    // Refused, not retried.
    let hits = s
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/repos/acme/tool/releases")
        .count();
    assert_eq!(hits, 1);
}
