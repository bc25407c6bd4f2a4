//! `release-monitor serve`, the real binary against the fake GitHub: the first run mirrors
//! what `monitor --download` would; the mirror's files come back at GitHub's download paths with
//! ranges, a strong SHA-256 ETag and conditional requests; nothing outside the recorded files is
//! served, whatever the URL; the token guards everything but `/healthz`; `POST /api/runs`
//! starts a run; `/metrics` parses as OpenMetrics and counts what the runs did; SIGHUP with a
//! broken config keeps the old one; SIGTERM exits 0.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, ETAG, IF_NONE_MATCH, IF_RANGE, RANGE};
use serde_json::Value;

use crate::support::{FakeSetup, forward_lines, sha256_hex, started_or_skipped};

const TOKEN: &str = "serve-test-token-5ecret";
const TOOL: &str = "the acme tool, mirrored and served";

/// The service, its address, and its log lines as they come.
struct Served {
    child: Child,
    base: String,
    lines: Receiver<String>,
    log: Vec<String>,
}

impl Served {
    /// Starts `serve` on a free port with the token in its environment, and waits for it to
    /// listen.
    fn start(s: &FakeSetup) -> Served {
        Served::start_with(s, &[])
    }

    /// Like [`Served::start`], with `env` added (and stdin a pipe, for pause points).
    fn start_with(s: &FakeSetup, env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("release-monitor"))
            .current_dir(s.dir.path())
            .env_remove("GITHUB_TOKEN")
            .env_remove("RUST_LOG")
            .env_remove("RELEASE_MONITOR_PAUSE_AT")
            .env("SERVE_TEST_TOKEN", TOKEN)
            .envs(env.iter().copied())
            .args(["serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let (tx, lines) = channel();
        forward_lines(child.stderr.take().expect("stderr"), tx);
        let mut served = Served {
            child,
            base: String::new(),
            lines,
            log: Vec::new(),
        };
        let line = served.wait_for("listening on ");
        served.base = line
            .split("listening on ")
            .nth(1)
            .expect("address")
            .trim()
            .to_string();
        served
    }

    /// Waits (up to a minute) for a log line containing `what`; returns it.
    fn wait_for(&mut self, what: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    self.log.push(line.clone());
                    assert!(!line.contains(TOKEN), "the token was logged: {line}");
                    if line.contains(what) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no {what:?} ({e}); the log so far:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with the service's token.
    fn get(&self, path: &str) -> reqwest::blocking::Response {
        client()
            .get(self.url(path))
            .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
            .send()
            .unwrap()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn setup() -> FakeSetup {
    let sums = format!("{}  tool.tar.gz\n", sha256_hex(TOOL.as_bytes()));
    let scenario = format!(
        r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.0.0
        assets:
          - {{name: tool.tar.gz, content: "{TOOL}"}}
          - {{name: SHA256SUMS, content: "{sums}"}}
"#
    );
    FakeSetup::new(
        &scenario,
        &["acme/tool"],
        "serve:\n  listen: \"127.0.0.1:0\"\n  interval: 1h\n  token_env: SERVE_TEST_TOKEN\n",
    )
}

#[test]
fn serve_mirrors_on_schedule_and_serves_the_files_githubs_way() {
    let s = setup();
    let mut served = Served::start(&s);
    served.wait_for("run done");
    let c = client();
    let auth = format!("Bearer {TOKEN}");
    let path = "/acme/tool/releases/download/v1.0.0/tool.tar.gz";

    // Health needs no token; everything else does.
    assert_eq!(c.get(served.url("/healthz")).send().unwrap().status(), 200);
    for p in [path, "/metrics", "/readyz"] {
        assert_eq!(c.get(served.url(p)).send().unwrap().status(), 401, "{p}");
        let wrong = c.get(served.url(p)).header(AUTHORIZATION, "Bearer nope");
        assert_eq!(wrong.send().unwrap().status(), 401, "{p}");
    }
    assert_eq!(served.get("/readyz").status(), 200);

    // The whole file, with its digest.
    let resp = served.get(path);
    assert_eq!(resp.status(), 200);
    let sha = sha256_hex(TOOL.as_bytes());
    let etag = format!("\"{sha}\"");
    assert_eq!(resp.headers()[ETAG], etag.as_str());
    assert_eq!(resp.headers()["x-checksum-sha256"], sha.as_str());
    // The fake states GitHub's `digest`, the first check that holds.
    assert_eq!(resp.headers()["x-verified-by"], "digest");
    assert!(
        resp.headers()["repr-digest"]
            .to_str()
            .unwrap()
            .starts_with("sha-256=:")
    );
    assert_eq!(resp.text().unwrap(), TOOL);
    // Conditional and ranged.
    let resp = c
        .get(served.url(path))
        .header(AUTHORIZATION, &auth)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 304);
    let resp = c
        .get(served.url(path))
        .header(AUTHORIZATION, &auth)
        .header(RANGE, "bytes=4-7")
        .header(IF_RANGE, &etag)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.text().unwrap(), &TOOL[4..8]);
    let resp = c
        .get(served.url(path))
        .header(AUTHORIZATION, &auth)
        .header(RANGE, "bytes=4-7")
        .header(IF_RANGE, "\"another\"")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200, "a stale If-Range gets the whole file");
    // Latest redirects to the held version.
    let resp = served.get("/acme/tool/releases/latest/download/tool.tar.gz");
    assert!(resp.status().is_redirection());
    assert_eq!(resp.headers()["location"], path);

    // Nothing but recorded files: not our sidecar or part files, not the paths around them.
    std::fs::write(s.path("secret.txt"), "outside the mirror").unwrap();
    let mirror = s.path("downloads/acme_tool/v1.0.0");
    std::os::unix::fs::symlink(s.path("secret.txt"), mirror.join("planted")).unwrap();
    for bad in [
        "/acme/tool/releases/download/v1.0.0/tool.tar.gz.sha256",
        "/acme/tool/releases/download/v1.0.0/.tool.tar.gz.part",
        "/acme/tool/releases/download/v1.0.0/planted",
        "/acme/tool/releases/download/v1.0.0/..%2F..%2F..%2Fsecret.txt",
        "/acme/tool/releases/download/%2e%2e/secret.txt",
        "/acme/tool/releases/download/v1.0.0/%2e%2e%2f%2e%2e%2fversion_db.json",
        "/acme/tool/releases/download/v1.0.0/..%5C..%5Csecret.txt",
        "/acme/tool/releases/download/%2Ftmp/secret.txt",
        "/..%2F/tool/releases/download/v1.0.0/tool.tar.gz",
        "/acme/tool/releases/download/v9.9.9/tool.tar.gz",
        "/acme/other/releases/download/v1.0.0/tool.tar.gz",
    ] {
        let resp = served.get(bad);
        assert_eq!(resp.status(), 404, "{bad}");
    }
    let long = format!("/acme/tool/releases/download/v1.0.0/{}", "a".repeat(5000));
    let resp = served.get(&long);
    assert!(resp.status().is_client_error(), "{}", resp.status());

    // A run on request.
    let resp = c
        .post(served.url("/api/runs"))
        .header(AUTHORIZATION, &auth)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 202);
    served.wait_for("run requested");
    served.wait_for("run done");

    // Metrics: OpenMetrics that parse, counting both runs and the one downloaded file.
    let text = served.get("/metrics").text().unwrap();
    if let Some(samples) = parse_openmetrics(&text) {
        let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
            samples
                .iter()
                .find(|s| s["name"] == name && label.is_none_or(|(k, v)| s["labels"][k] == v))
                .and_then(|s| s["value"].as_f64())
                .unwrap_or_else(|| panic!("{name} {label:?} in\n{text}"))
        };
        assert_eq!(
            value("release_monitor_runs_total", Some(("outcome", "success"))),
            2.0
        );
        // tool.tar.gz and SHA256SUMS, both by GitHub's digest; the second run fetched nothing.
        assert_eq!(
            value(
                "release_monitor_downloaded_files_total",
                Some(("verified_by", "digest"))
            ),
            2.0
        );
        assert!(value("release_monitor_run_duration_seconds_count", None) >= 2.0);
        assert!(
            value(
                "release_monitor_repository_last_success_timestamp_seconds",
                Some(("repository", "acme/tool"))
            ) > 0.0
        );
    }

    // A broken config on SIGHUP is refused; the service goes on.
    let config = s.path("config.yaml");
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, "repositories: [").unwrap();
    served.signal("HUP");
    served.wait_for("configuration not reloaded");
    std::fs::write(&config, good).unwrap();
    assert_eq!(served.get(path).status(), 200);

    // SIGTERM: exit 0.
    served.signal("TERM");
    let status = served.child.wait().expect("exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn without_a_token_the_service_is_read_only_and_an_unset_token_variable_is_refused() {
    let s = setup();
    let config = s.path("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    // An unset variable: exit 2, naming the key.
    let out = s.command(None).arg("serve").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("serve.token_env"));
    // Half a TLS setting, or a public URL in plain http off loopback: refused, naming the key.
    for (key, yaml) in [
        ("serve.tls.key", "  tls: {cert: c.pem}\n"),
        (
            "serve.public_url",
            "  public_url: http://mirror.example.com\n",
        ),
    ] {
        std::fs::write(
            &config,
            text.replace("serve:\n", &format!("serve:\n{yaml}")),
        )
        .unwrap();
        let out = s
            .command(None)
            .args(["config", "check"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{key}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(key), "{key}");
    }
    // Read-only: files and metrics for anyone, no runs on request.
    std::fs::write(&config, text.replace("  token_env: SERVE_TEST_TOKEN\n", "")).unwrap();
    let mut served = Served::start(&s);
    served.wait_for("run done");
    let c = client();
    let resp = c
        .get(served.url("/acme/tool/releases/download/v1.0.0/tool.tar.gz"))
        .send()
        .unwrap();
    assert_eq!(resp.text().unwrap(), TOOL);
    assert_eq!(
        c.post(served.url("/api/runs")).send().unwrap().status(),
        403
    );
    served.signal("TERM");
    assert_eq!(served.child.wait().expect("exits").code(), Some(0));
    // The run log survives a restart (beside the state file).
    assert!(s.path("release_state.serve.json").exists());
    let mut served = Served::start(&s);
    served.wait_for("run done");
    let runs = c.get(served.url("/runs")).send().unwrap().text().unwrap();
    assert_eq!(runs.matches("repositories checked").count(), 2, "{runs}");
    served.signal("TERM");
    assert_eq!(served.child.wait().expect("exits").code(), Some(0));
}

/// The samples of an OpenMetrics text, read by the Python `prometheus_client` parser (as
/// `{name, labels, value}`); `None` after saying so when the parser is not installed outside
/// CI.
fn parse_openmetrics(text: &str) -> Option<Vec<Value>> {
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let started = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string())?;
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(out.stdout)
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        });
    let stdout = match started {
        // A parse error is a failure, not a skip.
        Err(e) if !e.contains("No module named") => panic!("the metrics do not parse: {e}\n{text}"),
        other => started_or_skipped(
            other,
            "a metrics test: the prometheus_client Python package",
            "python3 -m pip install prometheus-client",
        )?,
    };
    Some(serde_json::from_slice(&stdout).expect("parser output"))
}

/// Instance B in `dir`: watches `repo`, its `github.api_url` is `a`'s `/api/v3` and its token
/// `a`'s; runs `monitor --download` (with `download` lines added) and returns the report. Exit 0,
/// and the token never printed.
fn inner_instance(a: &Served, dir: &std::path::Path, repo: &str, download: &str) -> Value {
    let (owner, name) = repo.split_once('/').unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        format!(
            "repositories:\n  - {{owner: {owner}, repo: {name}}}\n\
             github:\n  api_url: {}/api/v3\n  timeout: 5\n\
             download:\n  enabled: true\n  directory: {}\n  version_db: {}\n  timeout: 5.0\n  \
             retry: {{max_attempts: 2, delay: 0.05}}\n{download}",
            a.base,
            dir.join("downloads").display(),
            dir.join("version_db.json").display()
        ),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("release-monitor")
        .unwrap()
        .current_dir(dir)
        .env_remove("GITHUB_API_URL")
        .env("GITHUB_TOKEN", TOKEN)
        .args(["monitor", "--download"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(TOKEN));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_second_instance_mirrors_the_first_through_its_github_compatible_api() {
    let s = setup();
    let mut a = Served::start(&s);
    a.wait_for("run done");
    let c = client();
    let auth = format!("Bearer {TOKEN}");

    // The API's shapes, as GitHub's.
    let resp = a.get("/api/v3/repos/acme/tool/releases?per_page=1");
    assert_eq!(resp.status(), 200);
    let etag = resp.headers()[ETAG].to_str().unwrap().to_string();
    let releases: Value = resp.json().unwrap();
    let release = &releases[0];
    assert_eq!(release["tag_name"], "v1.0.0");
    let asset = release["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "tool.tar.gz")
        .unwrap()
        .clone();
    assert_eq!(
        asset["digest"],
        format!("sha256:{}", sha256_hex(TOOL.as_bytes())).as_str()
    );
    assert!(
        asset["browser_download_url"]
            .as_str()
            .unwrap()
            .ends_with("/acme/tool/releases/download/v1.0.0/tool.tar.gz")
    );
    let again = c
        .get(a.url("/api/v3/repos/acme/tool/releases?per_page=1"))
        .header(AUTHORIZATION, &auth)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    for path in [
        "/api/v3/repos/acme/tool/releases/latest".to_string(),
        "/api/v3/repos/acme/tool/releases/tags/v1.0.0".to_string(),
        format!("/api/v3/repos/acme/tool/releases/{}", release["id"]),
    ] {
        let one: Value = a.get(&path).json().unwrap();
        assert_eq!(one["id"], release["id"], "{path}");
    }
    let resp = c
        .get(asset["url"].as_str().unwrap())
        .header(AUTHORIZATION, &auth)
        .header("accept", "application/octet-stream")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(
        resp.headers()["location"],
        asset["browser_download_url"].as_str().unwrap()
    );
    for missing in [
        "/api/v3/repos/acme/tool/releases/tags/v9",
        "/api/v3/repos/acme/nothing/releases",
        "/api/v3/repos/acme/tool/releases/12345",
    ] {
        let resp = a.get(missing);
        assert_eq!(resp.status(), 404, "{missing}");
    }

    // Instance B: its github.api_url is A; its token is A's.
    let b = tempfile::tempdir().unwrap();
    inner_instance(&a, b.path(), "acme/tool", "");
    // B holds what A holds: the same bytes, the same digests, verified by digest.
    for name in ["tool.tar.gz", "SHA256SUMS"] {
        let rel = format!("acme_tool/v1.0.0/{name}");
        assert_eq!(
            std::fs::read(b.path().join("downloads").join(&rel)).unwrap(),
            std::fs::read(s.path("downloads").join(&rel)).unwrap(),
            "{name}"
        );
    }
    let db = |p: std::path::PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (da, dbb) = (
        db(s.path("version_db.json")),
        db(b.path().join("version_db.json")),
    );
    let files = |d: &Value| -> Vec<(String, String, String)> {
        let mut v: Vec<(String, String, String)> =
            d["repositories"]["acme/tool"]["download_history"][0]["metadata"]["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap().to_string(),
                        f["sha256"].as_str().unwrap().to_string(),
                        f["verified_by"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
        v.sort();
        v
    };
    assert_eq!(
        dbb["repositories"]["acme/tool"]["current_version"],
        "v1.0.0"
    );
    assert_eq!(files(&da), files(&dbb));
    a.signal("TERM");
    assert_eq!(a.child.wait().unwrap().code(), Some(0));
}

/// Headless Chromium's DOM of `url` after it rendered (`--dump-dom`), or `None` after saying
/// so when Chromium is missing outside CI.
fn chromium(args: &[&str]) -> Option<String> {
    let ran = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args(args)
        .output()
        .map_err(|e| e.to_string())
        .and_then(|out| {
            if out.status.success() {
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        });
    started_or_skipped(ran, "a browser test: chromium", "apt-get install chromium")
}

#[test]
fn a_browser_shows_the_repositories_their_versions_and_verification() {
    let s = setup();
    let config = s.path("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("  token_env: SERVE_TEST_TOKEN\n", "")).unwrap();
    let mut served = Served::start(&s);
    served.wait_for("run done");

    let Some(dom) = chromium(&["--dump-dom", &served.url("/")]) else {
        return;
    };
    let row = regex::Regex::new(r#"(?s)<tr data-repository="acme/tool">(.*?)</tr>"#)
        .unwrap()
        .captures(&dom)
        .unwrap_or_else(|| panic!("no row for acme/tool in\n{dom}"))[1]
        .to_string();
    assert!(row.contains(r#"<td class="held">v1.0.0</td>"#), "{row}");
    assert!(row.contains(r#"<td class="upstream">v1.0.0</td>"#), "{row}");
    assert!(row.contains(r#"<span class="ok">ok</span>"#), "{row}");
    assert!(row.contains(r#"data-verified-by="digest""#), "{row}");
    assert!(row.contains(r#"href="/repos/acme/tool""#), "{row}");
    // No script, nothing from elsewhere.
    assert!(!dom.contains("<script"), "{dom}");
    assert!(
        !dom.contains("http://") && !dom.contains("https://"),
        "{dom}"
    );

    // The repository's page links each file; the links download the right bytes.
    let dom = chromium(&["--dump-dom", &served.url("/repos/acme/tool")]).expect("ran before");
    let links: Vec<String> = regex::Regex::new(r#"<a class="download" href="([^"]+)">"#)
        .unwrap()
        .captures_iter(&dom)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(links.len(), 2, "{dom}");
    let c = client();
    for link in &links {
        let bytes = c.get(served.url(link)).send().unwrap().bytes().unwrap();
        let name = link.rsplit('/').next().unwrap();
        let on_disk = std::fs::read(s.path("downloads/acme_tool/v1.0.0").join(name)).unwrap();
        assert_eq!(bytes.as_ref(), on_disk.as_slice(), "{link}");
        assert!(
            dom.contains(&sha256_hex(&on_disk)),
            "the page shows {name}'s SHA-256"
        );
    }
    let dom = chromium(&["--dump-dom", &served.url("/runs")]).expect("ran before");
    assert!(
        dom.contains("1 repositories checked, 1 new releases"),
        "{dom}"
    );

    // A screenshot the test run keeps.
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-overview.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1200,600",
        &served.url("/"),
    ])
    .expect("ran before");
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    eprintln!("screenshot: {}", shot.display());
    served.signal("TERM");
    assert_eq!(served.child.wait().unwrap().code(), Some(0));
}

/// A test CA and a certificate for 127.0.0.1 and localhost signed by it, written as PEM files
/// into `dir`: (ca.pem, cert.pem, key.pem).
fn tls_files(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "serve test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let mut params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    params.is_ca = IsCa::ExplicitNoCa;
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

#[test]
fn over_tls_githubs_own_cli_lists_and_downloads_from_the_mirror() {
    let s = setup();
    let (ca, cert, key) = tls_files(s.dir.path());
    let config = s.path("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "serve:\n",
            &format!(
                "serve:\n  tls: {{cert: \"{}\", key: \"{}\"}}\n",
                cert.display(),
                key.display()
            ),
        ),
    )
    .unwrap();
    let mut served = Served::start(&s);
    served.wait_for("run done");
    let https = served.base.clone();
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    let port = https.rsplit(':').next().unwrap().to_string();

    // A client trusting the test CA gets the file over TLS; the API hands out https URLs.
    let c = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap()])
        .build()
        .unwrap();
    let auth = format!("Bearer {TOKEN}");
    let body = c
        .get(format!(
            "{https}/acme/tool/releases/download/v1.0.0/tool.tar.gz"
        ))
        .header(AUTHORIZATION, &auth)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(body, TOOL);
    let releases: Value = c
        .get(format!("{https}/api/v3/repos/acme/tool/releases"))
        .header(AUTHORIZATION, &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        releases[0]["assets"][0]["browser_download_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("https://127.0.0.1:{port}/"))
    );

    // gh, GitHub's CLI, with the mirror as an Enterprise host.
    let gh = |args: &[&str]| {
        Command::new("gh")
            .args(args)
            .env("GH_HOST", format!("localhost:{port}"))
            .env("GH_ENTERPRISE_TOKEN", TOKEN)
            .env("SSL_CERT_FILE", &ca)
            .env("GH_CONFIG_DIR", s.path("gh-config"))
            .env("GH_PROMPT_DISABLED", "1")
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GH_TOKEN")
            .current_dir(s.dir.path())
            .output()
            .map_err(|e| e.to_string())
    };
    let Some(listed) =
        started_or_skipped(gh(&["--version"]), "a gh test: gh", "apt-get install gh")
    else {
        return;
    };
    assert!(listed.status.success());
    let out = gh(&["api", "repos/acme/tool/releases", "--jq", ".[].tag_name"]).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "v1.0.0");
    let dest = s.path("gh-download");
    let out = gh(&[
        "release",
        "download",
        "v1.0.0",
        "-R",
        &format!("localhost:{port}/acme/tool"),
        "-p",
        "tool.tar.gz",
        "-D",
        dest.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("tool.tar.gz")).unwrap(),
        TOOL
    );
    served.signal("TERM");
    assert_eq!(served.child.wait().unwrap().code(), Some(0));
}

#[test]
fn killed_during_a_scheduled_run_the_restarted_service_loses_nothing_and_carries_on() {
    let s = setup();
    // Killed while the run writes the database: its files are in the mirror, not yet recorded.
    let mut served = Served::start_with(&s, &[("RELEASE_MONITOR_PAUSE_AT", "db-before-rename")]);
    served.wait_for("paused at db-before-rename");
    served.signal("KILL");
    served.child.wait().expect("killed");
    let db = s.path("version_db.json");
    assert!(
        !db.exists() || !std::fs::read_to_string(&db).unwrap().contains("v1.0.0"),
        "nothing was recorded before the kill"
    );

    let mut served = Served::start(&s);
    served.wait_for("run done");
    let c = client();
    let resp = c
        .get(served.url("/acme/tool/releases/download/v1.0.0/tool.tar.gz"))
        .header(AUTHORIZATION, format!("Bearer {TOKEN}"))
        .send()
        .unwrap();
    assert_eq!(resp.text().unwrap(), TOOL);
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(&db).unwrap()).unwrap();
    assert_eq!(
        recorded["repositories"]["acme/tool"]["current_version"],
        "v1.0.0"
    );
    // The file fetched before the kill was kept: it came from the asset host once. (The
    // checksum file is read again, to plan the run that records the release.)
    let id = s
        .fake
        .asset("acme", "tool", "v1.0.0", "tool.tar.gz")
        .expect("asset")
        .id;
    let fetched = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.origin == fake_github::Origin::Assets && r.path == format!("/download/{id}"))
        .count();
    assert_eq!(fetched, 1, "{:?}", s.fake.requests());
    // No temp file left behind in the mirror or beside the database.
    let leftovers: Vec<String> = crate::support::files_under(s.dir.path())
        .into_iter()
        .filter(|f| f.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    served.signal("TERM");
    assert_eq!(served.child.wait().unwrap().code(), Some(0));
}

#[test]
fn index_writes_the_pages_and_releases_json_as_static_files_with_relative_links() {
    let s = setup();
    let out = s
        .command(None)
        .args(["monitor", "--download"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = s.command(None).arg("index").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"].as_array().unwrap().len(), 3, "{report}");
    let root = s.path("downloads");
    let overview = std::fs::read_to_string(root.join("index.html")).unwrap();
    assert!(
        overview.contains(r#"href="_site/acme_tool/index.html""#),
        "{overview}"
    );
    assert!(!overview.contains("<script"));
    let page_dir = root.join("_site/acme_tool");
    let page = std::fs::read_to_string(page_dir.join("index.html")).unwrap();
    let links: Vec<String> = regex::Regex::new(r#"<a class="download" href="([^"]+)">"#)
        .unwrap()
        .captures_iter(&page)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(links.len(), 2, "{page}");
    for link in &links {
        // Relative to the page, each link is the mirrored file.
        let target = page_dir.join(link);
        let name = link.rsplit('/').next().unwrap();
        assert_eq!(
            std::fs::canonicalize(&target).unwrap(),
            std::fs::canonicalize(root.join("acme_tool/v1.0.0").join(name)).unwrap()
        );
    }
    assert!(page.contains(r#"href="../../index.html""#));
    let releases: Value =
        serde_json::from_str(&std::fs::read_to_string(page_dir.join("releases.json")).unwrap())
            .unwrap();
    assert_eq!(releases[0]["tag_name"], "v1.0.0");
    let asset = releases[0]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "tool.tar.gz")
        .unwrap();
    assert_eq!(
        asset["browser_download_url"],
        "../../acme_tool/v1.0.0/tool.tar.gz"
    );
    assert_eq!(
        asset["digest"],
        format!("sha256:{}", sha256_hex(TOOL.as_bytes())).as_str()
    );
    // The export is not taken for a repository's files: the mirror still checks clean, and a
    // second export replaces the first.
    let out = s.command(None).arg("index").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = s
        .command(None)
        .args(["monitor", "--download"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_inner_instance_checks_the_outer_ones_kept_attestations_offline() {
    use fake_github::{Asset, Release, Repository, Scenario};
    let name = "github_provenance_demo-0.0.12-py3-none-any.whl";
    let wheel = crate::support::read_fixture(name);
    let digest = sha256_hex(&wheel);
    let bundle =
        crate::support::first_bundle("github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl");
    let scenario = Scenario::default().with_repository(
        Repository::new("actions", "attest-demo")
            .with_release(Release::new("v1.0.0").with_asset(Asset::with_bytes(name, &wheel)))
            .with_attestation(&digest, bundle),
    );
    let s = FakeSetup::new(
        &scenario.to_yaml().unwrap(),
        &["actions/attest-demo"],
        "  verification: {attestations: true}\n\
         serve:\n  listen: \"127.0.0.1:0\"\n  interval: 1h\n  token_env: SERVE_TEST_TOKEN\n",
    );
    let mut a = Served::start(&s);
    a.wait_for("run done");
    // The outer instance kept GitHub's answer beside the file it proved.
    let folder = s.path("downloads/actions_attest-demo/v1.0.0");
    assert!(folder.join(format!(".{name}.attestations.json")).exists());
    let resp = a.get(&format!(
        "/api/v3/repos/actions/attest-demo/attestations/sha256:{digest}"
    ));
    assert_eq!(resp.status(), 200);
    let resp = a.get(&format!(
        "/api/v3/repos/actions/attest-demo/attestations/sha256:{}",
        "0".repeat(64)
    ));
    assert_eq!(resp.status(), 404);

    // The inner instance, which reaches only the outer one, proves the file the same way.
    let b = tempfile::tempdir().unwrap();
    let before = s.fake.requests().len();
    let report = inner_instance(
        &a,
        b.path(),
        "actions/attest-demo",
        "  verification: {attestations: true}\n",
    );
    let file = &report["download_results"]["downloaded"][0]["files"][0];
    assert_eq!(file["verified_by"], "attestation", "{report}");
    assert_eq!(
        std::fs::read(
            b.path()
                .join("downloads/actions_attest-demo/v1.0.0")
                .join(name)
        )
        .unwrap(),
        wheel
    );
    assert_eq!(
        s.fake.requests().len(),
        before,
        "the inner instance never reached GitHub"
    );
    a.signal("TERM");
    assert_eq!(a.child.wait().unwrap().code(), Some(0));
}

#[test]
fn readiness_fails_once_runs_have_failed_for_longer_than_stale_after_intervals() {
    let scenario = r#"
repositories:
  - owner: acme
    repo: broken
    status: 500
"#;
    let s = FakeSetup::new(
        scenario,
        &["acme/broken"],
        "serve:\n  listen: \"127.0.0.1:0\"\n  interval: 1s\n  stale_after: 1\n",
    );
    let mut served = Served::start(&s);
    served.wait_for("run done with failures");
    let c = client();
    // Not ready once a second (one interval) has passed without a successful run: polled, as a
    // probe would, until it says so.
    let mut answer = String::new();
    for _ in 0..100 {
        let resp = c.get(served.url("/readyz")).send().unwrap();
        if resp.status() == 503 {
            answer = resp.text().unwrap();
            break;
        }
        served.wait_for("run done with failures");
    }
    assert!(answer.contains("serve.stale_after"), "{answer}");
    assert!(answer.contains("errors"), "{answer}");
    // Healthy all the same, and the failures are counted.
    assert_eq!(c.get(served.url("/healthz")).send().unwrap().status(), 200);
    let metrics = c
        .get(served.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("release_monitor_runs_total{outcome=\"partial\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("release_monitor_repository_failures_total{repository=\"acme/broken\"}"),
        "{metrics}"
    );
    let page = c.get(served.url("/")).send().unwrap().text().unwrap();
    assert!(page.contains("class=\"failed\""), "{page}");
    served.signal("TERM");
    assert_eq!(served.child.wait().unwrap().code(), Some(0));
}

#[test]
fn public_url_shapes_the_api_urls_and_binding_beyond_loopback_without_tls_warns() {
    let s = setup();
    let config = s.path("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("127.0.0.1:0", "0.0.0.0:0").replace(
            "serve:\n",
            "serve:\n  public_url: https://mirror.example.com/releases/\n",
        ),
    )
    .unwrap();
    let mut served = Served::start(&s);
    assert!(
        served
            .log
            .iter()
            .any(|l| l.contains("beyond loopback without TLS")),
        "{:?}",
        served.log
    );
    served.wait_for("run done");
    let port = served.base.rsplit(':').next().unwrap().to_string();
    served.base = format!("http://127.0.0.1:{port}");
    let releases: Value = served
        .get("/api/v3/repos/acme/tool/releases")
        .json()
        .unwrap();
    let asset = &releases[0]["assets"][0];
    for key in ["url", "browser_download_url"] {
        assert!(
            asset[key]
                .as_str()
                .unwrap()
                .starts_with("https://mirror.example.com/releases/"),
            "{asset}"
        );
    }
    served.signal("TERM");
    assert_eq!(served.child.wait().unwrap().code(), Some(0));
}
