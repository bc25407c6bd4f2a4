//! Crash safety: `monitor --download` of several releases of a few MB each, killed with SIGKILL
//! at 20 random moments and run again after each kill.
//!
//! The kill points come from a seeded RNG (printed; set `CRASH_SEED` to replay a run) and are of
//! three kinds: at a random byte of the transfers (the fake holds every asset body once that many
//! bytes are sent, and the test kills the client while it waits there); at one of the test pause
//! points inside an atomic write of the database, a sidecar or the state file
//! (`RELEASE_MONITOR_PAUSE_AT`); or after a random delay. After every kill:
//!
//! - `release-monitor db check` accepts the database, and it records only releases whose files
//!   are all stored with their true bytes;
//! - every final file holds its asset's true bytes, every sidecar matches its file, and every
//!   `.part` file is a prefix of the true bytes, or, for a segmented transfer (alpha's 12 MiB
//!   asset comes in three ranged pieces), holds the true bytes wherever its piece map says;
//! - no file that was final before a run is fetched again during it (the fake's request log).
//!
//! When a run completes instead of being killed, the next round starts: the fake publishes a new
//! release of every repository. After the 20th kill a last run must complete with every release
//! of the round recorded and every file verified.
//!
//! The same, with signatures on (`verification: {signature: true, require: signature}`, assets
//! signed by the real `minisign` and `gpg`, and a repository whose signatures are made by an
//! unconfigured key or over other bytes): after every kill, no refused file is at a final path
//! and every recorded file is proved by its signature. And a file left at its final path by an
//! interrupted run is authenticated again by the next run, which refuses it if the configured
//! key no longer matches.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fake_github::{Asset, Origin, Release, Repository, Scenario};
use serde_json::Value;

use crate::support::mirror_checks::{TrueAsset, check_db, check_mirror, true_assets};
use crate::support::signers::{Gpg, Minisign};
use crate::support::{FakeSetup, files_under, sha256_hex};

const REPOS: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
const KILLS: u32 = 20;
/// The test pause points inside atomic writes (see `fsutil::PAUSE_VAR`).
const PAUSE_POINTS: [&str; 12] = [
    "db-write-half",
    "db-before-rename",
    "db-after-rename",
    "sidecar-write-half",
    "sidecar-before-rename",
    "sidecar-after-rename",
    "state-write-half",
    "state-before-rename",
    "state-after-rename",
    "pieces-write-half",
    "pieces-before-rename",
    "pieces-after-rename",
];

/// Assets of 8 MiB or more (alpha's image) come in ranged pieces over 3 connections.
const SEGMENTS: &str = "  segments: {connections: 3, min_size: 8388608}\n";

/// Rounds 1..=`round`: every repository has one release per round (the newest is the one
/// downloaded) with a binary of 1-1.75 MB, a small text file and, in alpha and beta, the same
/// 750 kB library (identical bytes, so one may be deduplicated from the other).
fn scenario(round: u32) -> String {
    let mut yaml = String::from("repositories:\n");
    for (i, repo) in REPOS.iter().enumerate() {
        yaml.push_str(&format!(
            "  - owner: acme\n    repo: {repo}\n    releases:\n"
        ));
        for r in (1..=round).rev() {
            let size = 1_000_000 + 250_000 * i;
            yaml.push_str(&format!(
                "      - tag_name: v1.{r}.0\n        assets:\n\
                 \x20         - {{name: {repo}-1.{r}-linux-amd64.tar.gz, size: {size}}}\n\
                 \x20         - {{name: NOTES-1.{r}.txt, content: \"{repo} release 1.{r}\"}}\n"
            ));
            if i < 2 {
                yaml.push_str(&format!(
                    "          - {{name: libshared-1.{r}.so, size: 750000}}\n"
                ));
            }
            if i == 0 {
                // Segmented (see `SEGMENTS`): three pieces of 4 MiB.
                yaml.push_str(&format!(
                    "          - {{name: {repo}-1.{r}-full.img, size: 12582912}}\n"
                ));
            }
        }
    }
    yaml
}

struct Harness {
    setup: FakeSetup,
    round: u32,
    assets: Vec<TrueAsset>,
    /// The scenario of rounds 1..=round.
    world: Box<dyn Fn(u32) -> Scenario>,
    /// The repositories whose release of the round a completed run records (`owner/repo`).
    recorded: Vec<String>,
    /// The repositories whose files are refused: a completed run exits 1 with failures of
    /// theirs only.
    refused: Vec<String>,
}

/// A segmented transfer's piece map: the piece size and the bytes recorded in each piece.
fn piece_map(path: &Path) -> Option<(u64, Vec<u64>)> {
    let map: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let done = map["done"]
        .as_array()?
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    Some((map["piece"].as_u64()?, done))
}

/// How a run ended.
#[derive(Debug, PartialEq)]
enum End {
    Killed(String),
    Exited(Option<i32>, String),
}

impl Harness {
    /// A harness for `world`, round 1, watching `recorded` and `refused` with `extra` config.
    fn new(
        world: Box<dyn Fn(u32) -> Scenario>,
        recorded: &[&str],
        refused: &[&str],
        extra: &str,
    ) -> Harness {
        let yaml = world(1).to_yaml().expect("scenario");
        let watched: Vec<&str> = recorded.iter().chain(refused).copied().collect();
        let setup = FakeSetup::new(&yaml, &watched, extra);
        let mut h = Harness {
            setup,
            round: 0,
            assets: Vec::new(),
            world,
            recorded: recorded.iter().map(|r| r.to_string()).collect(),
            refused: refused.iter().map(|r| r.to_string()).collect(),
        };
        h.set_round(1);
        h
    }

    /// The plain world of [`scenario`] (no signatures), watching `repos`, with [`SEGMENTS`].
    fn plain(repos: &[&str]) -> Harness {
        let world = |round| Scenario::from_yaml(&scenario(round)).expect("scenario parses");
        Harness::new(Box::new(world), repos, &[], SEGMENTS)
    }

    fn downloads(&self) -> PathBuf {
        self.setup.path("downloads")
    }

    fn db_path(&self) -> PathBuf {
        self.setup.path("version_db.json")
    }

    fn set_round(&mut self, round: u32) {
        self.round = round;
        let scenario = (self.world)(round);
        self.setup.fake.set_scenario(scenario.clone());
        self.assets = true_assets(&self.setup.fake, &scenario);
    }

    /// The report a run printed (`Null` when it printed none, e.g. killed).
    fn report(&self) -> Value {
        std::fs::read(self.setup.path("report.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    }

    fn current(&self) -> impl Iterator<Item = &TrueAsset> {
        let tag = format!("v1.{}.0", self.round);
        self.assets.iter().filter(move |a| a.tag == tag)
    }

    /// Asset bytes the current round still has to transfer: neither final nor in a `.part`.
    /// The refused repositories' files, fetched again by every run, do not count: kills aim at
    /// the transfers that get somewhere.
    fn bytes_left(&self) -> u64 {
        self.current()
            .filter(|a| !self.refused.contains(&a.repository))
            .map(|a| {
                let path = self.downloads().join(&a.rel_path);
                if path.exists() {
                    return 0;
                }
                let part = release_monitor::mirror::part_path(&path)
                    .display()
                    .to_string();
                let on_disk = match piece_map(Path::new(&format!("{part}.pieces"))) {
                    Some((_, done)) => done.iter().sum(),
                    None => std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0),
                };
                (a.bytes.len() as u64).saturating_sub(on_disk)
            })
            .sum()
    }

    fn spawn(&self, pause_at: Option<&str>) -> (Child, mpsc::Receiver<String>) {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("release-monitor"));
        let report =
            std::fs::File::create(self.setup.path("report.json")).expect("the report file");
        cmd.current_dir(self.setup.dir.path())
            .env_clear()
            .args(["monitor", "--download"])
            .stdin(Stdio::piped())
            .stdout(report)
            .stderr(Stdio::piped());
        if let Some(point) = pause_at {
            cmd.env("RELEASE_MONITOR_PAUSE_AT", point);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }

    /// Kills `child` (SIGKILL) and reaps it.
    fn kill(child: &mut Child, how: String) -> End {
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        End::Killed(how)
    }

    fn exited(child: &mut Child, rx: &mpsc::Receiver<String>) -> End {
        let status = child.wait().expect("reaped");
        let log: Vec<String> = rx.try_iter().collect();
        End::Exited(status.code(), log.join("\n"))
    }

    /// One run, killed at a random point chosen by `rng`, or run to its end.
    fn run_once(&self, rng: &mut fastrand::Rng) -> End {
        let left = self.bytes_left();
        let kind = rng.u32(0..10);
        let deadline = Instant::now() + Duration::from_secs(30);
        if kind < 6 && left > 0 {
            // At a random byte of what is left to transfer.
            let at = rng.u64(1..=left);
            self.setup.fake.hold_assets_after(at);
            let (mut child, rx) = self.spawn(None);
            let end = loop {
                if self.setup.fake.wait_for_hold(Duration::from_millis(20)) {
                    break Harness::kill(&mut child, format!("held after {at} of {left} bytes"));
                }
                if child.try_wait().expect("try_wait").is_some() {
                    break Harness::exited(&mut child, &rx);
                }
                assert!(Instant::now() < deadline, "the run neither held nor ended");
            };
            self.setup.fake.release_assets();
            end
        } else if kind < 9 {
            // At a pause point inside an atomic write.
            let point = PAUSE_POINTS[rng.usize(0..PAUSE_POINTS.len())];
            let (mut child, rx) = self.spawn(Some(point));
            loop {
                match rx.recv_timeout(Duration::from_secs(30)) {
                    Ok(line) if line.contains(&format!("paused at {point}")) => {
                        break Harness::kill(&mut child, format!("paused at {point}"));
                    }
                    Ok(_) => {}
                    // stderr closed: the process ended without reaching the point.
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        break Harness::exited(&mut child, &rx);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => panic!("the run hung"),
                }
            }
        } else {
            // After a random delay: the injected fault is the timing itself.
            let delay = Duration::from_millis(rng.u64(0..400));
            let (mut child, rx) = self.spawn(None);
            std::thread::sleep(delay);
            match child.try_wait().expect("try_wait") {
                Some(_) => Harness::exited(&mut child, &rx),
                None => Harness::kill(&mut child, format!("after {delay:?}")),
            }
        }
    }

    /// The invariants that hold after any kill. Returns the ids of the assets now final.
    fn check(&self) -> BTreeSet<u64> {
        let out = Command::new(assert_cmd::cargo::cargo_bin("release-monitor"))
            .env_clear()
            .args(["db", "check", "--db"])
            .arg(self.db_path())
            .output()
            .expect("db check runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "db check: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let finals = check_mirror(&self.downloads(), &self.assets);
        check_db(&self.db_path(), &self.downloads(), &self.assets);
        for rel in files_under(&self.downloads()) {
            // `dir/.name.part` is the part file of `dir/name`.
            let Some(final_rel) = part_of_what(&rel) else {
                continue;
            };
            let asset = self
                .assets
                .iter()
                .find(|a| a.rel_path == final_rel.as_str())
                .unwrap_or_else(|| panic!("{rel}: a .part file of no asset"));
            let part = std::fs::read(self.downloads().join(&rel)).expect("read .part");
            let map = self.downloads().join(format!("{rel}.pieces"));
            match piece_map(&map) {
                // Segmented: pre-sized; the bytes the map records are the true ones.
                Some((piece, done)) => {
                    assert_eq!(part.len(), asset.bytes.len(), "{rel}: not pre-sized");
                    for (i, d) in done.iter().enumerate() {
                        let start = i * piece as usize;
                        let end = start + *d as usize;
                        assert!(
                            part[start..end] == asset.bytes[start..end],
                            "{rel}: piece {i} ({d} bytes recorded) does not hold the true bytes"
                        );
                    }
                }
                None => assert!(
                    asset.bytes.starts_with(&part),
                    "{rel}: {} bytes that are not a prefix of the asset",
                    part.len()
                ),
            }
        }
        self.assets
            .iter()
            .filter(|a| finals.contains(&a.rel_path))
            .map(|a| a.id)
            .collect()
    }

    /// No asset final before the run was fetched during it, except once by the planning fetch
    /// of a release not yet recorded: its signatures and checksum files are read while
    /// planning, whether or not they are stored.
    fn assert_no_refetch(&self, final_before: &BTreeSet<u64>) {
        let mut fetched: BTreeMap<u64, usize> = BTreeMap::new();
        for r in self.setup.fake.requests() {
            if r.origin != Origin::Assets {
                continue;
            }
            let Some(id) = r
                .path
                .strip_prefix("/download/")
                .and_then(|i| i.parse::<u64>().ok())
            else {
                continue;
            };
            if !final_before.contains(&id) {
                continue;
            }
            let count = fetched.entry(id).or_default();
            *count += 1;
            let planning = self
                .assets
                .iter()
                .any(|a| a.id == id && read_while_planning(&a.name));
            assert!(
                planning && *count == 1,
                "asset {id} was fetched again (range {:?}, {count} time(s)) after it was final",
                r.header("range")
            );
        }
    }

    /// Every release of the current round is recorded, with every file final and verified.
    fn assert_round_complete(&self) {
        let versions = check_db(&self.db_path(), &self.downloads(), &self.assets);
        let tag = format!("v1.{}.0", self.round);
        for repo in &self.recorded {
            assert_eq!(versions.get(repo), Some(&tag), "{versions:?}");
        }
        for repo in &self.refused {
            assert_eq!(versions.get(repo), None, "{versions:?}");
        }
        let finals = check_mirror(&self.downloads(), &self.assets);
        for asset in self
            .current()
            .filter(|a| self.recorded.contains(&a.repository))
        {
            assert!(
                finals.contains(&asset.rel_path),
                "{} missing",
                asset.rel_path
            );
            let sidecar = Path::new(&self.downloads()).join(format!("{}.sha256", asset.rel_path));
            assert!(sidecar.exists(), "{} has no sidecar", asset.rel_path);
        }
    }

    /// A run that ended by itself completed: exit 0, or exit 1 with failures only in the
    /// repositories whose files are refused.
    fn assert_completed(&self, code: Option<i32>, log: &str) {
        if self.refused.is_empty() {
            assert_eq!(code, Some(0), "a run failed:\n{log}");
            return;
        }
        assert_eq!(code, Some(1), "refusals make the run fail:\n{log}");
        let report = self.report();
        let failed = report["download_results"]["failed"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!failed.is_empty(), "{report:#}");
        for f in &failed {
            let repo = f["repository"].as_str().unwrap_or_default();
            assert!(
                self.refused.iter().any(|r| r == repo),
                "a failure outside the refused repositories: {f}\n{log}"
            );
        }
        assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    }
}

/// Whether an asset is read while planning (signatures and checksum files), besides being
/// downloaded as a file of its own.
fn read_while_planning(name: &str) -> bool {
    name.ends_with(".minisig") || name.ends_with(".asc") || name == "SHA256SUMS"
}

/// The seeded RNG of a kill test (printed; `CRASH_SEED` replays a run).
fn rng() -> fastrand::Rng {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("crash-safety seed: {seed} (replay with CRASH_SEED={seed})");
    fastrand::Rng::with_seed(seed)
}

/// Kills runs at random moments until `kills` kills (at most `max_runs` runs), checking
/// [`Harness::check`], the request log and `extra` after every run and starting the next round
/// when a run completes; then a last run must complete the round.
fn kill_at_random(
    h: &mut Harness,
    rng: &mut fastrand::Rng,
    kills: u32,
    max_runs: u32,
    extra: &dyn Fn(&Harness),
) {
    let started = Instant::now();
    let mut killed = 0;
    let mut final_before = BTreeSet::new();
    let mut runs = 0;
    while killed < kills {
        runs += 1;
        assert!(
            runs <= max_runs,
            "{kills} kills did not happen in {max_runs} runs"
        );
        h.setup.fake.clear_requests();
        let end = h.run_once(rng);
        h.assert_no_refetch(&final_before);
        final_before = h.check();
        extra(h);
        match end {
            End::Killed(how) => {
                killed += 1;
                println!("kill {killed} (round {}): {how}", h.round);
            }
            End::Exited(code, log) => {
                h.assert_completed(code, &log);
                h.assert_round_complete();
                println!("round {} complete", h.round);
                let next = h.round + 1;
                h.set_round(next);
            }
        }
    }
    // The last run completes the round.
    h.setup.fake.clear_requests();
    let (mut child, rx) = h.spawn(None);
    let end = Harness::exited(&mut child, &rx);
    h.assert_no_refetch(&final_before);
    h.check();
    extra(h);
    match end {
        End::Exited(code, log) => h.assert_completed(code, &log),
        End::Killed(how) => panic!("the last run was killed: {how}"),
    }
    h.assert_round_complete();
    let stray_parts: Vec<String> = files_under(&h.downloads())
        .into_iter()
        .filter(|f| f.ends_with(".part") || f.ends_with(".part.pieces"))
        .collect();
    assert_eq!(stray_parts, Vec::<String>::new(), "no .part left behind");
    println!(
        "{killed} kills, {runs} runs, {} rounds in {:.1}s",
        h.round,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn sigkill_at_random_moments_never_leaves_a_bad_file_or_record() {
    let mut rng = rng();
    let watched: Vec<String> = REPOS.iter().map(|r| format!("acme/{r}")).collect();
    let watched: Vec<&str> = watched.iter().map(String::as_str).collect();
    let mut h = Harness::plain(&watched);
    kill_at_random(&mut h, &mut rng, KILLS, 200, &|_| {});
}

#[test]
fn a_sidecar_lost_in_a_crash_is_restored_without_fetching_the_file_again() {
    let h = Harness::plain(&["acme/alpha"]);
    // Killed while writing the first sidecar: its file is final, its sidecar is not there.
    let (mut child, rx) = h.spawn(Some("sidecar-before-rename"));
    let line = rx
        .iter()
        .find(|l| l.contains("paused at sidecar-before-rename"));
    assert!(line.is_some(), "the run reached the pause point");
    Harness::kill(&mut child, String::new());
    let finals = h.check();
    assert_eq!(finals.len(), 1, "one file is final");
    let lost: Vec<&TrueAsset> = h.assets.iter().filter(|a| finals.contains(&a.id)).collect();
    let sidecar = h.downloads().join(format!("{}.sha256", lost[0].rel_path));
    assert!(!sidecar.exists());
    // The next run re-verifies that file, writes its sidecar, and does not fetch it.
    h.setup.fake.clear_requests();
    let (mut child, rx) = h.spawn(None);
    assert!(matches!(
        Harness::exited(&mut child, &rx),
        End::Exited(Some(0), _)
    ));
    h.assert_no_refetch(&finals);
    h.check();
    assert_eq!(
        std::fs::read_to_string(&sidecar).expect("sidecar restored"),
        format!("{}  {}\n", lost[0].sha256, lost[0].name)
    );
}

/// `download.verification` of the signed tests.
const STRICT: &str = "  verification: {signature: true, require: signature}\n";

/// The keys of the signed world, made by the real tools: the maintainer's minisign and OpenPGP
/// keys (configured) and a stranger's minisign key (not configured).
struct Keys {
    _dir: tempfile::TempDir,
    minisign: Minisign,
    stranger: Minisign,
    gpg: Gpg,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().expect("tempdir");
        let minisign = Minisign::new(dir.path(), "maintainer");
        let stranger = Minisign::new(dir.path(), "stranger");
        let gpg = Gpg::new(dir.path(), "maintainer");
        Keys {
            _dir: dir,
            minisign,
            stranger,
            gpg,
        }
    }
}

/// An asset with fixed bytes.
fn asset(name: &str, bytes: &[u8]) -> Asset {
    Asset::with_bytes(name, bytes)
}

/// `size` pseudo-random bytes seeded by `seed`.
fn random_bytes(seed: &str, size: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(
        seed.bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
    );
    (0..size).map(|_| rng.u8(..)).collect()
}

/// The signed world, one release per round in each repository, each round signed once (OpenPGP
/// signatures carry their creation time, so signing again would change the bytes):
/// - acme/alpha (minisign): a 700 kB archive and a notes file, each with its `.minisig`;
/// - acme/beta (OpenPGP): a 500 kB archive without an API digest, listed by `SHA256SUMS`, which
///   `SHA256SUMS.asc` signs;
/// - acme/mallory (minisign, the maintainer's key configured): an archive signed by the
///   stranger's key, and a file whose `.minisig` (by the maintainer) is over other bytes. Both
///   are refused in every run; their signature files are stored (they need no signature).
struct SignedWorld {
    keys: Keys,
    rounds: RefCell<BTreeMap<u32, [Release; 3]>>,
}

impl SignedWorld {
    fn new() -> SignedWorld {
        SignedWorld {
            keys: Keys::new(),
            rounds: RefCell::new(BTreeMap::new()),
        }
    }

    /// The releases of round `r`: alpha's, beta's and mallory's.
    fn releases(&self, r: u32) -> [Release; 3] {
        if let Some(done) = self.rounds.borrow().get(&r) {
            return done.clone();
        }
        let k = &self.keys;
        let tag = format!("v1.{r}.0");
        let archive = random_bytes(&format!("alpha{r}"), 700_000);
        let notes = format!("alpha release 1.{r}").into_bytes();
        let alpha = Release::new(&tag)
            .with_asset(asset(&format!("alpha-1.{r}-linux-amd64.tar.gz"), &archive))
            .with_asset(asset(
                &format!("alpha-1.{r}-linux-amd64.tar.gz.minisig"),
                k.minisign.sign(&archive).as_bytes(),
            ))
            .with_asset(asset(&format!("NOTES-1.{r}.txt"), &notes))
            .with_asset(asset(
                &format!("NOTES-1.{r}.txt.minisig"),
                k.minisign.sign(&notes).as_bytes(),
            ));
        let archive = random_bytes(&format!("beta{r}"), 500_000);
        let name = format!("beta-1.{r}-linux-amd64.tar.gz");
        let sums = format!("{}  {name}\n", sha256_hex(&archive));
        let mut unlisted = asset(&name, &archive);
        unlisted.digest = fake_github::Digest::Omit;
        let beta = Release::new(&tag)
            .with_asset(unlisted)
            .with_asset(asset("SHA256SUMS", sums.as_bytes()))
            .with_asset(asset(
                "SHA256SUMS.asc",
                &k.gpg.detach_sign(sums.as_bytes(), true),
            ));
        let evil = random_bytes(&format!("mallory{r}"), 60_000);
        let changed = format!("mallory 1.{r}, changed after signing").into_bytes();
        let mallory = Release::new(&tag)
            .with_asset(asset(&format!("mallory-1.{r}-linux-amd64.tar.gz"), &evil))
            .with_asset(asset(
                &format!("mallory-1.{r}-linux-amd64.tar.gz.minisig"),
                k.stranger.sign(&evil).as_bytes(),
            ))
            .with_asset(asset(&format!("tampered-1.{r}.txt"), &changed))
            .with_asset(asset(
                &format!("tampered-1.{r}.txt.minisig"),
                k.minisign.sign(b"what the maintainer signed").as_bytes(),
            ));
        let releases = [alpha, beta, mallory];
        self.rounds.borrow_mut().insert(r, releases.clone());
        releases
    }

    /// Rounds 1..=`round`, newest first.
    fn scenario(&self, round: u32) -> Scenario {
        let mut repos = [
            Repository::new("acme", "alpha"),
            Repository::new("acme", "beta"),
            Repository::new("acme", "mallory"),
        ];
        for r in (1..=round).rev() {
            for (repo, release) in repos.iter_mut().zip(self.releases(r)) {
                *repo = std::mem::take(repo).with_release(release);
            }
        }
        repos
            .into_iter()
            .fold(Scenario::default(), Scenario::with_repository)
    }

    /// The `signing` of each repository, and what a proof by it is labelled.
    fn signing(&self, minisign_public: &str) -> [(&'static str, String); 3] {
        let minisign = format!("{{minisign: [\"{minisign_public}\"]}}");
        [
            ("alpha", minisign.clone()),
            ("beta", "{pgp: [keys/maintainer.asc]}".to_string()),
            ("mallory", minisign),
        ]
    }
}

/// Writes each repository's `signing` into the harness's config (and the OpenPGP key file).
fn configure_signing(h: &Harness, keys: &Keys, signing: &[(&str, String)]) {
    let path = h.setup.path("config.yaml");
    let mut config = std::fs::read_to_string(&path).expect("config");
    for (repo, block) in signing {
        let plain = format!("  - {{owner: acme, repo: {repo}}}\n");
        let signed = format!("  - {{owner: acme, repo: {repo}, signing: {block}}}\n");
        if config.contains(&plain) {
            config = config.replace(&plain, &signed);
        } else {
            // Already signed: replace the whole line.
            let start = config
                .find(&format!("  - {{owner: acme, repo: {repo}, signing:"))
                .expect("the repository's line");
            let end = start + config[start..].find('\n').expect("line end") + 1;
            config.replace_range(start..end, &signed);
        }
    }
    std::fs::write(&path, config).expect("write config");
    std::fs::create_dir_all(h.setup.path("keys")).expect("keys dir");
    keys.gpg.export(&h.setup.path("keys/maintainer.asc"));
}

/// Whether an asset is a signature (stored on its digest; it needs no signature of its own).
fn is_signature(name: &str) -> bool {
    name.ends_with(".minisig") || name.ends_with(".asc")
}

/// The checks that hold after every run with signatures on:
/// - no file of mallory's that its signature refuses is at a final path (nor its sidecar);
/// - the database never records mallory, and records alpha and beta only with every file other
///   than a signature proved by the expected key: `minisign:<key>` for alpha, `pgp:0x<fpr>` for
///   beta (over `SHA256SUMS` for the archive).
///
/// With `check_mirror` (every final file holds its true bytes, which are the signed bytes) this
/// is: every file at a final path verifies, nothing refused is ever final, and a release is
/// recorded only with all its files, each proved by a signature.
fn check_signed(h: &Harness, minisign_label: &str, pgp_label: &str) {
    for a in h.assets.iter().filter(|a| a.repository == "acme/mallory") {
        if is_signature(&a.name) {
            continue;
        }
        let path = h.downloads().join(&a.rel_path);
        assert!(
            !path.exists(),
            "the refused {} is at a final path",
            a.rel_path
        );
        assert!(
            !h.downloads()
                .join(format!("{}.sha256", a.rel_path))
                .exists(),
            "the refused {} has a sidecar",
            a.rel_path
        );
    }
    let Ok(bytes) = std::fs::read(h.db_path()) else {
        return;
    };
    let db: Value = serde_json::from_slice(&bytes).expect("the database parses");
    let repos = db["repositories"].as_object().cloned().unwrap_or_default();
    assert!(
        !repos.contains_key("acme/mallory"),
        "mallory recorded: {db:#}"
    );
    for (repo, record) in &repos {
        let expected = match repo.as_str() {
            "acme/alpha" => |_: &str| ("minisign", None),
            "acme/beta" => |name: &str| ("pgp", (name != "SHA256SUMS").then_some("SHA256SUMS")),
            other => panic!("{other} recorded"),
        };
        for entry in record["download_history"].as_array().into_iter().flatten() {
            for file in entry["metadata"]["files"].as_array().into_iter().flatten() {
                let name = file["name"].as_str().unwrap_or_default();
                if is_signature(name) {
                    continue;
                }
                let (kind, over) = expected(name);
                assert_eq!(file["verified_by"], kind, "{repo} {name}: {file}");
                let label = match (kind, over) {
                    ("minisign", _) => minisign_label.to_string(),
                    (_, Some(sums)) => format!("{pgp_label} (over {sums})"),
                    (_, None) => pgp_label.to_string(),
                };
                let last = file["verification"]
                    .as_array()
                    .and_then(|v| v.last())
                    .and_then(Value::as_str);
                assert_eq!(last, Some(label.as_str()), "{repo} {name}: {file}");
            }
        }
    }
}

#[test]
fn sigkill_with_signatures_required_never_leaves_an_unproven_file_or_record() {
    let mut rng = rng();
    let world = std::rc::Rc::new(SignedWorld::new());
    let w = world.clone();
    let mut h = Harness::new(
        Box::new(move |round| w.scenario(round)),
        &["acme/alpha", "acme/beta"],
        &["acme/mallory"],
        STRICT,
    );
    let keys = &world.keys;
    configure_signing(&h, keys, &world.signing(keys.minisign.public()));
    let minisign_label = format!("minisign:{}", keys.minisign.public());
    let pgp_label = format!("pgp:0x{}", keys.gpg.fingerprint());
    kill_at_random(&mut h, &mut rng, 20, 200, &|h| {
        check_signed(h, &minisign_label, &pgp_label);
    });
    // mallory's refusals name their signature files.
    let failed = h.report()["download_results"]["failed"].clone();
    let error = |asset: &str| {
        failed
            .as_array()
            .and_then(|all| all.iter().find(|f| f["asset"] == asset))
            .and_then(|f| f["error"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let r = h.round;
    let e = error(&format!("mallory-1.{r}-linux-amd64.tar.gz"));
    assert!(
        e.contains(&format!("mallory-1.{r}-linux-amd64.tar.gz.minisig"))
            && e.contains("not a configured minisign key"),
        "{e}"
    );
    let e = error(&format!("tampered-1.{r}.txt"));
    assert!(
        e.contains(&format!("tampered-1.{r}.txt.minisig")) && e.contains("does not verify"),
        "{e}"
    );
}

/// Round 1 of the signed world, acme/alpha only, killed once its archive (its first file) was
/// authenticated and renamed into place, before its sidecar and before the release is recorded.
/// Returns the harness, the world and the archive.
fn interrupted_after_the_first_file() -> (Harness, std::rc::Rc<SignedWorld>, TrueAsset) {
    let world = std::rc::Rc::new(SignedWorld::new());
    let w = world.clone();
    let h = Harness::new(
        Box::new(move |round| w.scenario(round)),
        &["acme/alpha"],
        &[],
        STRICT,
    );
    let keys = &world.keys;
    configure_signing(&h, keys, &world.signing(keys.minisign.public())[..1]);
    let archive = h
        .current()
        .find(|a| a.name == "alpha-1.1-linux-amd64.tar.gz")
        .cloned()
        .expect("the archive");
    // The archive's own sidecar: files are committed concurrently, so the pause names it.
    let point = format!("sidecar-before-rename@{}.sha256", archive.name);
    let (mut child, rx) = h.spawn(Some(&point));
    assert!(
        rx.iter()
            .any(|l| l.contains("paused at sidecar-before-rename")),
        "the run reached the pause point"
    );
    Harness::kill(&mut child, String::new());
    let finals = h.check();
    assert!(finals.contains(&archive.id), "the archive is final");
    assert!(!h.db_path().exists(), "nothing recorded");
    (h, world, archive)
}

/// Runs once more with the stranger's key configured for acme/alpha (say, the maintainer's key
/// was found compromised and replaced): the archive's signature no longer proves it. Checks that
/// the stored copy is refused, naming its signature, not fetched again, and not recorded; returns
/// the final files the run started with.
fn run_with_another_key(h: &Harness, world: &SignedWorld, archive: &TrueAsset) -> BTreeSet<u64> {
    let keys = &world.keys;
    let finals = h.check();
    configure_signing(h, keys, &world.signing(keys.stranger.public())[..1]);
    h.setup.fake.clear_requests();
    let (mut child, rx) = h.spawn(None);
    let end = Harness::exited(&mut child, &rx);
    assert!(matches!(end, End::Exited(Some(1), _)), "{end:?}");
    h.assert_no_refetch(&finals);
    h.check();
    let report = h.report();
    let failed = report["download_results"]["failed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let refusal = failed
        .iter()
        .find(|f| f["asset"] == archive.name.as_str())
        .unwrap_or_else(|| panic!("the stored copy is not refused: {report:#}"));
    let error = refusal["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("{}.minisig", archive.name))
            && error.contains("not a configured minisign key"),
        "{error}"
    );
    let db: Value = std::fs::read(h.db_path())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    assert!(
        db["repositories"].get("acme/alpha").is_none(),
        "a refused stored copy is not recorded: {db:#}"
    );
    finals
}

#[test]
fn a_file_stored_by_an_interrupted_run_is_authenticated_again() {
    let (h, world, archive) = interrupted_after_the_first_file();
    // Another key: the stored copy is checked again, not trusted for being there, refused and
    // taken away from its final path.
    run_with_another_key(&h, &world, &archive);
    // What is still final after it (refused copies were taken away) is not fetched again.
    let finals = h.check();
    assert!(!finals.contains(&archive.id), "the refused archive left");

    // The right key again: the archive (and any other refused copy) is fetched again, nothing
    // else is, and the release is recorded with the archive proved by its signature.
    let keys = &world.keys;
    configure_signing(&h, keys, &world.signing(keys.minisign.public())[..1]);
    h.setup.fake.clear_requests();
    let (mut child, rx) = h.spawn(None);
    let end = Harness::exited(&mut child, &rx);
    assert!(matches!(end, End::Exited(Some(0), _)), "{end:?}");
    h.assert_no_refetch(&finals);
    h.check();
    h.assert_round_complete();
    let report = h.report();
    let file = report["download_results"]["downloaded"][0]["files"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == archive.name.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(file["how"], "downloaded", "{file}");
    assert_eq!(file["verified_by"], "minisign", "{file}");
    check_signed(
        &h,
        &format!("minisign:{}", keys.minisign.public()),
        "pgp:unused",
    );
}

#[test]
fn a_stored_copy_that_is_refused_leaves_its_final_path() {
    let (h, world, archive) = interrupted_after_the_first_file();
    run_with_another_key(&h, &world, &archive);
    let path = h.downloads().join(&archive.rel_path);
    assert!(
        !path.exists(),
        "the refused {} is at its final path",
        archive.rel_path
    );
    assert!(
        !h.downloads()
            .join(format!("{}.sha256", archive.rel_path))
            .exists(),
        "the refused {} has a sidecar",
        archive.rel_path
    );
}

/// The file a part file's relative path (`dir/.name.part`) belongs to (`dir/name`).
fn part_of_what(rel: &str) -> Option<String> {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let name = name.strip_prefix('.')?.strip_suffix(".part")?;
    Some(if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    })
}
