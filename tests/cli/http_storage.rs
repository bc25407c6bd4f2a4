//! `download.http_storage` against a real WebDAV server (`rclone serve webdav`): verified files
//! and their sidecars are PUT in the mirror's layout before the release is recorded, content the
//! server already holds is not sent again, a refused upload fails the release without recording
//! it or printing the password, and retention deletes old release folders on the server.

use std::path::Path;

use serde_json::Value;

use crate::support::receivers::HttpReceiver;
use crate::support::webdav::{NginxDav, PASSWORD, Rclone, USER};
use crate::support::{FakeSetup, STORE_SCENARIO as SCENARIO, uploaded_how as how};

fn storage(url: &str, password: &str) -> String {
    format!(
        "  http_storage:\n    enabled: true\n    url: \"{url}mirror\"\n    username: {USER}\n    \
         password: \"{password}\"\n"
    )
}

/// A setup keeping one version, with storage at `url`, pinned to the older release (so a first
/// run stores it and retention deletes it once the pin is gone); returns it and the config
/// without the pin.
fn pinned_with_retention(url: &str) -> (FakeSetup, String) {
    let extra = format!(
        "  cleanup_old_versions: true\n  keep_versions: 1\n{}",
        storage(url, PASSWORD)
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let unpinned = s.pin("acme/tool", "cli/v1.1.0");
    (s, unpinned)
}

fn run(s: &FakeSetup, args: &[&str], code: i32) -> (Value, String) {
    let out = s
        .command(None)
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
        "the password was printed"
    );
    (
        serde_json::from_slice(&out.stdout).expect("JSON report"),
        stderr,
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn files_and_sidecars_go_to_the_server_before_the_release_is_recorded() {
    let Some(dav) = Rclone::start() else { return };
    std::fs::create_dir(dav.file("mirror")).expect("collection");
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &storage(&dav.url, PASSWORD));
    let (report, _) = run(&s, &["-v", "monitor", "--download"], 0);
    assert_eq!(how(&report), ["uploaded", "uploaded"], "{report}");
    let url = report["download_results"]["downloaded"][0]["uploaded"][0]["url"].to_string();
    assert!(
        url.contains("/mirror/acme_tool/cli%252Fv1.2.0/tool%20linux.tar.gz"),
        "{url}"
    );
    // The local mirror and the server hold the same files, in the same layout (the tag's `/`
    // encoded as one folder), with the same sidecars.
    let local = s.path("downloads/acme_tool/cli%2Fv1.2.0");
    let remote = dav.file("mirror/acme_tool/cli%2Fv1.2.0");
    for name in ["tool linux.tar.gz", "tool.txt"] {
        assert_eq!(read(&remote.join(name)), read(&local.join(name)), "{name}");
        let sidecar = format!("{name}.sha256");
        assert_eq!(
            read(&remote.join(&sidecar)),
            read(&local.join(&sidecar)),
            "{sidecar}"
        );
    }
    let db: Value = serde_json::from_slice(&read(&s.path("version_db.json"))).expect("db");
    assert_eq!(
        db["repositories"]["acme/tool"]["current_version"],
        "cli/v1.2.0"
    );

    // Forgotten and fetched again: the server already holds both files, nothing is re-sent.
    s.command(None)
        .args(["-q", "db", "forget", "acme/tool"])
        .assert()
        .success();
    std::fs::remove_dir_all(s.path("downloads")).expect("clear the local mirror");
    let before = std::fs::metadata(remote.join("tool linux.tar.gz"))
        .and_then(|m| m.modified())
        .expect("mtime");
    let (report, _) = run(&s, &["monitor", "--download"], 0);
    assert_eq!(
        how(&report),
        ["already-present", "already-present"],
        "{report}"
    );
    let after = std::fs::metadata(remote.join("tool linux.tar.gz"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(before, after, "not written again");
}

#[test]
fn a_refused_upload_fails_the_release_and_it_is_not_recorded() {
    let Some(dav) = Rclone::start() else { return };
    std::fs::create_dir(dav.file("mirror")).expect("collection");
    let wrong = "not-the-password-Zz9";
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &storage(&dav.url, wrong));
    let (report, stderr) = run(&s, &["-vv", "monitor", "--download"], 1);
    let failed = &report["download_results"]["failed"];
    let error = failed[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("HTTP 401") && error.contains("/mirror/acme_tool/"),
        "{report}"
    );
    assert!(!stderr.contains(wrong) && !report.to_string().contains(wrong));
    // Nothing recorded (the database was never written).
    assert!(!s.path("version_db.json").exists());
    assert!(!dav.file("mirror/acme_tool").exists());
}

#[test]
fn retention_deletes_old_release_folders_on_the_server() {
    let Some(dav) = Rclone::start() else { return };
    std::fs::create_dir(dav.file("mirror")).expect("collection");
    let (s, unpinned) = pinned_with_retention(&dav.url);
    run(&s, &["monitor", "--download"], 0);
    assert!(
        dav.file("mirror/acme_tool/cli%2Fv1.1.0/tool linux.tar.gz")
            .is_file()
    );
    std::fs::write(s.path("config.yaml"), &unpinned).expect("unpin");
    let (report, _) = run(&s, &["monitor", "--download"], 0);
    assert!(dav.file("mirror/acme_tool/cli%2Fv1.2.0/tool.txt").is_file());
    assert!(
        !dav.file("mirror/acme_tool/cli%2Fv1.1.0").exists(),
        "the old release's folder is gone from the server: {report}"
    );
    let deleted = report["download_results"]["retention"]["deleted"].to_string();
    assert!(
        deleted.contains("/mirror/acme_tool/cli%252Fv1.1.0/tool%20linux.tar.gz"),
        "{report}"
    );
}

#[test]
fn credentials_go_to_the_store_only_and_a_5xx_burst_is_retried() {
    // A scripted server stands in for the store: two 503s, then it answers 200 to everything.
    // Its HEAD cannot report the right size, so the upload is reported failed after the PUT
    // went through, which is enough to see the retries and where the token goes.
    let store = HttpReceiver::start();
    // A server that echoes the credential in its error bodies must not get it printed.
    store.script(&[
        (503, "busy; you sent Authorization: Bearer bearer-Tok-55"),
        (503, "busy"),
    ]);
    // The token comes from HTTP_STORAGE_TOKEN (the file names none).
    let extra = format!(
        "  http_storage: {{enabled: true, url: \"{}\"}}\n",
        store.url("/dav")
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let out = s
        .command(None)
        .env("HTTP_STORAGE_TOKEN", "bearer-Tok-55")
        .args(["monitor", "--download"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bearer-Tok-55"));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let requests = store.requests();
    // The first request (asking whether the file is there) met two 503s and was sent again;
    // then the file was PUT.
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods[..3], ["HEAD", "HEAD", "HEAD"], "{methods:?}");
    assert_eq!(requests[0].path, requests[2].path);
    assert!(methods.contains(&"PUT"), "{methods:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer bearer-Tok-55")),
        "every store request carries the token"
    );
    // Never to GitHub or its asset host.
    assert!(
        s.fake.requests().iter().all(|r| r
            .header("authorization")
            .is_none_or(|v| !v.contains("bearer-Tok-55"))),
        "the store's token went to GitHub"
    );
    assert!(!report.to_string().contains("bearer-Tok-55"));
}

#[test]
fn nginx_dav_gets_its_folders_made_and_retention_deletes_without_a_listing() {
    // nginx's dav module answers a PUT into a missing folder with 500 and has no PROPFIND.
    let Some(dav) = NginxDav::start() else { return };
    let (s, unpinned) = pinned_with_retention(&dav.url);
    let (report, _) = run(&s, &["monitor", "--download"], 0);
    assert_eq!(how(&report), ["uploaded"], "{report}");
    let old = dav.file("mirror/acme_tool/cli%2Fv1.1.0/tool linux.tar.gz");
    assert_eq!(
        read(&old),
        read(&s.path("downloads/acme_tool/cli%2Fv1.1.0/tool linux.tar.gz"))
    );
    std::fs::write(s.path("config.yaml"), &unpinned).expect("unpin");
    let (report, _) = run(&s, &["monitor", "--download"], 0);
    assert_eq!(how(&report), ["uploaded", "uploaded"], "{report}");
    assert!(
        dav.file("mirror/acme_tool/cli%2Fv1.2.0/tool.txt.sha256")
            .is_file()
    );
    assert!(
        !dav.file("mirror/acme_tool/cli%2Fv1.1.0").exists(),
        "deleted on the server: {report}"
    );
    let retention = &report["download_results"]["retention"];
    assert_eq!(retention["failed"], serde_json::json!([]), "{retention}");
}

#[test]
fn a_server_that_echoes_the_credential_gets_it_starred_in_the_error() {
    let store = HttpReceiver::start();
    let echo = "refused: you sent Authorization: Bearer echo-Tok-77";
    // One asset: asked for (absent), its two folders made, then every PUT refused with the echo.
    store.script(&[
        (404, ""),
        (201, ""),
        (201, ""),
        (503, echo),
        (503, echo),
        (503, echo),
    ]);
    let extra = format!(
        "  asset_patterns: [tool.txt]\n  http_storage: {{enabled: true, url: \"{}\", token: echo-Tok-77}}\n",
        store.url("/dav")
    );
    let s = FakeSetup::new(SCENARIO, &["acme/tool"], &extra);
    let out = s
        .command(None)
        .args(["-vv", "monitor", "--download"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("echo-Tok-77"), "{all}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let error = report["download_results"]["failed"][0]["error"].to_string();
    assert!(
        error.contains("HTTP 503") && error.contains("Authorization: ***"),
        "{report}"
    );
}

#[test]
fn a_file_whose_release_publishes_its_own_sha256_is_not_sent_again() {
    // The release's own `tool.tar.gz.sha256` holds the hash alone; our sidecar for
    // `tool.tar.gz` is `.tool.tar.gz.sha256` on the server too, and that is what says the file
    // is already there.
    let Some(dav) = Rclone::start() else { return };
    std::fs::create_dir(dav.file("mirror")).expect("collection");
    let tool = b"the tool's bytes".to_vec();
    let scenario = fake_github::Scenario::default()
        .with_repository(
            fake_github::Repository::new("acme", "tool").with_release(
                fake_github::Release::new("v1.0.0")
                    .with_asset(fake_github::Asset::with_bytes("tool.tar.gz", &tool))
                    .with_asset(fake_github::Asset::with_content(
                        "tool.tar.gz.sha256",
                        format!("{}\n", crate::support::sha256_hex(&tool)),
                    )),
            ),
        )
        .to_yaml()
        .expect("yaml");
    let s = FakeSetup::new(&scenario, &["acme/tool"], &storage(&dav.url, PASSWORD));
    let (report, _) = run(&s, &["monitor", "--download"], 0);
    assert_eq!(how(&report), ["uploaded", "uploaded"], "{report}");
    assert!(
        dav.file("mirror/acme_tool/v1.0.0/.tool.tar.gz.sha256")
            .is_file()
    );
    s.command(None)
        .args(["-q", "db", "forget", "acme/tool"])
        .assert()
        .success();
    std::fs::remove_dir_all(s.path("downloads")).expect("clear the local mirror");
    let (report, _) = run(&s, &["monitor", "--download"], 0);
    assert_eq!(
        how(&report),
        ["already-present", "already-present"],
        "{report}"
    );
}
