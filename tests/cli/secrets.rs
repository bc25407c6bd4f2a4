//! No secret in any output or file. Distinctive secrets are planted where users put them (the
//! token, the SMTP password and the HTTP storage password in the environment, the Slack URL in
//! its variable, a webhook's URL and HMAC key in the config) and pasted into wrong-typed keys;
//! every command runs at `-vv`, under `RUST_LOG=trace` and with `--log-format json`, over a run
//! that succeeds and one where GitHub, Slack, the webhook, SMTP and the WebDAV store fail, the
//! webhook even echoing its URL back in its error body. The Artifactory credentials (password,
//! API key, access token) and the S3 secret key are swept over stores that refuse them, and a
//! Concourse source's token over requests with it pasted into wrong-typed keys and an API that
//! fails. No secret may appear in stdout, stderr, or any file the runs wrote.

use std::path::Path;

use assert_cmd::Command;

use crate::support::FakeSetup;
use crate::support::receivers::{HttpReceiver, SmtpSink};

const TOKEN: &str = "ghp_SweepTokenA1b2C3d4E5f6G7h8I9j0K1l2M3n4";
const SLACK_PATH: &str = "/services/T0SWEEP/B0SWEEP/SweepSlackPath";
const HOOK_KEY: &str = "SweepHookQueryKey";
const HMAC: &str = "SweepHmacSecretKey";
const SMTP_PASSWORD: &str = "SweepSmtpPassword";
const STORE_PASSWORD: &str = "SweepStorePassword";

/// What must never be printed or written (the distinctive part of each secret).
const SECRETS: [&str; 6] = [
    TOKEN,
    "SweepSlackPath",
    HOOK_KEY,
    HMAC,
    SMTP_PASSWORD,
    STORE_PASSWORD,
];

const SCENARIO: &str = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.2.0
        assets:
          - {name: tool.bin, size: 2000}
  - owner: acme
    repo: broken
    releases:
      - tag_name: v0.1.0
"#;

/// The three ways of asking for everything the logs can say.
fn verbosities() -> [(Vec<&'static str>, Option<&'static str>); 3] {
    [
        (vec!["-vv"], None),
        (vec![], Some("trace")),
        (vec!["--log-format", "json", "-vv"], None),
    ]
}

/// Runs the binary with the token, the SMTP password and (if given) the Slack URL in its
/// environment; returns stdout and stderr.
fn run(
    s: &FakeSetup,
    slack: Option<&str>,
    global: &[&str],
    rust_log: Option<&str>,
    args: &[&str],
) -> String {
    let mut cmd: Command = s.command(Some(TOKEN));
    cmd.env("SMTP_PASSWORD", SMTP_PASSWORD)
        .env("HTTP_STORAGE_PASSWORD", STORE_PASSWORD);
    if let Some(url) = slack {
        cmd.env("SLACK_WEBHOOK_URL", url);
    }
    if let Some(level) = rust_log {
        cmd.env("RUST_LOG", level);
    }
    let out = cmd.args(global).args(args).output().expect("runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every run says something: a sweep over empty output would prove nothing.
    assert!(!text.trim().is_empty(), "{args:?}: no output");
    text
}

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what}: {secret} was printed or written:\n{text}"
        );
    }
}

/// Every file under `dir` except the configs the test wrote, checked for secrets.
fn assert_files_clean(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "yaml") {
                let bytes = std::fs::read(&path).expect("read file");
                assert_clean(
                    &path.display().to_string(),
                    &String::from_utf8_lossy(&bytes),
                );
                seen += 1;
            }
        }
    }
    assert!(seen >= 4, "the runs wrote files: {seen}");
}

/// A config for the fake with Slack (its URL comes from `SLACK_WEBHOOK_URL`), a signed webhook
/// and e-mail to `smtp_port` on 127.0.0.1 (the password comes from `SMTP_PASSWORD`), and with
/// `store_port`, WebDAV storage there with basic auth (the password from
/// `HTTP_STORAGE_PASSWORD`).
fn setup(hook: &HttpReceiver, smtp_port: u16, faults: &str, store_port: Option<u16>) -> FakeSetup {
    let store = store_port.map_or(String::new(), |port| {
        format!("  http_storage: {{enabled: true, url: \"http://127.0.0.1:{port}/dav\", username: rm}}\n")
    });
    let extra = format!(
        "{store}notify:\n  slack: {{}}\n  webhooks:\n    - url: \"{hook}\"\n      secret: {HMAC}\n  \
         email:\n    smtp_host: 127.0.0.1\n    smtp_port: {smtp_port}\n    starttls: false\n    \
         from: rm@example.com\n    to: [ops@example.com]\n",
        hook = hook.url(&format!("/hook?key={HOOK_KEY}")),
    );
    let s = FakeSetup::new(
        &format!("{SCENARIO}{faults}"),
        &["acme/tool", "acme/broken"],
        &extra,
    );
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    // REST, so a listing's failure is the repository's own.
    std::fs::write(
        &path,
        text.replacen("github:\n", "github:\n  graphql: false\n", 1),
    )
    .expect("write config");
    s
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[test]
fn no_secret_in_any_output_or_file_on_success_or_failure() {
    for failing in [false, true] {
        let slack = HttpReceiver::start();
        let hook = HttpReceiver::start();
        let smtp = SmtpSink::start();
        let faults = if failing {
            // The listing fails for good; Slack and the webhook refuse, the webhook quoting
            // the URL it was sent to, as some servers do.
            let echo = format!("bad request: POST /hook?key={HOOK_KEY} is not allowed");
            slack.script(&[(500, "no"); 40]);
            hook.script(&vec![(400, echo.as_str()); 40]);
            "faults:\n  - path: /repos/acme/broken/releases\n    responses: [FIVES]\n"
        } else {
            ""
        };
        // Enough 500s for every attempt of every run (faults count across runs).
        let faults = faults.replace("FIVES", &["500"; 60].join(", "));
        let s = setup(
            &hook,
            if failing { closed_port() } else { smtp.port() },
            &faults,
            failing.then(closed_port),
        );
        let slack_url = slack.url(SLACK_PATH);
        let report = s.path("report.json");
        for (global, rust_log) in verbosities() {
            let mut runs: Vec<Vec<&str>> = vec![
                vec!["config", "check"],
                vec!["monitor", "--explain", "--dry-run"],
                vec!["monitor", "--download", "-o", "report.json"],
                vec!["download", "--input", "report.json", "--dry-run"],
                vec!["db", "show"],
                vec!["db", "check"],
                vec!["db", "stats"],
                vec!["db", "history", "acme/tool"],
                vec!["cleanup", "--dry-run"],
            ];
            if failing {
                runs.push(vec!["db", "forget", "acme/tool"]);
            }
            for args in runs {
                let text = run(&s, Some(&slack_url), &global, rust_log, &args);
                assert_clean(&format!("failing={failing} {global:?} {args:?}"), &text);
                if args[1] == "--download" {
                    assert!(report.is_file(), "failing={failing}: no report\n{text}");
                }
            }
        }
        // The failing run did fail where it was meant to, and the notifiers were reached.
        if failing {
            let r: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("JSON");
            assert!(r["errors"].as_array().is_some_and(|e| !e.is_empty()), "{r}");
            // The webhook's echo is reported with the secret parts starred out.
            let hook_error = r["notifications"][1]["error"].as_str().unwrap_or_default();
            assert!(
                hook_error.contains("HTTP 400") && hook_error.contains("POST ***"),
                "{r}"
            );
            assert!(!hook.requests().is_empty());
            assert!(!slack.requests().is_empty());
        } else {
            assert!(!smtp.mails().is_empty(), "mail was sent");
        }
        assert_files_clean(s.dir.path());
    }
}

#[test]
fn a_secret_pasted_into_wrong_keys_is_never_printed_by_any_command() {
    let hook = HttpReceiver::start();
    let s = setup(&hook, closed_port(), "", None);
    let path = s.path("config.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    // The token where a number belongs, the SMTP password where a URL belongs.
    let text = text
        .replacen(
            "github:\n",
            &format!("settings:\n  max_releases_per_repo: {TOKEN}\ngithub:\n"),
            1,
        )
        .replacen(
            "  timeout: 5\n",
            &format!("  timeout: {SMTP_PASSWORD}\n"),
            1,
        );
    std::fs::write(&path, text).expect("write config");
    for (global, rust_log) in verbosities() {
        for args in [
            vec!["config", "check"],
            vec!["monitor"],
            vec!["monitor", "--download"],
            vec!["download", "--dry-run"],
            vec!["db", "show"],
        ] {
            let out = run(&s, None, &global, rust_log, &args);
            assert_clean(&format!("{global:?} {args:?}"), &out);
            assert!(
                out.contains("config.yaml:"),
                "{args:?} names the config file: {out}"
            );
        }
    }
}

const AF_PASSWORD: &str = "SweepArtifactoryPassword";
const AF_TOKEN: &str = "SweepArtifactoryAccessToken";
const AF_KEY: &str = "SweepArtifactoryApiKey";
const AWS_SECRET: &str = "SweepAwsSecretAccessKey";

#[test]
fn no_artifactory_or_s3_credential_in_any_output_or_file() {
    use crate::support::artifactory::{Artifactory, Creds, REPO};
    let secrets = [AF_PASSWORD, AF_TOKEN, AF_KEY, AWS_SECRET, TOKEN];
    let check = |what: &str, text: &str| {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{what}: {secret} was printed:\n{text}"
            );
        }
    };
    // Artifactory refuses each of these: a wrong password, an API key it does not know, an
    // expired token. The S3 store's endpoint refuses connections.
    let af = Artifactory::start(Creds {
        username: Some("rm".into()),
        password: Some("the-right-one".into()),
        access_token: Some(AF_TOKEN.into()),
        ..Creds::default()
    });
    af.expire_token();
    let stores = [
        (
            format!(
                "  artifactory_storage: {{enabled: true, base_url: \"{}\", repository: {REPO}, username: rm}}\n",
                af.base_url()
            ),
            vec![("ARTIFACTORY_PASSWORD", AF_PASSWORD)],
        ),
        (
            format!(
                "  artifactory_storage: {{enabled: true, base_url: \"{}\", repository: {REPO}}}\n",
                af.base_url()
            ),
            vec![("ARTIFACTORY_API_KEY", AF_KEY)],
        ),
        (
            String::new(),
            vec![
                ("ARTIFACTORY_URL", af.base_url().leak() as &str),
                ("ARTIFACTORY_REPOSITORY", REPO),
                ("ARTIFACTORY_ACCESS_TOKEN", AF_TOKEN),
            ],
        ),
        (
            format!(
                "  s3_storage: {{enabled: true, bucket: sweep, endpoint_url: \"http://127.0.0.1:{}\"}}\n",
                closed_port()
            ),
            vec![
                ("AWS_ACCESS_KEY_ID", "AKIASWEEPKEYID"),
                ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            ],
        ),
    ];
    for (storage, env) in stores {
        let s = FakeSetup::new(SCENARIO, &["acme/tool"], &storage);
        for (global, rust_log) in verbosities() {
            for args in [
                vec!["config", "check"],
                vec!["monitor", "--download"],
                vec!["db", "show"],
            ] {
                let mut cmd: Command = s.command(Some(TOKEN));
                cmd.envs(env.iter().copied());
                if let Some(level) = rust_log {
                    cmd.env("RUST_LOG", level);
                }
                let out = cmd.args(&global).args(&args).output().expect("runs");
                let text = format!(
                    "{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                let what = format!("{storage} {global:?} {args:?}");
                check(&what, &text);
                if args[1] == "--download" {
                    // The store refused, so the release failed.
                    assert_eq!(out.status.code(), Some(1), "{what}: {text}");
                }
            }
        }
        // Every file the runs wrote.
        for rel in crate::support::files_under(s.dir.path()) {
            if !rel.ends_with(".yaml") {
                let bytes = std::fs::read(s.path(&rel)).expect("read");
                check(&rel, &String::from_utf8_lossy(&bytes));
            }
        }
    }
    // Artifactory saw the wrong secrets (so they were really sent, to it alone).
    assert!(af.requests().iter().any(|r| r.status == 401));
}

#[test]
fn a_concourse_source_never_quotes_its_token() {
    let fives = ["500"; 60].join(", ");
    let fake = fake_github::FakeGithub::start(
        fake_github::Scenario::from_yaml(&format!(
            "{SCENARIO}faults:\n  - path: /repos/acme/broken/releases\n    responses: [{fives}]\n"
        ))
        .expect("scenario"),
    )
    .expect("fake");
    let source = |repo: &str, extra: serde_json::Value| {
        let mut s = serde_json::json!({
            "owner": "acme", "repository": repo, "access_token": TOKEN,
            "github_api_url": fake.api_url(), "ca_cert": fake.ca_cert_pem(),
        });
        if let (Some(m), Some(more)) = (s.as_object_mut(), extra.as_object()) {
            m.extend(more.clone());
        }
        serde_json::json!({ "source": s })
    };
    for request in [
        // The token pasted into keys of other types.
        source("tool", serde_json::json!({"pre_release": TOKEN})),
        source("tool", serde_json::json!({"order_by": TOKEN})),
        source("tool", serde_json::json!({"github_api_url": TOKEN})),
        // The API failing.
        source("broken", serde_json::json!({})),
    ] {
        for (global, rust_log) in verbosities() {
            let mut cmd = Command::cargo_bin("release-monitor").expect("binary");
            cmd.env_clear();
            if let Some(path) = std::env::var_os("PATH") {
                cmd.env("PATH", path);
            }
            if let Some(level) = rust_log {
                cmd.env("RUST_LOG", level);
            }
            let out = cmd
                .args(&global)
                .args(["concourse", "check"])
                .write_stdin(request.to_string())
                .output()
                .expect("runs");
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.status.success(), "{request}: {text}");
            assert!(!text.trim().is_empty());
            assert!(
                !text.contains(TOKEN),
                "{global:?}: the token was printed:\n{text}"
            );
        }
    }
}
