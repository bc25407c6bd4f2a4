//! `monitor --download` with `post_download: {extract: true}` against the fake GitHub: the
//! extracted tree, the `extractions` report entries, a hostile archive failing only its own
//! step, `--dry-run` extracting nothing, and a re-run keeping the earlier extraction.

use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;

use fake_github::{Asset, Origin, Release, Repository, Scenario};
use serde_json::{Value, json};

use crate::support::FakeSetup;

/// A `.tar.gz` with `tool-1.0/bin/tool` (executable) and `tool-1.0/README`.
fn good_tar_gz() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data, mode) in [
        ("tool-1.0/bin/tool", &b"#!/bin/sh\necho tool\n"[..], 0o755),
        ("tool-1.0/README", &b"read me\n"[..], 0o644),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_path(path).unwrap();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        builder.append(&h, data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&builder.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A zip whose second entry climbs out with `../`.
fn evil_zip() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("fine.txt", opts).unwrap();
    w.write_all(b"fine").unwrap();
    w.start_file("../../evil.txt", opts).unwrap();
    w.write_all(b"evil").unwrap();
    w.finish().unwrap().into_inner()
}

fn setup() -> FakeSetup {
    let release = Release::new("v1.0.0")
        .with_asset(Asset::with_bytes("tool-1.0-linux.tar.gz", &good_tar_gz()))
        .with_asset(Asset::with_bytes("evil.zip", &evil_zip()))
        .with_asset(Asset::with_content("notes.txt", "not an archive"));
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(release))
        .to_yaml()
        .unwrap();
    // The plan's list form, with the limits as one more single-key mapping.
    FakeSetup::new(
        &scenario,
        &["acme/tool"],
        "  post_download:\n    - extract: true\n    - extract_limits: {max_files: 1000}\n",
    )
}

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn monitor_download_extracts_archives_and_reports_each() {
    let s = setup();
    let release_dir = s.path("downloads/acme_tool/v1.0.0");

    // A dry run extracts nothing and reports no extraction.
    let out = s
        .command(None)
        .args(["monitor", "--download", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = stdout_json(&out);
    assert!(report["download_results"].get("extractions").is_none());
    assert!(!release_dir.join("tool-1.0-linux").exists());

    // The real run: the good archive is extracted, the hostile one fails alone (exit 1), and
    // the release is still recorded.
    let out = s
        .command(None)
        .args(["monitor", "--download"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let results = &stdout_json(&out)["download_results"];
    assert_eq!(results["failed"], json!([]), "{results}");
    assert_eq!(
        results["downloaded"][0]["files"].as_array().unwrap().len(),
        3
    );
    let extractions = results["extractions"].as_array().unwrap();
    assert_eq!(extractions.len(), 2, "{results}");
    let tool = &extractions[0];
    assert_eq!(tool["repository"], "acme/tool");
    assert_eq!(tool["tag_name"], "v1.0.0");
    assert_eq!(tool["asset"], "tool-1.0-linux.tar.gz");
    assert_eq!(tool["status"], "extracted");
    assert_eq!(tool["entries"], 2);
    assert_eq!(tool["bytes"], 20 + 8);
    assert_eq!(
        tool["path"],
        release_dir.join("tool-1.0-linux").display().to_string()
    );
    assert!(tool.get("error").is_none());
    let evil = &extractions[1];
    assert_eq!(evil["asset"], "evil.zip");
    assert_eq!(evil["status"], "failed");
    let error = evil["error"].as_str().unwrap();
    assert!(
        error.contains("refusing entry \"../../evil.txt\"") && error.contains(".."),
        "{error}"
    );
    assert!(stderr.contains("cannot extract evil.zip"), "{stderr}");

    // The tree, with the exec bit kept; nothing of the hostile archive anywhere.
    let bin = release_dir.join("tool-1.0-linux/tool-1.0/bin/tool");
    assert_eq!(std::fs::read(&bin).unwrap(), b"#!/bin/sh\necho tool\n");
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(
        std::fs::read(release_dir.join("tool-1.0-linux/tool-1.0/README")).unwrap(),
        b"read me\n"
    );
    let mut listing: Vec<String> = std::fs::read_dir(&release_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    assert_eq!(
        listing,
        [
            "evil.zip",
            "evil.zip.sha256",
            "notes.txt",
            "notes.txt.sha256",
            "tool-1.0-linux",
            "tool-1.0-linux.tar.gz",
            "tool-1.0-linux.tar.gz.sha256",
        ]
    );
    assert!(!s.path("downloads/evil.txt").exists());
    assert!(!s.path("evil.txt").exists());

    // Recorded despite the failed extraction.
    let db: Value =
        serde_json::from_slice(&std::fs::read(s.path("version_db.json")).unwrap()).unwrap();
    assert_eq!(db["repositories"]["acme/tool"]["current_version"], "v1.0.0");

    // Forcing the download again finds the stored archive unchanged and keeps its extraction.
    let report = s
        .command(None)
        .args(["monitor", "--force-check"])
        .output()
        .unwrap();
    s.fake.clear_requests();
    let out = s
        .command(None)
        .args(["download", "--force"])
        .write_stdin(report.stdout)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let results = stdout_json(&out);
    assert_eq!(results["extractions"][0]["status"], "already-extracted");
    assert!(results["extractions"][0].get("entries").is_none());
    assert_eq!(results["extractions"][1]["status"], "failed");
    assert!(
        s.fake.requests().iter().all(|r| r.origin == Origin::Api),
        "the stored archives are re-verified, not fetched again"
    );
    assert_eq!(std::fs::read(&bin).unwrap(), b"#!/bin/sh\necho tool\n");
}

#[test]
fn bad_extract_limits_are_a_config_error() {
    let s = FakeSetup::new(
        "repositories: []",
        &["acme/tool"],
        "  post_download:\n    extract: true\n    extract_limits: {max_ratio: 0}\n",
    );
    let out = s.command(None).args(["config", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("download.post_download.extract_limits.max_ratio"),
        "{stderr}"
    );
}

#[test]
fn two_archives_with_one_stem_each_get_their_own_folder() {
    // `tool.tar.gz` and `tool.zip` both used to go to `tool/`, the second replacing the first.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("from-zip.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(b"zip").unwrap();
    let zip = w.finish().unwrap().into_inner();
    let release = Release::new("v2.0.0")
        .with_asset(Asset::with_bytes("tool.tar.gz", &good_tar_gz()))
        .with_asset(Asset::with_bytes("tool.zip", &zip))
        .with_asset(Asset::with_content("tool", "a binary named like the stem"));
    let scenario = Scenario::default()
        .with_repository(Repository::new("acme", "tool").with_release(release))
        .to_yaml()
        .unwrap();
    let s = FakeSetup::new(
        &scenario,
        &["acme/tool"],
        "  post_download: {extract: true}\n",
    );
    let out = s
        .command(None)
        .args(["monitor", "--download"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let results = &stdout_json(&out)["download_results"];
    let dir = s.path("downloads/acme_tool/v2.0.0");
    let extractions = results["extractions"].as_array().unwrap();
    let paths: Vec<&str> = extractions
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            dir.join("tool.tar.gz.extracted").display().to_string(),
            dir.join("tool.zip.extracted").display().to_string()
        ],
        "{results}"
    );
    assert!(extractions.iter().all(|e| e["status"] == "extracted"));
    // Both trees are there, and the asset named `tool` is untouched.
    assert!(dir.join("tool.tar.gz.extracted/tool-1.0/README").is_file());
    assert_eq!(
        std::fs::read(dir.join("tool.zip.extracted/from-zip.txt")).unwrap(),
        b"zip"
    );
    assert_eq!(
        std::fs::read(dir.join("tool")).unwrap(),
        b"a binary named like the stem"
    );
}
