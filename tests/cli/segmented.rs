//! Segmented transfers (`download.segments`): a large asset comes as ranged pieces over several
//! connections into one pre-sized part file, resumes piece by piece after a cut or a kill, and
//! falls back to one stream when the server ignores `Range` or the asset changes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::{Origin, RecordedRequest, Scenario};
use serde_json::Value;

use crate::support::{FakeSetup, files_under, sha256_hex};

const MIB: u64 = 1024 * 1024;
/// Five pieces of 4 MiB (the smallest piece).
const SIZE: u64 = 20 * MIB;
const ASSET: &str = "big-linux-amd64.tar.gz";
const TOKEN: &str = "ghp_SEGMENTS0123456789SECRET";

fn scenario(size: u64) -> String {
    with_seed(size, ASSET)
}

/// The release with its asset's bytes seeded by `seed`: another seed is a re-upload with other
/// bytes of the same size.
fn with_seed(size: u64, seed: &str) -> String {
    format!(
        "token: {TOKEN}\n\
         repositories:\n  - owner: acme\n    repo: big\n    releases:\n\
         \x20     - tag_name: v1.0.0\n        assets:\n\
         \x20         - {{name: {ASSET}, size: {size}, seed: {seed}}}\n"
    )
}

/// Puts `faults` (YAML list items) into the fake's scenario.
fn with_faults(s: &FakeSetup, faults: &str) {
    let yaml = format!("{}faults:\n{faults}", scenario(SIZE));
    s.fake
        .set_scenario(Scenario::from_yaml(&yaml).expect("scenario with faults"));
}

fn setup(connections: u32) -> FakeSetup {
    FakeSetup::new(
        &scenario(SIZE),
        &["acme/big"],
        &format!(
            "  segments: {{connections: {connections}, min_size: {}}}\n",
            8 * MIB
        ),
    )
}

/// The asset-origin GETs of the asset, in order.
fn asset_gets(s: &FakeSetup) -> Vec<RecordedRequest> {
    s.fake
        .requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Assets && r.path.starts_with("/download/"))
        .collect()
}

/// The asset's API URL requests (each one counts against the rate limit).
fn api_asset_calls(s: &FakeSetup) -> usize {
    s.fake
        .requests()
        .iter()
        .filter(|r| r.origin == Origin::Api && r.path.contains("/releases/assets/"))
        .count()
}

/// `bytes=A-B` as `(A, B)`.
fn range(r: &RecordedRequest) -> Option<(u64, u64)> {
    let (a, b) = r.header("range")?.strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn run(s: &FakeSetup, code: i32) -> Value {
    let out = s
        .command(Some(TOKEN))
        .args(["monitor", "--download"])
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("JSON on stdout")
}

fn stored(s: &FakeSetup) -> Vec<u8> {
    std::fs::read(s.path("downloads/acme_big/v1.0.0").join(ASSET)).expect("the stored asset")
}

fn true_bytes(s: &FakeSetup) -> Vec<u8> {
    s.fake
        .asset("acme", "big", "v1.0.0", ASSET)
        .expect("served")
        .bytes
}

#[test]
fn a_large_asset_comes_in_ranged_pieces_over_several_connections() {
    let s = setup(4);
    let report = run(&s, 0);
    assert_eq!(stored(&s), true_bytes(&s));
    let file = &report["download_results"]["downloaded"][0]["files"][0];
    assert_eq!(file["how"], "downloaded", "{file}");
    assert_eq!(file["sha256"], sha256_hex(&true_bytes(&s)), "{file}");
    // Five pieces, each asked for once, exactly covering the file; all but the probe carry
    // If-Range, and none carries the token.
    let gets = asset_gets(&s);
    let mut ranges: Vec<(u64, u64)> = gets.iter().filter_map(range).collect();
    assert_eq!(ranges.len(), gets.len(), "every GET is ranged: {gets:?}");
    ranges.sort();
    let expected: Vec<(u64, u64)> = (0..5)
        .map(|i| (i * 4 * MIB, (i + 1) * 4 * MIB - 1))
        .collect();
    assert_eq!(ranges, expected);
    assert_eq!(
        gets.iter()
            .filter(|r| r.header("if-range").is_none())
            .count(),
        1
    );
    assert!(gets.iter().all(|r| r.header("authorization").is_none()));
    // Each piece has a connection of its own (HTTP/1.1, never multiplexed), and there are no
    // more of them than `connections`.
    assert!(gets.iter().all(|r| r.version == "HTTP/1.1"), "{gets:?}");
    let connections: std::collections::BTreeSet<u64> = gets.iter().map(|r| r.connection).collect();
    assert!((2..=4).contains(&connections.len()), "{connections:?}");
    assert_eq!(s.fake.asset_bytes_sent(), SIZE);
    // One API call for the whole transfer: the pieces go straight to the storage link.
    assert_eq!(api_asset_calls(&s), 1);
    // Nothing of ours is left beside the file but its sidecar.
    let files = files_under(&s.path("downloads"));
    assert_eq!(
        files,
        vec![
            format!("acme_big/v1.0.0/{ASSET}"),
            format!("acme_big/v1.0.0/{ASSET}.sha256"),
        ]
    );
}

#[test]
fn a_small_asset_or_one_connection_is_one_stream() {
    for (connections, size) in [(1, SIZE), (4, 4 * MIB)] {
        let s = FakeSetup::new(
            &scenario(size),
            &["acme/big"],
            &format!(
                "  segments: {{connections: {connections}, min_size: {}}}\n",
                8 * MIB
            ),
        );
        run(&s, 0);
        assert_eq!(stored(&s), true_bytes(&s));
        let gets = asset_gets(&s);
        assert_eq!(gets.len(), 1, "{gets:?}");
        assert!(gets[0].header("range").is_none());
    }
}

#[test]
fn a_server_that_ignores_range_gets_one_stream() {
    let s = setup(4);
    with_faults(&s, "  - {origin: assets, ignore_range: true}\n");
    let report = run(&s, 0);
    assert_eq!(stored(&s), true_bytes(&s));
    assert_eq!(
        report["download_results"]["downloaded"][0]["files"][0]["how"],
        "downloaded"
    );
    // The probe (answered whole, and dropped), then one plain GET.
    let gets = asset_gets(&s);
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(range(&gets[0]).is_some() && gets[1].header("range").is_none());
}

#[test]
fn a_cut_piece_resumes_where_it_was_cut() {
    let s = setup(4);
    with_faults(
        &s,
        &format!(
            "  - {{origin: assets, truncate_after: {}, times: 2}}\n",
            MIB + 12_345
        ),
    );
    run(&s, 0);
    assert_eq!(stored(&s), true_bytes(&s));
    // Two pieces were cut once each; each resumed at its first missing byte, so nothing was sent
    // twice.
    assert_eq!(s.fake.asset_bytes_sent(), SIZE);
    let resumed: Vec<(u64, u64)> = asset_gets(&s)
        .iter()
        .filter_map(range)
        .filter(|(a, _)| a % (4 * MIB) != 0)
        .collect();
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    assert!(resumed.iter().all(|(a, _)| a % (4 * MIB) == MIB + 12_345));
}

/// What the piece map at `path` records as synced (0 while it cannot be read).
fn synced_bytes(path: &std::path::Path) -> u64 {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|m| {
            m["done"]
                .as_array()
                .map(|d| d.iter().filter_map(Value::as_u64).sum())
        })
        .unwrap_or(0)
}

/// Starts `monitor --download` with every asset body held once `bytes` are out, and returns it
/// once the hold is reached, with the deadline for whatever the caller waits for next.
fn run_until_held(s: &FakeSetup, bytes: u64) -> (std::process::Child, Instant) {
    s.fake.hold_assets_after(bytes);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("release-monitor"))
        .current_dir(s.dir.path())
        .env_clear()
        .env("GITHUB_TOKEN", TOKEN)
        .args(["monitor", "--download"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !s.fake.wait_for_hold(Duration::from_millis(20)) {
        assert!(child.try_wait().expect("try_wait").is_none(), "it ended");
        assert!(
            Instant::now() < deadline,
            "the transfer never reached the hold"
        );
    }
    (child, deadline)
}

#[test]
fn killed_mid_piece_the_next_run_fetches_only_what_was_not_synced() {
    let s = setup(2);
    // Hold every body once 10 MiB are out: each of the two connections is past its first piece
    // (4 MiB, synced when complete) and into its second.
    let (mut child, deadline) = run_until_held(&s, 10 * MIB);
    // The syncer records the completed pieces off the transfers' path: wait until it has.
    let dir = s.path("downloads/acme_big/v1.0.0");
    let map_path = dir.join(format!(".{ASSET}.part.pieces"));
    while synced_bytes(&map_path) < 8 * MIB {
        assert!(child.try_wait().expect("try_wait").is_none(), "it ended");
        assert!(
            Instant::now() < deadline,
            "the completed pieces were never recorded"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    s.fake.release_assets();

    let part = dir.join(format!(".{ASSET}.part"));
    assert_eq!(std::fs::metadata(&part).expect("the part file").len(), SIZE);
    let map: Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!(".{ASSET}.part.pieces"))).expect("the piece map"),
    )
    .expect("it is JSON");
    let done: Vec<u64> = map["done"]
        .as_array()
        .expect("done")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    let synced: u64 = done.iter().sum();
    assert!(synced >= 8 * MIB, "two pieces were synced: {map}");
    // What the map records is on disk.
    let on_disk = std::fs::read(&part).expect("read the part file");
    let truth = true_bytes(&s);
    for (i, d) in done.iter().enumerate() {
        let start = i * 4 * MIB as usize;
        assert_eq!(
            on_disk[start..start + *d as usize],
            truth[start..start + *d as usize],
            "piece {i}"
        );
    }

    s.fake.clear_requests();
    let sent_before = s.fake.asset_bytes_sent();
    let report = run(&s, 0);
    assert_eq!(stored(&s), truth);
    assert_eq!(
        report["download_results"]["downloaded"][0]["files"][0]["how"],
        "resumed"
    );
    // Only what the map did not record as synced was fetched again, each request with If-Range.
    assert_eq!(s.fake.asset_bytes_sent() - sent_before, SIZE - synced);
    let gets = asset_gets(&s);
    assert!(
        gets.iter().all(|r| r.header("if-range").is_some()),
        "{gets:?}"
    );
    for (a, b) in gets.iter().filter_map(range) {
        let i = (a / (4 * MIB)) as usize;
        assert_eq!(
            a,
            i as u64 * 4 * MIB + done[i],
            "piece {i} resumed at its synced end"
        );
        assert_eq!(b, ((i as u64 + 1) * 4 * MIB).min(SIZE) - 1);
    }
    assert!(!part.exists());
}

#[test]
fn an_asset_changed_between_runs_starts_over_and_verifies() {
    let s = setup(2);
    let (mut child, _) = run_until_held(&s, 6 * MIB);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    s.fake.release_assets();
    // The same release, re-uploaded with other bytes of the same size (another ETag).
    s.fake
        .set_scenario(Scenario::from_yaml(&with_seed(SIZE, "re-upload")).expect("scenario"));
    s.fake.clear_requests();
    let sent_before = s.fake.asset_bytes_sent();
    run(&s, 0);
    let truth = true_bytes(&s);
    assert_eq!(stored(&s), truth);
    assert_eq!(sha256_hex(&stored(&s)), sha256_hex(&truth));
    // The resumed pieces were answered whole (If-Range no longer matches): the transfer started
    // over with a new probe, and the whole new file came again.
    let gets = asset_gets(&s);
    assert!(
        gets.iter()
            .any(|r| r.header("if-range").is_some() && r.status == 200),
        "{gets:?}"
    );
    assert!(s.fake.asset_bytes_sent() - sent_before >= SIZE);
}

#[test]
fn a_piece_corrupted_in_flight_fails_the_hash_and_the_file_comes_again_whole() {
    let s = setup(4);
    with_faults(&s, "  - {origin: assets, corrupt_at: 1000, times: 1}\n");
    let report = run(&s, 0);
    assert_eq!(stored(&s), true_bytes(&s));
    assert_eq!(
        report["download_results"]["downloaded"][0]["files"][0]["how"],
        "downloaded"
    );
    // The damaged bytes were never resumed from: the whole file came twice.
    assert_eq!(s.fake.asset_bytes_sent(), 2 * SIZE);
    assert!(
        !s.path("downloads/acme_big/v1.0.0")
            .join(format!(".{ASSET}.part.pieces"))
            .exists()
    );
}

#[test]
fn a_storage_link_that_fails_is_asked_for_again_through_the_api() {
    let s = setup(4);
    // The second request to the storage host (the first piece after the probe) is refused, as
    // an expired signed link is.
    with_faults(&s, "  - {origin: assets, responses: [403], after: 1}\n");
    run(&s, 0);
    assert_eq!(stored(&s), true_bytes(&s));
    // The API was asked again (by the worker that met the refusal, and by any other that
    // needed the link before a fresh one was known), not once per piece (5 pieces).
    let calls = api_asset_calls(&s);
    assert!((2..=4).contains(&calls), "{calls} API calls");
    // Every byte of the asset once (plus the refusal's short error body).
    let sent = s.fake.asset_bytes_sent();
    assert!((SIZE..SIZE + 1024).contains(&sent), "{sent}");
}
