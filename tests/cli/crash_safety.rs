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
//!   `.part` file is a prefix of the true bytes;
//! - no file that was final before a run is fetched again during it (the fake's request log).
//!
//! When a run completes instead of being killed, the next round starts: the fake publishes a new
//! release of every repository. After the 20th kill a last run must complete with every release
//! of the round recorded and every file verified.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fake_github::{Origin, Scenario};

use crate::support::mirror_checks::{TrueAsset, check_db, check_mirror, true_assets};
use crate::support::{FakeSetup, files_under};

const REPOS: [&str; 4] = ["alpha", "beta", "gamma", "delta"];
const KILLS: u32 = 20;
/// The test pause points inside atomic writes (see `fsutil::PAUSE_VAR`).
const PAUSE_POINTS: [&str; 9] = [
    "db-write-half",
    "db-before-rename",
    "db-after-rename",
    "sidecar-write-half",
    "sidecar-before-rename",
    "sidecar-after-rename",
    "state-write-half",
    "state-before-rename",
    "state-after-rename",
];

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
        }
    }
    yaml
}

struct Harness {
    setup: FakeSetup,
    round: u32,
    assets: Vec<TrueAsset>,
}

/// How a run ended.
#[derive(Debug, PartialEq)]
enum End {
    Killed(String),
    Exited(Option<i32>, String),
}

impl Harness {
    fn downloads(&self) -> PathBuf {
        self.setup.path("downloads")
    }

    fn db_path(&self) -> PathBuf {
        self.setup.path("version_db.json")
    }

    fn set_round(&mut self, round: u32) {
        self.round = round;
        let yaml = scenario(round);
        let scenario = Scenario::from_yaml(&yaml).expect("scenario parses");
        self.setup.fake.set_scenario(scenario.clone());
        self.assets = true_assets(&self.setup.fake, &scenario);
    }

    fn current(&self) -> impl Iterator<Item = &TrueAsset> {
        let tag = format!("v1.{}.0", self.round);
        self.assets.iter().filter(move |a| a.tag == tag)
    }

    /// Asset bytes the current round still has to transfer: neither final nor in a `.part`.
    fn bytes_left(&self) -> u64 {
        self.current()
            .map(|a| {
                let path = self.downloads().join(&a.rel_path);
                if path.exists() {
                    return 0;
                }
                let part = std::fs::metadata(format!("{}.part", path.display()))
                    .map(|m| m.len())
                    .unwrap_or(0);
                (a.bytes.len() as u64).saturating_sub(part)
            })
            .sum()
    }

    fn spawn(&self, pause_at: Option<&str>) -> (Child, mpsc::Receiver<String>) {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("release-monitor"));
        cmd.current_dir(self.setup.dir.path())
            .env_clear()
            .args(["monitor", "--download"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
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
            let Some(final_rel) = rel.strip_suffix(".part") else {
                continue;
            };
            let asset = self
                .assets
                .iter()
                .find(|a| a.rel_path == final_rel)
                .unwrap_or_else(|| panic!("{rel}: a .part file of no asset"));
            let part = std::fs::read(self.downloads().join(&rel)).expect("read .part");
            assert!(
                asset.bytes.starts_with(&part),
                "{rel}: {} bytes that are not a prefix of the asset",
                part.len()
            );
        }
        self.assets
            .iter()
            .filter(|a| finals.contains(&a.rel_path))
            .map(|a| a.id)
            .collect()
    }

    /// No asset final before the run was fetched during it.
    fn assert_no_refetch(&self, final_before: &BTreeSet<u64>) {
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
            assert!(
                !final_before.contains(&id),
                "asset {id} was fetched again (range {:?}) after it was final",
                r.header("range")
            );
        }
    }

    /// Every release of the current round is recorded, with every file final and verified.
    fn assert_round_complete(&self) {
        let versions = check_db(&self.db_path(), &self.downloads(), &self.assets);
        let tag = format!("v1.{}.0", self.round);
        for repo in REPOS {
            assert_eq!(
                versions.get(&format!("acme/{repo}")),
                Some(&tag),
                "{versions:?}"
            );
        }
        let finals = check_mirror(&self.downloads(), &self.assets);
        for asset in self.current() {
            assert!(
                finals.contains(&asset.rel_path),
                "{} missing",
                asset.rel_path
            );
            let sidecar = Path::new(&self.downloads()).join(format!("{}.sha256", asset.rel_path));
            assert!(sidecar.exists(), "{} has no sidecar", asset.rel_path);
        }
    }
}

#[test]
fn sigkill_at_random_moments_never_leaves_a_bad_file_or_record() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    println!("crash-safety seed: {seed} (replay with CRASH_SEED={seed})");
    let mut rng = fastrand::Rng::with_seed(seed);
    let watched: Vec<String> = REPOS.iter().map(|r| format!("acme/{r}")).collect();
    let watched: Vec<&str> = watched.iter().map(String::as_str).collect();
    let setup = FakeSetup::new(&scenario(1), &watched, "");
    let mut h = Harness {
        setup,
        round: 0,
        assets: Vec::new(),
    };
    h.set_round(1);
    let started = Instant::now();
    let mut kills = 0;
    let mut final_before = BTreeSet::new();
    let mut runs = 0;
    while kills < KILLS {
        runs += 1;
        assert!(runs <= 200, "20 kills did not happen in 200 runs");
        h.setup.fake.clear_requests();
        let end = h.run_once(&mut rng);
        h.assert_no_refetch(&final_before);
        final_before = h.check();
        match end {
            End::Killed(how) => {
                kills += 1;
                println!("kill {kills} (round {}): {how}", h.round);
            }
            End::Exited(code, log) => {
                assert_eq!(code, Some(0), "a run failed:\n{log}");
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
    assert!(matches!(end, End::Exited(Some(0), _)), "{end:?}");
    h.assert_round_complete();
    let stray_parts: Vec<String> = files_under(&h.downloads())
        .into_iter()
        .filter(|f| f.ends_with(".part"))
        .collect();
    assert_eq!(stray_parts, Vec::<String>::new(), "no .part left behind");
    println!(
        "{kills} kills, {runs} runs, {} rounds in {:.1}s",
        h.round,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_sidecar_lost_in_a_crash_is_restored_without_fetching_the_file_again() {
    let setup = FakeSetup::new(&scenario(1), &["acme/alpha"], "");
    let mut h = Harness {
        setup,
        round: 0,
        assets: Vec::new(),
    };
    h.set_round(1);
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
