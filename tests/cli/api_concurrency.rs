//! The adaptive limit on API calls at once (`settings.concurrency` is its ceiling): it grows
//! while answers are clean and fast, and is cut when GitHub answers with rate limits or server
//! errors; the run still checks every repository.

use crate::support::FakeSetup;

const REPOS: usize = 60;

fn scenario(faults: &str) -> (String, Vec<String>) {
    let mut yaml = String::from("repositories:\n");
    let mut names = Vec::new();
    for i in 0..REPOS {
        yaml.push_str(&format!(
            "  - owner: acme\n    repo: r{i}\n    releases:\n      - tag_name: v1.0.{i}\n"
        ));
        names.push(format!("acme/r{i}"));
    }
    yaml.push_str(faults);
    (yaml, names)
}

/// Runs `monitor --explain` without a token (REST) and returns its stderr and report, and the
/// fake's request log.
fn run(
    faults: &str,
    extra: &str,
    verbose: bool,
) -> (String, serde_json::Value, Vec<fake_github::RecordedRequest>) {
    let (yaml, names) = scenario(faults);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = FakeSetup::new(&yaml, &names, extra);
    let mut cmd = s.monitor(None);
    cmd.arg("--explain");
    if verbose {
        cmd.arg("-vv");
    }
    let out = cmd.assert().success().get_output().clone();
    let report = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        report,
        s.fake.requests(),
    )
}

/// The `--explain` line's peak and current limit.
fn limits(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("API concurrency limit:"))
        .unwrap_or_else(|| panic!("no API concurrency line in {stderr}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn the_limit_grows_while_answers_are_clean_and_fast() {
    let (stderr, report, requests) = run("", "", false);
    assert_eq!(report["total_repositories_checked"], REPOS);
    // API calls share HTTP/2 connections (transfers get HTTP/1.1 ones of their own).
    assert!(
        requests.iter().all(|r| r.version == "HTTP/2.0"),
        "{requests:?}"
    );
    let connections: std::collections::BTreeSet<u64> =
        requests.iter().map(|r| r.connection).collect();
    assert!(connections.len() < 8, "{connections:?}");
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
    let (peak, now) = limits(&stderr);
    assert!(peak > 8, "it grew from 8: {stderr}");
    assert!(peak <= 32, "never above the ceiling: {stderr}");
    assert_eq!(peak, now, "nothing cut it: {stderr}");
}

#[test]
fn the_ceiling_is_settings_concurrency() {
    let (stderr, _, _) = run("", "settings:\n  concurrency: 3\n", false);
    assert_eq!(limits(&stderr), (3, 3), "{stderr}");
}

#[test]
fn rate_limits_and_server_errors_cut_it_and_every_repository_is_still_checked() {
    let faults = "faults:\n\
                  \x20 - {path_prefix: /repos/, secondary_rate_limit: {status: 429, retry_after: 0}, times: 2}\n\
                  \x20 - {path_prefix: /repos/, responses: [503]}\n";
    let (stderr, report, _) = run(faults, "", true);
    assert_eq!(report["total_repositories_checked"], REPOS);
    assert_eq!(
        report["errors"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    assert!(stderr.contains("API calls at once cut to"), "{stderr}");
    let (peak, now) = limits(&stderr);
    assert!(now <= peak, "{stderr}");
}

#[test]
fn rate_limit_delay_spaces_the_starts_of_api_calls() {
    // The seed tool's pause, kept as a spacing between API calls however many run at once.
    let (yaml, _) = scenario("");
    let names: Vec<String> = (0..4).map(|i| format!("acme/r{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = FakeSetup::new(&yaml, &names, "settings:\n  rate_limit_delay: 0.4\n");
    let out = s.monitor(None).assert().success().get_output().clone();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["total_repositories_checked"], 4);
    let mut times: Vec<std::time::SystemTime> = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/repos/"))
        .map(|r| r.received_at)
        .collect();
    times.sort();
    assert_eq!(times.len(), 4, "one listing per repository");
    // Starts are 0.4 s apart; arrival adds a little jitter (a new connection's handshake).
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]).unwrap_or_default();
        assert!(gap.as_secs_f64() >= 0.3, "calls {gap:?} apart: {times:?}");
    }
}
