//! `download.artifactory_storage` against the Artifactory stand-in (`support::artifactory`),
//! which enforces the REST API the backend uses: verified files and their sidecars are deployed
//! with their checksums (by checksum first) before the release is recorded, the version database
//! lives beside them (the seed tool's `{path_prefix}version_db.json`), content already there is
//! not sent again, faults (a 5xx burst, a 409, an expired token) are retried or reported without
//! recording the release, retention deletes old release folders, and a concurrent writer's
//! update is not lost.

use serde_json::Value;

use crate::support::artifactory::{Artifactory, Creds, REPO};
use crate::support::{FakeSetup, STORE_SCENARIO as SCENARIO, uploaded_how as how};

const USER: &str = "deployer";
const PASSWORD: &str = "af-Pass-7781";
const TOKEN: &str = "af-Token-4410";
const DB: &str = "release-monitor/version_db.json";
const RELEASE: &str = "release-monitor/acme_tool/cli%2Fv1.2.0";

fn password_creds() -> Creds {
    Creds {
        username: Some(USER.into()),
        password: Some(PASSWORD.into()),
        ..Creds::default()
    }
}

fn token_creds() -> Creds {
    Creds {
        access_token: Some(TOKEN.into()),
        ..Creds::default()
    }
}

/// A setup whose database is Artifactory's (the seed tool's default location, the local
/// `version_db` line removed) and whose files go there too; `auth` is the YAML for the
/// credentials (empty when they come from the environment).
fn setup(af: &Artifactory, auth: &str, extra: &str) -> FakeSetup {
    let storage = format!(
        "  artifactory_storage:\n    enabled: true\n    base_url: \"{}\"\n    repository: {REPO}\n{auth}{extra}",
        af.base_url()
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &storage);
    let path = s.path("config.yaml");
    let config = std::fs::read_to_string(&path).expect("config");
    let config: String = config
        .lines()
        .filter(|l| !l.starts_with("  version_db:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, config).expect("write config");
    s
}

fn basic_auth() -> String {
    format!("    username: {USER}\n    password: \"{PASSWORD}\"\n")
}

/// Runs the binary with `ARTIFACTORY_ACCESS_TOKEN` when `token` is set; checks the exit code and
/// that no secret was printed; returns the JSON report (or `Null`) and stderr.
fn run(s: &FakeSetup, token: bool, args: &[&str], code: i32) -> (Value, String) {
    let mut cmd = s.command(None);
    if token {
        cmd.env("ARTIFACTORY_ACCESS_TOKEN", TOKEN);
    }
    let out = cmd.args(args).assert().code(code).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for secret in [PASSWORD, TOKEN] {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "a secret was printed: {stderr}"
        );
    }
    (
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        stderr,
    )
}

fn db(af: &Artifactory) -> Option<Value> {
    af.file(DB)
        .map(|b| serde_json::from_slice(&b).expect("the database in Artifactory is JSON"))
}

fn held(af: &Artifactory, repo: &str) -> Option<String> {
    db(af).and_then(|d| {
        d["repositories"][repo]["current_version"]
            .as_str()
            .map(str::to_string)
    })
}

#[test]
fn files_sidecars_and_the_database_are_deployed_with_their_checksums() {
    let af = Artifactory::start(password_creds());
    // Artifactory already holds tool.txt's bytes elsewhere: it is deployed by checksum.
    af.put_file("elsewhere/notes.txt", b"notes for 1.2.0");
    let s = setup(&af, &basic_auth(), "");
    let (report, _) = run(&s, false, &["monitor", "--download"], 0);
    assert_eq!(how(&report), ["checksum-deployed", "uploaded"], "{report}");
    let url = report.to_string();
    assert!(
        url.contains("/artifactory/generic-local/release-monitor/acme_tool/cli%252Fv1.2.0/tool%20linux.tar.gz"),
        "{report}"
    );
    // The same files and sidecars as the local mirror, in the same layout.
    let local = s.path("downloads/acme_tool/cli%2Fv1.2.0");
    for name in ["tool linux.tar.gz", "tool.txt"] {
        for file in [name.to_string(), format!("{name}.sha256")] {
            assert_eq!(
                af.file(&format!("{RELEASE}/{file}")),
                Some(std::fs::read(local.join(&file)).expect("local file")),
                "{file}"
            );
        }
    }
    assert_eq!((af.checksum_deploys(), af.full_uploads() >= 1), (1, true));
    // The database is in Artifactory, not on disk, and was deployed after every file.
    assert_eq!(held(&af, "acme/tool").as_deref(), Some("cli/v1.2.0"));
    assert!(!s.path("version_db.json").exists());
    let requests = af.requests();
    let puts: Vec<_> = requests
        .iter()
        .filter(|r| r.method == "PUT" && r.status == 201)
        .collect();
    assert!(
        puts.last()
            .is_some_and(|r| r.path.ends_with("/version_db.json"))
    );
    // Every deploy carries both checksums; every file was first tried by checksum.
    for put in &puts {
        assert!(
            put.header("x-checksum-sha256").is_some() && put.header("x-checksum-sha1").is_some(),
            "{put:?}"
        );
    }
    let first_try = requests
        .iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("tool%20linux.tar.gz"))
        .expect("a deploy of the archive");
    assert_eq!(
        (first_try.header("x-checksum-deploy"), first_try.status),
        (Some("true"), 404)
    );
    // Every request signed in; the password never went to GitHub.
    assert!(requests.iter().all(|r| r.status != 401));
    assert!(s.fake.requests().iter().all(|r| {
        r.header("authorization")
            .is_none_or(|v| !v.starts_with("Basic"))
    }));

    // `db` commands reach the same database; forgotten, the release is fetched again and
    // Artifactory already holds both files: nothing is deployed again.
    run(&s, false, &["-q", "db", "forget", "acme/tool"], 0);
    assert_eq!(held(&af, "acme/tool"), None);
    std::fs::remove_dir_all(s.path("downloads")).expect("clear the local mirror");
    let uploads = (af.full_uploads(), af.checksum_deploys());
    let (report, _) = run(&s, false, &["monitor", "--download"], 0);
    assert_eq!(how(&report), ["already-present", "already-present"]);
    // Only the database was written again.
    assert_eq!(af.checksum_deploys(), uploads.1);
    assert_eq!(af.full_uploads(), uploads.0 + 1);
    assert_eq!(held(&af, "acme/tool").as_deref(), Some("cli/v1.2.0"));
}

#[test]
fn a_5xx_burst_and_a_damaged_upload_are_retried() {
    let af = Artifactory::start(token_creds());
    let s = setup(&af, "", "");
    af.fail_next("PUT", "tool%20linux.tar.gz", 2, 503);
    af.corrupt_next_uploads(1);
    let (report, stderr) = run(&s, true, &["monitor", "--download"], 0);
    assert_eq!(how(&report), ["uploaded", "uploaded"], "{report}");
    let statuses: Vec<u16> = af
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("tool%20linux.tar.gz"))
        .map(|r| r.status)
        .collect();
    // Two 503s, the checksum deploy's 404, the damaged deploy's 409, then the deploy.
    assert_eq!(statuses, [503, 503, 404, 409, 201], "{stderr}");
    assert!(stderr.contains("409"), "{stderr}");
    assert_eq!(
        af.file(&format!("{RELEASE}/tool linux.tar.gz")),
        Some(
            std::fs::read(s.path("downloads/acme_tool/cli%2Fv1.2.0/tool linux.tar.gz"))
                .expect("local")
        )
    );
    assert_eq!(held(&af, "acme/tool").as_deref(), Some("cli/v1.2.0"));
    // The bearer token went to Artifactory only.
    assert!(
        af.requests()
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}")))
    );
    assert!(
        s.fake
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none_or(|v| !v.contains(TOKEN)))
    );
}

#[test]
fn damaged_twice_or_an_expired_token_fails_the_release_and_records_nothing() {
    let af = Artifactory::start(token_creds());
    let s = setup(&af, "", "");
    af.corrupt_next_uploads(2);
    let (report, _) = run(&s, true, &["monitor", "--download"], 1);
    let error = report["download_results"]["failed"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("409"), "{report}");
    assert!(db(&af).is_none(), "the release was recorded");
    assert!(af.file(&format!("{RELEASE}/tool linux.tar.gz")).is_none());

    let af = Artifactory::start(token_creds());
    let s = setup(&af, "", "");
    af.expire_token();
    let (report, stderr) = run(&s, true, &["-vv", "monitor", "--download"], 1);
    let text = format!("{report}{stderr}");
    assert!(
        text.contains("401") && text.contains("Token expired"),
        "{text}"
    );
    assert!(db(&af).is_none() && af.paths().is_empty());
}

#[test]
fn retention_deletes_old_release_folders_and_verify_ssl_false_is_warned_about() {
    let af = Artifactory::start(password_creds());
    let extra = "    verify_ssl: false\n  cleanup_old_versions: true\n  keep_versions: 1\n";
    let s = setup(&af, &basic_auth(), extra);
    let path = s.path("config.yaml");
    let unpinned = s.pin("acme/tool", "cli/v1.1.0");
    let (_, stderr) = run(&s, false, &["monitor", "--download"], 0);
    assert!(stderr.contains("NOT verified"), "{stderr}");
    let old = "release-monitor/acme_tool/cli%2Fv1.1.0/tool linux.tar.gz";
    assert!(af.file(old).is_some());
    std::fs::write(&path, &unpinned).expect("unpin");
    let (report, stderr) = run(&s, false, &["monitor", "--download"], 0);
    assert!(
        stderr.contains("NOT verified"),
        "warned on every run: {stderr}"
    );
    assert!(af.file(&format!("{RELEASE}/tool.txt")).is_some());
    assert!(
        af.paths().iter().all(|p| !p.contains("cli%2Fv1.1.0")),
        "the old release's folder is gone: {:?}",
        af.paths()
    );
    let deleted = report["download_results"]["retention"]["deleted"].to_string();
    assert!(deleted.contains("cli%252Fv1.1.0"), "{report}");
}

#[test]
fn another_writers_update_between_read_and_write_is_kept() {
    let af = Artifactory::start(password_creds());
    let s = setup(&af, &basic_auth(), "");
    // A database that already knows another repository...
    let theirs = |version: &str| {
        serde_json::to_vec_pretty(&serde_json::json!({
            "metadata": {"version": "1.0", "created_at": "2026-01-01T00:00:00Z"},
            "repositories": {"acme/other": {
                "owner": "acme", "repo": "other", "current_version": version,
                "last_updated": "2026-01-01T00:00:00Z",
                "download_history": [{"version": version, "downloaded_at": "2026-01-01T00:00:00Z", "files": [], "download_time": 0.0}]
            }}
        }))
        .expect("json")
    };
    af.put_file(DB, &theirs("v1"));
    // ...changed by another writer right after the update reads it (the first read is the
    // run's look at what is held, the second the update's).
    af.replace_after_reads(DB, 2, theirs("v2"));
    let (_, stderr) = run(&s, false, &["-vv", "monitor", "--download"], 0);
    assert!(stderr.contains("changed by another writer"), "{stderr}");
    assert_eq!(held(&af, "acme/tool").as_deref(), Some("cli/v1.2.0"));
    assert_eq!(
        held(&af, "acme/other").as_deref(),
        Some("v2"),
        "the other writer's update was lost"
    );
}
