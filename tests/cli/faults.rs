//! The fault-injection suite: `monitor --download` against the fake GitHub under each fault of
//! issue #8, one at a time. Every case ends either recovered (the release downloaded, its files
//! holding the true bytes, the database recording it) or with the faulted item reported failed
//! (no final file for it, no database entry for its release). Never a corrupt file under a final
//! name, never a wrong database entry: [`mirror_checks`](crate::support::mirror_checks) checks that after every run.
//!
//! The release is `acme/tool v2.0.0` with two assets: `tool.bin` (id 1001, 300 000 bytes), which
//! the faults hit, and `tool.txt` (id 1002), which they do not, so a failed `tool.bin` also shows
//! that a release is recorded only when all its assets are.
//!
//! The last cases turn signatures on (`require: signature`) and fault a *signature* asset (a
//! `.minisig`, a checksum file's `.asc`): retried, the file ends verified by its signature; not,
//! the files it signs fail with a message naming it, while the other files and repositories go
//! on. Regression tests for the bugs these cases found are at the end.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use fake_github::{Asset, Origin, RecordedRequest, Release, Repository, Scenario};
use serde_json::Value;

use crate::support::FakeSetup as Setup;
use crate::support::mirror_checks::{TrueAsset, check_db, check_mirror, true_assets};
use crate::support::sha256_hex;
use crate::support::signers::{Gpg, Minisign};

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
    /// What [`Case::heal`] serves: the scenario without its faults.
    healed: Scenario,
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
        let healed = Scenario::from_yaml(release).expect("scenario parses");
        let setup = Setup::new(&yaml, &["acme/tool"], extra_config);
        Case {
            setup,
            scenario,
            healed,
        }
    }

    /// Sets `download.timeout` (the transfers' connect and read timeout) to `secs`, and
    /// `github.timeout` (API calls) to 60 s: a stalled transfer cut well before 60 s shows that
    /// transfers obey `download.timeout`, not `github.timeout`.
    fn timeout(self, secs: &str) -> Case {
        let path = self.setup.path("config.yaml");
        let config = std::fs::read_to_string(&path).expect("config");
        assert!(
            config.contains("  timeout: 5.0\n"),
            "the setup sets download.timeout"
        );
        let config = config
            .replace("  timeout: 5.0\n", &format!("  timeout: {secs}\n"))
            .replace("  timeout: 5\n", "  timeout: 60\n");
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
        self.setup.fake.set_scenario(self.healed.clone());
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
            assert!(!self.downloads().join(part_rel(&asset.rel_path)).exists());
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
    let part = case.downloads().join("acme_tool/v2.0.0/.tool.bin.part");
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
            .join("acme_tool/v2.0.0/.tool.bin.part")
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
            .join("acme_tool/v2.0.0/.tool.bin.part")
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
            .join("acme_tool/v2.0.0/.tool.bin.part")
            .exists()
    );
}

// Faults on signature assets, with `verification: {signature: true, require: signature}`: the
// downloader fetches a release's signatures while planning and checks each file against them
// before it takes its final name. A fault on a signature must end like a fault on any asset:
// retried and recovered (the file verified by its signature), or the files it signs failed (no
// final file, release not recorded, the message naming the signature) while the rest go on.
//
// Two worlds, signed by real `minisign` and `gpg` keys made for the test:
// - minisign: acme/tool v2.0.0 has `tool.bin` (300 000 bytes) and `tool.txt`, each with its
//   `.minisig`; the faults hit `tool.bin.minisig` (id 1004);
// - OpenPGP: acme/tool v2.0.0 has `tool.bin` and `tool.txt` (no API digest: only `SHA256SUMS`
//   lists them), `SHA256SUMS` with a detached `SHA256SUMS.asc` (id 1007), which the faults hit,
//   and `notes.txt` with its own `notes.txt.asc`, which does not depend on it;
// and in both, acme/other v1.0.0 (`other.bin` and its `.minisig`), which the faults never touch.

const STRICT: &str = "  verification: {signature: true, require: signature}\n";
const MINISIG_API: &str = "/repos/acme/tool/releases/assets/1004";
const MINISIG_DOWNLOAD: &str = "/download/1004";
const SUMS_SIG_DOWNLOAD: &str = "/download/1007";

/// Fresh signing keys, made by the real tools.
struct Signers {
    _dir: tempfile::TempDir,
    minisign: Minisign,
    gpg: Gpg,
}

impl Signers {
    fn new() -> Signers {
        let dir = tempfile::tempdir().expect("tempdir");
        let minisign = Minisign::new(dir.path(), "maintainer");
        let gpg = Gpg::new(dir.path(), "maintainer");
        Signers {
            _dir: dir,
            minisign,
            gpg,
        }
    }

    /// `signing` for a repository signed with the minisign key.
    fn minisign_signing(&self) -> String {
        format!("{{minisign: [\"{}\"]}}", self.minisign.public())
    }

    fn minisign_label(&self) -> String {
        format!("minisign:{}", self.minisign.public())
    }

    fn pgp_label(&self) -> String {
        format!("pgp:0x{}", self.gpg.fingerprint())
    }
}

/// An asset with fixed bytes and id.
fn asset(name: &str, id: u64, bytes: &[u8]) -> Asset {
    let mut a = Asset::with_bytes(name, bytes);
    a.id = Some(id);
    a
}

/// 300 000 bytes that are not text.
fn tool_bin() -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(1001);
    (0..300_000).map(|_| rng.u8(..)).collect()
}

const TOOL_TXT: &[u8] = b"notes for the tool, version 2.0.0";

/// acme/other v1.0.0, minisign-signed: the repository no fault touches.
fn other_repo(s: &Signers) -> Repository {
    let bytes = b"the other tool".as_slice();
    Repository::new("acme", "other").with_release(
        Release::new("v1.0.0")
            .with_asset(asset("other.bin", 2001, bytes))
            .with_asset(asset(
                "other.bin.minisig",
                2002,
                s.minisign.sign(bytes).as_bytes(),
            )),
    )
}

/// The minisign world.
fn minisign_world(s: &Signers) -> Scenario {
    let bin = tool_bin();
    let release = Release::new("v2.0.0")
        .with_asset(asset("tool.bin", 1001, &bin))
        .with_asset(asset(
            "tool.bin.minisig",
            1004,
            s.minisign.sign(&bin).as_bytes(),
        ))
        .with_asset(asset("tool.txt", 1002, TOOL_TXT))
        .with_asset(asset(
            "tool.txt.minisig",
            1005,
            s.minisign.sign(TOOL_TXT).as_bytes(),
        ));
    Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(release))
        .with_repository(other_repo(s))
}

/// The OpenPGP world: a signed checksum file.
fn pgp_world(s: &Signers) -> Scenario {
    let bin = tool_bin();
    let sums = format!(
        "{}  tool.bin\n{}  tool.txt\n",
        sha256_hex(&bin),
        sha256_hex(TOOL_TXT)
    );
    let no_digest = |mut a: Asset| {
        a.digest = fake_github::Digest::Omit;
        a
    };
    let notes = b"release notes, signed on their own".as_slice();
    let release = Release::new("v2.0.0")
        .with_asset(no_digest(asset("tool.bin", 1001, &bin)))
        .with_asset(no_digest(asset("tool.txt", 1002, TOOL_TXT)))
        .with_asset(asset("SHA256SUMS", 1006, sums.as_bytes()))
        .with_asset(asset(
            "SHA256SUMS.asc",
            1007,
            &s.gpg.detach_sign(sums.as_bytes(), true),
        ))
        .with_asset(asset("notes.txt", 1008, notes))
        .with_asset(asset(
            "notes.txt.asc",
            1009,
            &s.gpg.detach_sign(notes, true),
        ));
    Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(release))
        .with_repository(other_repo(s))
}

impl Case {
    /// A fake serving `world` with `faults` (YAML list items, as for [`Case::new`]), and a
    /// config watching acme/tool (with `tool_signing`) and acme/other (minisign), with
    /// `require: signature`. The maintainer's OpenPGP key is in `keys/maintainer.asc`.
    fn signed(world: &Scenario, faults: &str, signers: &Signers, tool_signing: &str) -> Case {
        let mut scenario = world.clone();
        if !faults.is_empty() {
            scenario.faults = Scenario::from_yaml(&format!("faults:\n{faults}"))
                .expect("faults parse")
                .faults;
        }
        let yaml = scenario.to_yaml().expect("scenario");
        let setup = Setup::new(&yaml, &["acme/tool", "acme/other"], STRICT);
        let path = setup.path("config.yaml");
        let config = std::fs::read_to_string(&path)
            .expect("config")
            .replace(
                "  - {owner: acme, repo: tool}\n",
                &format!("  - {{owner: acme, repo: tool, signing: {tool_signing}}}\n"),
            )
            .replace(
                "  - {owner: acme, repo: other}\n",
                &format!(
                    "  - {{owner: acme, repo: other, signing: {}}}\n",
                    signers.minisign_signing()
                ),
            );
        std::fs::write(&path, config).expect("write config");
        std::fs::create_dir_all(setup.path("keys")).expect("keys dir");
        signers.gpg.export(&setup.path("keys/maintainer.asc"));
        Case {
            setup,
            scenario,
            healed: world.clone(),
        }
    }

    /// `repo` v`tag` is in the report's `downloaded` and recorded in the database, and each
    /// `(file, label)` of `signed` is verified by that signature (`verified_by` its kind, the
    /// label last in its `verification`), in the report and in the database.
    fn assert_signed(&self, report: &Value, repo: &str, tag: &str, signed: &[(&str, &str)]) {
        let release = report["download_results"]["downloaded"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["repository"] == repo))
            .unwrap_or_else(|| panic!("{repo} not downloaded: {report:#}"));
        assert_eq!(release["tag_name"], tag);
        let db = self.db();
        let record = &db["repositories"][repo];
        assert_eq!(record["current_version"], tag, "{db:#}");
        let recorded = record["download_history"]
            .as_array()
            .and_then(|h| h.iter().find(|e| e["version"] == tag))
            .map(|e| e["metadata"]["files"].clone())
            .unwrap_or_default();
        for (name, label) in signed {
            let kind = label.split(':').next().unwrap_or_default();
            for (what, files) in [("report", &release["files"]), ("database", &recorded)] {
                let file = files
                    .as_array()
                    .and_then(|f| f.iter().find(|f| f["name"] == *name))
                    .unwrap_or_else(|| panic!("{repo} {name} not in the {what}: {files:#}"));
                assert_eq!(file["verified_by"], kind, "{what}: {file}");
                let last = file["verification"]
                    .as_array()
                    .and_then(|v| v.last())
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                assert_eq!(last, *label, "{what}: {file}");
            }
        }
    }

    /// The report's failures, as (repository, asset, error).
    fn failures(report: &Value) -> Vec<(String, String, String)> {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        report["download_results"]["failed"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|f| (text(&f["repository"]), text(&f["asset"]), text(&f["error"])))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// acme/tool v2.0.0 failed exactly for `refused` (each error naming `signature`), and
    /// maybe for the signature's own transfer; no refused file is at its final path; the release
    /// is not recorded; every file in `kept` is stored; acme/other went on and is recorded.
    ///
    /// The signature file itself may be stored: as an asset it goes through the resuming
    /// downloader (a body cut every N bytes still gets through N bytes at a time), while the
    /// planning fetch of signatures does not resume. Stored or not, `check_mirror` holds.
    fn assert_signature_failed(
        &self,
        report: &Value,
        signature: &str,
        refused: &[&str],
        kept: &[&str],
        signers: &Signers,
    ) {
        let failures = Case::failures(report);
        let mut failed: Vec<&str> = failures
            .iter()
            .map(|(_, a, _)| a.as_str())
            .filter(|a| a != &signature)
            .collect();
        failed.sort_unstable();
        let mut expected = refused.to_vec();
        expected.sort_unstable();
        assert_eq!(failed, expected, "{failures:#?}");
        for (repo, name, error) in &failures {
            assert_eq!(repo, "acme/tool");
            if name != signature {
                assert!(
                    error.contains(signature) && error.contains("could not be fetched"),
                    "{name}: {error:?} does not name {signature}"
                );
            }
        }
        let dir = self.downloads().join("acme_tool/v2.0.0");
        if failures.iter().any(|(_, a, _)| a == signature) {
            assert!(
                !dir.join(signature).exists(),
                "{signature} failed but is stored"
            );
        }
        for name in refused {
            assert!(!dir.join(name).exists(), "{name} is at its final path");
            assert!(
                !dir.join(format!("{name}.sha256")).exists(),
                "{name} sidecar"
            );
        }
        for name in kept {
            assert!(dir.join(name).exists(), "{name} (not faulted) is stored");
        }
        assert!(
            self.db()["repositories"].get("acme/tool").is_none(),
            "a release with a refused file is not recorded"
        );
        self.assert_signed(
            report,
            "acme/other",
            "v1.0.0",
            &[("other.bin", &signers.minisign_label())],
        );
    }
}

#[test]
fn a_transient_fault_on_a_minisign_signature_is_retried_and_the_file_verifies() {
    let signers = Signers::new();
    let world = minisign_world(&signers);
    let label = signers.minisign_label();
    // (fault, requests of the signature's download path): the signature is fetched twice per
    // run, while planning (the fault hits that) and as an asset of its own.
    let cases = [
        (
            format!("  - {{path: {MINISIG_DOWNLOAD}, origin: assets, responses: [502]}}\n"),
            3,
        ),
        (
            format!("  - {{path: {MINISIG_API}, responses: [503, 500]}}\n"),
            2,
        ),
        (
            format!(
                "  - {{path: {MINISIG_DOWNLOAD}, origin: assets, truncate_after: 40, times: 1}}\n"
            ),
            3,
        ),
        (
            format!(
                "  - {{path: {MINISIG_DOWNLOAD}, origin: assets, reset_after: 40, times: 1}}\n"
            ),
            3,
        ),
        (
            format!("  - {{path: {MINISIG_DOWNLOAD}, origin: assets, corrupt_at: 30, times: 1}}\n"),
            3,
        ),
    ];
    for (fault, downloads) in cases {
        let case = Case::signed(&world, &fault, &signers, &signers.minisign_signing());
        let report = case.run(0);
        assert_eq!(Case::failures(&report), [], "{fault}");
        case.assert_signed(
            &report,
            "acme/tool",
            "v2.0.0",
            &[("tool.bin", &label), ("tool.txt", &label)],
        );
        case.assert_signed(&report, "acme/other", "v1.0.0", &[("other.bin", &label)]);
        let bin = report["download_results"]["downloaded"][0]["files"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["name"] == "tool.bin"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(bin["signatures"][0]["file"], "tool.bin.minisig", "{bin}");
        assert_eq!(bin["signatures"][0]["result"], "verified", "{bin}");
        assert_eq!(
            case.hits(Origin::Assets, MINISIG_DOWNLOAD).len(),
            downloads,
            "{fault}"
        );
        if fault.contains(MINISIG_API) {
            assert_eq!(case.hits(Origin::Api, MINISIG_API).len(), 4, "{fault}");
        }
    }
}

#[test]
fn a_minisign_signature_that_cannot_be_fetched_fails_its_file_and_the_rest_go_on() {
    let signers = Signers::new();
    let world = minisign_world(&signers);
    let label = signers.minisign_label();
    for fault in [
        // More 5xx than the retry budget, for the planning fetch and the asset's own.
        format!(
            "  - {{path: {MINISIG_DOWNLOAD}, origin: assets, responses: [502, 503, 502, 503, 502, 503]}}\n"
        ),
        format!("  - {{path: {MINISIG_DOWNLOAD}, origin: assets, truncate_after: 40}}\n"),
        // Corrupted every time: its API digest catches it each time.
        format!("  - {{path: {MINISIG_DOWNLOAD}, origin: assets, corrupt_at: 30}}\n"),
    ] {
        let case = Case::signed(&world, &fault, &signers, &signers.minisign_signing());
        let report = case.run(1);
        case.assert_signature_failed(
            &report,
            "tool.bin.minisig",
            &["tool.bin"],
            &["tool.txt", "tool.txt.minisig"],
            &signers,
        );
        // Once the server behaves, the next run takes it, signature and all.
        case.heal();
        let report = case.run(0);
        case.assert_signed(
            &report,
            "acme/tool",
            "v2.0.0",
            &[("tool.bin", &label), ("tool.txt", &label)],
        );
    }
}

#[test]
fn faults_on_a_signed_checksum_files_signature_are_retried_or_fail_what_it_lists() {
    let signers = Signers::new();
    let world = pgp_world(&signers);
    let signing = "{pgp: [keys/maintainer.asc]}";
    let pgp = signers.pgp_label();
    let over_sums = format!("{pgp} (over SHA256SUMS)");
    let all_signed = [
        ("tool.bin", over_sums.as_str()),
        ("tool.txt", over_sums.as_str()),
        ("SHA256SUMS", pgp.as_str()),
        ("notes.txt", pgp.as_str()),
    ];

    // Once (a 502, then a cut body): fetched again, and everything verifies.
    for fault in [
        format!("  - {{path: {SUMS_SIG_DOWNLOAD}, origin: assets, responses: [502]}}\n"),
        format!(
            "  - {{path: {SUMS_SIG_DOWNLOAD}, origin: assets, truncate_after: 100, times: 1}}\n"
        ),
    ] {
        let case = Case::signed(&world, &fault, &signers, signing);
        let report = case.run(0);
        assert_eq!(Case::failures(&report), [], "{fault}");
        case.assert_signed(&report, "acme/tool", "v2.0.0", &all_signed);
        assert_eq!(case.hits(Origin::Assets, SUMS_SIG_DOWNLOAD).len(), 3);
    }

    // Every time: what SHA256SUMS lists (and SHA256SUMS itself) fails, naming SHA256SUMS.asc;
    // notes.txt, signed on its own, is stored; the next run after the fault takes it all.
    let fault = format!("  - {{path: {SUMS_SIG_DOWNLOAD}, origin: assets, truncate_after: 100}}\n");
    let case = Case::signed(&world, &fault, &signers, signing);
    let report = case.run(1);
    case.assert_signature_failed(
        &report,
        "SHA256SUMS.asc",
        &["tool.bin", "tool.txt", "SHA256SUMS"],
        &["notes.txt", "notes.txt.asc"],
        &signers,
    );
    case.heal();
    let report = case.run(0);
    case.assert_signed(&report, "acme/tool", "v2.0.0", &all_signed);
}

// Regression tests for bugs the fault suite found in the signature feature.

#[test]
fn a_signature_file_corrupted_in_flight_is_never_stored() {
    // tool.bin.minisig has no API digest. The planning fetch (first request) is clean, so
    // tool.bin verifies; the signature's own download (second request) is corrupted. The stored
    // signature must be the bytes that were checked, or fail: never other bytes.
    let signers = Signers::new();
    let mut world = minisign_world(&signers);
    for a in &mut world.repositories[0].releases[0].assets {
        if a.name == "tool.bin.minisig" {
            a.digest = fake_github::Digest::Omit;
        }
    }
    let fault = format!(
        "  - {{path: {MINISIG_DOWNLOAD}, origin: assets, corrupt_at: 100000, times: 1}}\n\
         \x20 - {{path: {MINISIG_DOWNLOAD}, origin: assets, corrupt_at: 150, times: 1}}\n"
    );
    let case = Case::signed(&world, &fault, &signers, &signers.minisign_signing());
    let report = case.run(0);
    let label = signers.minisign_label();
    case.assert_signed(&report, "acme/tool", "v2.0.0", &[("tool.bin", &label)]);
}

#[test]
fn a_signature_fetch_error_does_not_show_the_signed_url() {
    let signers = Signers::new();
    let world = minisign_world(&signers);
    let fault = format!("  - {{path: {MINISIG_DOWNLOAD}, origin: assets, truncate_after: 40}}\n");
    let case = Case::signed(&world, &fault, &signers, &signers.minisign_signing());
    let report = case.run(1);
    for (_, name, error) in Case::failures(&report) {
        assert!(!error.contains("sig="), "{name}: {error}");
    }
}

/// The part file of the asset at `rel` (`dir/name` → `dir/.name.part`).
fn part_rel(rel: &str) -> String {
    match rel.rsplit_once('/') {
        Some((dir, name)) => format!("{dir}/.{name}.part"),
        None => format!(".{rel}.part"),
    }
}
