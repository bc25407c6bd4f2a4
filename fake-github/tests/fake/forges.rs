//! The GitLab and Gitea modes, through a real HTTPS client: the documented shapes the client
//! relies on (nested groups, link assets on the second host, upcoming releases, pagination
//! headers, `RateLimit-*`, private projects, Gitea's `limit` and attachments).

use fake_github::{FakeGithub, Scenario};
use reqwest::blocking::Response;
use serde_json::Value;

use crate::support::client;

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn gitlab() -> FakeGithub {
    let yaml = r#"
forge: gitlab
token: glpat-secret
rate_limit: {limit: 10}
repositories:
  - owner: group/sub
    repo: project
    releases:
      - tag_name: v3.0.0
        published_at: "2999-01-01T00:00:00Z"
      - tag_name: v2.0.0
        assets:
          - {name: tool.bin, content: "two"}
      - tag_name: v1.0.0
  - owner: team
    repo: secret
    private: true
    releases:
      - tag_name: v1.0.0
"#;
    FakeGithub::start(Scenario::from_yaml(yaml).unwrap()).unwrap()
}

#[test]
fn gitlab_lists_releases_of_nested_groups_with_pages_links_and_budget() {
    let server = gitlab();
    let c = client(&server);
    let url = format!(
        "{}/api/v4/projects/group%2Fsub%2Fproject/releases?per_page=2",
        server.api_url()
    );
    let resp = c.get(&url).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-next-page").as_deref(), Some("2"));
    assert_eq!(header(&resp, "x-total").as_deref(), Some("3"));
    assert!(header(&resp, "link").unwrap().contains("rel=\"next\""));
    assert_eq!(header(&resp, "ratelimit-limit").as_deref(), Some("10"));
    assert_eq!(header(&resp, "ratelimit-remaining").as_deref(), Some("9"));
    assert!(header(&resp, "x-ratelimit-remaining").is_none());
    let page: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    assert_eq!(page[0]["tag_name"], "v3.0.0");
    assert_eq!(page[0]["upcoming_release"], true);
    assert_eq!(page[1]["upcoming_release"], false);
    let link = &page[1]["assets"]["links"][0];
    assert_eq!(link["name"], "tool.bin");
    let direct = link["direct_asset_url"].as_str().unwrap();
    assert!(direct.starts_with(&server.asset_origin()), "{direct}");
    assert_eq!(c.get(direct).send().unwrap().text().unwrap(), "two");
    assert_eq!(page[1]["assets"]["sources"][1]["format"], "tar.gz");

    let resp = c.get(format!("{url}&page=2")).send().unwrap();
    assert_eq!(header(&resp, "x-next-page").as_deref(), Some(""));
    let page: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    assert_eq!(page[0]["tag_name"], "v1.0.0");
}

#[test]
fn gitlab_hides_private_projects_and_refuses_wrong_tokens() {
    let server = gitlab();
    let c = client(&server);
    let url = format!(
        "{}/api/v4/projects/team%2Fsecret/releases",
        server.api_url()
    );
    let resp = c.get(&url).send().unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        serde_json::from_slice::<Value>(&resp.bytes().unwrap()).unwrap()["message"],
        "404 Project Not Found"
    );
    let resp = c
        .get(&url)
        .header("PRIVATE-TOKEN", "glpat-secret")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = c.get(&url).bearer_auth("glpat-secret").send().unwrap();
    assert_eq!(resp.status(), 200);
    let resp = c.get(&url).bearer_auth("glpat-wrong").send().unwrap();
    assert_eq!(resp.status(), 401);
}

#[test]
fn gitlab_answers_429_with_retry_after_once_the_budget_is_spent() {
    let server = gitlab();
    let c = client(&server);
    let url = format!(
        "{}/api/v4/projects/group%2Fsub%2Fproject/releases",
        server.api_url()
    );
    let mut last = None;
    for _ in 0..12 {
        let resp = c.get(&url).send().unwrap();
        last = Some((resp.status().as_u16(), header(&resp, "retry-after")));
    }
    let (status, retry) = last.unwrap();
    assert_eq!(status, 429);
    assert!(retry.is_some());
}

#[test]
fn gitea_pages_by_limit_and_serves_attachments_from_its_own_host() {
    let yaml = r#"
forge: gitea
repositories:
  - owner: forgejo
    repo: runner
    releases:
      - tag_name: v2.0.0
        assets:
          - {name: runner, content: "r2"}
      - tag_name: v1.0.0
"#;
    let server = FakeGithub::start(Scenario::from_yaml(yaml).unwrap()).unwrap();
    let c = client(&server);
    let url = format!(
        "{}/api/v1/repos/forgejo/runner/releases?limit=1",
        server.api_url()
    );
    let resp = c.get(&url).send().unwrap();
    assert!(header(&resp, "link").unwrap().contains("rel=\"next\""));
    let page: Value = serde_json::from_slice(&resp.bytes().unwrap()).unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    let asset = &page[0]["assets"][0];
    assert!(asset.get("url").is_none() && asset.get("digest").is_none());
    let download = asset["browser_download_url"].as_str().unwrap();
    assert!(download.starts_with(&server.api_url()), "{download}");
    assert_eq!(c.get(download).send().unwrap().text().unwrap(), "r2");
}
