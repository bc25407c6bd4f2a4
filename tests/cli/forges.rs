//! Other forges, end to end: the real binary against the fake in its GitLab and Gitea modes.
//! The same monitor → download → verify → record path runs for each; a mixed configuration
//! (GitHub, GitLab, Gitea, a tag-only project, and a forge that is down) gives one report and
//! one database; each forge's token goes to its own API only, never to an asset host or
//! another forge.

use std::path::Path;

use fake_github::{FakeGithub, Origin, Scenario};
use serde_json::Value;

use crate::support::{FakeSetup, sha256_hex};

const GITLAB_TOKEN: &str = "glpat-FakeGitlabToken1234";
const GITEA_TOKEN: &str = "gitea0fake0token0abcdef";
const GITHUB_TOKEN: &str = "ghp_FakeGithubTokenForForges";

const CLI_BYTES: &str = "the GitLab-hosted cli, version 1.0.0";

/// A GitLab with a private project in a nested group (one upcoming release, one released,
/// its asset a link on the asset host, listed with a SHA256SUMS), and a tag-only project.
fn gitlab() -> FakeGithub {
    let sums = format!("{}  cli-linux.tar.gz\n", sha256_hex(CLI_BYTES.as_bytes()));
    let yaml = format!(
        r#"
forge: gitlab
token: {GITLAB_TOKEN}
repositories:
  - owner: platform/tools
    repo: cli
    private: true
    releases:
      - tag_name: v1.1.0
        published_at: "2999-01-01T00:00:00Z"
        assets:
          - {{name: cli-linux.tar.gz, content: "not released yet"}}
      - tag_name: v1.0.0
        assets:
          - {{name: cli-linux.tar.gz, content: "{CLI_BYTES}"}}
          - {{name: SHA256SUMS, content: "{sums}"}}
  - owner: c-projects
    repo: libfoo
    tags:
      - {{name: v2.3.0}}
      - {{name: v2.10.1}}
      - {{name: v2.4.0}}
"#
    );
    FakeGithub::start(Scenario::from_yaml(&yaml).expect("scenario")).expect("fake GitLab")
}

/// A Gitea (Forgejo) with one release.
fn gitea() -> FakeGithub {
    let yaml = format!(
        r#"
forge: gitea
token: {GITEA_TOKEN}
repositories:
  - owner: forgejo
    repo: runner
    releases:
      - tag_name: v9.0.0
        assets:
          - {{name: runner-linux-amd64, content: "the Forgejo runner"}}
  - owner: forgejo
    repo: tagged
    tags:
      - {{name: v0.9.0}}
      - {{name: v0.10.0}}
"#
    );
    FakeGithub::start(Scenario::from_yaml(&yaml).expect("scenario")).expect("fake Gitea")
}

/// The `host:port` of a fake's API.
fn host(fake: &FakeGithub) -> String {
    fake.api_url().trim_start_matches("https://").to_string()
}

/// `forges:` lines for a fake of `kind`, its token in `token_env`.
fn forge_entry(fake: &FakeGithub, kind: &str, api_path: &str, token_env: &str) -> String {
    format!(
        "  \"{}\": {{type: {kind}, api_url: \"{}{api_path}\", token_env: {token_env}, ca_cert: \"{}\"}}\n",
        host(fake),
        fake.api_url(),
        fake.ca_cert_path().display()
    )
}

/// Replaces the setup's `repositories:` with `repos` and appends `forges`.
fn configure(s: &FakeSetup, repos: &[String], forges: &str) {
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    let rest = &text[text.find("github:").expect("github section")..];
    let repos: String = repos.iter().map(|r| format!("  - {r}\n")).collect();
    std::fs::write(
        &path,
        format!("repositories:\n{repos}{rest}forges:\n{forges}"),
    )
    .expect("write config");
}

/// Runs `monitor --download` with `env`; returns (exit code, report, stderr).
fn run(s: &FakeSetup, env: &[(&str, &str)]) -> (i32, Value, String) {
    s.monitor_download(env, &[GITLAB_TOKEN, GITEA_TOKEN, GITHUB_TOKEN])
}

fn db(s: &FakeSetup) -> Value {
    serde_json::from_str(&std::fs::read_to_string(s.path("version_db.json")).expect("db"))
        .expect("db is JSON")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every request `fake` received carries `expected` as its credential on the API origin and
/// none on the asset origin.
fn assert_tokens(fake: &FakeGithub, header: &str, expected: &str) {
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let auth = r
            .header("authorization")
            .or_else(|| r.header("private-token"));
        match r.origin {
            Origin::Assets => assert_eq!(auth, None, "a credential went to the asset host: {r:?}"),
            Origin::Api if r.path.starts_with("/api/") => {
                assert_eq!(r.header(header), Some(expected), "{} {}", r.method, r.path)
            }
            Origin::Api => {}
        }
    }
}

#[test]
fn a_gitlab_project_in_a_nested_group_is_mirrored_from_its_links() {
    let s = FakeSetup::around(gitlab(), &[], "");
    let gl = host(&s.fake);
    configure(
        &s,
        &[format!("{{url: \"https://{gl}/platform/tools/cli\"}}")],
        &forge_entry(&s.fake, "gitlab", "/api/v4", "GITLAB_TEST_TOKEN"),
    );
    // Without the token the private project is not found, and the run says so.
    let (code, report, _) = run(&s, &[]);
    assert_ne!(code, 0);
    let key = format!("{gl}/platform/tools/cli");
    assert_eq!(report["errors"][0]["repository"], key.as_str(), "{report}");
    assert!(
        report["errors"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not found")),
        "{report}"
    );

    s.fake.clear_requests();
    let (code, report, stderr) = run(&s, &[("GITLAB_TEST_TOKEN", GITLAB_TOKEN)]);
    assert_eq!(code, 0, "{stderr}");
    let release = &report["releases"][0];
    // The upcoming v1.1.0 is not a release yet.
    assert_eq!(release["tag_name"], "v1.0.0", "{report}");
    assert_eq!(release["repository"], key.as_str());
    assert_eq!(release["owner"], "platform/tools");
    // The link's size was learnt from its host; the bytes match SHA256SUMS.
    let asset = release["assets"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == "cli-linux.tar.gz"))
        .expect("asset");
    assert_eq!(asset["size"], CLI_BYTES.len());
    let folder = s
        .path("downloads")
        .join(format!("{gl}%2Fplatform%2Ftools%2Fcli"))
        .join("v1.0.0");
    assert_eq!(read(&folder.join("cli-linux.tar.gz")), CLI_BYTES);
    let files = &report["download_results"]["downloaded"][0]["files"];
    let file = files
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "cli-linux.tar.gz"))
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(file["verified_by"], "checksum-file", "{report}");
    // Recorded under host/path.
    assert_eq!(
        db(&s)["repositories"][key.as_str()]["current_version"],
        "v1.0.0"
    );
    // The token went to the GitLab API only, as a bearer token; never to the link's host.
    assert_tokens(&s.fake, "authorization", &format!("Bearer {GITLAB_TOKEN}"));
    let requests = s.fake.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/api/v4/projects/platform%2Ftools%2Fcli/releases"),
        "{requests:?}"
    );
    // Nothing new on the next run.
    let (code, report, _) = run(&s, &[("GITLAB_TEST_TOKEN", GITLAB_TOKEN)]);
    assert_eq!((code, &report["releases"]), (0, &serde_json::json!([])));
}

#[test]
fn a_gitea_release_is_mirrored_with_its_token_on_its_own_host_only() {
    let s = FakeSetup::around(gitea(), &[], "");
    let gt = host(&s.fake);
    configure(
        &s,
        &[format!(
            "{{owner: forgejo, repo: runner, forge: forgejo, host: \"{gt}\"}}"
        )],
        &forge_entry(&s.fake, "gitea", "/api/v1", "GITEA_TEST_TOKEN"),
    );
    let (code, report, stderr) = run(&s, &[("GITEA_TEST_TOKEN", GITEA_TOKEN)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["releases"][0]["tag_name"], "v9.0.0", "{report}");
    let key = format!("{gt}/forgejo/runner");
    let stored = s
        .path("downloads")
        .join(format!("{gt}%2Fforgejo%2Frunner"))
        .join("v9.0.0/runner-linux-amd64");
    assert_eq!(read(&stored), "the Forgejo runner");
    assert_eq!(
        db(&s)["repositories"][key.as_str()]["current_version"],
        "v9.0.0"
    );
    assert_tokens(&s.fake, "authorization", &format!("token {GITEA_TOKEN}"));
    // The attachment came from the forge's own host (Gitea has no asset API).
    assert!(
        s.fake
            .requests()
            .iter()
            .any(|r| r.path == "/forgejo/runner/releases/download/v9.0.0/runner-linux-amd64"),
        "{:?}",
        s.fake.requests()
    );
}

#[test]
fn a_mixed_configuration_gives_one_report_and_one_database_and_a_down_forge_fails_alone() {
    let github = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v3.0.0
        assets:
          - {name: tool.bin, content: "acme tool"}
  - owner: nginx
    repo: nginx
    tags:
      - {name: release-1.27.1}
"#;
    let s = FakeSetup::new(github, &[], "");
    let (gl, gt) = (gitlab(), gitea());
    let (gl_host, gt_host) = (host(&gl), host(&gt));
    configure(
        &s,
        &[
            "{owner: acme, repo: tool}".to_string(),
            "{owner: nginx, repo: nginx, source: tags}".to_string(),
            format!("{{url: \"https://{gl_host}/platform/tools/cli\"}}"),
            format!("{{url: \"https://{gl_host}/c-projects/libfoo\", source: tags}}"),
            format!("{{owner: forgejo, repo: runner, forge: gitea, host: \"{gt_host}\"}}"),
            format!("{{url: \"https://{gt_host}/forgejo/tagged\", source: tags}}"),
            // Nothing listens on port 1: this forge is down.
            "{url: \"https://127.0.0.1:1/down/project\", forge: gitlab}".to_string(),
        ],
        &format!(
            "{}{}",
            forge_entry(&gl, "gitlab", "/api/v4", "GITLAB_TEST_TOKEN"),
            forge_entry(&gt, "gitea", "/api/v1", "GITEA_TEST_TOKEN")
        ),
    );
    let (code, report, stderr) = run(
        &s,
        &[
            ("GITHUB_TOKEN", GITHUB_TOKEN),
            ("GITLAB_TEST_TOKEN", GITLAB_TOKEN),
            ("GITEA_TEST_TOKEN", GITEA_TOKEN),
        ],
    );
    assert_ne!(code, 0, "one repository failed: {stderr}");
    let tags: Vec<(String, String)> = report["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap_or_default().to_string(),
                r["tag_name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("acme/tool".to_string(), "v3.0.0".to_string()),
            ("nginx/nginx".to_string(), "release-1.27.1".to_string()),
            (
                format!("{gl_host}/platform/tools/cli"),
                "v1.0.0".to_string()
            ),
            (
                format!("{gl_host}/c-projects/libfoo"),
                "v2.10.1".to_string()
            ),
            (format!("{gt_host}/forgejo/runner"), "v9.0.0".to_string()),
            (format!("{gt_host}/forgejo/tagged"), "v0.10.0".to_string()),
        ],
        "{report}"
    );
    let errors = report["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["repository"], "127.0.0.1:1/down/project");
    // One database holds every forge's repositories; the failed one is not in it.
    let db = db(&s);
    let keys: Vec<&String> = db["repositories"]
        .as_object()
        .expect("repositories")
        .keys()
        .collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    assert_eq!(
        db["repositories"][format!("{gl_host}/c-projects/libfoo").as_str()]["current_version"],
        "v2.10.1"
    );
    // The GitLab tag's source archive came through the API's archive endpoint.
    let archive_dir = s
        .path("downloads")
        .join(format!("{gl_host}%2Fc-projects%2Flibfoo"))
        .join("v2.10.1");
    assert!(
        std::fs::read_dir(&archive_dir)
            .map(|d| d.count() > 0)
            .unwrap_or(false),
        "{}",
        archive_dir.display()
    );
    // Each token went to its own API only.
    assert_tokens(&gl, "authorization", &format!("Bearer {GITLAB_TOKEN}"));
    assert_tokens(&gt, "authorization", &format!("token {GITEA_TOKEN}"));
    for r in s.fake.requests() {
        let auth = r.header("authorization").unwrap_or_default();
        assert!(
            !auth.contains(GITLAB_TOKEN) && !auth.contains(GITEA_TOKEN),
            "another forge's token reached GitHub: {r:?}"
        );
        if r.origin == Origin::Assets {
            assert_eq!(r.header("authorization"), None, "{r:?}");
        }
    }
}

#[test]
fn forge_config_mistakes_exit_2_naming_the_key() {
    let s = FakeSetup::around(gitlab(), &[], "");
    for (entry, says) in [
        ("{owner: a, repo: b, forge: sourcehut}", "forge"),
        (
            "{url: \"https://git.unknown.example/a/b\"}",
            "matches no entry of `forges:`",
        ),
        (
            "{owner: a, repo: b, minimum_release_age: soon}",
            "minimum_release_age",
        ),
    ] {
        configure(&s, &[entry.to_string()], "");
        let out = s
            .command(None)
            .args(["config", "check"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{entry}: {stderr}");
        assert!(stderr.contains("config.yaml:2:"), "{entry}: {stderr}");
        assert!(stderr.contains(says), "{entry}: {stderr}");
    }
}

#[test]
fn retention_keeps_the_newest_release_on_gitlab_and_gitea() {
    retention_on("gitlab", "/api/v4", "group/sub");
    retention_on("gitea", "/api/v1", "team");
}

/// Two runs on a `kind` forge whose project is `{owner}/tool`: the second, with a newer release,
/// deletes the older release's folder beyond `keep_versions: 1` and records it.
fn retention_on(kind: &str, api_path: &str, owner: &str) {
    let release = |tag: &str, content: &str| {
        format!(
            "      - tag_name: {tag}\n        assets:\n          - {{name: tool.bin, content: \"{content}\"}}\n"
        )
    };
    let scenario = |releases: &str| {
        Scenario::from_yaml(&format!(
            "forge: {kind}\nrepositories:\n  - owner: {owner}\n    repo: tool\n    releases:\n{releases}"
        ))
        .expect("scenario")
    };
    let fake = FakeGithub::start(scenario(&release("v1.0.0", "one"))).expect("fake forge");
    let s = FakeSetup::around(
        fake,
        &[],
        "  cleanup_old_versions: true\n  keep_versions: 1\n",
    );
    let gl = host(&s.fake);
    configure(
        &s,
        &[format!("{{url: \"https://{gl}/{owner}/tool\"}}")],
        &forge_entry(&s.fake, kind, api_path, "FORGE_TEST_TOKEN"),
    );
    let folder = s
        .path("downloads")
        .join(format!("{gl}/{owner}/tool").replace('/', "%2F"));
    let (code, _, stderr) = run(&s, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&folder.join("v1.0.0/tool.bin")), "one");

    s.fake.set_scenario(scenario(&format!(
        "{}{}",
        release("v1.1.0", "one point one"),
        release("v1.0.0", "one")
    )));
    let (code, report, stderr) = run(&s, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&folder.join("v1.1.0/tool.bin")), "one point one");
    assert!(!folder.join("v1.0.0").exists(), "{report}");
    let deleted = &report["download_results"]["retention"]["deleted"][0];
    assert_eq!(
        deleted["repository"],
        format!("{gl}/{owner}/tool").as_str(),
        "{report}"
    );
    assert_eq!(deleted["tag_name"], "v1.0.0");
}
