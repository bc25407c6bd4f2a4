//! The version database document, in the seed tool's `version_db.json` layout.
//!
//! Users switch between that tool and this one with the same file, so the layout is theirs:
//! `metadata` plus `repositories{"owner/repo": {owner, repo, current_version, last_updated,
//! download_history[]}}`, history appended (oldest first, newest last) and trimmed to the last
//! 50, exactly as that tool keeps it. Files an earlier release of this project wrote newest
//! first are read in either order and stored oldest first from then on. Keys this project adds (each
//! file's size, sha256 and `verified_by`) sit inside objects that tool already has, where its
//! loader ignores them; keys we do not know are kept as they were.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::repo::RepoId;

/// The `metadata.version` this release writes; files whose major version differs are refused.
pub const SCHEMA_VERSION: &str = "1.0";

/// The `metadata.description` the seed tool writes, kept for files we create.
pub const DESCRIPTION: &str = "GitHub Release Monitor Version Database";

/// How many history entries are kept per repository: the last 50 appended (the seed tool's cap).
pub const HISTORY_LIMIT: usize = 50;

/// The whole database file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Database {
    /// When and by which schema the file was written.
    pub metadata: Metadata,
    /// One record per repository, keyed `owner/repo`, in file order.
    pub repositories: IndexMap<String, RepoRecord>,
    /// Top-level keys we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The file's `metadata` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// When the file was first written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The schema version (`"1.0"`).
    pub version: String,
    /// A human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When any record last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Keys we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What the database knows about one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoRecord {
    /// GitHub owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// The version held (the newest downloaded, or set by `db set`); `null` when none.
    #[serde(default)]
    pub current_version: Option<String>,
    /// When this record last changed.
    #[serde(default)]
    pub last_updated: Option<String>,
    /// What was recorded, oldest first (the seed tool appends), at most [`HISTORY_LIMIT`]
    /// entries.
    #[serde(default)]
    pub download_history: Vec<HistoryEntry>,
    /// Keys we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RepoRecord {
    /// Appends `entry` and keeps the last [`HISTORY_LIMIT`] entries, as the seed tool does
    /// (`append`, then `[-50:]`), so that tool's trim never drops what we wrote last.
    fn push_history(&mut self, entry: HistoryEntry) {
        self.download_history.push(entry);
        let excess = self.download_history.len().saturating_sub(HISTORY_LIMIT);
        self.download_history.drain(..excess);
    }

    /// The history newest first, as people read it (the seed tool's `get_download_history`
    /// reverses the file's order the same way).
    pub fn history_newest_first(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.download_history.iter().rev()
    }

    /// Puts the history oldest first when a file holds it in another order: an earlier release
    /// of this project wrote it newest first, and the seed tool may then have appended to such a
    /// file. Entries are ordered by `downloaded_at` (stable, so entries of one instant keep
    /// their order); when a timestamp cannot be read, the order is left as it is. Returns
    /// whether anything moved.
    fn order_history(&mut self) -> bool {
        let Some(times) = self
            .download_history
            .iter()
            .map(|h| parse_time(&h.downloaded_at))
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        if times.windows(2).all(|w| w[0] <= w[1]) {
            return false;
        }
        if times.windows(2).all(|w| w[0] >= w[1]) {
            self.download_history.reverse();
            return true;
        }
        let mut keyed: Vec<_> = times
            .into_iter()
            .zip(std::mem::take(&mut self.download_history))
            .collect();
        keyed.sort_by_key(|(t, _)| *t);
        self.download_history = keyed.into_iter().map(|(_, h)| h).collect();
        true
    }
}

/// A history timestamp as an instant: ISO 8601 with an offset (what both tools write), or
/// without one (read as UTC).
fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// One recorded version of a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The version (tag) recorded.
    pub version: String,
    /// The version held before it, if any.
    #[serde(default)]
    pub previous_version: Option<String>,
    /// When it was recorded (ISO 8601 with offset).
    pub downloaded_at: String,
    /// The seed tool's download summary, plus our per-file records.
    #[serde(default)]
    pub metadata: HistoryMetadata,
    /// Keys we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A history entry's `metadata`: the seed tool's summary fields and ours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryMetadata {
    /// Files downloaded (seed tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_count: Option<u64>,
    /// Assets selected (seed tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_assets: Option<u64>,
    /// File names downloaded (seed tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded_files: Option<Vec<String>>,
    /// Seconds the download took (seed tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_time: Option<f64>,
    /// Bytes downloaded (seed tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_size: Option<u64>,
    /// Ours: each stored file with its size, sha256 and how it was verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileRecord>,
    /// Ours: what recorded the entry when it was not a download (`db set`, `retention`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// Ours: on a `retention` entry, the stored files of `version` that were deleted (paths
    /// relative to the download directory, and S3 keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<String>,
    /// Keys we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One stored file of a recorded release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The asset's file name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
    /// The strongest check that held.
    pub verified_by: VerifiedBy,
    /// Ours: every check that held, strongest last (`digest`, `checksum-file:SHA256SUMS`,
    /// `pgp:0x…`, `attestation:<workflow>`); empty in entries written before signatures were
    /// checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification: Vec<String>,
}

/// The strongest check that held for a file: a checksum layer (integrity), or a signature or
/// attestation (authenticity, see [`crate::trust::ProofKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifiedBy {
    /// A GitHub artifact attestation signed by the expected identity.
    Attestation,
    /// SLSA provenance in the release, signed by the expected identity.
    Provenance,
    /// A keyless Sigstore bundle in the release, signed by the expected identity.
    Sigstore,
    /// A cosign signature by a configured key.
    Cosign,
    /// A minisign signature by a configured key.
    Minisign,
    /// An OpenPGP signature by a configured key.
    Pgp,
    /// The asset's `digest` reported by the GitHub API.
    Digest,
    /// A checksum file published in the same release (`SHA256SUMS`, `*checksums*.txt`, ...).
    ChecksumFile,
    /// A sibling `<asset>.sha256` / `<asset>.sha512` asset.
    Sidecar,
    /// No upstream checksum existed; only the size was checked.
    None,
}

impl VerifiedBy {
    /// The name written in the database (`digest`, `checksum-file`, `sidecar`, `none`, or a
    /// signature kind such as `pgp` or `attestation`).
    pub fn as_str(self) -> &'static str {
        match self {
            VerifiedBy::Attestation => "attestation",
            VerifiedBy::Provenance => "provenance",
            VerifiedBy::Sigstore => "sigstore",
            VerifiedBy::Cosign => "cosign",
            VerifiedBy::Minisign => "minisign",
            VerifiedBy::Pgp => "pgp",
            VerifiedBy::Digest => "digest",
            VerifiedBy::ChecksumFile => "checksum-file",
            VerifiedBy::Sidecar => "sidecar",
            VerifiedBy::None => "none",
        }
    }
}

impl From<crate::trust::ProofKind> for VerifiedBy {
    fn from(kind: crate::trust::ProofKind) -> VerifiedBy {
        use crate::trust::ProofKind as K;
        match kind {
            K::Sidecar => VerifiedBy::Sidecar,
            K::ChecksumFile => VerifiedBy::ChecksumFile,
            K::Digest => VerifiedBy::Digest,
            K::Pgp => VerifiedBy::Pgp,
            K::Minisign => VerifiedBy::Minisign,
            K::Cosign => VerifiedBy::Cosign,
            K::Sigstore => VerifiedBy::Sigstore,
            K::Provenance => VerifiedBy::Provenance,
            K::Attestation => VerifiedBy::Attestation,
        }
    }
}

/// What a caller records for one repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The version (tag) now held.
    pub version: String,
    /// The files stored for it (empty for `db set`).
    pub files: Vec<FileRecord>,
    /// Seconds the download took.
    pub download_time: f64,
    /// What recorded it, when not a download.
    pub recorded_by: Option<String>,
}

/// Figures about the database, for `db stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// The schema version in the file.
    pub schema_version: String,
    /// Repositories with a record.
    pub repositories: usize,
    /// Repositories whose `current_version` is set.
    pub with_current_version: usize,
    /// History entries over all repositories.
    pub history_entries: usize,
    /// Files listed in history entries (ours or the seed tool's `downloaded_files`).
    pub files_recorded: usize,
    /// Bytes over all history entries (`total_size`).
    pub bytes_recorded: u64,
    /// `metadata.created_at`.
    pub created_at: Option<String>,
    /// `metadata.last_updated`.
    pub last_updated: Option<String>,
}

/// `recorded_by` of the history entries retention writes.
pub const RETENTION: &str = "retention";

/// The current time as the seed tool writes it: ISO 8601, microseconds, `+00:00`.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

impl Database {
    /// An empty database, as the seed tool creates it.
    pub fn new(now: &str) -> Database {
        Database {
            metadata: Metadata {
                created_at: Some(now.to_string()),
                version: SCHEMA_VERSION.to_string(),
                description: Some(DESCRIPTION.to_string()),
                last_updated: Some(now.to_string()),
                extra: Map::new(),
            },
            repositories: IndexMap::new(),
            extra: Map::new(),
        }
    }

    /// Puts every repository's history oldest first (each record ordered as `RepoRecord` reads it);
    /// called on every file read, so the next write stores the seed tool's order. Returns how
    /// many histories were reordered.
    pub fn order_histories(&mut self) -> usize {
        self.repositories
            .values_mut()
            .map(RepoRecord::order_history)
            .filter(|moved| *moved)
            .count()
    }

    /// The key of `repo`'s record: its exact `owner/repo`, or an existing key that differs only
    /// in case (GitHub names are case-insensitive).
    fn key_of(&self, repo: &RepoId) -> Option<String> {
        let key = repo.to_string();
        if self.repositories.contains_key(&key) {
            return Some(key);
        }
        self.repositories
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&key))
            .cloned()
    }

    /// The record of `repo`, if any.
    pub fn get(&self, repo: &RepoId) -> Option<&RepoRecord> {
        self.key_of(repo).and_then(|k| self.repositories.get(&k))
    }

    /// The version held for `repo`.
    pub fn current_version(&self, repo: &RepoId) -> Option<&str> {
        self.get(repo)?.current_version.as_deref()
    }

    /// Records that `repo` now holds `rec.version`; returns the version held before.
    pub fn record(&mut self, repo: &RepoId, rec: &Recording, now: &str) -> Option<String> {
        let key = self.key_of(repo).unwrap_or_else(|| repo.to_string());
        let entry = self.repositories.entry(key).or_insert_with(|| RepoRecord {
            owner: repo.owner().to_string(),
            repo: repo.repo().to_string(),
            current_version: None,
            last_updated: None,
            download_history: Vec::new(),
            extra: Map::new(),
        });
        let previous = entry.current_version.replace(rec.version.clone());
        entry.last_updated = Some(now.to_string());
        let total_size = rec.files.iter().map(|f| f.size).sum();
        let count = rec.files.len() as u64;
        entry.push_history(HistoryEntry {
            version: rec.version.clone(),
            previous_version: previous.clone(),
            downloaded_at: now.to_string(),
            metadata: HistoryMetadata {
                download_count: Some(count),
                total_assets: Some(count),
                downloaded_files: Some(rec.files.iter().map(|f| f.name.clone()).collect()),
                download_time: Some(rec.download_time),
                total_size: Some(total_size),
                files: rec.files.clone(),
                recorded_by: rec.recorded_by.clone(),
                deleted: Vec::new(),
                extra: Map::new(),
            },
            extra: Map::new(),
        });
        self.metadata.last_updated = Some(now.to_string());
        previous
    }

    /// Records in `repo`'s history that the stored files of `version` were deleted by
    /// retention: a new entry, appended, with `recorded_by: "retention"` and the deleted
    /// paths. The held version is not changed (an older version was deleted, or the held one is
    /// still kept). Does nothing for a repository without a record.
    pub fn record_deletion(
        &mut self,
        repo: &RepoId,
        version: &str,
        deleted: Vec<String>,
        now: &str,
    ) {
        let Some(key) = self.key_of(repo) else {
            return;
        };
        let Some(entry) = self.repositories.get_mut(&key) else {
            return;
        };
        entry.push_history(HistoryEntry {
            version: version.to_string(),
            previous_version: None,
            downloaded_at: now.to_string(),
            metadata: HistoryMetadata {
                recorded_by: Some(RETENTION.to_string()),
                deleted,
                ..HistoryMetadata::default()
            },
            extra: Map::new(),
        });
        entry.last_updated = Some(now.to_string());
        self.metadata.last_updated = Some(now.to_string());
    }

    /// Removes `repo`'s record (so its next release is downloaded again); returns it.
    pub fn forget(&mut self, repo: &RepoId, now: &str) -> Option<RepoRecord> {
        let key = self.key_of(repo)?;
        let removed = self.repositories.shift_remove(&key);
        if removed.is_some() {
            self.metadata.last_updated = Some(now.to_string());
        }
        removed
    }

    /// Removes every record; returns how many there were.
    pub fn forget_all(&mut self, now: &str) -> usize {
        let n = self.repositories.len();
        self.repositories.clear();
        self.metadata.last_updated = Some(now.to_string());
        n
    }

    /// Figures for `db stats`.
    pub fn stats(&self) -> Stats {
        let history = self.repositories.values().flat_map(|r| &r.download_history);
        let (mut entries, mut files, mut bytes) = (0, 0, 0u64);
        for h in history {
            entries += 1;
            files += if h.metadata.files.is_empty() {
                h.metadata.downloaded_files.as_ref().map_or(0, Vec::len)
            } else {
                h.metadata.files.len()
            };
            bytes = bytes.saturating_add(h.metadata.total_size.unwrap_or(0));
        }
        Stats {
            schema_version: self.metadata.version.clone(),
            repositories: self.repositories.len(),
            with_current_version: self
                .repositories
                .values()
                .filter(|r| r.current_version.is_some())
                .count(),
            history_entries: entries,
            files_recorded: files,
            bytes_recorded: bytes,
            created_at: self.metadata.created_at.clone(),
            last_updated: self.metadata.last_updated.clone(),
        }
    }

    /// Problems that do not stop the file from being used: a key that does not match its
    /// record's owner/repo, an invalid name, history out of order or over the cap.
    pub fn lint(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, r) in &self.repositories {
            match key.parse::<RepoId>() {
                Err(e) => out.push(format!("repositories[{key:?}]: {e}")),
                Ok(id) => {
                    if !id.owner().eq_ignore_ascii_case(&r.owner)
                        || !id.repo().eq_ignore_ascii_case(&r.repo)
                    {
                        out.push(format!(
                            "repositories[{key:?}]: owner/repo fields say {}/{}",
                            r.owner, r.repo
                        ));
                    }
                }
            }
            if r.download_history.len() > HISTORY_LIMIT {
                out.push(format!(
                    "repositories[{key:?}]: {} history entries (the cap is {HISTORY_LIMIT}; \
                     the next update trims them)",
                    r.download_history.len()
                ));
            }
            // Retention entries name the version deleted, not the one held.
            let newest = r
                .history_newest_first()
                .find(|h| h.metadata.recorded_by.as_deref() != Some(RETENTION));
            if let (Some(cur), Some(newest)) = (&r.current_version, newest)
                && cur != &newest.version
            {
                out.push(format!(
                    "repositories[{key:?}]: current_version {cur:?} is not the newest history \
                     entry {:?}",
                    newest.version
                ));
            }
        }
        out
    }
}

/// The major part of a schema version (`"1.0"` → `"1"`).
pub(crate) fn schema_major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> RepoId {
        s.parse().unwrap()
    }

    fn set(version: &str) -> Recording {
        Recording {
            version: version.to_string(),
            files: vec![],
            download_time: 0.0,
            recorded_by: Some("db set".to_string()),
        }
    }

    #[test]
    fn record_appends_history_and_keeps_the_last_50() {
        let mut db = Database::new("t0");
        let r = id("a/b");
        for i in 0..60 {
            db.record(&r, &set(&format!("v1.{i}")), &format!("t{i}"));
        }
        let rec = db.get(&r).unwrap();
        assert_eq!(rec.current_version.as_deref(), Some("v1.59"));
        assert_eq!(rec.download_history.len(), HISTORY_LIMIT);
        assert_eq!(rec.download_history[49].version, "v1.59");
        assert_eq!(
            rec.download_history[49].previous_version.as_deref(),
            Some("v1.58")
        );
        assert_eq!(rec.download_history[0].version, "v1.10");
        assert_eq!(rec.history_newest_first().next().unwrap().version, "v1.59");
        assert_eq!(db.metadata.last_updated.as_deref(), Some("t59"));
    }

    fn at(version: &str, time: &str) -> HistoryEntry {
        HistoryEntry {
            version: version.into(),
            previous_version: None,
            downloaded_at: time.into(),
            metadata: HistoryMetadata::default(),
            extra: Map::new(),
        }
    }

    fn versions(r: &RepoRecord) -> Vec<&str> {
        r.download_history
            .iter()
            .map(|h| h.version.as_str())
            .collect()
    }

    #[test]
    fn histories_are_put_oldest_first_whatever_order_the_file_has() {
        let mut db = Database::new("t0");
        db.record(&id("a/b"), &set("x"), "t1");
        let record = db.repositories.get_mut("a/b").unwrap();
        let jan = "2026-01-01T10:00:00.000000+00:00";
        let feb = "2026-02-01T10:00:00+00:00";
        let mar = "2026-03-01T11:00:00.5+01:00"; // 10:00:00.5 UTC
        let apr = "2026-04-01T10:00:00.000001"; // no offset: read as UTC
        let cases: [(Vec<HistoryEntry>, bool); 4] = [
            // The seed tool's order stays as it is.
            (
                vec![at("1", jan), at("2", feb), at("3", mar), at("4", apr)],
                false,
            ),
            // Newest first (an earlier release of this project) is reversed.
            (
                vec![at("4", apr), at("3", mar), at("2", feb), at("1", jan)],
                true,
            ),
            // Newest first with the seed tool's entries appended: sorted by time.
            (
                vec![at("2", feb), at("1", jan), at("3", mar), at("4", apr)],
                true,
            ),
            // Two entries of one instant keep their order.
            (vec![at("1", jan), at("3", mar), at("2", jan)], true),
        ];
        for (history, moved) in cases {
            record.download_history = history;
            assert_eq!(record.order_history(), moved);
            let got = versions(record);
            let want: Vec<&str> = if got.len() == 3 {
                vec!["1", "2", "3"]
            } else {
                vec!["1", "2", "3", "4"]
            };
            assert_eq!(got, want);
        }
        // A time that cannot be read leaves the order alone.
        record.download_history = vec![at("2", feb), at("1", "yesterday")];
        assert!(!record.order_history());
        assert_eq!(versions(record), ["2", "1"]);
    }

    #[test]
    fn lint_compares_the_held_version_with_the_newest_download_not_a_retention_entry() {
        let mut db = Database::new("t0");
        db.record(&id("a/b"), &set("v1"), "2026-01-01T00:00:00+00:00");
        db.record(&id("a/b"), &set("v2"), "2026-01-02T00:00:00+00:00");
        db.record_deletion(
            &id("a/b"),
            "v1",
            vec!["a_b/v1/x".into()],
            "2026-01-03T00:00:00+00:00",
        );
        assert_eq!(db.lint(), Vec::<String>::new());
        assert_eq!(db.order_histories(), 0);
    }

    #[test]
    fn files_fill_the_seed_summary_and_ours() {
        let mut db = Database::new("t0");
        let files = vec![
            FileRecord {
                name: "a.tar.gz".into(),
                size: 10,
                sha256: "ab".repeat(32),
                verified_by: VerifiedBy::Digest,
                verification: Vec::new(),
            },
            FileRecord {
                name: "b.zip".into(),
                size: 5,
                sha256: "cd".repeat(32),
                verified_by: VerifiedBy::None,
                verification: Vec::new(),
            },
        ];
        let rec = Recording {
            version: "v2".into(),
            files,
            download_time: 1.5,
            recorded_by: None,
        };
        db.record(&id("o/r"), &rec, "t1");
        let h = &db.get(&id("o/r")).unwrap().download_history[0];
        assert_eq!(h.metadata.download_count, Some(2));
        assert_eq!(h.metadata.total_size, Some(15));
        assert_eq!(
            h.metadata.downloaded_files.as_deref(),
            Some(&["a.tar.gz".to_string(), "b.zip".to_string()][..])
        );
        let json = serde_json::to_value(h).unwrap();
        assert_eq!(json["metadata"]["files"][0]["verified_by"], "digest");
        assert_eq!(json["metadata"]["files"][1]["verified_by"], "none");
        for v in [
            VerifiedBy::Digest,
            VerifiedBy::ChecksumFile,
            VerifiedBy::Sidecar,
            VerifiedBy::None,
        ] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        let stats = db.stats();
        assert_eq!((stats.files_recorded, stats.bytes_recorded), (2, 15));
    }

    #[test]
    fn names_match_case_insensitively_and_forget_removes() {
        let mut db = Database::new("t0");
        db.record(&id("Cli/Cli"), &set("v1"), "t1");
        db.record(&id("cli/cli"), &set("v2"), "t2");
        assert_eq!(db.repositories.len(), 1);
        assert_eq!(db.current_version(&id("CLI/cli")), Some("v2"));
        assert!(db.forget(&id("cli/CLI"), "t3").is_some());
        assert!(db.forget(&id("cli/cli"), "t4").is_none());
        db.record(&id("a/b"), &set("1"), "t5");
        db.record(&id("c/d"), &set("1"), "t6");
        assert_eq!(db.forget_all("t7"), 2);
        assert!(db.repositories.is_empty());
    }

    #[test]
    fn lint_reports_inconsistencies() {
        let mut db = Database::new("t0");
        db.record(&id("a/b"), &set("v1"), "t1");
        assert!(db.lint().is_empty());
        if let Some(r) = db.repositories.get_mut("a/b") {
            r.current_version = Some("v9".into());
            r.owner = "x".into();
        }
        let lint = db.lint();
        assert_eq!(lint.len(), 2, "{lint:?}");
    }

    #[test]
    fn now_looks_like_python_isoformat() {
        let t = now();
        assert!(t.ends_with("+00:00"), "{t}");
        assert_eq!(t.len(), "2026-01-15T10:30:00.123456+00:00".len(), "{t}");
    }
}
