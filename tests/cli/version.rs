//! `release-monitor version ...`: the engine as users and scripts see it.

use assert_cmd::Command;
use predicates::prelude::*;

fn rm() -> Command {
    let mut cmd = Command::cargo_bin("release-monitor").expect("binary is built");
    // Keep the environment from leaking into the tests.
    cmd.env_remove("RUST_LOG")
        .env_remove("RELEASE_MONITOR_CONFIG");
    cmd
}

#[test]
fn compare_prints_exactly_one_symbol() {
    for (a, b, symbol) in [
        ("v1.2.3", "1.2.3", "=\n"),
        ("go1.22rc1", "go1.22.0", "<\n"),
        ("20.1.100", "20.1.5", ">\n"),
        ("OpenSSL_1_1_1w", "OpenSSL_1_1_1a", ">\n"),
        ("curl-8_5_0", "curl-8_10_1", "<\n"),
    ] {
        rm().args(["version", "compare", a, b])
            .assert()
            .success()
            .stdout(symbol);
    }
}

#[test]
fn compare_across_families_exits_3_and_names_the_tags() {
    rm().args(["version", "compare", "cli-v2.0.0", "v1.0.0"])
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicate::str::contains("cli-v2.0.0").and(predicate::str::contains("v1.0.0")));
}

#[test]
fn compare_with_a_non_version_exits_3_and_names_it() {
    rm().args(["version", "compare", "latest", "1.0.0"])
        .assert()
        .code(3)
        .stdout("")
        .stderr(predicate::str::contains("\"latest\" is not a version"));
}

#[test]
fn strategy_changes_the_order_of_labels() {
    rm().args(["version", "compare", "1.0.0-rc2", "1.0.0-rc10"])
        .assert()
        .success()
        .stdout("<\n");
    rm().args([
        "version",
        "compare",
        "--strategy",
        "semver-strict",
        "1.0.0-rc2",
        "1.0.0-rc10",
    ])
    .assert()
    .success()
    .stdout(">\n");
    rm().args([
        "version",
        "compare",
        "--strategy",
        "calver",
        "1.2.3",
        "2024.1",
    ])
    .assert()
    .code(3)
    .stderr(predicate::str::contains("calver"));
    rm().args([
        "version",
        "compare",
        "--strategy",
        "date",
        "2024-01-15T10:00:00Z",
        "2024-01-14T23:59:59Z",
    ])
    .assert()
    .success()
    .stdout(">\n");
}

#[test]
fn tag_filter_picks_the_version_from_the_first_group() {
    rm().args([
        "version",
        "compare",
        "--tag-filter",
        "^app-(.*)$",
        "app-1.9",
        "app-1.10",
    ])
    .assert()
    .success()
    .stdout("<\n");
    rm().args(["version", "compare", "--tag-filter", "(", "1", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--tag-filter"));
}

#[test]
fn sort_reads_stdin_and_warns_about_non_versions_on_stderr() {
    rm().args(["version", "sort"])
        .write_stdin("v1.10.0\nlatest\n  v1.2.0  \n\nv1.2.0-rc.1\nv1.9.0\n")
        .assert()
        .success()
        .stdout("v1.2.0-rc.1\nv1.2.0\nv1.9.0\nv1.10.0\n")
        .stderr(predicate::str::contains("latest"));
    rm().args(["version", "sort", "--reverse"])
        .write_stdin("1.0\n3.0\n2.0\n")
        .assert()
        .success()
        .stdout("3.0\n2.0\n1.0\n");
}

#[test]
fn parse_prints_the_parse_as_json() {
    let out = rm()
        .args(["version", "parse", "jq-1.7rc1+build.5"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("stdout is JSON");
    assert_eq!(v["family"], "jq-");
    assert_eq!(v["numbers"], serde_json::json!([1, 7]));
    assert_eq!(v["prerelease"], serde_json::json!(["rc", 1]));
    assert_eq!(v["build"], "build.5");
    assert_eq!(v["is_prerelease"], true);
}

#[test]
fn global_options_work_before_or_after_the_subcommand_and_logs_stay_off_stdout() {
    rm().args([
        "-vv",
        "--log-format",
        "json",
        "version",
        "compare",
        "1",
        "2",
    ])
    .assert()
    .success()
    .stdout("<\n");
    rm().args([
        "version",
        "compare",
        "1",
        "2",
        "-vv",
        "--log-format",
        "json",
    ])
    .assert()
    .success()
    .stdout("<\n");
    // Errors in JSON log format are JSON lines on stderr.
    let assert = rm()
        .args(["version", "parse", "nope", "--log-format", "json"])
        .assert()
        .code(3)
        .stdout("");
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    let line: serde_json::Value =
        serde_json::from_str(stderr.lines().next().unwrap_or_default()).expect("JSON log line");
    assert_eq!(line["level"], "ERROR");
}

#[test]
fn quiet_hides_warnings() {
    rm().args(["-qq", "version", "sort"])
        .write_stdin("latest\n1.0\n")
        .assert()
        .success()
        .stdout("1.0\n")
        .stderr("");
}

#[test]
fn usage_errors_exit_2() {
    rm().args(["version", "compare", "1.0"]).assert().code(2);
    rm().args(["version", "compare", "--strategy", "nope", "1", "2"])
        .assert()
        .code(2);
}
