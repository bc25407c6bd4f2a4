//! Notifications after a run (`notify:`), against the fake GitHub and loopback receivers started
//! here: an HTTP server standing in for Slack and generic webhooks, and an SMTP sink.

use std::time::Duration;

use assert_cmd::Command;
use hmac::{Hmac, Mac};
use release_monitor::github::{ClientOptions, GithubClient, Token};
use release_monitor::http::RetryPolicy;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::FakeSetup;
use crate::support::receivers::{HttpReceiver, SmtpSink, TestTls};

const TOKEN: &str = "ghp_NOTIFYTOKEN0123456789SECRET";
const SLACK_PATH: &str = "/services/T0/B0/SLACKPATHSECRET";
const HOOK_PATH: &str = "/hook/HOOKPATHSECRET?token=QUERYSECRET";
const HMAC_KEY: &str = "HMACKEYSECRET";
const TAG_URL: &str = "https://github.com/acme/tool/releases/tag/v1.2.0";

const SCENARIO: &str = r#"
token: ghp_NOTIFYTOKEN0123456789SECRET
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.2.0
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "the tool, version 1.2.0"}
"#;

/// Every secret the configuration or environment holds: none may reach stdout or stderr.
const SECRETS: &[&str] = &[
    "SLACKPATHSECRET",
    "HOOKPATHSECRET",
    "QUERYSECRET",
    HMAC_KEY,
    TOKEN,
    "ENVSLACKSECRET",
    "SMTPPASSWORDSECRET",
];

fn cmd(s: &FakeSetup, args: &[&str]) -> Command {
    let mut c = s.command(Some(TOKEN));
    c.env_remove("SLACK_WEBHOOK_URL")
        .env_remove("SMTP_PASSWORD");
    c.args(args);
    c
}

/// Runs, checks the exit code and that no secret was printed, and returns stdout as JSON.
fn run(mut c: Command, code: i32) -> Value {
    let out = c.assert().code(code).get_output().clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for secret in SECRETS {
        assert!(!stdout.contains(secret), "{secret} on stdout:\n{stdout}");
        assert!(!stderr.contains(secret), "{secret} on stderr:\n{stderr}");
    }
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn hmac_hex(key: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn all_targets(http: &HttpReceiver, smtp: &SmtpSink) -> String {
    format!(
        "notify:\n  slack:\n    webhook_url: \"{slack}\"\n    channel: \"#releases\"\n    username: rm-bot\n  webhooks:\n    - url: \"{hook}\"\n      secret: {HMAC_KEY}\n  email:\n    smtp_host: {host}\n    smtp_port: {port}\n    starttls: false\n    from: Release Monitor <rm@example.com>\n    to: [ops@example.com, \"Dev Team <dev@example.com>\"]\n    subject: \"[mirror]\"\n",
        slack = http.url(SLACK_PATH),
        hook = http.url(HOOK_PATH),
        host = smtp.host(),
        port = smtp.port(),
    )
}

#[test]
fn monitor_download_tells_every_target_once() {
    let http = HttpReceiver::start();
    let smtp = SmtpSink::start();
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &all_targets(&http, &smtp));
    let out = run(cmd(&s, &["-vv", "monitor", "--download"]), 0);
    assert_eq!(
        out["notifications"],
        json!([
            {"target": "slack", "ok": true},
            {"target": "webhook#1", "ok": true},
            {"target": "email", "ok": true}
        ]),
        "{out}"
    );
    assert_eq!(
        out["download_results"]["downloaded"][0]["tag_name"],
        "v1.2.0"
    );

    // Slack: one JSON message listing the repository, version and link.
    let slack = http.to(SLACK_PATH);
    assert_eq!(slack.len(), 1);
    let m = &slack[0];
    assert_eq!(m.method, "POST");
    assert_eq!(m.header("content-type"), Some("application/json"));
    assert_eq!(m.header("authorization"), None, "the token went to Slack");
    assert!(
        m.header("user-agent")
            .is_some_and(|u| u.starts_with("release-monitor/")),
        "{:?}",
        m.headers
    );
    let body = m.json();
    assert_eq!(body["channel"], "#releases");
    assert_eq!(body["username"], "rm-bot");
    let text = body["text"].as_str().expect("text");
    assert!(
        text.starts_with("*release-monitor*: 1 new release found, 1 release downloaded"),
        "{text}"
    );
    assert!(
        text.contains(&format!("• <{TAG_URL}|acme/tool v1.2.0>\n*Downloaded*")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "• <{TAG_URL}|acme/tool v1.2.0>: tool-linux-amd64.tar.gz"
        )),
        "{text}"
    );

    // The generic webhook: the JSON summary, signed over the exact body bytes.
    let hooks = http.to(HOOK_PATH);
    assert_eq!(hooks.len(), 1);
    let h = &hooks[0];
    assert_eq!(h.method, "POST");
    assert_eq!(
        h.header("authorization"),
        None,
        "the token went to a webhook"
    );
    assert_eq!(
        h.header("x-release-monitor-signature"),
        Some(format!("sha256={}", hmac_hex(HMAC_KEY, &h.body)).as_str())
    );
    let summary = h.json();
    assert_eq!(summary["source"], "release-monitor");
    assert_eq!(summary["found"][0]["repository"], "acme/tool");
    assert_eq!(summary["found"][0]["tag_name"], "v1.2.0");
    assert_eq!(summary["found"][0]["html_url"], TAG_URL);
    assert_eq!(summary["found"][0]["previous_version"], Value::Null);
    let d = &summary["downloaded"][0];
    assert_eq!(d["html_url"], TAG_URL);
    assert_eq!(d["files"][0]["name"], "tool-linux-amd64.tar.gz");
    assert_eq!(d["files"][0]["size"], 23);
    assert_eq!(
        d["files"][0]["sha256"],
        out["download_results"]["downloaded"][0]["files"][0]["sha256"]
    );
    assert_eq!(d["files"][0]["verified_by"], "digest");
    assert!(
        d["files"][0].get("path").is_none(),
        "local paths stay local"
    );

    // E-mail: envelope, headers and a body listing repository, version, link and files.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{:?}", smtp.commands());
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "<rm@example.com>");
    assert_eq!(mail.rcpt_to, ["<ops@example.com>", "<dev@example.com>"]);
    let from = mail.header("From").expect("From");
    assert!(
        from.contains("Release Monitor") && from.contains("<rm@example.com>"),
        "{from}"
    );
    let to = mail.header("To").expect("To");
    assert!(
        to.contains("ops@example.com") && to.contains("\"Dev Team\" <dev@example.com>"),
        "{to}"
    );
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[mirror] 1 new release found, 1 release downloaded")
    );
    let text = mail.body();
    assert!(
        text.contains(&format!("New releases:\n- acme/tool v1.2.0\n  {TAG_URL}\n")),
        "{text}"
    );
    assert!(text.contains("Downloaded:\n- acme/tool v1.2.0\n"), "{text}");
    assert!(
        text.contains("  tool-linux-amd64.tar.gz (23 bytes, sha256 "),
        "{text}"
    );
    assert!(smtp.commands().iter().any(|c| c == "QUIT"));

    // The notifications went to the receivers only, never to the fake GitHub (whose only POSTs
    // are the monitor's GraphQL queries).
    assert!(
        s.fake
            .requests()
            .iter()
            .all(|r| r.method == "GET" || (r.method == "POST" && r.path == "/graphql"))
    );

    // A second run finds nothing new: nothing is sent, and no `notifications` key.
    let again = run(cmd(&s, &["monitor", "--download"]), 0);
    assert_eq!(again["new_releases_found"], 0);
    assert!(again.get("notifications").is_none(), "{again}");
    assert_eq!(http.requests().len(), 2);
    assert_eq!(smtp.mails().len(), 1);
}

#[test]
fn email_uses_starttls_and_auth_with_the_password_from_smtp_password() {
    let tls = TestTls::generate();
    let smtp = SmtpSink::start_tls(tls.config.clone());
    let extra = format!(
        "notify:\n  on: [found]\n  email:\n    smtp_host: 127.0.0.1\n    smtp_port: {}\n    username: mailer\n    from: rm@example.com\n    to: [ops@example.com]\n",
        smtp.port()
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    // The sink's CA is trusted through the project's CA option, next to the fake's.
    let bundle = s.path("bundle.pem");
    let fake_ca = std::fs::read_to_string(s.fake.ca_cert_path()).expect("fake CA");
    std::fs::write(&bundle, format!("{fake_ca}\n{}", tls.ca_pem)).expect("bundle");
    let config = std::fs::read_to_string(s.path("config.yaml")).expect("config");
    let config = config.replace(
        &format!("ca_cert: {}", s.fake.ca_cert_path().display()),
        &format!("ca_cert: {}", bundle.display()),
    );
    std::fs::write(s.path("config.yaml"), config).expect("config");

    let mut c = cmd(&s, &["-vv", "monitor"]);
    c.env("SMTP_PASSWORD", "SMTPPASSWORDSECRET");
    let out = run(c, 0);
    assert_eq!(
        out["notifications"],
        json!([{"target": "email", "ok": true}]),
        "{out}"
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{:?}", smtp.commands());
    assert!(mails[0].over_tls, "the message was sent before STARTTLS");
    assert_eq!(
        mails[0].auth,
        Some(("mailer".to_string(), "SMTPPASSWORDSECRET".to_string()))
    );
    assert_eq!(
        mails[0].header("Subject").as_deref(),
        Some("[release-monitor] 1 new release found")
    );
    let commands = smtp.commands();
    let starttls = commands
        .iter()
        .position(|c| c == "STARTTLS")
        .expect("STARTTLS sent");
    let mail_from = commands
        .iter()
        .position(|c| c.starts_with("MAIL FROM"))
        .expect("MAIL FROM");
    assert!(starttls < mail_from, "{commands:?}");
}

#[test]
fn email_refuses_a_server_without_starttls() {
    // `starttls` defaults to true: a server that does not offer it gets no mail.
    let smtp = SmtpSink::start();
    let extra = format!(
        "notify:\n  email:\n    smtp_host: 127.0.0.1\n    smtp_port: {}\n    from: rm@example.com\n    to: [ops@example.com]\n",
        smtp.port()
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let out = run(cmd(&s, &["monitor"]), 1);
    assert_eq!(out["notifications"][0]["target"], "email");
    assert_eq!(out["notifications"][0]["ok"], false, "{out}");
    let error = out["notifications"][0]["error"].as_str().expect("error");
    assert!(error.contains("STARTTLS is not supported"), "{error}");
    assert!(
        error.contains("1 attempt"),
        "a refusal is not retried: {error}"
    );
    assert!(smtp.mails().is_empty());
    assert!(!smtp.commands().iter().any(|c| c.starts_with("MAIL FROM")));
}

#[test]
fn a_failed_notification_exits_1_but_the_download_stays_recorded() {
    let slack = HttpReceiver::start();
    let hook = HttpReceiver::start();
    // Slack recovers after a 503 (retried); the webhook refuses with a 400 (not retried).
    slack.script(&[(503, "busy")]);
    hook.script(&[(400, "invalid_payload")]);
    let extra = format!(
        "notify:\n  slack: {{webhook_url: \"{}\"}}\n  webhooks:\n    - url: \"{}\"\n",
        slack.url(SLACK_PATH),
        hook.url(HOOK_PATH)
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let out = run(cmd(&s, &["monitor", "--download"]), 1);
    assert_eq!(slack.requests().len(), 2, "the 503 is retried");
    assert_eq!(hook.requests().len(), 1, "a 400 is not retried");
    let n = &out["notifications"];
    assert_eq!(n[0], json!({"target": "slack", "ok": true}));
    assert_eq!(n[1]["target"], "webhook#1");
    assert_eq!(n[1]["ok"], false);
    let error = n[1]["error"].as_str().expect("error");
    assert!(
        error.contains("HTTP 400")
            && error.contains("webhook#1")
            && error.contains("invalid_payload"),
        "{error}"
    );
    // The download succeeded and is recorded: a notification cannot undo it.
    assert_eq!(out["download_results"]["failed"], json!([]));
    let db: Value = serde_json::from_slice(&std::fs::read(s.path("version_db.json")).expect("db"))
        .expect("db parses");
    assert_eq!(db["repositories"]["acme/tool"]["current_version"], "v1.2.0");
    assert!(
        s.path("downloads/acme_tool/v1.2.0/tool-linux-amd64.tar.gz")
            .is_file()
    );
}

#[test]
fn dry_run_and_nothing_new_send_nothing() {
    let http = HttpReceiver::start();
    let extra = format!(
        "notify:\n  webhooks:\n    - url: \"{}\"\n",
        http.url(HOOK_PATH)
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let out = run(cmd(&s, &["monitor", "--download", "--dry-run"]), 0);
    assert!(out.get("notifications").is_none(), "{out}");
    assert_eq!(http.requests().len(), 0, "a dry run sent a notification");

    cmd(&s, &["db", "set", "acme/tool", "v1.2.0"])
        .assert()
        .success();
    let out = run(cmd(&s, &["monitor", "--download"]), 0);
    assert_eq!(out["new_releases_found"], 0);
    assert!(out.get("notifications").is_none(), "{out}");
    assert_eq!(
        http.requests().len(),
        0,
        "nothing new, yet something was sent"
    );
}

#[test]
fn monitor_tells_what_it_found_and_download_what_it_downloaded() {
    let http = HttpReceiver::start();
    let extra = format!(
        "notify:\n  webhooks:\n    - url: \"{}\"\n",
        http.url("/hook")
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let mut monitor = cmd(&s, &["monitor", "--output", "report.json"]);
    monitor.assert().code(0);
    let report: Value =
        serde_json::from_slice(&std::fs::read(s.path("report.json")).expect("report"))
            .expect("report parses");
    assert_eq!(
        report["notifications"],
        json!([{"target": "webhook#1", "ok": true}])
    );
    let first = http.to("/hook");
    assert_eq!(first.len(), 1);
    let body = first[0].json();
    assert_eq!(body["found"][0]["tag_name"], "v1.2.0");
    assert_eq!(body["downloaded"], json!([]));
    assert!(first[0].header("x-release-monitor-signature").is_none());

    let out = run(cmd(&s, &["download", "--input", "report.json"]), 0);
    assert_eq!(
        out["notifications"],
        json!([{"target": "webhook#1", "ok": true}])
    );
    let second = http.to("/hook");
    assert_eq!(second.len(), 2);
    let body = second[1].json();
    assert_eq!(
        body["found"],
        json!([]),
        "the monitor run already told about it"
    );
    assert_eq!(body["downloaded"][0]["tag_name"], "v1.2.0");
    assert_eq!(body["downloaded"][0]["html_url"], TAG_URL);
}

#[test]
fn on_downloaded_only_keeps_a_monitor_run_quiet() {
    let http = HttpReceiver::start();
    let extra = format!(
        "notify:\n  on: [downloaded]\n  webhooks:\n    - url: \"{}\"\n",
        http.url("/hook")
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let out = run(cmd(&s, &["monitor"]), 0);
    assert_eq!(out["new_releases_found"], 1);
    assert!(out.get("notifications").is_none(), "{out}");
    assert_eq!(http.requests().len(), 0);
    let out = run(cmd(&s, &["monitor", "--download"]), 0);
    assert_eq!(out["notifications"][0]["ok"], true);
    let body = http.to("/hook")[0].json();
    assert_eq!(body["found"], json!([]));
    assert_eq!(body["downloaded"][0]["repository"], "acme/tool");
}

#[test]
fn the_plans_post_download_notify_slack_uses_slack_webhook_url() {
    let http = HttpReceiver::start();
    let extra = format!(
        "  post_download:\n    - notify: slack\n    - notify: \"{}\"\n",
        http.url("/plain-hook")
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let env_url = http.url("/services/ENVSLACKSECRET");

    // `config check` shows both targets, redacted.
    let mut check = cmd(&s, &["config", "check"]);
    check.env("SLACK_WEBHOOK_URL", &env_url);
    let config = run(check, 0);
    assert_eq!(config["notify"]["slack"]["webhook_url"], "***");
    assert_eq!(config["notify"]["webhooks"][0]["url"], "***");

    let mut c = cmd(&s, &["monitor", "--download"]);
    c.env("SLACK_WEBHOOK_URL", &env_url);
    let out = run(c, 0);
    assert_eq!(
        out["notifications"],
        json!([{"target": "slack", "ok": true}, {"target": "webhook#1", "ok": true}])
    );
    assert_eq!(http.to("/services/ENVSLACKSECRET").len(), 1);
    assert_eq!(http.to("/plain-hook").len(), 1);
}

#[test]
fn slack_without_a_url_warns_at_load_and_fails_at_send() {
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        "  post_download: {notify: slack}\n",
    );
    let out = cmd(&s, &["monitor", "--download"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("notify.slack.webhook_url"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["notifications"][0]["target"], "slack");
    assert_eq!(report["notifications"][0]["ok"], false);
    assert!(
        report["notifications"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("SLACK_WEBHOOK_URL")),
        "{report}"
    );
    assert_eq!(
        report["download_results"]["downloaded"][0]["tag_name"],
        "v1.2.0"
    );
}

#[test]
fn an_insecure_webhook_is_a_config_error() {
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        "notify:\n  webhooks:\n    - url: http://hooks.example.com/HOOKPATHSECRET\n",
    );
    let out = cmd(&s, &["monitor"]).assert().code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("notify.webhooks[0].url"), "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!stderr.contains("HOOKPATHSECRET"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// GithubClient::post: the one client's POST

fn client_for(api_url: &str, attempts: u32) -> GithubClient {
    GithubClient::new(
        ClientOptions {
            api_url: api_url.to_string(),
            ca_cert: None,
            timeout: Duration::from_secs(5),
            transfer_timeout: Duration::from_secs(5),
            api_concurrency: 8,
            min_interval: Duration::ZERO,
            policy: RetryPolicy {
                max_attempts: attempts,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                max_rate_limit_wait: Duration::from_secs(1),
            },
        },
        Some(Token::new(TOKEN)),
    )
    .expect("client")
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

#[test]
fn post_never_sends_the_token_even_to_the_api_origin() {
    let http = HttpReceiver::start();
    // The API is the receiver itself: a GET there carries the token, a POST never does.
    let client = client_for(&http.url(""), 3);
    let api = client.endpoint("repos/a/b/releases").expect("endpoint");
    let hook = url::Url::parse(&http.url("/hook")).expect("url");
    assert!(client.is_api_origin(&hook));
    block_on(async {
        client.get(&api, None).await.expect("GET");
        let resp = client
            .post(
                &hook,
                "webhook#1",
                "application/json",
                bytes::Bytes::from_static(b"{\"a\":1}"),
                &reqwest::header::HeaderMap::new(),
            )
            .await
            .expect("POST");
        assert_eq!(resp.status, 200);
        assert_eq!(&resp.body[..], b"ok");
    });
    let reqs = http.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str()),
        "control: the API GET carries the token"
    );
    assert_eq!(reqs[1].method, "POST");
    assert_eq!(reqs[1].header("authorization"), None);
    assert_eq!(reqs[1].body, b"{\"a\":1}");
    assert_eq!(reqs[1].header("content-type"), Some("application/json"));
}

#[test]
fn post_retries_5xx_and_429_but_not_other_4xx_and_never_names_the_url() {
    let http = HttpReceiver::start();
    let client = client_for("https://api.github.com", 3);
    let url = url::Url::parse(&http.url(HOOK_PATH)).expect("url");
    let post = |c: &GithubClient| {
        block_on(c.post(
            &url,
            "webhook#1",
            "application/json",
            bytes::Bytes::from_static(b"{}"),
            &reqwest::header::HeaderMap::new(),
        ))
    };
    http.script(&[(500, ""), (429, ""), (200, "ok")]);
    post(&client).expect("recovers on the third attempt");
    assert_eq!(http.requests().len(), 3);

    http.script(&[(500, "a"), (502, "b"), (503, "still down")]);
    let e = post(&client).expect_err("gives up").to_string();
    assert_eq!(http.requests().len(), 6);
    assert!(e.contains("HTTP 503") && e.contains("3 attempt"), "{e}");

    http.script(&[(404, "no_service")]);
    let e = post(&client).expect_err("404").to_string();
    assert_eq!(http.requests().len(), 7, "a 404 is not retried");
    assert!(e.contains("webhook#1") && e.contains("no_service"), "{e}");

    // A closed port: retried as a transport error, reported without the URL.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let gone = url::Url::parse(&format!("http://127.0.0.1:{closed}{HOOK_PATH}")).expect("url");
    let e = block_on(client.post(
        &gone,
        "webhook#1",
        "application/json",
        bytes::Bytes::new(),
        &reqwest::header::HeaderMap::new(),
    ))
    .expect_err("nobody listens")
    .to_string();
    assert!(e.contains("webhook#1") && e.contains("3 attempt"), "{e}");
    for secret in ["HOOKPATHSECRET", "QUERYSECRET"] {
        assert!(!e.contains(secret), "{e}");
    }

    // Plain http:// off loopback is refused before anything is sent.
    let remote = url::Url::parse("http://hooks.example.com/HOOKPATHSECRET").expect("url");
    let e = block_on(client.post(
        &remote,
        "webhook#1",
        "application/json",
        bytes::Bytes::new(),
        &reqwest::header::HeaderMap::new(),
    ))
    .expect_err("insecure")
    .to_string();
    assert!(e.contains("https") && !e.contains("HOOKPATHSECRET"), "{e}");
}
