//! GitHub App authentication against the fake GitHub's App endpoints: an RS256 JWT signed with
//! the App's key (made here with rcgen) is exchanged for an installation token, found from the
//! repository's owner or fixed by `installation_id`, refreshed before it expires, sent only to the
//! API, and never printed; a key that is not RSA PEM is a config error; a wrong App id fails the
//! repository with a clear error.

use fake_github::{App, FakeGithub, Origin, Scenario};
use serde_json::Value;

use crate::support::FakeSetup;

const APP_ID: u64 = 4242;
const INSTALLATION: u64 = 77;

/// An RSA key pair: the private key (PKCS#8 PEM) and the public key (PEM).
fn rsa_keys() -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    (key.serialize_pem(), key.public_key_pem())
}

/// A private repository (visible only with a valid token) and the App installed on `acme`.
fn scenario(public_key: &str, token_ttl: u64) -> Scenario {
    let yaml = r#"
token: ghp_NotTheAppsToken
repositories:
  - owner: acme
    repo: tool
    private: true
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: tool.bin, content: "the private tool"}
  - owner: acme
    repo: other
    releases:
      - tag_name: v0.1.0
        assets:
          - {name: other.bin, content: "the other tool"}
"#;
    Scenario::from_yaml(yaml).expect("scenario").with_app(App {
        id: APP_ID,
        public_key: public_key.to_string(),
        installations: [("acme".to_string(), INSTALLATION)].into_iter().collect(),
        token_ttl,
    })
}

fn setup(public_key: &str, token_ttl: u64, app_yaml: &str) -> FakeSetup {
    let fake = FakeGithub::start(scenario(public_key, token_ttl)).expect("fake starts");
    let s = FakeSetup::around(fake, &["acme/tool", "acme/other"], "");
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        text.replacen("github:\n", &format!("github:\n{app_yaml}"), 1),
    )
    .expect("write config");
    s
}

/// Runs `monitor --download` without GITHUB_TOKEN; returns (exit code, report, stderr).
fn run(s: &FakeSetup, env: &[(&str, &str)]) -> (i32, Value, String) {
    // No installation token, JWT or key material in any output.
    s.monitor_download(env, &["ghs_fakeInstallation", "eyJ", "PRIVATE KEY"])
}

fn app_calls(s: &FakeSetup, path_end: &str) -> usize {
    s.fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(path_end))
        .count()
}

#[test]
fn an_installation_found_from_the_owner_reads_a_private_repository() {
    let (private, public) = rsa_keys();
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("app.pem");
    std::fs::write(&key, &private).expect("key");
    let s = setup(
        &public,
        3600,
        &format!(
            "  app: {{id: {APP_ID}, private_key_file: {}}}\n",
            key.display()
        ),
    );
    let (code, report, stderr) = run(&s, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        report["download_results"]["downloaded"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{report}"
    );
    // The installation was found once for the owner of both repositories (checked at the same
    // time), one token was fetched and shared.
    assert_eq!(app_calls(&s, "/installation"), 1);
    assert_eq!(app_calls(&s, "/access_tokens"), 1);
    let requests = s.fake.requests();
    let listing = requests
        .iter()
        .find(|r| r.path == "/repos/acme/tool/releases")
        .expect("the listing");
    assert!(
        listing
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer ghs_fakeInstallation")),
        "{:?}",
        listing.header("authorization")
    );
    // The token went to the API only, never to the asset host.
    assert!(
        requests
            .iter()
            .filter(|r| r.origin == Origin::Assets)
            .all(|r| r.header("authorization").is_none())
    );
    // The config printed back hides the key.
    let out = s
        .command(None)
        .args(["config", "check"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("PRIVATE KEY") && text.contains("\"private_key\": \"***\""),
        "{text}"
    );
}

#[test]
fn a_token_about_to_expire_is_replaced_and_a_fixed_installation_comes_from_the_environment() {
    let (private, public) = rsa_keys();
    // Tokens that live less than the refresh margin are replaced at every use.
    let s = setup(&public, 120, "");
    let installation = INSTALLATION.to_string();
    let app_id = APP_ID.to_string();
    let env = [
        ("GITHUB_APP_ID", app_id.as_str()),
        ("GITHUB_APP_PRIVATE_KEY", private.as_str()),
        ("GITHUB_APP_INSTALLATION_ID", installation.as_str()),
    ];
    let (code, report, stderr) = run(&s, &env);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        report["download_results"]["downloaded"][0]["tag_name"],
        "v1.0.0"
    );
    assert_eq!(
        app_calls(&s, "/installation"),
        0,
        "the installation is fixed"
    );
    assert!(
        app_calls(&s, "/access_tokens") >= 2,
        "the short-lived token was refreshed"
    );
    // Everything the libraries log too, as text and JSON: still no token, JWT or key.
    let key_body: String = private.lines().nth(1).unwrap_or_default().to_string();
    assert!(key_body.len() > 40);
    for args in [
        vec!["monitor", "--download", "--force-check"],
        vec!["--log-format", "json", "monitor", "--force-check"],
        vec!["config", "check"],
    ] {
        let out = s
            .command(None)
            .envs(env.iter().copied())
            .env("RUST_LOG", "trace")
            .args(&args)
            .output()
            .expect("runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.trim().is_empty(), "{args:?}: no output");
        for secret in [
            "ghs_fakeInstallation",
            "eyJ",
            "PRIVATE KEY",
            key_body.as_str(),
        ] {
            assert!(!all.contains(secret), "{args:?}: {secret} was printed");
        }
    }
}

#[test]
fn a_wrong_app_id_fails_the_repository_and_a_bad_key_is_a_config_error() {
    let (private, public) = rsa_keys();
    let s = setup(&public, 3600, "");
    let env = [
        ("GITHUB_APP_ID", "999"),
        ("GITHUB_APP_PRIVATE_KEY", private.as_str()),
    ];
    let (code, report, _) = run(&s, &env);
    assert_eq!(code, 1);
    let error = report["errors"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("GitHub App authentication failed") && error.contains("JWT"),
        "{report}"
    );

    // An EC key (not RSA) in the file: exit 2, naming the key, not quoting the file.
    let dir = tempfile::tempdir().expect("tempdir");
    let ec = rcgen::KeyPair::generate().expect("EC key").serialize_pem();
    let file = dir.path().join("ec.pem");
    std::fs::write(&file, &ec).expect("write");
    let s = setup(
        &public,
        3600,
        &format!("  app: {{id: 1, private_key_file: {}}}\n", file.display()),
    );
    let out = s
        .command(None)
        .args(["config", "check"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("github.app.private_key_file") && stderr.contains("RSA"),
        "{stderr}"
    );
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
    // An id without a key.
    let s = setup(&public, 3600, "  app: {id: 1}\n");
    let out = s
        .command(None)
        .args(["config", "check"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("github.app.private_key_file"));
}
