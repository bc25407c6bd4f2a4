//! `release-monitor db ...`: the version database as users and pipelines see it.
//!
//! Concurrency and crash tests run the real binary: the locks and renames under test are between
//! processes, not threads.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("release-monitor")
}

/// The binary with a clean environment, run in `dir` (where no config.yaml exists).
fn rm(dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir);
    for var in [
        "RUST_LOG",
        "RELEASE_MONITOR_CONFIG",
        "VERSION_DB_PATH",
        "VERSION_DB_S3_BUCKET",
        "RELEASE_MONITOR_PAUSE_AT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).expect("database file");
    serde_json::from_slice(&bytes).expect("database parses")
}

fn stdout_json(cmd: &mut Command) -> Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is JSON")
}

fn python_fixture(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python-version_db.json");
    let dst = dir.join("version_db.json");
    std::fs::copy(src, &dst).expect("copy fixture");
    dst
}

#[test]
fn eight_processes_setting_100_repositories_each_lose_nothing() {
    for round in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("version_db.json");
        std::thread::scope(|s| {
            for worker in 0..8 {
                let db = &db;
                s.spawn(move || {
                    for i in 0..100 {
                        let status = StdCommand::new(bin())
                            .args(["-qq", "db", "set", "--db"])
                            .arg(db)
                            .arg(format!("owner{worker}/repo{i}"))
                            .arg(format!("v{round}.{worker}.{i}"))
                            .env_remove("RUST_LOG")
                            .stdout(Stdio::null())
                            .status()
                            .expect("spawn release-monitor");
                        assert!(status.success(), "worker {worker} set {i}: {status}");
                    }
                });
            }
        });
        let json = read_json(&db);
        let repos = json["repositories"].as_object().expect("repositories");
        assert_eq!(repos.len(), 800, "round {round}: every update is kept");
        for worker in 0..8 {
            for i in 0..100 {
                let rec = &repos[&format!("owner{worker}/repo{i}")];
                assert_eq!(rec["current_version"], format!("v{round}.{worker}.{i}"));
            }
        }
        rm(dir.path())
            .args(["db", "check", "--db"])
            .arg(&db)
            .assert()
            .success();
    }
}

/// Starts `db set` paused at `point` inside its write, kills it there, and returns the file.
fn kill_inside_write(point: &str) -> (tempfile::TempDir, Value, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = python_fixture(dir.path());
    let before = read_json(&db);
    let mut child = StdCommand::new(bin())
        .args(["db", "set", "--db"])
        .arg(&db)
        .args(["kubernetes/kubernetes", "v1.30.0"])
        .env("RELEASE_MONITOR_PAUSE_AT", point)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn release-monitor");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let paused = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains(&format!("paused at {point}")));
    assert!(paused, "the child reached {point}");
    child.kill().expect("kill");
    child.wait().expect("reap");
    let after = read_json(&db);
    (dir, before, after)
}

#[test]
fn a_process_killed_inside_a_write_leaves_the_old_or_the_new_state() {
    for point in ["db-write-half", "db-before-rename"] {
        let (dir, before, after) = kill_inside_write(point);
        assert_eq!(before, after, "killed at {point}: the old state is intact");
        let entries = || -> Vec<String> {
            std::fs::read_dir(dir.path())
                .expect("read dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        };
        assert!(
            entries().iter().any(|n| n.ends_with(".tmp")),
            "killed at {point}: the temp file is left behind"
        );
        // The next writer is not blocked by the dead process's lock, and cleans up its temp file.
        rm(dir.path())
            .args(["db", "set", "a/b", "v1", "--db"])
            .arg(dir.path().join("version_db.json"))
            .assert()
            .success();
        let mut left = entries();
        left.sort();
        assert_eq!(
            left,
            ["version_db.json", "version_db.json.lock"],
            "killed at {point}"
        );
    }
    let (_dir, _before, after) = kill_inside_write("db-after-rename");
    assert_eq!(
        after["repositories"]["kubernetes/kubernetes"]["current_version"], "v1.30.0",
        "killed after the rename: the new state is complete"
    );
}

#[test]
fn a_corrupt_database_exits_2_and_is_left_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("version_db.json");
    let garbage: &[u8] = b"{\"metadata\": {\"version\": \"1.0\"}, \"repositories\": {\x00garbage";
    std::fs::write(&db, garbage).expect("write garbage");
    for args in [
        vec!["db", "set", "a/b", "v1"],
        vec!["db", "forget", "--all"],
        vec!["db", "show"],
        vec!["db", "check"],
    ] {
        rm(dir.path())
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::contains("version_db.json:1:")
                    .and(predicate::str::contains("left untouched")),
            );
        assert_eq!(std::fs::read(&db).expect("read"), garbage, "{args:?}");
    }
    // The wrong schema is refused the same way.
    let other = br#"{"metadata": {"version": "2.0"}, "repositories": {}}"#;
    std::fs::write(&db, other).expect("write");
    rm(dir.path())
        .args(["db", "set", "a/b", "v1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("schema version \"2.0\""));
    assert_eq!(std::fs::read(&db).expect("read"), other);
}

#[test]
fn the_python_tools_file_round_trips_in_its_own_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = python_fixture(dir.path());
    let before = read_json(&db);

    let shown = stdout_json(rm(dir.path()).args(["db", "show", "kubernetes/kubernetes"]));
    assert_eq!(shown, before["repositories"]["kubernetes/kubernetes"]);

    rm(dir.path())
        .args(["db", "set", "cli/cli", "v2.40.0"])
        .assert()
        .success();
    rm(dir.path())
        .args(["db", "set", "jqlang/jq", "jq-1.8.0"])
        .assert()
        .success();
    let after = read_json(&db);

    // The same top-level layout, the same metadata keys (updated), records in the same order.
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(keys(&after), ["metadata", "repositories"]);
    assert_eq!(keys(&after["metadata"]), keys(&before["metadata"]));
    assert_eq!(
        after["metadata"]["created_at"],
        before["metadata"]["created_at"]
    );
    assert_eq!(
        keys(&after["repositories"]),
        ["kubernetes/kubernetes", "jqlang/jq", "cli/cli"]
    );
    // An untouched record is kept exactly.
    assert_eq!(
        after["repositories"]["kubernetes/kubernetes"],
        before["repositories"]["kubernetes/kubernetes"]
    );
    // A touched record keeps its old history and appends the new entry after it (the seed
    // tool's order: oldest first), in the tool's shape.
    let jq = &after["repositories"]["jqlang/jq"];
    assert_eq!(jq["current_version"], "jq-1.8.0");
    let history = jq["download_history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(
        history[0],
        before["repositories"]["jqlang/jq"]["download_history"][0]
    );
    assert_eq!(history[1]["version"], "jq-1.8.0");
    assert_eq!(history[1]["previous_version"], "jq-1.7.1");
    for key in ["version", "previous_version", "downloaded_at", "metadata"] {
        assert!(history[1].get(key).is_some(), "history entry has {key}");
    }
    for key in [
        "download_count",
        "total_assets",
        "downloaded_files",
        "download_time",
        "total_size",
    ] {
        assert!(
            history[1]["metadata"].get(key).is_some(),
            "metadata has {key}"
        );
    }
    // A new record has the tool's keys.
    assert_eq!(
        keys(&after["repositories"]["cli/cli"]),
        [
            "owner",
            "repo",
            "current_version",
            "last_updated",
            "download_history"
        ]
    );
    // Timestamps are ISO 8601 with an offset, like Python's isoformat().
    let ts = after["metadata"]["last_updated"]
        .as_str()
        .expect("timestamp");
    assert!(ts.ends_with("+00:00") && ts.contains('T'), "{ts}");

    let shown = stdout_json(rm(dir.path()).args(["db", "show"]));
    assert_eq!(shown, after["repositories"]);
}

#[test]
fn history_stats_and_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    python_fixture(dir.path());
    let history = stdout_json(rm(dir.path()).args(["db", "history", "kubernetes/kubernetes"]));
    assert_eq!(history[0]["version"], "v1.29.1");
    assert_eq!(history[1]["version"], "v1.29.0");

    rm(dir.path())
        .args([
            "db",
            "history",
            "kubernetes/kubernetes",
            "--format",
            "table",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("VERSION  PREVIOUS").and(predicate::str::contains(
                "v1.29.1  v1.29.0   2026-01-15 10:30:00  2      12345",
            )),
        );
    rm(dir.path())
        .args(["db", "show", "--format", "table"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "kubernetes/kubernetes  v1.29.1          2026-01-15 10:30:00  2",
        ));

    let stats = stdout_json(rm(dir.path()).args(["db", "stats"]));
    assert_eq!(stats["repositories"], 2);
    assert_eq!(stats["history_entries"], 3);
    assert_eq!(stats["files_recorded"], 4);
    assert_eq!(stats["bytes_recorded"], 12345 + 6000 + 2200);

    rm(dir.path())
        .args(["db", "history", "nobody/nothing"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "nobody/nothing is not in the version database",
        ));
    rm(dir.path())
        .args(["db", "set", "not-a-repo", "v1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("owner/repo"));
}

#[test]
fn forget_one_or_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = python_fixture(dir.path());
    let out = stdout_json(rm(dir.path()).args(["db", "forget", "jqlang/jq"]));
    assert_eq!(out["forgotten"], true);
    assert!(read_json(&db)["repositories"].get("jqlang/jq").is_none());
    let again = stdout_json(rm(dir.path()).args(["db", "forget", "jqlang/jq"]));
    assert_eq!(again["forgotten"], false);
    let all = stdout_json(rm(dir.path()).args(["db", "forget", "--all"]));
    assert_eq!(all["forgotten"], 1);
    assert_eq!(read_json(&db)["repositories"], serde_json::json!({}));
    rm(dir.path()).args(["db", "forget"]).assert().code(2);
}

#[test]
fn the_database_path_comes_from_flag_env_config_or_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Default: ./version_db.json when there is no config file.
    rm(d)
        .args(["db", "set", "a/default", "1"])
        .assert()
        .success();
    assert!(d.join("version_db.json").exists());
    // The config's download.version_db.
    std::fs::write(
        d.join("config.yaml"),
        "repositories: [{owner: a, repo: b}]\ndownload: {version_db: from-config.json}\n",
    )
    .expect("config");
    rm(d)
        .args(["db", "set", "a/config", "1"])
        .assert()
        .success();
    assert!(d.join("from-config.json").exists());
    // VERSION_DB_PATH beats the config.
    rm(d)
        .env("VERSION_DB_PATH", d.join("from-env.json"))
        .args(["db", "set", "a/env", "1"])
        .assert()
        .success();
    assert!(d.join("from-env.json").exists());
    // --db beats everything.
    rm(d)
        .env("VERSION_DB_PATH", d.join("from-env.json"))
        .args(["db", "set", "a/flag", "1", "--db"])
        .arg(d.join("from-flag.json"))
        .assert()
        .success();
    assert!(
        read_json(&d.join("from-flag.json"))["repositories"]
            .get("a/flag")
            .is_some()
    );
    // An explicitly named config that does not exist is an error.
    rm(d)
        .args(["--config", "missing.yaml", "db", "show"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.yaml"));
}

#[test]
fn check_reports_a_missing_file_and_inconsistencies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = stdout_json(rm(dir.path()).args(["db", "check"]));
    assert_eq!(out["exists"], false);
    let db = python_fixture(dir.path());
    let mut json = read_json(&db);
    json["repositories"]["jqlang/jq"]["current_version"] = Value::from("jq-9");
    let mut f = std::fs::File::create(&db).expect("rewrite");
    f.write_all(json.to_string().as_bytes()).expect("write");
    drop(f);
    let out = stdout_json(rm(dir.path()).args(["db", "check"]));
    assert_eq!(out["valid"], true);
    assert_eq!(out["warnings"].as_array().map(Vec::len), Some(1));
}

/// The seed tool's version-database code as `seed-system.md` describes it: `record` appends the
/// entry and keeps `download_history[-50:]`; `history` reads the tail and reverses it (most
/// recent first). Run with python3: `seed.py DB record REPO VERSION` or `seed.py DB history REPO`.
const SEED_TOOL: &str = r#"
import json, os, sys
from datetime import datetime, timezone

path, command, repo = sys.argv[1], sys.argv[2], sys.argv[3]
now = datetime.now(timezone.utc).isoformat()
if os.path.exists(path):
    db = json.load(open(path))
else:
    db = {"metadata": {"created_at": now, "version": "1.0"}, "repositories": {}}
if command == "record":
    owner, name = repo.split("/")
    rec = db["repositories"].setdefault(repo, {"owner": owner, "repo": name,
        "current_version": None, "last_updated": None, "download_history": []})
    rec["download_history"].append({"version": sys.argv[4],
        "previous_version": rec["current_version"], "downloaded_at": now,
        "metadata": {"download_count": 0, "total_assets": 0, "downloaded_files": [],
                     "download_time": 0.0, "total_size": 0}})
    rec["download_history"] = rec["download_history"][-50:]
    rec["current_version"] = sys.argv[4]
    rec["last_updated"] = now
    db["metadata"]["last_updated"] = now
    json.dump(db, open(path, "w"), indent=2)
elif command == "history":
    history = db["repositories"][repo]["download_history"]
    print(json.dumps([h["version"] for h in reversed(history)]))
"#;

fn seed_tool(dir: &Path, args: &[&str]) -> String {
    let script = dir.join("seed.py");
    std::fs::write(&script, SEED_TOOL).expect("write seed.py");
    let out = StdCommand::new("python3")
        .arg(&script)
        .arg(dir.join("version_db.json"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "seed tool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn file_history(dir: &Path, repo: &str) -> Vec<String> {
    read_json(&dir.join("version_db.json"))["repositories"][repo]["download_history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["version"].as_str().expect("version").to_string())
        .collect()
}

#[test]
fn history_round_trips_with_the_seed_tool_in_its_append_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k8s = "kubernetes/kubernetes";
    seed_tool(dir.path(), &["record", k8s, "v1.29.0"]);
    seed_tool(dir.path(), &["record", k8s, "v1.30.0"]);
    // The seed tool's file passes `db check` without a warning.
    let check = stdout_json(rm(dir.path()).args(["db", "check"]));
    assert_eq!(check["valid"], true);
    assert_eq!(check["warnings"], serde_json::json!([]), "{check}");

    rm(dir.path())
        .args(["-q", "db", "set", k8s, "v1.31.0"])
        .assert()
        .success();
    assert_eq!(
        file_history(dir.path(), k8s),
        ["v1.29.0", "v1.30.0", "v1.31.0"]
    );
    assert_eq!(
        seed_tool(dir.path(), &["history", k8s]),
        r#"["v1.31.0", "v1.30.0", "v1.29.0"]"#
    );
    seed_tool(dir.path(), &["record", k8s, "v1.32.0"]);
    let shown = stdout_json(rm(dir.path()).args(["db", "history", k8s]));
    let shown: Vec<&str> = shown
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["version"].as_str())
        .collect();
    assert_eq!(shown, ["v1.32.0", "v1.31.0", "v1.30.0", "v1.29.0"]);
    assert_eq!(
        stdout_json(rm(dir.path()).args(["db", "check"]))["warnings"],
        serde_json::json!([])
    );

    // At the cap, either tool's trim drops the oldest entries and keeps what the other wrote last.
    for i in 0..46 {
        seed_tool(dir.path(), &["record", k8s, &format!("v2.{i}.0")]);
    }
    rm(dir.path())
        .args(["-q", "db", "set", k8s, "v3.0.0"])
        .assert()
        .success();
    let history = file_history(dir.path(), k8s);
    assert_eq!(history.len(), 50);
    assert_eq!(history.first().map(String::as_str), Some("v1.30.0"));
    assert_eq!(history.last().map(String::as_str), Some("v3.0.0"));
    seed_tool(dir.path(), &["record", k8s, "v3.1.0"]);
    let history = file_history(dir.path(), k8s);
    assert_eq!(history.len(), 50);
    assert_eq!(history[0], "v1.31.0");
    assert_eq!(history[48..], ["v3.0.0", "v3.1.0"]);
}

#[test]
fn a_newest_first_history_is_read_and_rewritten_oldest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("version_db.json");
    let entry = |version: &str, at: &str| {
        serde_json::json!({"version": version, "previous_version": null, "downloaded_at": at,
                           "metadata": {}})
    };
    // An earlier release of this project wrote a/b newest first; the seed tool then appended
    // to c/d's newest-first history, mixing the orders.
    let json = serde_json::json!({
        "metadata": {"version": "1.0"},
        "repositories": {
            "a/b": {"owner": "a", "repo": "b", "current_version": "v3",
                    "download_history": [entry("v3", "2026-03-01T00:00:00.000000+00:00"),
                                         entry("v2", "2026-02-01T00:00:00.000000+00:00"),
                                         entry("v1", "2026-01-01T00:00:00+01:00")]},
            "c/d": {"owner": "c", "repo": "d", "current_version": "v4",
                    "download_history": [entry("v2", "2026-02-01T00:00:00.000000+00:00"),
                                         entry("v1", "2026-01-01T00:00:00.000000+00:00"),
                                         entry("v3", "2026-03-01T00:00:00.000000+00:00"),
                                         entry("v4", "2026-04-01T00:00:00.000000+00:00")]}
        }
    });
    std::fs::write(&db, json.to_string()).expect("write db");
    let check = stdout_json(rm(dir.path()).args(["db", "check"]));
    assert_eq!(check["warnings"], serde_json::json!([]), "{check}");
    let shown = stdout_json(rm(dir.path()).args(["db", "history", "c/d"]));
    assert_eq!(shown[0]["version"], "v4");
    assert_eq!(shown[3]["version"], "v1");
    // Reading changes nothing on disk; the next write stores both oldest first.
    assert_eq!(read_json(&db), json);
    rm(dir.path())
        .args(["-q", "db", "set", "e/f", "v1"])
        .assert()
        .success();
    assert_eq!(file_history(dir.path(), "a/b"), ["v1", "v2", "v3"]);
    assert_eq!(file_history(dir.path(), "c/d"), ["v1", "v2", "v3", "v4"]);
}
