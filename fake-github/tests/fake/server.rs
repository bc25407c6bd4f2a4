//! End-to-end tests of fake-github through a real HTTPS client (reqwest with rustls).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fake_github::{
    Asset, Digest, FakeGithub, Fault, FaultKind, Origin, Release, Repository, Scenario,
};
use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::support::{UA, client, client_with};

fn sha256_hex(data: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn json(resp: Response) -> Value {
    serde_json::from_slice(&resp.bytes().unwrap()).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// acme/tool with `n` releases v1.0.n-1 (newest first) .. v1.0.0, each with one asset.
fn tool_repo(n: usize) -> Repository {
    let mut repo = Repository::new("acme", "tool");
    for i in (0..n).rev() {
        repo = repo.with_release(
            Release::new(format!("v1.0.{i}")).with_asset(Asset::with_size(
                format!("tool-{i}-linux-amd64.tar.gz"),
                3000,
            )),
        );
    }
    repo
}

fn start(scenario: Scenario) -> FakeGithub {
    FakeGithub::start(scenario).unwrap()
}

#[test]
fn tls_is_trusted_through_the_test_ca_and_urls_have_the_promised_shape() {
    let server = start(Scenario::default().with_repository(tool_repo(1)));
    assert!(server.api_url().starts_with("https://127.0.0.1:"));
    assert!(!server.api_url().ends_with('/'));
    assert!(server.asset_origin().starts_with("https://localhost:"));
    let pem = std::fs::read_to_string(server.ca_cert_path()).unwrap();
    assert_eq!(pem, server.ca_cert_pem());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));

    // Only the fake CA.
    let resp = client(&server)
        .get(format!("{}/rate_limit", server.api_url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);

    // reqwest 0.13's platform verifier with the CA merged into the system roots also works,
    // on both hosts (127.0.0.1 and localhost).
    let ca = reqwest::Certificate::from_pem(server.ca_cert_pem().as_bytes()).unwrap();
    let merged = Client::builder()
        .tls_certs_merge([ca])
        .user_agent(UA)
        .build()
        .unwrap();
    let resp = merged
        .get(format!("{}/repos/acme/tool", server.api_url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = merged
        .get(format!("{}/nothing", server.asset_origin()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Without the CA the handshake fails.
    let untrusting = Client::builder().user_agent(UA).build().unwrap();
    let err = untrusting
        .get(format!("{}/rate_limit", server.api_url()))
        .send()
        .unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

#[test]
fn a_preconfigured_rustls_client_works_too() {
    let server = start(Scenario::default());
    let mut roots = rustls::RootCertStore::empty();
    let der = rustls::pki_types::CertificateDer::from_pem_slice(server.ca_cert_pem().as_bytes());
    roots.add(der.unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = Client::builder()
        .tls_backend_preconfigured(config)
        .user_agent(UA)
        .build()
        .unwrap();
    let resp = client
        .get(format!("{}/rate_limit", server.api_url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

use rustls::pki_types::pem::PemObject;

#[test]
fn listing_paginates_with_link_headers() {
    let server = start(Scenario::default().with_repository(tool_repo(7)));
    let client = client(&server);
    let api = server.api_url();
    let mut url = format!("{api}/repos/acme/tool/releases?per_page=3");
    let mut tags = Vec::new();
    let mut links = Vec::new();
    loop {
        let resp = client.get(&url).send().unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            header(&resp, "content-type").unwrap(),
            "application/json; charset=utf-8"
        );
        let link = header(&resp, "link").unwrap();
        links.push(link.clone());
        for release in json(resp).as_array().unwrap() {
            tags.push(release["tag_name"].as_str().unwrap().to_string());
        }
        let next = link
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_string());
        match next {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(
        tags,
        [
            "v1.0.6", "v1.0.5", "v1.0.4", "v1.0.3", "v1.0.2", "v1.0.1", "v1.0.0"
        ]
    );
    let base = format!("{api}/repos/acme/tool/releases?per_page=3");
    assert_eq!(
        links[0],
        format!("<{base}&page=2>; rel=\"next\", <{base}&page=3>; rel=\"last\"")
    );
    assert_eq!(
        links[1],
        format!(
            "<{base}&page=1>; rel=\"prev\", <{base}&page=3>; rel=\"next\", \
             <{base}&page=3>; rel=\"last\", <{base}&page=1>; rel=\"first\""
        )
    );
    assert_eq!(
        links[2],
        format!("<{base}&page=2>; rel=\"prev\", <{base}&page=1>; rel=\"first\"")
    );

    // Default page size 30: one page, no Link header. Past the end: an empty array.
    let resp = client
        .get(format!("{api}/repos/acme/tool/releases"))
        .send()
        .unwrap();
    assert!(header(&resp, "link").is_none());
    assert_eq!(json(resp).as_array().unwrap().len(), 7);
    let resp = client
        .get(format!("{api}/repos/acme/tool/releases?per_page=3&page=9"))
        .send()
        .unwrap();
    assert_eq!(json(resp), serde_json::json!([]));
}

#[test]
fn release_json_has_githubs_shape() {
    let server = start(Scenario::default().with_repository(tool_repo(2)));
    let resp = client(&server)
        .get(format!("{}/repos/acme/tool/releases", server.api_url()))
        .send()
        .unwrap();
    let releases = json(resp);
    let rel = &releases[0];
    let api = server.api_url();
    let id = rel["id"].as_u64().unwrap();
    assert_eq!(rel["url"], format!("{api}/repos/acme/tool/releases/{id}"));
    assert_eq!(
        rel["html_url"],
        "https://github.com/acme/tool/releases/tag/v1.0.1"
    );
    assert_eq!(
        rel["tarball_url"],
        format!("{api}/repos/acme/tool/tarball/v1.0.1")
    );
    assert_eq!(rel["name"], "v1.0.1");
    assert_eq!(rel["draft"], false);
    assert_eq!(rel["published_at"], "2024-01-02T00:00:00Z");
    assert_eq!(releases[1]["published_at"], "2024-01-01T00:00:00Z");
    for key in [
        "assets_url",
        "upload_url",
        "zipball_url",
        "node_id",
        "target_commitish",
        "created_at",
        "author",
        "body",
        "prerelease",
    ] {
        assert!(rel.get(key).is_some(), "missing {key}");
    }
    let asset = &rel["assets"][0];
    let asset_id = asset["id"].as_u64().unwrap();
    assert_eq!(
        asset["url"],
        format!("{api}/repos/acme/tool/releases/assets/{asset_id}")
    );
    assert_eq!(
        asset["browser_download_url"],
        format!(
            "{}/acme/tool/releases/download/v1.0.1/tool-1-linux-amd64.tar.gz",
            server.asset_origin()
        )
    );
    assert_eq!(asset["size"], 3000);
    assert_eq!(asset["state"], "uploaded");
    assert!(asset["label"].is_null());

    // Ids are stable across restarts.
    let again = start(Scenario::default().with_repository(tool_repo(2)));
    let resp = client(&again)
        .get(format!("{}/repos/acme/tool/releases", again.api_url()))
        .send()
        .unwrap();
    assert_eq!(json(resp)[0]["id"].as_u64().unwrap(), id);
}

#[test]
fn etag_gives_304_which_costs_no_rate_limit() {
    let server = start(Scenario::default().with_repository(tool_repo(2)));
    let client = client(&server);
    let url = format!("{}/repos/acme/tool/releases", server.api_url());
    let first = client.get(&url).send().unwrap();
    let etag = header(&first, "etag").unwrap();
    assert!(etag.starts_with("W/\""), "{etag}");
    let remaining: u32 = header(&first, "x-ratelimit-remaining")
        .unwrap()
        .parse()
        .unwrap();

    let second = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(second.status(), 304);
    assert_eq!(header(&second, "etag").unwrap(), etag);
    assert_eq!(
        header(&second, "x-ratelimit-remaining").unwrap(),
        remaining.to_string()
    );
    assert!(second.bytes().unwrap().is_empty());

    // A different ETag gets the full answer and costs one request.
    let third = client
        .get(&url)
        .header("If-None-Match", "W/\"something-else\"")
        .send()
        .unwrap();
    assert_eq!(third.status(), 200);
    assert_eq!(
        header(&third, "x-ratelimit-remaining").unwrap(),
        (remaining - 1).to_string()
    );
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 304, 200]);
}

#[test]
fn token_rules_bad_credentials_private_repos_and_drafts() {
    let mut private = Repository::new("acme", "secret").with_release(Release::new("v1"));
    private.private = true;
    let mut repo = tool_repo(2);
    repo.releases.insert(
        0,
        Release {
            draft: true,
            ..Release::new("v2.0.0")
        },
    );
    let server = start(
        Scenario::default()
            .with_token("test-token-123")
            .with_repository(repo)
            .with_repository(private),
    );
    let client = client(&server);
    let api = server.api_url();

    let resp = client
        .get(format!("{api}/repos/acme/tool/releases"))
        .bearer_auth("wrong")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(json(resp)["message"], "Bad credentials");

    // Without a token: public works and hides drafts; private is 404.
    let resp = client
        .get(format!("{api}/repos/acme/tool/releases"))
        .send()
        .unwrap();
    let tags: Vec<String> = json(resp)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tags, ["v1.0.1", "v1.0.0"]);
    let resp = client
        .get(format!("{api}/repos/acme/secret/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(json(resp)["message"], "Not Found");

    // With the token (either scheme): private visible, drafts listed.
    let resp = client
        .get(format!("{api}/repos/acme/secret/releases"))
        .header("Authorization", "token test-token-123")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client
        .get(format!("{api}/repos/acme/tool/releases"))
        .bearer_auth("test-token-123")
        .send()
        .unwrap();
    let releases = json(resp);
    assert_eq!(releases[0]["tag_name"], "v2.0.0");
    assert_eq!(releases[0]["draft"], true);
    assert!(releases[0]["published_at"].is_null());
}

#[test]
fn unknown_things_are_404_and_forced_statuses_apply() {
    let mut broken = Repository::new("acme", "broken");
    broken.status = Some(500);
    let server = start(
        Scenario::default()
            .with_repository(tool_repo(1))
            .with_repository(broken),
    );
    let client = client(&server);
    let api = server.api_url();
    for path in [
        "/repos/acme/nope/releases",
        "/repos/acme/tool/releases/tags/v9",
        "/repos/acme/tool/wat",
        "/wat",
    ] {
        let resp = client.get(format!("{api}{path}")).send().unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        assert!(header(&resp, "x-github-request-id").is_some());
        assert!(header(&resp, "x-ratelimit-limit").is_some());
        let body = json(resp);
        assert_eq!(body["message"], "Not Found");
        assert_eq!(body["documentation_url"], "https://docs.github.com/rest");
    }
    let resp = client
        .get(format!("{api}/repos/acme/broken/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 500);

    // Like GitHub, the API refuses requests without a User-Agent.
    let ca = reqwest::Certificate::from_pem(server.ca_cert_pem().as_bytes()).unwrap();
    let anonymous = Client::builder().tls_certs_only([ca]).build().unwrap();
    let resp = anonymous
        .get(format!("{api}/repos/acme/tool/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(
        json(resp)["message"]
            .as_str()
            .unwrap()
            .contains("User-Agent")
    );
}

#[test]
fn latest_tags_repo_and_rate_limit_endpoints() {
    let repo = Repository::new("acme", "tool")
        .with_release(Release {
            prerelease: true,
            ..Release::new("v2.0.0-rc1")
        })
        .with_release(Release::new("v1.1.0"))
        .with_release(Release::new("v1.0.0"));
    let server = start(Scenario::default().with_repository(repo));
    let client = client(&server);
    let api = server.api_url();
    let latest = json(
        client
            .get(format!("{api}/repos/acme/tool/releases/latest"))
            .send()
            .unwrap(),
    );
    assert_eq!(latest["tag_name"], "v1.1.0");
    let by_tag = json(
        client
            .get(format!("{api}/repos/acme/tool/releases/tags/v1.0.0"))
            .send()
            .unwrap(),
    );
    assert_eq!(by_tag["tag_name"], "v1.0.0");
    let by_id = json(
        client
            .get(format!("{api}/repos/ACME/Tool/releases/{}", by_tag["id"]))
            .send()
            .unwrap(),
    );
    assert_eq!(by_id["tag_name"], "v1.0.0");
    let repo = json(client.get(format!("{api}/repos/acme/tool")).send().unwrap());
    assert_eq!(repo["full_name"], "acme/tool");
    assert_eq!(repo["private"], false);

    let before = server.requests().len();
    let resp = client.get(format!("{api}/rate_limit")).send().unwrap();
    let remaining = header(&resp, "x-ratelimit-remaining").unwrap();
    let body = json(resp);
    assert_eq!(body["resources"]["core"]["limit"], 5000);
    assert_eq!(body["rate"]["remaining"].to_string(), remaining);
    // /rate_limit is free.
    let resp = client.get(format!("{api}/rate_limit")).send().unwrap();
    assert_eq!(header(&resp, "x-ratelimit-remaining").unwrap(), remaining);
    assert_eq!(server.requests().len(), before + 2);

    // Source archives redirect to the asset origin, which serves deterministic bytes.
    let resp = client
        .get(format!("{api}/repos/acme/tool/tarball/v1.0.0"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = header(&resp, "location").unwrap();
    assert!(location.starts_with(&server.asset_origin()), "{location}");
    let a = client.get(&location).send().unwrap().bytes().unwrap();
    let b = client.get(&location).send().unwrap().bytes().unwrap();
    assert_eq!(a.len(), 4096);
    assert_eq!(a, b);
}

fn asset_scenario() -> Scenario {
    let release = Release::new("v1.2.0")
        .with_asset(Asset::with_size("tool-linux-amd64.tar.gz", 100_000))
        .with_asset(Asset::with_content("notes.txt", "hello world\n"))
        .with_asset(Asset {
            digest: Digest::Omit,
            ..Asset::with_content("old.txt", "old")
        })
        .with_asset(Asset {
            digest: Digest::Literal(format!("sha256:{}", "0".repeat(64))),
            size_override: Some(10),
            ..Asset::with_content("liar.bin", "the real bytes")
        });
    Scenario::default()
        .with_token("tok")
        .with_repository(Repository::new("acme", "tool").with_release(release))
}

fn assets_of(server: &FakeGithub, client: &Client) -> Vec<Value> {
    let release = json(
        client
            .get(format!(
                "{}/repos/acme/tool/releases/latest",
                server.api_url()
            ))
            .send()
            .unwrap(),
    );
    release["assets"].as_array().unwrap().clone()
}

#[test]
fn asset_download_redirects_to_the_asset_origin_which_serves_exact_bytes_and_ranges() {
    let server = start(asset_scenario());
    let client = client(&server);
    let assets = assets_of(&server, &client);
    let asset = &assets[0];
    let size = asset["size"].as_u64().unwrap();
    assert_eq!(size, 100_000);

    let resp = client
        .get(asset["url"].as_str().unwrap())
        .header("Accept", "application/octet-stream")
        .bearer_auth("tok")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = header(&resp, "location").unwrap();
    assert!(
        location.starts_with(&format!("{}/download/", server.asset_origin())),
        "{location}"
    );

    // Without the Accept header: the asset's JSON.
    let meta = json(client.get(asset["url"].as_str().unwrap()).send().unwrap());
    assert_eq!(meta["name"], "tool-linux-amd64.tar.gz");

    let full = client.get(&location).send().unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(
        header(&full, "content-type").unwrap(),
        "application/octet-stream"
    );
    assert_eq!(header(&full, "content-length").unwrap(), "100000");
    assert_eq!(header(&full, "accept-ranges").unwrap(), "bytes");
    assert!(header(&full, "last-modified").is_some());
    let etag = header(&full, "etag").unwrap();
    let bytes = full.bytes().unwrap();
    assert_eq!(bytes.len(), 100_000);
    assert_eq!(
        asset["digest"].as_str().unwrap(),
        format!("sha256:{}", sha256_hex(&bytes))
    );

    // Range from an offset.
    let part = client
        .get(&location)
        .header("Range", "bytes=40000-")
        .send()
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        header(&part, "content-range").unwrap(),
        "bytes 40000-99999/100000"
    );
    assert_eq!(part.bytes().unwrap(), bytes.slice(40_000..));

    // If-Range with the right ETag: still partial; with a stale one: the whole body.
    let part = client
        .get(&location)
        .header("Range", "bytes=99990-")
        .header("If-Range", &etag)
        .send()
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().unwrap().len(), 10);
    let whole = client
        .get(&location)
        .header("Range", "bytes=99990-")
        .header("If-Range", "\"stale\"")
        .send()
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().unwrap(), bytes);

    // Beyond the end.
    let resp = client
        .get(&location)
        .header("Range", "bytes=100000-")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(header(&resp, "content-range").unwrap(), "bytes */100000");

    // browser_download_url serves the same bytes.
    let resp = client
        .get(asset["browser_download_url"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(resp.bytes().unwrap(), bytes);
}

#[test]
fn binary_content_given_as_base64_is_served_byte_for_byte() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let release = Release::new("v1.0.0").with_asset(Asset::with_bytes("blob.zip", &bytes));
    let server = start(
        Scenario::default()
            .with_token("tok")
            .with_repository(Repository::new("acme", "tool").with_release(release)),
    );
    let client = client_with(&server, Policy::limited(3));
    let asset = &assets_of(&server, &client)[0];
    assert_eq!(asset["size"], 1000);
    assert_eq!(
        asset["digest"],
        format!("sha256:{}", sha256_hex(&bytes)).as_str()
    );
    let served = client
        .get(asset["browser_download_url"].as_str().unwrap())
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(served.as_ref(), bytes.as_slice());
}

#[test]
fn a_redirect_following_client_does_not_carry_the_token_to_the_asset_host() {
    let server = start(asset_scenario());
    let following = client_with(&server, Policy::limited(5));
    let assets = assets_of(&server, &following);
    let url = assets[1]["url"].as_str().unwrap();
    server.clear_requests();
    let resp = following
        .get(url)
        .header("Accept", "application/octet-stream")
        .bearer_auth("tok")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().unwrap(), "hello world\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].origin, Origin::Api);
    assert_eq!(requests[0].header("authorization"), Some("Bearer tok"));
    assert_eq!(requests[0].status, 302);
    assert_eq!(requests[1].origin, Origin::Assets);
    assert_eq!(requests[1].header("authorization"), None);
    assert_eq!(requests[1].status, 200);
}

#[test]
fn digests_auto_omitted_and_lying() {
    let server = start(asset_scenario());
    let client = client(&server);
    let assets = assets_of(&server, &client);
    assert_eq!(
        assets[1]["digest"].as_str().unwrap(),
        format!("sha256:{}", sha256_hex(b"hello world\n"))
    );
    assert!(assets[2].get("digest").is_none());
    assert_eq!(
        assets[3]["digest"].as_str().unwrap(),
        format!("sha256:{}", "0".repeat(64))
    );
    assert_eq!(assets[3]["size"], 10);
}

#[test]
fn status_faults_then_normal_service() {
    let scenario = Scenario::default()
        .with_repository(tool_repo(1))
        .with_fault(Fault::api(
            "/repos/acme/tool/releases",
            FaultKind::Statuses(vec![502, 502]),
        ));
    let server = start(scenario);
    let client = client(&server);
    let url = format!("{}/repos/acme/tool/releases?per_page=5", server.api_url());
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let resp = client.get(&url).send().unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 502 {
            assert_eq!(json(resp)["message"], "Server Error");
        }
    }
    assert_eq!(statuses, [502, 502, 200]);
    let recorded: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(recorded, [502, 502, 200]);

    // set_scenario resets the counters.
    server.set_scenario(
        Scenario::default()
            .with_repository(tool_repo(1))
            .with_fault(Fault::api(
                "/repos/acme/tool/releases",
                FaultKind::Statuses(vec![503]),
            )),
    );
    assert_eq!(client.get(&url).send().unwrap().status(), 503);
    assert_eq!(client.get(&url).send().unwrap().status(), 200);
}

#[test]
fn rate_limit_faults_and_headers() {
    let yaml = r#"
repositories:
  - {owner: acme, repo: tool}
  - {owner: acme, repo: other}
  - {owner: acme, repo: x}
faults:
  - path: /repos/acme/other/releases
    rate_limited: {status: 429, reset_in: 2, times: 1}
  - path: /repos/acme/x/releases
    secondary_rate_limit: {retry_after: 1, times: 1}
rate_limit: {limit: 60, remaining: 3, reset_in: 3600}
"#;
    let server = start(Scenario::from_yaml(yaml).unwrap());
    let client = client(&server);
    let api = server.api_url();

    let resp = client
        .get(format!("{api}/repos/acme/other/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "x-ratelimit-remaining").unwrap(), "0");
    assert_eq!(header(&resp, "x-ratelimit-limit").unwrap(), "60");
    assert_eq!(header(&resp, "x-ratelimit-resource").unwrap(), "core");
    let reset: u64 = header(&resp, "x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > now() && reset <= now() + 3, "{reset}");
    assert!(
        json(resp)["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    // Once only.
    let resp = client
        .get(format!("{api}/repos/acme/other/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-ratelimit-remaining").unwrap(), "2");
    assert_eq!(header(&resp, "x-ratelimit-used").unwrap(), "58");

    let resp = client
        .get(format!("{api}/repos/acme/x/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(header(&resp, "retry-after").unwrap(), "1");
    assert!(
        json(resp)["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );

    // 3 at start: the 429 was free, the 200 and the 403 cost one each; one left.
    let resp = client
        .get(format!("{api}/repos/acme/tool/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-ratelimit-remaining").unwrap(), "0");
    // The budget is spent: the real limit kicks in (but /rate_limit stays free).
    let resp = client
        .get(format!("{api}/repos/acme/tool/releases"))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(header(&resp, "x-ratelimit-remaining").unwrap(), "0");
    let resp = client.get(format!("{api}/rate_limit")).send().unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn requests_are_recorded_with_headers() {
    let server = start(Scenario::default().with_repository(tool_repo(1)));
    let client = client(&server);
    client
        .get(format!(
            "{}/repos/acme/tool/releases?per_page=2",
            server.api_url()
        ))
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header("Accept", "application/vnd.github+json")
        .send()
        .unwrap();
    client
        .get(format!("{}/nope", server.asset_origin()))
        .send()
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.origin, Origin::Api);
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/repos/acme/tool/releases");
    assert_eq!(first.query.as_deref(), Some("per_page=2"));
    assert_eq!(first.header("user-agent"), Some(UA));
    assert_eq!(first.header("X-GitHub-Api-Version"), Some("2022-11-28"));
    assert_eq!(first.header("accept"), Some("application/vnd.github+json"));
    assert!(first.headers.iter().all(|(n, _)| *n == n.to_lowercase()));
    assert_eq!(first.status, 200);
    assert!(first.received_at <= requests[1].received_at);
    assert_eq!(requests[1].origin, Origin::Assets);
    assert_eq!(requests[1].status, 404);
    server.clear_requests();
    assert!(server.requests().is_empty());
}

#[test]
fn transfer_faults_truncate_stall_and_redirect() {
    let scenario = asset_scenario()
        .with_fault(Fault::assets("/download/", FaultKind::TruncateAfter(1000)).times(1))
        .with_fault(
            Fault::assets("/acme/tool/releases/download/", FaultKind::StallAfter(500)).times(1),
        )
        .with_fault(Fault {
            rule: fake_github::FaultMatch {
                origin: Origin::Api,
                path: fake_github::PathMatch::Prefix("/repos/acme/tool/releases/assets/".into()),
                method: None,
            },
            kind: FaultKind::RedirectTo("http://127.0.0.1:9/x".into()),
            times: Some(1),
            after: 0,
        });
    let server = start(scenario);
    let client = client(&server);
    let assets = assets_of(&server, &client);
    let asset = &assets[0];
    let url = asset["url"].as_str().unwrap();

    // Redirect fault: an arbitrary Location, once.
    let resp = client
        .get(url)
        .header("Accept", "application/octet-stream")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(header(&resp, "location").unwrap(), "http://127.0.0.1:9/x");
    let resp = client
        .get(url)
        .header("Accept", "application/octet-stream")
        .send()
        .unwrap();
    let location = header(&resp, "location").unwrap();
    assert!(location.starts_with(&server.asset_origin()));

    // Truncated: Content-Length says 100000, the body breaks off; the next try is whole.
    let resp = client.get(&location).send().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length").unwrap(), "100000");
    assert!(resp.bytes().is_err());
    let resp = client.get(&location).send().unwrap();
    assert_eq!(resp.bytes().unwrap().len(), 100_000);

    // Stalled: the client's timeout fires; the next try is whole.
    let impatient = Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(server.ca_cert_pem().as_bytes()).unwrap()])
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let browser_url = asset["browser_download_url"].as_str().unwrap();
    let started = std::time::Instant::now();
    let result = impatient.get(browser_url).send().and_then(|r| r.bytes());
    let err = result.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let resp = impatient.get(browser_url).send().unwrap();
    assert_eq!(resp.bytes().unwrap().len(), 100_000);

    let statuses: Vec<(Origin, u16)> = server
        .requests()
        .iter()
        .map(|r| (r.origin, r.status))
        .collect();
    assert_eq!(
        statuses[1..],
        [
            (Origin::Api, 302),
            (Origin::Api, 302),
            (Origin::Assets, 200),
            (Origin::Assets, 200),
            (Origin::Assets, 200),
            (Origin::Assets, 200),
        ]
    );
}

#[test]
fn set_scenario_shows_a_new_release() {
    let server = start(Scenario::default().with_repository(tool_repo(1)));
    let client = client(&server);
    let url = format!("{}/repos/acme/tool/releases/latest", server.api_url());
    let first = json(client.get(&url).send().unwrap());
    assert_eq!(first["tag_name"], "v1.0.0");
    server.set_scenario(Scenario::default().with_repository(tool_repo(2)));
    let second = json(client.get(&url).send().unwrap());
    assert_eq!(second["tag_name"], "v1.0.1");
    // The old release keeps its id and date.
    let old = json(
        client
            .get(format!(
                "{}/repos/acme/tool/releases/tags/v1.0.0",
                server.api_url()
            ))
            .send()
            .unwrap(),
    );
    assert_eq!(old["id"], first["id"]);
    assert_eq!(old["published_at"], first["published_at"]);
    assert!(
        server
            .try_set_scenario(Scenario {
                repositories: vec![tool_repo(1), tool_repo(1)],
                ..Scenario::default()
            })
            .is_err()
    );
}

#[test]
fn the_handle_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FakeGithub>();
    let server = Arc::new(start(Scenario::default().with_repository(tool_repo(1))));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                let client = client(&server);
                for _ in 0..5 {
                    let url = format!("{}/repos/acme/tool/releases", server.api_url());
                    assert_eq!(client.get(url).send().unwrap().status(), 200);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(server.requests().len(), 20);
}

#[test]
fn corrupt_at_flips_one_byte_and_keeps_length_and_headers() {
    let scenario = asset_scenario()
        .with_fault(Fault::assets("/download/", FaultKind::CorruptAt(70_000)).times(1));
    let server = start(scenario);
    let client = client_with(&server, Policy::limited(3));
    let assets = assets_of(&server, &client);
    let url = assets[0]["url"].as_str().unwrap();
    let get = || {
        client
            .get(url)
            .header("Accept", "application/octet-stream")
            .send()
            .unwrap()
    };
    let bad = get();
    assert_eq!(bad.status(), 200);
    let bad_etag = header(&bad, "etag");
    assert_eq!(header(&bad, "content-length").as_deref(), Some("100000"));
    let bad = bad.bytes().unwrap();
    let good = get();
    assert_eq!(header(&good, "etag"), bad_etag, "the headers do not change");
    let good = good.bytes().unwrap();
    let true_bytes = server
        .asset("acme", "tool", "v1.2.0", "tool-linux-amd64.tar.gz")
        .unwrap();
    assert_eq!(&good[..], &true_bytes.bytes[..]);
    assert_eq!(bad.len(), good.len());
    let differing: Vec<usize> = (0..good.len()).filter(|&i| bad[i] != good[i]).collect();
    assert_eq!(differing, [70_000]);
    assert_eq!(bad[70_000], !good[70_000]);
    assert_eq!(
        format!("sha256:{}", sha256_hex(&good)),
        assets[0]["digest"].as_str().unwrap()
    );
}

#[test]
fn reset_after_resets_the_connection_mid_body() {
    let scenario = asset_scenario()
        .with_fault(Fault::assets("/download/", FaultKind::ResetAfter(20_000)).times(1));
    let server = start(scenario);
    let client = client_with(&server, Policy::limited(3));
    let assets = assets_of(&server, &client);
    let url = assets[0]["url"].as_str().unwrap();
    let resp = client
        .get(url)
        .header("Accept", "application/octet-stream")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-length").as_deref(), Some("100000"));
    let err = resp.bytes().unwrap_err();
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err:?}"
    );
    // The next request gets a new connection and the whole body.
    let resp = client
        .get(url)
        .header("Accept", "application/octet-stream")
        .send()
        .unwrap();
    assert_eq!(resp.bytes().unwrap().len(), 100_000);
    let scenario = Scenario::from_yaml(
        "faults: [{path_prefix: /download/, origin: assets, reset_after: 5, corrupt_at: 1}]",
    );
    assert!(scenario.is_err(), "one action per fault");
}

#[test]
fn asset_transfers_can_be_held_at_a_byte_count_and_released() {
    let server = Arc::new(start(asset_scenario()));
    let client = client_with(&server, Policy::limited(3));
    let assets = assets_of(&server, &client);
    let url = assets[0]["url"].as_str().unwrap().to_string();
    assert_eq!(server.asset_bytes_sent(), 0);
    server.hold_assets_after(30_000);
    assert!(!server.wait_for_hold(Duration::from_millis(1)));
    let fetch = {
        let client = client.clone();
        std::thread::spawn(move || {
            client
                .get(url)
                .header("Accept", "application/octet-stream")
                .send()
                .and_then(|r| r.bytes())
                .map(|b| b.len())
        })
    };
    assert!(server.wait_for_hold(Duration::from_secs(10)));
    assert_eq!(server.asset_bytes_sent(), 30_000);
    assert!(!fetch.is_finished());
    server.release_assets();
    assert_eq!(fetch.join().unwrap().unwrap(), 100_000);
    assert_eq!(server.asset_bytes_sent(), 100_000);
}
