//! S3-compatible storage against a real S3-compatible server (moto): artifact uploads from
//! `monitor --download`, the version database in a bucket (`--db s3://...`), a corrupt database
//! object, and concurrent writers.

use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use release_monitor::config::Env;
use release_monitor::db::{Recording, S3Db, VersionDb};
use release_monitor::repo::RepoId;
use release_monitor::storage::{
    ArtifactStore, S3ArtifactStore, S3Connection, StorageError, UploadHow, upload_verified,
};
use serde_json::Value;

use crate::support::moto::{Moto, S3_VARS, SECRET_KEY};
use crate::support::{FakeSetup, sha256_hex};

const TOKEN: &str = "ghp_S3TESTTOKEN0123456789SECRET";
/// An AWS session token: sent with every request, never printed.
const SESSION_TOKEN: &str = "session-TOKEN-never-printed-77";

const SCENARIO: &str = r#"
token: ghp_S3TESTTOKEN0123456789SECRET
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.2.0
        assets:
          - {name: tool-linux-amd64.tar.gz, content: "the tool for linux, version 1.2.0"}
          - {name: tool-darwin-arm64.tar.gz, size: 300000}
"#;

fn conn(moto: &Moto) -> S3Connection {
    S3Connection::from_settings(None, &Env::from_pairs(moto.env())).expect("S3 settings")
}

fn client(moto: &Moto, bucket: &str) -> Arc<dyn ObjectStore> {
    conn(moto).object_store(bucket).expect("S3 client")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The object's bytes, or `None` if it does not exist.
fn object(moto: &Moto, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let store = client(moto, bucket);
    let path = ObjectPath::parse(key).expect("key");
    runtime().block_on(async {
        match store.get(&path).await {
            Ok(r) => Some(r.bytes().await.expect("body").to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("GET {key}: {e}"),
        }
    })
}

fn keys(moto: &Moto, bucket: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    let store = client(moto, bucket);
    let mut keys: Vec<String> = runtime()
        .block_on(async { store.list(None).try_collect::<Vec<_>>().await })
        .expect("list")
        .into_iter()
        .map(|m| m.location.to_string())
        .collect();
    keys.sort();
    keys
}

fn clean(cmd: &mut Command) {
    for var in S3_VARS {
        cmd.env_remove(var);
    }
}

/// The binary in `dir` (no config file there), with moto's variables.
fn rm(moto: &Moto, dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("release-monitor").expect("binary");
    cmd.current_dir(dir);
    for var in ["RUST_LOG", "RELEASE_MONITOR_CONFIG", "VERSION_DB_PATH"] {
        cmd.env_remove(var);
    }
    clean(&mut cmd);
    cmd.envs(moto.env());
    cmd
}

/// `monitor --download` in `s` with the token and moto's variables; no secret may be printed.
fn monitor_download(s: &FakeSetup, moto: &Moto) -> std::process::Output {
    let mut cmd = s.command(Some(TOKEN));
    clean(&mut cmd);
    let out = cmd
        .envs(moto.env())
        .args(["monitor", "--download"])
        .output()
        .expect("runs");
    assert_no_secret(&out);
    out
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("JSON on stdout")
}

fn assert_no_secret(out: &std::process::Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains(SECRET_KEY),
            "the secret key was printed: {text}"
        );
        assert!(!text.contains(TOKEN), "the token was printed: {text}");
        assert!(
            !text.contains(SESSION_TOKEN),
            "the session token was printed: {text}"
        );
    }
}

#[test]
fn monitor_download_uploads_assets_and_sidecars_and_records_in_the_s3_database() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("artifacts");
    moto.create_bucket("state");
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        &format!(
            "  s3_storage: {{enabled: true, bucket: artifacts, prefix: mirror/, endpoint_url: \"{}\"}}\n",
            moto.endpoint
        ),
    );
    let db_url = "s3://state/rm/version_db.json";
    // The endpoint comes from the config here; credentials from the environment.
    let env: Vec<_> = moto
        .env()
        .into_iter()
        .filter(|(k, _)| *k != "S3_ENDPOINT")
        .collect();
    let mut cmd = s.command(Some(TOKEN));
    clean(&mut cmd);
    let out = cmd
        .envs(env.clone())
        .env("VERSION_DB_PATH", db_url)
        .args(["monitor", "--download"])
        .output()
        .expect("runs");
    assert_no_secret(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    let results = &report["download_results"];
    assert_eq!(results["failed"], serde_json::json!([]), "{results}");
    let uploaded = &results["downloaded"][0]["uploaded"];
    let base = "s3://artifacts/mirror/acme_tool/v1.2.0";
    assert_eq!(
        uploaded,
        &serde_json::json!([
            {"name": "tool-linux-amd64.tar.gz", "url": format!("{base}/tool-linux-amd64.tar.gz"), "how": "uploaded"},
            {"name": "tool-darwin-arm64.tar.gz", "url": format!("{base}/tool-darwin-arm64.tar.gz"), "how": "uploaded"},
        ]),
        "{results}"
    );

    // Exactly the assets and their sidecars, with the stored bytes.
    let prefix = "mirror/acme_tool/v1.2.0";
    assert_eq!(
        keys(&moto, "artifacts"),
        [
            format!("{prefix}/tool-darwin-arm64.tar.gz"),
            format!("{prefix}/tool-darwin-arm64.tar.gz.sha256"),
            format!("{prefix}/tool-linux-amd64.tar.gz"),
            format!("{prefix}/tool-linux-amd64.tar.gz.sha256"),
        ]
    );
    let local = s.path("downloads/acme_tool/v1.2.0");
    for name in ["tool-linux-amd64.tar.gz", "tool-darwin-arm64.tar.gz"] {
        let bytes = std::fs::read(local.join(name)).expect("local file");
        assert_eq!(
            object(&moto, "artifacts", &format!("{prefix}/{name}")).as_deref(),
            Some(bytes.as_slice()),
            "{name}"
        );
        let sidecar =
            object(&moto, "artifacts", &format!("{prefix}/{name}.sha256")).expect("sidecar object");
        assert_eq!(
            String::from_utf8_lossy(&sidecar),
            format!("{}  {name}\n", sha256_hex(&bytes))
        );
        assert_eq!(
            sidecar,
            std::fs::read(local.join(format!("{name}.sha256"))).expect("local sidecar")
        );
    }
    assert_eq!(
        object(
            &moto,
            "artifacts",
            &format!("{prefix}/tool-linux-amd64.tar.gz")
        )
        .as_deref(),
        Some(&b"the tool for linux, version 1.2.0"[..])
    );

    // Recorded in the bucket, not in a local file.
    assert!(!s.path("version_db.json").exists());
    let show = rm(&moto, s.dir.path())
        .args(["db", "show", "acme/tool", "--db", db_url])
        .output()
        .expect("runs");
    assert_eq!(show.status.code(), Some(0));
    let record = json(&show.stdout);
    assert_eq!(record["current_version"], "v1.2.0");
    assert_eq!(
        record["download_history"][0]["metadata"]["files"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Again, forced: the identical objects are not sent again.
    std::fs::write(s.path("report.json"), &out.stdout).expect("write report");
    let mut cmd = s.command(Some(TOKEN));
    clean(&mut cmd);
    let again = cmd
        .envs(env)
        .env("VERSION_DB_PATH", db_url)
        .args(["download", "--force", "--input", "report.json"])
        .output()
        .expect("runs");
    assert_no_secret(&again);
    assert_eq!(again.status.code(), Some(0));
    let again = json(&again.stdout);
    let hows: Vec<&str> = again["downloaded"][0]["uploaded"]
        .as_array()
        .expect("uploaded")
        .iter()
        .filter_map(|u| u["how"].as_str())
        .collect();
    assert_eq!(hows, ["already-present", "already-present"], "{again}");
}

#[test]
fn a_failed_upload_fails_the_release_and_it_is_not_recorded() {
    let Some(moto) = Moto::start() else { return };
    // The bucket does not exist, so every upload fails.
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        "  s3_storage: {enabled: true, bucket: no-such-bucket}\n",
    );
    let out = monitor_download(&s, &moto);
    assert_eq!(out.status.code(), Some(1));
    let results = &json(&out.stdout)["download_results"];
    assert_eq!(results["downloaded"], serde_json::json!([]), "{results}");
    let failed = results["failed"].as_array().expect("failed");
    assert!(!failed.is_empty());
    for f in failed {
        assert_eq!(f["repository"], "acme/tool");
        assert!(
            f["error"]
                .as_str()
                .is_some_and(|e| e.contains("upload failed") && e.contains("s3://no-such-bucket/")),
            "{f}"
        );
    }
    // Stored locally, but not recorded: the next run tries again.
    assert!(
        s.path("downloads/acme_tool/v1.2.0/tool-linux-amd64.tar.gz")
            .exists()
    );
    let db: Value = std::fs::read(s.path("version_db.json"))
        .map(|b| serde_json::from_slice(&b).expect("db parses"))
        .unwrap_or(Value::Null);
    assert!(db["repositories"]["acme/tool"].is_null(), "{db}");
}

#[test]
fn db_commands_round_trip_through_a_bucket_and_refuse_a_corrupt_object() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("state");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = "s3://state/team/version_db.json";
    for (repo, version) in [("cli/cli", "v2.40.0"), ("jqlang/jq", "jq-1.7.1")] {
        // At the most verbose level, with a session token: no credential is logged.
        let out = rm(&moto, dir.path())
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .args(["-vv", "db", "set", repo, version, "--db", db])
            .output()
            .expect("runs");
        assert_no_secret(&out);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(json(&out.stdout)["current_version"], version);
    }
    // VERSION_DB_PATH names it too.
    let out = rm(&moto, dir.path())
        .env("VERSION_DB_PATH", db)
        .args(["db", "show"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let all = json(&out.stdout);
    assert_eq!(all["cli/cli"]["current_version"], "v2.40.0");
    assert_eq!(all["jqlang/jq"]["current_version"], "jq-1.7.1");
    // The object is the seed tool's layout.
    let stored: Value =
        serde_json::from_slice(&object(&moto, "state", "team/version_db.json").expect("object"))
            .expect("parses");
    assert_eq!(stored["metadata"]["version"], "1.0");
    assert_eq!(
        stored["repositories"]["jqlang/jq"]["current_version"],
        "jq-1.7.1"
    );
    // The seed tool's variables name a database too.
    let out = rm(&moto, dir.path())
        .env("VERSION_DB_S3_BUCKET", "state")
        .env("VERSION_DB_S3_PREFIX", "team/")
        .args(["db", "show", "cli/cli"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out.stdout)["current_version"], "v2.40.0");
    assert!(!dir.path().join("version_db.json").exists());

    // A corrupt object is refused (exit 2, position named) and left untouched.
    let garbage = b"{\"metadata\": {\"version\": \"1.0\"},\n \"repositories\": [1, 2]}".to_vec();
    let store = client(&moto, "state");
    runtime()
        .block_on(store.put(
            &ObjectPath::parse("team/corrupt.json").expect("key"),
            PutPayload::from(garbage.clone()),
        ))
        .expect("put garbage");
    let corrupt = "s3://state/team/corrupt.json";
    for args in [
        vec!["db", "set", "a/b", "v1", "--db", corrupt],
        vec!["db", "forget", "--all", "--db", corrupt],
        vec!["db", "show", "--db", corrupt],
        vec!["db", "check", "--db", corrupt],
    ] {
        let out = rm(&moto, dir.path()).args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("s3://state/team/corrupt.json:2:") && stderr.contains("untouched"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        object(&moto, "state", "team/corrupt.json"),
        Some(garbage),
        "the corrupt object was written over"
    );

    // A plain-http endpoint off loopback is refused before any request.
    let out = rm(&moto, dir.path())
        .env("S3_ENDPOINT", "http://s3.example.com:9000")
        .args(["db", "show", "--db", db])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn two_processes_updating_the_s3_database_at_once_lose_nothing() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("state");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = "s3://state/shared/version_db.json";
    let writers: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|owner| {
            let program = assert_cmd::cargo::cargo_bin("release-monitor");
            let envs: Vec<_> = moto.env();
            let cwd = dir.path().to_path_buf();
            std::thread::spawn(move || {
                for i in 0..100 {
                    let mut cmd = std::process::Command::new(&program);
                    for var in S3_VARS {
                        cmd.env_remove(var);
                    }
                    cmd.current_dir(&cwd)
                        .env_remove("RUST_LOG")
                        .env_remove("VERSION_DB_PATH")
                        .envs(envs.clone())
                        .args(["-q", "db", "set", "--db", db])
                        .arg(format!("{owner}/repo-{i}"))
                        .arg(format!("v1.0.{i}"));
                    let out = cmd.output().expect("runs");
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "{owner}/repo-{i}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer thread");
    }
    let stored: Value =
        serde_json::from_slice(&object(&moto, "state", "shared/version_db.json").expect("object"))
            .expect("parses");
    let repos = stored["repositories"].as_object().expect("repositories");
    assert_eq!(repos.len(), 200);
    for owner in ["first", "second"] {
        for i in 0..100 {
            assert_eq!(
                repos[&format!("{owner}/repo-{i}")]["current_version"],
                format!("v1.0.{i}")
            );
        }
    }
}

#[test]
fn a_conflicting_write_is_re_read_and_re_applied() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("state");
    let location = "s3://state/conflict.json";
    let ours = S3Db::new(location, &conn(&moto)).expect("store");
    let theirs = S3Db::new(location, &conn(&moto)).expect("store");
    let set = |v: &str| Recording {
        version: v.into(),
        files: Vec::new(),
        download_time: 0.0,
        recorded_by: None,
    };
    let a: RepoId = "ours/a".parse().expect("repo");
    let b: RepoId = "theirs/b".parse().expect("repo");
    theirs.record_download(&b, &set("v0")).expect("create");
    // While our change is being applied, another writer updates the object: our conditional
    // write is refused, and the change is applied again to the newer database.
    let mut calls = 0;
    ours.update(&mut |db| {
        calls += 1;
        if calls == 1 {
            theirs.record_download(&b, &set("v1")).expect("their write");
        }
        db.record(&a, &set("v9"), &release_monitor::db::now());
        Ok(())
    })
    .expect("update");
    assert_eq!(calls, 2, "the change was not re-applied after the conflict");
    let db = theirs.load().expect("load");
    assert_eq!(db.current_version(&a), Some("v9"));
    assert_eq!(db.current_version(&b), Some("v1"));
}

#[test]
fn large_files_are_uploaded_in_parts_and_identical_objects_are_not_sent_again() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("artifacts");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.bin");
    let bytes: Vec<u8> = (0..12 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&file, &bytes).expect("write");
    let sha = sha256_hex(&bytes);
    let size = bytes.len() as u64;
    let store = S3ArtifactStore::new(&conn(&moto), "artifacts", "mirror")
        .expect("store")
        .with_multipart(5 * 1024 * 1024, 5 * 1024 * 1024);
    let rt = runtime();
    let key = "acme_tool/v1/big.bin";
    let how = rt
        .block_on(upload_verified(
            &store, key, "big.bin", &file, size, &sha, false,
        ))
        .expect("upload");
    assert_eq!(how, UploadHow::Uploaded);
    assert_eq!(
        object(&moto, "artifacts", "mirror/acme_tool/v1/big.bin").map(|b| sha256_hex(&b)),
        Some(sha.clone())
    );
    // A multipart object's ETag is `<md5 of the part md5s>-<parts>`: three parts.
    let meta = rt
        .block_on(
            client(&moto, "artifacts")
                .head(&ObjectPath::parse("mirror/acme_tool/v1/big.bin").expect("key")),
        )
        .expect("head");
    assert!(
        meta.e_tag
            .as_deref()
            .is_some_and(|e| e.trim_matches('"').ends_with("-3")),
        "{:?}",
        meta.e_tag
    );
    let how = rt
        .block_on(upload_verified(
            &store, key, "big.bin", &file, size, &sha, false,
        ))
        .expect("upload");
    assert_eq!(how, UploadHow::AlreadyPresent);

    // Bytes that no longer match the verified hash are not uploaded.
    let other = "acme_tool/v1/other.bin";
    let err = rt
        .block_on(store.upload_file(
            other,
            &format!("{other}.sha256"),
            &file,
            size,
            &"0".repeat(64),
        ))
        .expect_err("must refuse");
    assert!(matches!(err, StorageError::Changed { .. }), "{err}");
    assert_eq!(
        object(&moto, "artifacts", "mirror/acme_tool/v1/other.bin"),
        None
    );

    // Retention's hooks: list and delete a release folder.
    let listed = rt.block_on(store.list("acme_tool/")).expect("list");
    assert_eq!(
        listed,
        ["acme_tool/v1/big.bin", "acme_tool/v1/big.bin.sha256"]
    );
    assert_eq!(
        rt.block_on(store.delete_prefix("acme_tool/v1/"))
            .expect("delete"),
        2
    );
    assert!(keys(&moto, "artifacts").is_empty());
    rt.block_on(store.delete("acme_tool/v1/big.bin"))
        .expect("deleting a missing object is fine");
}

#[test]
fn retention_deletes_old_releases_in_the_bucket_and_locally() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("artifacts");
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        &format!(
            "  s3_storage: {{enabled: true, bucket: artifacts, prefix: mirror/, endpoint_url: \"{}\"}}\n  cleanup_old_versions: true\n  keep_versions: 1\n",
            moto.endpoint
        ),
    );
    let run = |what: &str| {
        let out = monitor_download(&s, &moto);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out.stdout)
    };
    run("first run");
    assert_eq!(keys(&moto, "artifacts").len(), 4);

    // A newer release appears: it is mirrored, and v1.2.0 goes from the bucket and the disk.
    let newer = SCENARIO.replace(
        "    releases:\n",
        "    releases:\n      - tag_name: v1.3.0\n        assets:\n          - {name: tool-linux-amd64.tar.gz, content: \"version 1.3.0\"}\n",
    );
    s.fake
        .set_scenario(fake_github::Scenario::from_yaml(&newer).expect("scenario"));
    let report = run("second run");
    let retention = &report["download_results"]["retention"];
    assert_eq!(retention["deleted"][0]["tag_name"], "v1.2.0", "{retention}");
    assert_eq!(retention["failed"], serde_json::json!([]), "{retention}");
    assert_eq!(
        keys(&moto, "artifacts"),
        [
            "mirror/acme_tool/v1.3.0/tool-linux-amd64.tar.gz",
            "mirror/acme_tool/v1.3.0/tool-linux-amd64.tar.gz.sha256",
        ]
    );
    assert!(!s.path("downloads/acme_tool/v1.2.0").exists());
    assert!(
        s.path("downloads/acme_tool/v1.3.0/tool-linux-amd64.tar.gz")
            .exists()
    );
    let deleted: Vec<String> = retention["deleted"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    assert!(
        deleted.contains(
            &"s3://artifacts/mirror/acme_tool/v1.2.0/tool-linux-amd64.tar.gz".to_string()
        ),
        "{deleted:?}"
    );
    let history = s
        .command(None)
        .args(["db", "history", "acme/tool"])
        .output()
        .expect("runs");
    let history = json(&history.stdout);
    assert_eq!(
        history[0]["metadata"]["recorded_by"], "retention",
        "{history}"
    );
    assert_eq!(history[0]["version"], "v1.2.0");
}

#[test]
fn the_plans_storage_spelling_uploads_to_its_bucket_and_prefix() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("plan-bucket");
    // The seed plan's `download.storage: {type: s3, bucket, prefix}` instead of `s3_storage`.
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        "  storage: {type: s3, bucket: plan-bucket, prefix: plan/}\n",
    );
    let out = monitor_download(&s, &moto);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = keys(&moto, "plan-bucket");
    assert!(
        keys.contains(&"plan/acme_tool/v1.2.0/tool-linux-amd64.tar.gz".to_string()),
        "{keys:?}"
    );
    assert_eq!(
        object(
            &moto,
            "plan-bucket",
            "plan/acme_tool/v1.2.0/tool-linux-amd64.tar.gz"
        )
        .as_deref(),
        Some(&b"the tool for linux, version 1.2.0"[..])
    );
}

#[test]
fn index_puts_the_static_pages_into_the_bucket_too() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("artifacts");
    let s = FakeSetup::new(
        SCENARIO,
        &["acme/tool"],
        &format!(
            "  s3_storage: {{enabled: true, bucket: artifacts, prefix: mirror/, endpoint_url: \"{}\"}}\n",
            moto.endpoint
        ),
    );
    let out = monitor_download(&s, &moto);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = s.command(None);
    clean(&mut cmd);
    let out = cmd.envs(moto.env()).arg("index").output().expect("runs");
    assert_no_secret(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    assert_eq!(
        report["uploaded"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
    // The same bytes as the local files, at the same relative keys under the prefix.
    for rel in [
        "index.html",
        "_site/acme_tool/index.html",
        "_site/acme_tool/releases.json",
    ] {
        let local = std::fs::read(s.path("downloads").join(rel)).expect("local copy");
        assert_eq!(
            object(&moto, "artifacts", &format!("mirror/{rel}")).as_deref(),
            Some(local.as_slice()),
            "{rel}"
        );
    }
}
