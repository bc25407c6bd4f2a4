//! The fault-injection suite: `monitor --download` against the fake GitHub under each fault of
//! issue #8, one at a time. Every case ends either recovered (the release downloaded, its files
//! holding the true bytes, the database recording it) or with the faulted item reported failed
//! (no final file for it, no database entry for its release). Never a corrupt file under a final
//! name, never a wrong database entry: [`mirror_checks`](crate::support::mirror_checks) checks that after every run.
//!
//! The release is `acme/tool v2.0.0` with two assets: `tool.bin` (id 1001, 300 000 bytes), which
//! the faults hit, and `tool.txt` (id 1002), which they do not, so a failed `tool.bin` also shows
//! that a release is recorded only when all its assets are.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use fake_github::{Origin, RecordedRequest, Scenario};
use serde_json::Value;

use crate::support::FakeSetup as Setup;
use crate::support::mirror_checks::{TrueAsset, check_db, check_mirror, true_assets};
use crate::support::sha256_hex;

const RELEASE: &str = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v2.0.0
        assets:
          - {name: tool.bin, id: 1001, size: 300000}
          - {name: tool.txt, id: 1002, content: "notes for the tool, version 2.0.0"}
      - tag_name: v1.0.0
        assets:
          - {name: tool.bin, id: 901, size: 1000}
"#;

/// The faulted asset's API path and download path.
const ASSET_API: &str = "/repos/acme/tool/releases/assets/1001";
const ASSET_DOWNLOAD: &str = "/download/1001";
const LISTING: &str = "/repos/acme/tool/releases";

/// A fake serving [`RELEASE`] (with `scenario` in its place, if given) and `faults` (YAML list
/// items, indented by two spaces), with a config watching acme/tool.
struct Case {
    setup: Setup,
    scenario: Scenario,
}

impl Case {
    fn new(faults: &str) -> Case {
        Case::with(RELEASE, faults, "")
    }

    fn with(release: &str, faults: &str, extra_config: &str) -> Case {
        let yaml = if faults.is_empty() {
            release.to_string()
        } else {
            format!("{release}faults:\n{faults}")
        };
        let scenario = Scenario::from_yaml(&yaml).expect("scenario parses");
        let setup = Setup::new(&yaml, &["acme/tool"], extra_config);
        Case { setup, scenario }
    }

    /// Sets `github.timeout` (connect and read timeout) to `secs`.
    fn timeout(self, secs: &str) -> Case {
        let path = self.setup.path("config.yaml");
        let config = std::fs::read_to_string(&path).expect("config");
        let config = config.replace("  timeout: 5\n", &format!("  timeout: {secs}\n"));
        std::fs::write(&path, config).expect("write config");
        self
    }

    fn downloads(&self) -> PathBuf {
        self.setup.path("downloads")
    }

    fn assets(&self) -> Vec<TrueAsset> {
        true_assets(&self.setup.fake, &self.scenario)
    }

    /// Runs `monitor --download`, expects exit `code`, checks the mirror and database
    /// invariants, and returns the report.
    fn run(&self, code: i32) -> Value {
        let out = self
            .setup
            .command(None)
            .args(["monitor", "--download"])
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("JSON on stdout ({e}); stderr:\n{stderr}"));
        assert_eq!(
            out.status.code(),
            Some(code),
            "download_results: {:#}\nerrors: {}\nstderr:\n{stderr}",
            report["download_results"],
            report["errors"]
        );
        self.invariants();
        report
    }

    /// The mirror and the database hold only verified data, and the database parses.
    fn invariants(&self) {
        let assets = self.assets();
        check_mirror(&self.downloads(), &assets);
        check_db(
            &self.setup.path("version_db.json"),
            &self.downloads(),
            &assets,
        );
        Command::cargo_bin("release-monitor")
            .expect("binary")
            .args(["db", "check", "--db"])
            .arg(self.setup.path("version_db.json"))
            .assert()
            .success();
    }

    fn db(&self) -> Value {
        std::fs::read(self.setup.path("version_db.json"))
            .map(|b| serde_json::from_slice(&b).expect("database parses"))
            .unwrap_or(Value::Null)
    }

    /// Requests to `path` on `origin`.
    fn hits(&self, origin: Origin, path: &str) -> Vec<RecordedRequest> {
        self.setup
            .fake
            .requests()
            .into_iter()
            .filter(|r| r.origin == origin && r.path == path)
            .collect()
    }

    /// Removes the faults (the server recovers), keeping the request log.
    fn heal(&self) {
        self.setup
            .fake
            .set_scenario(Scenario::from_yaml(RELEASE).expect("scenario parses"));
    }

    /// The release came through: both files stored with the true bytes and sidecars, nothing
    /// failed, and the database records v2.0.0 with both files. Returns how `tool.bin` was
    /// stored (`downloaded`, `resumed`, ...).
    fn assert_recovered(&self, report: &Value) -> String {
        let results = &report["download_results"];
        assert_eq!(results["failed"], serde_json::json!([]), "{report}");
        assert_eq!(report["errors"], serde_json::json!([]), "{report}");
        let release = &results["downloaded"][0];
        assert_eq!(release["tag_name"], "v2.0.0", "{results}");
        let assets = self.assets();
        let mut how = String::new();
        for asset in assets.iter().filter(|a| a.tag == "v2.0.0") {
            let file = release["files"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["name"] == asset.name.as_str()))
                .unwrap_or_else(|| panic!("{} not in {release}", asset.name));
            assert_eq!(file["sha256"], asset.sha256.as_str());
            assert_eq!(file["verified_by"], "digest");
            let stored = std::fs::read(self.downloads().join(&asset.rel_path)).expect("stored");
            assert!(stored == asset.bytes, "{}", asset.rel_path);
            let sidecar = self.downloads().join(format!("{}.sha256", asset.rel_path));
            assert!(sidecar.exists(), "{}", sidecar.display());
            assert!(
                !self
                    .downloads()
                    .join(format!("{}.part", asset.rel_path))
                    .exists()
            );
            if asset.name == "tool.bin" {
                how = file["how"].as_str().unwrap_or_default().to_string();
            }
        }
        let db = self.db();
        assert_eq!(db["repositories"]["acme/tool"]["current_version"], "v2.0.0");
        how
    }

    /// `tool.bin` failed with an error containing `needle`; it has no final file and no sidecar,
    /// and the release is not recorded. `tool.txt` (not faulted) is stored and verified.
    fn assert_failed(&self, report: &Value, needle: &str) -> String {
        let results = &report["download_results"];
        let failed = results["failed"].as_array().cloned().unwrap_or_default();
        assert_eq!(failed.len(), 1, "{results}");
        assert_eq!(failed[0]["repository"], "acme/tool");
        assert_eq!(failed[0]["tag_name"], "v2.0.0");
        assert_eq!(failed[0]["asset"], "tool.bin", "{results}");
        let error = failed[0]["error"].as_str().unwrap_or_default().to_string();
        assert!(
            error.contains(needle),
            "error {error:?} does not mention {needle:?}"
        );
        assert_eq!(results["downloaded"], serde_json::json!([]), "{results}");
        let bin = self.downloads().join("acme_tool/v2.0.0/tool.bin");
        assert!(!bin.exists(), "no final file for a failed asset");
        assert!(!bin.with_file_name("tool.bin.sha256").exists());
        let txt = self.downloads().join("acme_tool/v2.0.0/tool.txt");
        assert_eq!(
            std::fs::read(&txt).expect("the other asset is stored"),
            b"notes for the tool, version 2.0.0"
        );
        assert!(
            self.db()["repositories"].get("acme/tool").is_none(),
            "a release with a failed asset is not recorded"
        );
        error
    }
}

/// The range start of a `Range: bytes=N-` request.
fn range_start(r: &RecordedRequest) -> Option<u64> {
    r.header("range")?
        .strip_prefix("bytes=")?
        .strip_suffix('-')?
        .parse()
        .ok()
}

#[test]
fn five_hundreds_in_bursts_are_retried_or_reported() {
    // A burst shorter than the retry budget (3 attempts), on each leg of the download.
    // (A retried download starts again at the API URL, so the two legs share one budget.)
    let case = Case::new(&format!(
        "  - {{path: {LISTING}, responses: [500, 502]}}\n\
         \x20 - {{path: {ASSET_API}, responses: [502]}}\n\
         \x20 - {{path: {ASSET_DOWNLOAD}, origin: assets, responses: [503]}}\n\
         \x20 - {{path: /download/1002, origin: assets, responses: [500, 504]}}\n"
    ));
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "downloaded");
    assert_eq!(case.hits(Origin::Api, LISTING).len(), 3);
    assert_eq!(case.hits(Origin::Api, ASSET_API).len(), 3);
    assert_eq!(case.hits(Origin::Assets, ASSET_DOWNLOAD).len(), 2);
    assert_eq!(case.hits(Origin::Assets, "/download/1002").len(), 3);

    // A burst as long as the retry budget on the asset host: the asset fails; the next run,
    // after the burst, recovers.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, responses: [500, 502, 503]}}\n"
    ));
    let report = case.run(1);
    let error = case.assert_failed(&report, "503");
    assert!(
        !error.contains("sig="),
        "no signed query in errors: {error}"
    );
    let report = case.run(0);
    case.assert_recovered(&report);

    // On the release listing: the repository is reported in `errors`, nothing is downloaded.
    let case = Case::new(&format!(
        "  - {{path: {LISTING}, responses: [502, 502, 502]}}\n"
    ));
    let report = case.run(1);
    assert_eq!(report["errors"][0]["repository"], "acme/tool", "{report}");
    assert!(case.hits(Origin::Assets, ASSET_DOWNLOAD).is_empty());
    assert!(!case.downloads().join("acme_tool").exists());
    assert_eq!(case.db(), Value::Null);
}

#[test]
fn a_connection_reset_mid_body_is_resumed_or_reported() {
    // Reset once, 100 000 bytes in: resumed with Range + If-Range from what was received.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, reset_after: 100000, times: 1}}\n"
    ));
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "resumed");
    let hits = case.hits(Origin::Assets, ASSET_DOWNLOAD);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits[0].header("range"), None);
    let start = range_start(&hits[1]).expect("the second request resumes");
    assert!(start > 0 && start <= 100_000, "{start}");
    assert!(hits[1].header("if-range").is_some());
    assert_eq!(hits[1].status, 206);

    // Reset once on the release listing (an API body): retried.
    let case = Case::new(&format!(
        "  - {{path: {LISTING}, reset_after: 10, times: 1}}\n"
    ));
    case.assert_recovered(&case.run(0));

    // A connection closed cleanly mid-body (FIN, not RST), once: resumed too.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, truncate_after: 50000, times: 1}}\n"
    ));
    assert_eq!(case.assert_recovered(&case.run(0)), "resumed");

    // Reset on every attempt: reported failed with the partial file kept only as .part; the
    // next run, once the server behaves, resumes it.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, reset_after: 60000}}\n"
    ));
    let report = case.run(1);
    case.assert_failed(&report, "cut off");
    let part = case.downloads().join("acme_tool/v2.0.0/tool.bin.part");
    let kept = std::fs::read(&part).expect("the partial transfer is kept as .part");
    assert!(!kept.is_empty() && kept.len() < 300_000);
    let truth = &case.assets()[0];
    assert!(truth.bytes.starts_with(&kept), "the .part is a prefix");
    case.heal();
    case.setup.fake.clear_requests();
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "resumed");
    let hits = case.hits(Origin::Assets, ASSET_DOWNLOAD);
    assert_eq!(hits.len(), 1);
    assert_eq!(range_start(&hits[0]), Some(kept.len() as u64));
}

#[test]
fn bytes_corrupted_in_flight_are_never_stored() {
    // Once: the verification fails, the bytes are deleted, and one download from scratch
    // succeeds.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, corrupt_at: 123456, times: 1}}\n"
    ));
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "downloaded");
    let hits = case.hits(Origin::Assets, ASSET_DOWNLOAD);
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|r| r.header("range").is_none()));

    // Corrupted in the resumed part of a cut transfer: the whole file fails verification, and
    // is fetched again from scratch, not resumed from bad bytes.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, truncate_after: 100000, times: 1}}\n\
         \x20 - {{path: {ASSET_DOWNLOAD}, origin: assets, corrupt_at: 5, times: 1}}\n"
    ));
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "downloaded");
    let hits = case.hits(Origin::Assets, ASSET_DOWNLOAD);
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert!(range_start(&hits[1]).is_some());
    assert_eq!(hits[2].header("range"), None);

    // Every time: reported failed as a checksum mismatch; no final file and no .part.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, corrupt_at: 0}}\n"
    ));
    let report = case.run(1);
    let error = case.assert_failed(&report, "sha256");
    let truth = &case.assets()[0];
    assert!(error.contains(&truth.sha256), "{error}");
    assert!(
        !case
            .downloads()
            .join("acme_tool/v2.0.0/tool.bin.part")
            .exists(),
        "bytes that failed verification are deleted"
    );
}

/// A release verified by a checksum file instead of API digests.
const SUMS_RELEASE: &str = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v2.0.0
        assets:
          - {name: tool.bin, id: 1001, content: "the tool binary, checked by SHA256SUMS", digest: null}
          - {name: SHA256SUMS, id: 1003, content: "@SUMS@"}
"#;

fn sums_release() -> String {
    let line = format!(
        "{}  tool.bin\n",
        sha256_hex(b"the tool binary, checked by SHA256SUMS")
    );
    SUMS_RELEASE.replace("@SUMS@", &line.replace('\n', "\\n"))
}

#[test]
fn a_checksum_file_corrupted_in_flight_never_verifies_a_file() {
    // The checksum file's own bytes are corrupted (the hex of tool.bin's line): the asset must
    // not be stored as verified against the damaged list, nor silently stored unverified.
    let release = sums_release();
    let case = Case::with(
        &release,
        "  - {path: /download/1003, origin: assets, corrupt_at: 3}\n",
        "",
    );
    let report = case.run(1);
    let results = &report["download_results"];
    assert!(
        !case.downloads().join("acme_tool/v2.0.0/tool.bin").exists(),
        "{results}"
    );
    assert!(case.db()["repositories"].get("acme/tool").is_none());
    let failed = results["failed"].as_array().cloned().unwrap_or_default();
    assert!(failed.iter().any(|f| f["asset"] == "tool.bin"), "{results}");

    // Corrupted once: the checksum file is fetched again, and everything verifies.
    let case = Case::with(
        &release,
        "  - {path: /download/1003, origin: assets, corrupt_at: 3, times: 1}\n",
        "",
    );
    let report = case.run(0);
    let files = &report["download_results"]["downloaded"][0]["files"];
    let bin = files
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "tool.bin"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(bin["verified_by"], "checksum-file", "{report}");
}

#[test]
fn a_checksum_file_that_cannot_be_fetched_fails_the_assets_it_would_verify() {
    // Without the checksum file there is nothing to verify tool.bin against: it fails (the
    // release is retried next run) rather than being stored as `verified_by: none`.
    let case = Case::with(
        &sums_release(),
        "  - {path: /download/1003, origin: assets, responses: [502, 502, 502]}\n",
        "",
    );
    let report = case.run(1);
    let failed = report["download_results"]["failed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        failed.iter().any(|f| f["asset"] == "tool.bin"
            && f["error"]
                .as_str()
                .is_some_and(|e| e.contains("SHA256SUMS"))),
        "{report}"
    );
    assert!(!case.downloads().join("acme_tool/v2.0.0/tool.bin").exists());
    assert!(case.db()["repositories"].get("acme/tool").is_none());
    // The next run gets it.
    let report = case.run(0);
    assert_eq!(
        report["download_results"]["downloaded"][0]["tag_name"],
        "v2.0.0"
    );
}

#[test]
fn a_wrong_digest_fails_the_asset_and_its_release() {
    let release = RELEASE.replace(
        "{name: tool.bin, id: 1001, size: 300000}",
        &format!(
            "{{name: tool.bin, id: 1001, size: 300000, digest: \"sha256:{}\"}}",
            "ab".repeat(32)
        ),
    );
    let case = Case::with(&release, "", "");
    let report = case.run(1);
    let error = case.assert_failed(&report, &"ab".repeat(32));
    assert!(error.contains("digest"), "{error}");
    // Downloaded twice (once more from scratch), then given up; nothing left behind.
    assert_eq!(case.hits(Origin::Assets, ASSET_DOWNLOAD).len(), 2);
    assert!(
        !case
            .downloads()
            .join("acme_tool/v2.0.0/tool.bin.part")
            .exists()
    );
    // The next run does not record it either, and does not fetch the good asset again.
    case.setup.fake.clear_requests();
    let report = case.run(1);
    case.assert_failed(&report, "digest");
    assert!(case.hits(Origin::Assets, "/download/1002").is_empty());
}

#[test]
fn a_stalled_transfer_times_out_and_is_resumed_or_reported() {
    // Stalled once, 50 000 bytes in, with a 1 s read timeout: resumed.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, stall_after: 50000, times: 1}}\n"
    ))
    .timeout("1");
    let started = Instant::now();
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "resumed");
    assert!(started.elapsed() < Duration::from_secs(20));
    let hits = case.hits(Origin::Assets, ASSET_DOWNLOAD);
    assert_eq!(hits.len(), 2);
    assert!(range_start(&hits[1]).is_some_and(|s| s <= 50_000));

    // Stalled every time: reported failed after the retry budget, not hung.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_DOWNLOAD}, origin: assets, stall_after: 1000}}\n"
    ))
    .timeout("1");
    let started = Instant::now();
    let report = case.run(1);
    case.assert_failed(&report, "3 attempt");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(case.hits(Origin::Assets, ASSET_DOWNLOAD).len(), 3);
}

#[test]
fn primary_and_secondary_rate_limits_are_waited_out_or_reported() {
    // Primary limits (403 and 429, X-RateLimit-Remaining 0) resetting within
    // github.max_rate_limit_wait, on the API and the asset host; secondary limits with
    // Retry-After. All waited out.
    let case = Case::new(&format!(
        "  - {{path: {LISTING}, rate_limited: {{status: 403, reset_in: 0, times: 1}}}}\n\
         \x20 - {{path: {ASSET_API}, rate_limited: {{status: 429, reset_in: 0, times: 1}}}}\n\
         \x20 - {{path: {ASSET_DOWNLOAD}, origin: assets, secondary_rate_limit: {{status: 403, retry_after: 1, times: 1}}}}\n\
         \x20 - {{path: /repos/acme/tool/releases/assets/1002, secondary_rate_limit: {{status: 429, retry_after: 0, times: 2}}}}\n"
    ));
    let report = case.run(0);
    assert_eq!(case.assert_recovered(&report), "downloaded");
    assert_eq!(case.hits(Origin::Api, LISTING).len(), 2);
    // The 429 and the asset host's limit each cost one more request of the API URL: a retried
    // download starts there again.
    assert_eq!(case.hits(Origin::Api, ASSET_API).len(), 3);
    assert_eq!(case.hits(Origin::Assets, ASSET_DOWNLOAD).len(), 2);

    // A primary limit resetting in an hour (beyond max_rate_limit_wait: 30): reported at once
    // with the reset time, not waited for.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_API}, rate_limited: {{status: 403, reset_in: 3600}}}}\n"
    ));
    let started = Instant::now();
    let report = case.run(1);
    case.assert_failed(&report, "rate limit");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(case.hits(Origin::Api, ASSET_API).len(), 1);

    // A secondary limit without Retry-After (wait at least a minute, beyond the 30 s allowed),
    // as 429: reported.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_API}, secondary_rate_limit: {{status: 429}}}}\n"
    ));
    let report = case.run(1);
    case.assert_failed(&report, "rate limit");

    // On the listing: the repository is reported in `errors`.
    let case = Case::new(&format!(
        "  - {{path: {LISTING}, rate_limited: {{status: 429, reset_in: 3600}}}}\n"
    ));
    let report = case.run(1);
    assert!(
        report["errors"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("rate limit")),
        "{report}"
    );
    assert_eq!(case.db(), Value::Null);
}

#[test]
fn a_redirect_to_plain_http_is_refused_before_any_connection() {
    // The API's asset redirect, and the storage host's own redirect, to plain http:// on a
    // non-loopback host. Refused by the redirect policy (so never connected to, and never
    // retried), and reported.
    for (fault, origin, path) in [
        (
            format!(
                "  - {{path: {ASSET_API}, redirect_to: \"http://example.invalid/tool.bin\"}}\n"
            ),
            Origin::Api,
            ASSET_API,
        ),
        (
            format!(
                "  - {{path: {ASSET_DOWNLOAD}, origin: assets, redirect_to: \"http://example.invalid/tool.bin\"}}\n"
            ),
            Origin::Assets,
            ASSET_DOWNLOAD,
        ),
    ] {
        let case = Case::new(&fault);
        let report = case.run(1);
        let error = case.assert_failed(&report, "plain http://");
        assert!(error.contains("example.invalid"), "{error}");
        assert_eq!(case.hits(origin, path).len(), 1, "not retried");
    }
}

#[test]
fn a_redirect_loop_is_cut_off() {
    // The storage host redirects every download back to itself.
    let case = Case::new(&format!(
        "  - {{path_prefix: {ASSET_DOWNLOAD}, origin: assets, redirect_to: \"{ASSET_DOWNLOAD}?again=1\"}}\n"
    ));
    let report = case.run(1);
    case.assert_failed(&report, "redirect");
    let hits = case.hits(Origin::Assets, ASSET_DOWNLOAD).len();
    assert!((2..=11).contains(&hits), "{hits} requests");

    // The API redirects the asset to itself.
    let case = Case::new(&format!(
        "  - {{path: {ASSET_API}, redirect_to: \"{ASSET_API}\"}}\n"
    ));
    let report = case.run(1);
    case.assert_failed(&report, "redirects");
    assert!(case.hits(Origin::Assets, ASSET_DOWNLOAD).is_empty());
}

#[test]
fn an_asset_whose_size_lies_is_reported() {
    // Larger than the bytes: the body ends short of it; resuming past the end is refused.
    let release = RELEASE.replace(
        "{name: tool.bin, id: 1001, size: 300000}",
        "{name: tool.bin, id: 1001, size: 300000, size_override: 400000}",
    );
    let case = Case::with(&release, "", "");
    let report = case.run(1);
    case.assert_failed(&report, "400000");
    assert!(case.hits(Origin::Assets, ASSET_DOWNLOAD).len() <= 4);

    // Smaller than the bytes: stopped as soon as more arrive than announced.
    let release = RELEASE.replace(
        "{name: tool.bin, id: 1001, size: 300000}",
        "{name: tool.bin, id: 1001, size: 300000, size_override: 200000}",
    );
    let case = Case::with(&release, "", "");
    let report = case.run(1);
    case.assert_failed(&report, "200000");
    assert!(
        !case
            .downloads()
            .join("acme_tool/v2.0.0/tool.bin.part")
            .exists()
    );
}
