//! Authenticity: `verification.signature` and `require: signature` against real signatures (made
//! by the real `minisign` and `gpg` with fresh keys) and real Sigstore bundles (the fixtures in
//! `shared/fixtures/sigstore/`, made by real CI systems), served as release assets and from the
//! fake GitHub's attestations endpoint. Every refused asset is checked to be absent from its final
//! path and from the database, and the other repositories to go on.

use std::path::Path;

use fake_github::{Asset, Release, Repository, Scenario};
use serde_json::Value;

use crate::support::signers::{Gpg, Minisign};
use crate::support::{FakeSetup, sha256_hex};

use crate::support::{first_bundle, read_fixture, sigstore_fixture as fixture};

/// A release `v1.0.0` of `owner/repo` with `assets` (name, bytes).
fn repo(owner: &str, name: &str, assets: &[(&str, &[u8])]) -> Repository {
    let mut release = Release::new("v1.0.0");
    for (n, bytes) in assets {
        release = release.with_asset(Asset::with_bytes(*n, bytes));
    }
    Repository::new(owner, name).with_release(release)
}

/// A fake serving `repos`, with `download.verification` set to `verification` (YAML flow map)
/// and each repository's `signing` block as given.
fn setup(repos: Vec<(Repository, Option<String>)>, verification: &str) -> FakeSetup {
    setup_with(repos, verification, "")
}

/// [`setup`] with more `download:` lines (indented by two spaces).
fn setup_with(
    repos: Vec<(Repository, Option<String>)>,
    verification: &str,
    download: &str,
) -> FakeSetup {
    let mut scenario = Scenario::default();
    let names: Vec<String> = repos
        .iter()
        .map(|(r, _)| format!("{}/{}", r.owner, r.repo))
        .collect();
    for (r, _) in &repos {
        scenario = scenario.with_repository(r.clone());
    }
    let yaml = scenario.to_yaml().expect("scenario");
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = FakeSetup::new(
        &yaml,
        &name_refs,
        &format!("  verification: {verification}\n{download}"),
    );
    let path = s.path("config.yaml");
    let mut config = std::fs::read_to_string(&path).expect("config");
    for (r, signing) in &repos {
        if let Some(signing) = signing {
            let line = format!("  - {{owner: {}, repo: {}}}\n", r.owner, r.repo);
            let with = format!(
                "  - {{owner: {}, repo: {}, signing: {signing}}}\n",
                r.owner, r.repo
            );
            config = config.replace(&line, &with);
        }
    }
    std::fs::write(&path, config).expect("config");
    s
}

/// Runs `monitor --download` and returns (exit code, report, stderr).
fn download(s: &FakeSetup) -> (i32, Value, String) {
    let out = s.monitor(None).arg("--download").output().expect("runs");
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report's entry for a stored file.
fn stored<'a>(report: &'a Value, repo: &str, file: &str) -> &'a Value {
    report["download_results"]["downloaded"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["repository"] == repo))
        .and_then(|r| r["files"].as_array())
        .and_then(|files| files.iter().find(|f| f["name"] == file))
        .unwrap_or_else(|| panic!("{repo} {file} not stored: {report:#}"))
}

/// The report's error for a refused file.
fn refusal(report: &Value, repo: &str, file: &str) -> String {
    report["download_results"]["failed"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|f| f["repository"] == repo && f["asset"] == file)
        })
        .and_then(|f| f["error"].as_str())
        .unwrap_or_else(|| panic!("{repo} {file} not refused: {report:#}"))
        .to_string()
}

/// Whether the file is at its final path in the mirror.
fn in_mirror(s: &FakeSetup, repo: &str, file: &str) -> bool {
    s.path("downloads")
        .join(repo.replace('/', "_"))
        .join("v1.0.0")
        .join(file)
        .exists()
}

/// The database's record of a repository (`Null` when it has none).
fn db_entry(s: &FakeSetup, repo: &str) -> Value {
    let db: Value = std::fs::read(s.path("version_db.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    db["repositories"][repo].clone()
}

/// Asserts that a stored file's strongest check is `kind`, resting on `last` (the last label of
/// its `verification`).
fn assert_proved(report: &Value, repo: &str, name: &str, kind: &str, last: &str) {
    let file = stored(report, repo, name);
    assert_eq!(file["verified_by"], kind, "{file}");
    assert_eq!(
        labels(file).last().map(String::as_str),
        Some(last),
        "{file}"
    );
}

/// The signer workflow of the sigstore-js fixtures.
const SIGSTORE_JS_WORKFLOW: &str =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";

fn labels(file: &Value) -> Vec<String> {
    file["verification"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const STRICT: &str = "{signature: true, require: signature}";

#[test]
fn minisign_signatures_prove_assets_and_bad_ones_are_refused() {
    let keys = tempfile::tempdir().expect("tempdir");
    let good = Minisign::new(keys.path(), "good");
    let other = Minisign::new(keys.path(), "other");
    let tool = b"the tool, signed".as_slice();
    let signing = format!("{{minisign: [\"{}\"]}}", good.public());
    let s = setup(
        vec![
            (
                repo(
                    "acme",
                    "signed",
                    &[
                        ("tool.tar.gz", tool),
                        ("tool.tar.gz.minisig", good.sign(tool).as_bytes()),
                    ],
                ),
                Some(signing.clone()),
            ),
            (
                // Tampered: the signature is over other bytes.
                repo(
                    "acme",
                    "tampered",
                    &[
                        ("tool.tar.gz", b"the tool, changed"),
                        ("tool.tar.gz.minisig", good.sign(tool).as_bytes()),
                    ],
                ),
                Some(signing.clone()),
            ),
            (
                // Signed, but by a key that is not configured.
                repo(
                    "acme",
                    "wrongkey",
                    &[
                        ("tool.tar.gz", tool),
                        ("tool.tar.gz.minisig", other.sign(tool).as_bytes()),
                    ],
                ),
                Some(signing),
            ),
        ],
        STRICT,
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");

    let file = stored(&report, "acme/signed", "tool.tar.gz");
    assert_eq!(file["verified_by"], "minisign", "{file}");
    assert_eq!(
        labels(file),
        ["digest".to_string(), format!("minisign:{}", good.public())]
    );
    let record = &db_entry(&s, "acme/signed")["download_history"][0]["metadata"]["files"];
    let record = record
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "tool.tar.gz"))
        .expect("recorded");
    assert_eq!(record["verified_by"], "minisign");
    assert_eq!(
        record["verification"][1],
        format!("minisign:{}", good.public())
    );

    let e = refusal(&report, "acme/tampered", "tool.tar.gz");
    assert!(e.contains("minisign signature does not verify"), "{e}");
    assert!(!in_mirror(&s, "acme/tampered", "tool.tar.gz"));
    assert_eq!(db_entry(&s, "acme/tampered"), Value::Null);

    let e = refusal(&report, "acme/wrongkey", "tool.tar.gz");
    assert!(e.contains("not a configured minisign key"), "{e}");
    assert!(!in_mirror(&s, "acme/wrongkey", "tool.tar.gz"));
    assert_eq!(db_entry(&s, "acme/wrongkey"), Value::Null);

    assert!(
        stderr.contains(
            "verification: 1 signature-verified, 0 attestation-verified, 1 checksum-only"
        ),
        "{stderr}"
    );
}

#[test]
fn pgp_detached_and_signed_checksum_files() {
    let keys = tempfile::tempdir().expect("tempdir");
    let gpg = Gpg::new(keys.path(), "maintainer");
    let stranger = Gpg::new(keys.path(), "stranger");
    let a = b"asset a".as_slice();
    let b = b"asset b".as_slice();
    let sums = format!("{}  a.zip\n{}  b.zip\n", sha256_hex(a), sha256_hex(b));
    let s = setup(
        vec![
            (
                repo(
                    "acme",
                    "detached",
                    &[
                        ("armored.bin", a),
                        ("armored.bin.asc", &gpg.detach_sign(a, true)),
                        ("binary.bin", b),
                        ("binary.bin.sig", &gpg.detach_sign(b, false)),
                    ],
                ),
                Some("{pgp: [keys/maintainer.asc]}".into()),
            ),
            (
                repo(
                    "acme",
                    "sums",
                    &[
                        ("a.zip", a),
                        ("b.zip", b),
                        ("SHA256SUMS", sums.as_bytes()),
                        ("SHA256SUMS.asc", &gpg.detach_sign(sums.as_bytes(), true)),
                    ],
                ),
                Some("{pgp: [keys/maintainer.asc]}".into()),
            ),
            (
                repo(
                    "acme",
                    "clearsigned",
                    &[
                        ("a.zip", a),
                        ("SHA256SUMS", gpg.clearsign(&sums).as_bytes()),
                    ],
                ),
                Some("{pgp: [keys/maintainer.asc]}".into()),
            ),
            (
                // A signature over another file, and one by a stranger's key.
                repo(
                    "acme",
                    "bad",
                    &[
                        ("a.zip", a),
                        ("a.zip.asc", &gpg.detach_sign(b, true)),
                        ("b.zip", b),
                        ("b.zip.sig", &stranger.detach_sign(b, false)),
                    ],
                ),
                Some("{pgp: [keys/maintainer.asc]}".into()),
            ),
        ],
        STRICT,
    );
    std::fs::create_dir_all(s.path("keys")).expect("keys dir");
    gpg.export(&s.path("keys/maintainer.asc"));
    let fingerprint = format!("pgp:0x{}", gpg.fingerprint());

    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    for name in ["armored.bin", "binary.bin"] {
        assert_proved(&report, "acme/detached", name, "pgp", &fingerprint);
    }
    for name in ["a.zip", "b.zip"] {
        let file = stored(&report, "acme/sums", name);
        assert_eq!(file["verified_by"], "pgp", "{file}");
        assert_eq!(
            labels(file),
            [
                "checksum-file:SHA256SUMS".to_string(),
                "digest".to_string(),
                format!("{fingerprint} (over SHA256SUMS)"),
            ]
        );
        assert_eq!(file["signatures"][0]["file"], "SHA256SUMS.asc", "{file}");
        assert_eq!(file["signatures"][0]["result"], "verified", "{file}");
    }
    let file = stored(&report, "acme/clearsigned", "a.zip");
    assert_eq!(file["verified_by"], "pgp", "{file}");

    let e = refusal(&report, "acme/bad", "a.zip");
    assert!(e.contains("pgp signature does not verify"), "{e}");
    let e = refusal(&report, "acme/bad", "b.zip");
    assert!(
        e.contains("not a configured pgp key") && e.contains(&stranger.fingerprint()),
        "{e}"
    );
    assert!(!in_mirror(&s, "acme/bad", "a.zip"));
    assert!(!in_mirror(&s, "acme/bad", "b.zip"));
    assert_eq!(db_entry(&s, "acme/bad"), Value::Null);
}

#[test]
fn a_tampered_signed_checksum_file_refuses_every_asset_it_lists() {
    let keys = tempfile::tempdir().expect("tempdir");
    let gpg = Gpg::new(keys.path(), "maintainer");
    let a = b"asset a".as_slice();
    let sums = format!("{}  a.zip\n", sha256_hex(a));
    let signature = gpg.detach_sign(sums.as_bytes(), true);
    let tampered = format!("{sums}{}  extra.zip\n", sha256_hex(b"x"));
    let s = setup(
        vec![(
            repo(
                "acme",
                "sums",
                &[
                    ("a.zip", a),
                    ("SHA256SUMS", tampered.as_bytes()),
                    ("SHA256SUMS.asc", &signature),
                ],
            ),
            Some("{pgp: [keys/maintainer.asc]}".into()),
        )],
        "{signature: true}",
    );
    std::fs::create_dir_all(s.path("keys")).expect("keys dir");
    gpg.export(&s.path("keys/maintainer.asc"));
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    let e = refusal(&report, "acme/sums", "a.zip");
    assert!(
        e.contains("SHA256SUMS.asc") && e.contains("does not verify"),
        "{e}"
    );
    assert!(!in_mirror(&s, "acme/sums", "a.zip"));
}

#[test]
fn require_signature_refuses_what_nothing_proves_and_the_rest_continue() {
    let keys = tempfile::tempdir().expect("tempdir");
    let good = Minisign::new(keys.path(), "good");
    let tool = b"tool".as_slice();
    let repos = || {
        vec![
            (
                repo("acme", "plain", &[("plain.bin", b"no signature")]),
                None,
            ),
            (
                repo(
                    "acme",
                    "nokey",
                    &[
                        ("tool.bin", tool),
                        ("tool.bin.minisig", good.sign(tool).as_bytes()),
                    ],
                ),
                None,
            ),
        ]
    };
    // Strict: both refused, each with what was found.
    let s = setup(repos(), STRICT);
    let (code, report, _) = download(&s);
    assert_eq!(code, 1);
    let e = refusal(&report, "acme/plain", "plain.bin");
    assert!(e.contains("no signature or attestation proves it"), "{e}");
    let e = refusal(&report, "acme/nokey", "tool.bin");
    assert!(e.contains("no minisign key is configured"), "{e}");
    assert!(!in_mirror(&s, "acme/plain", "plain.bin"));

    // Not strict: stored on their checksums, the skipped signature reported.
    let s = setup(repos(), "{signature: true}");
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 0, "{stderr}");
    let file = stored(&report, "acme/nokey", "tool.bin");
    assert_eq!(file["verified_by"], "digest");
    assert_eq!(file["signatures"][0]["file"], "tool.bin.minisig");
    assert_eq!(file["signatures"][0]["result"], "skipped");
    assert!(
        stderr.contains(
            "0 signature-verified, 0 attestation-verified, 3 checksum-only, 0 unverified"
        ),
        "{stderr}"
    );
}

#[test]
fn sigstore_bundles_in_the_release_are_checked_against_the_repository() {
    let package = read_fixture("sigstore-js-2.1.0.tgz");
    let bundle = read_fixture("sigstore-js-2.1.0-bundle.json");
    let assets: &[(&str, &[u8])] = &[
        ("sigstore-2.1.0.tgz", &package),
        ("sigstore-2.1.0.tgz.sigstore.json", &bundle),
    ];
    let s = setup(
        vec![
            (repo("sigstore", "sigstore-js", assets), None),
            // The same, correct bundle served by another repository.
            (repo("mallory", "sigstore-js", assets), None),
            (
                // The right repository, but pinned to another workflow.
                repo("sigstore", "pinned", assets),
                Some(
                    "{repository: sigstore/sigstore-js, workflow: .github/workflows/other.yml}"
                        .into(),
                ),
            ),
        ],
        STRICT,
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    let tgz = "sigstore-2.1.0.tgz";
    let label = format!("sigstore:{SIGSTORE_JS_WORKFLOW}");
    assert_proved(&report, "sigstore/sigstore-js", tgz, "sigstore", &label);
    let e = refusal(&report, "mallory/sigstore-js", "sigstore-2.1.0.tgz");
    assert!(e.contains("source repository"), "{e}");
    assert!(!in_mirror(&s, "mallory/sigstore-js", "sigstore-2.1.0.tgz"));
    let e = refusal(&report, "sigstore/pinned", "sigstore-2.1.0.tgz");
    assert!(e.contains("signer workflow"), "{e}");
}

#[test]
fn github_attestations_prove_assets_offline() {
    let wheel = read_fixture("github_provenance_demo-0.0.12-py3-none-any.whl");
    let digest = sha256_hex(&wheel);
    let good = first_bundle("github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl");
    let no_cert =
        first_bundle("github_provenance_demo-0.0.12-py3-none-any-bundle-missing-cert.jsonl");
    let name = "github_provenance_demo-0.0.12-py3-none-any.whl";
    let s = setup(
        vec![
            (
                repo("actions", "attest-demo", &[(name, &wheel)])
                    .with_attestation(&digest, good.clone()),
                None,
            ),
            (
                // A correct attestation, but GitHub serves it for another repository.
                repo("mallory", "attest-demo", &[(name, &wheel)]).with_attestation(&digest, good),
                None,
            ),
            (
                repo("actions", "nocert", &[(name, &wheel)]).with_attestation(&digest, no_cert),
                Some("{repository: actions/attest-demo}".into()),
            ),
            // No attestation at all (404).
            (repo("actions", "none", &[(name, &wheel)]), None),
        ],
        STRICT,
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    let file = stored(&report, "actions/attest-demo", name);
    assert_eq!(file["verified_by"], "attestation", "{file}");
    assert_eq!(
        labels(file),
        [
            "digest",
            "attestation:https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main"
        ]
    );
    let e = refusal(&report, "mallory/attest-demo", name);
    assert!(e.contains("source repository"), "{e}");
    let e = refusal(&report, "actions/nocert", name);
    assert!(e.contains("certificate"), "{e}");
    let e = refusal(&report, "actions/none", name);
    assert!(e.contains("no signature or attestation proves it"), "{e}");
    for r in ["mallory/attest-demo", "actions/nocert", "actions/none"] {
        assert!(!in_mirror(&s, r, name), "{r}");
        assert_eq!(db_entry(&s, r), Value::Null, "{r}");
    }
    // The attestations were asked of the API, once per asset, with the asset's digest.
    let asked = s
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("/attestations/"))
        .count();
    assert_eq!(asked, 4);
}

#[test]
fn attestations_alone_are_checked_without_the_release_signature_files() {
    let wheel = read_fixture("github_provenance_demo-0.0.12-py3-none-any.whl");
    let digest = sha256_hex(&wheel);
    let good = first_bundle("github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl");
    let name = "github_provenance_demo-0.0.12-py3-none-any.whl";
    let s = setup(
        vec![(
            repo("actions", "attest-demo", &[(name, &wheel)]).with_attestation(&digest, good),
            Some("{workflow: .github/workflows/build-python.yml}".into()),
        )],
        "{attestations: true}",
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 0, "{stderr}");
    let file = stored(&report, "actions/attest-demo", name);
    assert_eq!(file["verified_by"], "attestation", "{file}");
}

#[test]
fn a_missing_attestation_is_not_a_failure_unless_signatures_are_required() {
    let s = setup(
        vec![(repo("acme", "tool", &[("tool.bin", b"bytes")]), None)],
        "{signature: true}",
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 0, "{stderr}");
    let file = stored(&report, "acme/tool", "tool.bin");
    assert_eq!(file["verified_by"], "digest");
    assert_eq!(file["signatures"][0]["file"], "attestation");
    assert_eq!(file["signatures"][0]["result"], "skipped");
}

#[test]
fn a_dry_run_lists_the_signatures_found_and_what_would_be_skipped() {
    let keys = tempfile::tempdir().expect("tempdir");
    let good = Minisign::new(keys.path(), "good");
    let gpg = Gpg::new(keys.path(), "maintainer");
    let tool = b"tool".as_slice();
    let s = setup(
        vec![(
            repo(
                "acme",
                "tool",
                &[
                    ("tool.bin", tool),
                    ("tool.bin.minisig", good.sign(tool).as_bytes()),
                    ("tool.bin.asc", &gpg.detach_sign(tool, true)),
                ],
            ),
            Some(format!("{{minisign: [\"{}\"]}}", good.public())),
        )],
        STRICT,
    );
    let out = s
        .monitor(None)
        .args(["--download", "--dry-run"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let planned = report["download_results"]["planned"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["asset"] == "tool.bin"))
        .expect("planned");
    let notes = planned["signatures"].as_array().expect("signatures");
    let by_file = |f: &str| notes.iter().find(|n| n["file"] == f).expect("note");
    assert_eq!(by_file("tool.bin.minisig")["result"], "to-check");
    assert_eq!(by_file("tool.bin.asc")["result"], "skipped");
    assert!(
        by_file("tool.bin.asc")["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no pgp key")),
        "{planned}"
    );
    assert!(!s.path("downloads").join("acme_tool").exists());

    // `monitor --explain` says the same from the asset names, before anything is fetched.
    let out = s.monitor(None).arg("--explain").output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "tool.bin.minisig (minisign) for tool.bin: checked with the 1 configured minisign key(s)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("tool.bin.asc (pgp) for tool.bin: skipped: no pgp key is configured"),
        "{stderr}"
    );
    assert!(stderr.contains("attestations: GitHub is asked"), "{stderr}");
}

#[test]
fn bad_trust_anchors_are_configuration_errors() {
    let keys = tempfile::tempdir().expect("tempdir");
    let gpg = Gpg::new(keys.path(), "maintainer");
    let cases: Vec<(&str, &str)> = vec![
        (
            "{minisign: [\"RWQnot-a-key\"]}",
            "repositories[0].signing.minisign[0]",
        ),
        (
            "{pgp: [keys/missing.asc]}",
            "repositories[0].signing.pgp[0]",
        ),
        ("{pgp: [keys/secret.asc]}", "repositories[0].signing.pgp[0]"),
        (
            "{cosign: [keys/not-pem.pub]}",
            "repositories[0].signing.cosign[0]",
        ),
        (
            "{workflow: release.yml}",
            "repositories[0].signing.workflow",
        ),
    ];
    for (signing, key) in cases {
        let s = setup(
            vec![(repo("acme", "tool", &[("a", b"a")]), Some(signing.into()))],
            STRICT,
        );
        std::fs::create_dir_all(s.path("keys")).expect("keys");
        gpg.export_secret(&s.path("keys/secret.asc"));
        std::fs::write(s.path("keys/not-pem.pub"), "not a key").expect("write");
        let out = s
            .command(None)
            .args(["config", "check"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{signing}: {stderr}");
        assert!(
            stderr.contains("config.yaml:") && stderr.contains(key),
            "{signing}: {stderr}"
        );
        // The secret key's material is never echoed.
        assert!(!stderr.contains("PRIVATE KEY BLOCK"), "{stderr}");
    }
    let s = setup(
        vec![(repo("acme", "tool", &[("a", b"a")]), None)],
        "{signature: true, trusted_root: roots.json}",
    );
    std::fs::write(s.path("roots.json"), "{}").expect("write");
    let out = s
        .command(None)
        .args(["config", "check"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("download.verification.trusted_root"),
        "{stderr}"
    );
}

#[test]
fn a_trusted_root_file_replaces_the_embedded_roots() {
    // The public-good snapshot verifies the public-good bundle, and with it alone GitHub's own
    // instance (the attestation) is no longer trusted.
    let package = read_fixture("sigstore-js-2.1.0.tgz");
    let bundle = read_fixture("sigstore-js-2.1.0-bundle.json");
    let wheel = read_fixture("github_provenance_demo-0.0.12-py3-none-any.whl");
    let digest = sha256_hex(&wheel);
    let attestation = first_bundle("github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl");
    let name = "github_provenance_demo-0.0.12-py3-none-any.whl";
    let root = fixture("trusted_root.json");
    let s = setup(
        vec![
            (
                repo(
                    "sigstore",
                    "sigstore-js",
                    &[
                        ("sigstore-2.1.0.tgz", &package),
                        ("sigstore-2.1.0.tgz.sigstore.json", &bundle),
                    ],
                ),
                None,
            ),
            (
                repo("actions", "attest-demo", &[(name, &wheel)])
                    .with_attestation(&digest, attestation),
                None,
            ),
        ],
        &format!("{{signature: true, trusted_root: {}}}", root.display()),
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    let file = stored(&report, "sigstore/sigstore-js", "sigstore-2.1.0.tgz");
    assert_eq!(file["verified_by"], "sigstore");
    let e = refusal(&report, "actions/attest-demo", name);
    assert!(e.contains("attestation"), "{e}");
}

/// Runs a command, panicking on failure; returns stdout.
fn sh(cmd: &mut std::process::Command) -> Vec<u8> {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn cosign_key_signatures_made_like_cosign_sign_blob() {
    // `cosign sign-blob --key` writes base64 of an ECDSA P-256 signature over SHA-256: the same as
    // `openssl dgst -sha256 -sign` with a P-256 key.
    let keys = tempfile::tempdir().expect("tempdir");
    let make_key = |name: &str| {
        let private = keys.path().join(format!("{name}.pem"));
        sh(std::process::Command::new("openssl")
            .args([
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ])
            .arg(&private));
        sh(std::process::Command::new("openssl")
            .args(["ec", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(keys.path().join(format!("{name}.pub"))));
        private
    };
    let sign = |private: &Path, bytes: &[u8]| {
        let file = keys.path().join("blob");
        std::fs::write(&file, bytes).expect("write");
        let der = sh(std::process::Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(private)
            .arg(&file));
        use base64::Engine as _;
        format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    };
    let good = make_key("cosign");
    let other = make_key("other");
    let blob = b"a cosign-signed binary".as_slice();
    let s = setup(
        vec![
            (
                repo(
                    "acme",
                    "cosigned",
                    &[("tool", blob), ("tool.sig", sign(&good, blob).as_bytes())],
                ),
                Some("{cosign: [keys/cosign.pub]}".into()),
            ),
            (
                repo(
                    "acme",
                    "othersigned",
                    &[("tool", blob), ("tool.sig", sign(&other, blob).as_bytes())],
                ),
                Some("{cosign: [keys/cosign.pub]}".into()),
            ),
        ],
        STRICT,
    );
    std::fs::create_dir_all(s.path("keys")).expect("keys");
    std::fs::copy(keys.path().join("cosign.pub"), s.path("keys/cosign.pub")).expect("copy");
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    let file = stored(&report, "acme/cosigned", "tool");
    assert_eq!(file["verified_by"], "cosign", "{file}");
    assert_eq!(
        labels(file).last().map(String::as_str),
        Some("cosign:keys/cosign.pub")
    );
    let e = refusal(&report, "acme/othersigned", "tool");
    assert!(e.contains("cosign signature does not verify"), "{e}");
    assert!(!in_mirror(&s, "acme/othersigned", "tool"));
}

#[test]
fn slsa_provenance_in_the_release_covers_the_assets_it_lists() {
    let package = read_fixture("sigstore-js-2.1.0.tgz");
    let provenance = read_fixture("sigstore-js-2.1.0_with_2_bundles.jsonl");
    let s = setup(
        vec![(
            repo(
                "sigstore",
                "sigstore-js",
                &[
                    ("sigstore-2.1.0.tgz", &package),
                    ("other.txt", b"not a subject of the provenance"),
                    ("sigstore.intoto.jsonl", &provenance),
                ],
            ),
            None,
        )],
        "{signature: true}",
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 0, "{stderr}");
    let tgz = "sigstore-2.1.0.tgz";
    let label = format!("provenance:{SIGSTORE_JS_WORKFLOW}");
    assert_proved(&report, "sigstore/sigstore-js", tgz, "provenance", &label);
    let other = stored(&report, "sigstore/sigstore-js", "other.txt");
    assert_eq!(other["verified_by"], "digest", "{other}");
}

#[test]
fn a_deduplicated_file_is_authenticated_before_it_is_linked() {
    let keys = tempfile::tempdir().expect("tempdir");
    let good = Minisign::new(keys.path(), "good");
    let tool = b"the same tool in two repositories".as_slice();
    let signature = good.sign(tool);
    let signed = |name: &str| {
        repo(
            "acme",
            name,
            &[
                ("tool.bin", tool),
                ("tool.bin.minisig", signature.as_bytes()),
            ],
        )
    };
    let signing = format!("{{minisign: [\"{}\"]}}", good.public());
    // One transfer at a time: whichever repository's file is stored first, the other finds it.
    let s = setup_with(
        vec![
            (signed("first"), Some(signing.clone())),
            (signed("second"), Some(signing)),
        ],
        STRICT,
        "  concurrency: 1\n",
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 0, "{stderr}");
    let label = format!("minisign:{}", good.public());
    assert_proved(&report, "acme/first", "tool.bin", "minisign", &label);
    assert_proved(&report, "acme/second", "tool.bin", "minisign", &label);
    let how: Vec<&Value> = ["acme/first", "acme/second"]
        .iter()
        .map(|r| &stored(&report, r, "tool.bin")["how"])
        .collect();
    let linked = how
        .iter()
        .filter(|h| **h == "hard-linked" || **h == "copied")
        .count();
    assert_eq!(linked, 1, "{how:?}");
}

#[test]
fn the_invalid_signature_bundle_is_refused_as_an_asset_and_as_an_attestation() {
    // The fixture signs the text `hello, world!` (a DSSE payload of type text/plain) and its
    // signature does not verify: refused however it is offered.
    let hello = b"hello, world!".as_slice();
    let bundle = read_fixture("sigstoreBundle-invalid-signature.json");
    let as_json: Value = serde_json::from_slice(&bundle).expect("JSON");
    let s = setup(
        vec![
            (
                repo(
                    "bdehamer",
                    "asset",
                    &[("hello.txt", hello), ("hello.txt.sigstore.json", &bundle)],
                ),
                None,
            ),
            (
                repo("bdehamer", "attested", &[("hello.txt", hello)])
                    .with_attestation(&sha256_hex(hello), as_json),
                None,
            ),
        ],
        "{signature: true}",
    );
    let (code, report, stderr) = download(&s);
    assert_eq!(code, 1, "{stderr}");
    for r in ["bdehamer/asset", "bdehamer/attested"] {
        let e = refusal(&report, r, "hello.txt");
        assert!(e.contains("Sigstore verification failed"), "{r}: {e}");
        assert!(!in_mirror(&s, r, "hello.txt"), "{r}");
        assert_eq!(db_entry(&s, r), Value::Null, "{r}");
    }
}
