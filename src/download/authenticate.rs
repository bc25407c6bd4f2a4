//! Authenticate: with `verification.signature`, whether a file that matched its upstream
//! checksums was made by whoever the configuration trusts. Runs between verify and commit, so a
//! file that fails never reaches its final path and is never recorded.
//!
//! At plan time the release's signature assets are fetched ([`fetch_evidence`]) and signed
//! checksum files are checked ([`check_checksum_files`]): a verified clearsigned file's checksums
//! are read from its signed text only. Per file, [`Authenticator::authenticate`] then checks
//! every signature that targets it, every signed checksum file that lists it (once its bytes
//! matched that file), SLSA provenance that names it, and GitHub's artifact attestations for its
//! digest. Any check that fails refuses the file; a check that cannot be made (no key of that
//! kind is configured) is reported as skipped. With `verification.require: signature` a file no
//! signature or attestation proves is refused too.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::checksum::{Digests, Upstream};
use super::error::DownloadError;
use super::fetch::{MAX_SIGNATURE_FILE, fetch_small_asset};
use super::report::{CheckResult, SignatureCheck};
use crate::config::{Config, EffectiveRepo, Require};
use crate::db::VerifiedBy;
use crate::github::GithubClient;
use crate::monitor::ReportedRelease;
use crate::repo::RepoId;
use crate::trust::detect::{self, Content, Format};
use crate::trust::sigstore::{self, Origin, Roots};
use crate::trust::{Anchors, Identity, Proof, ProofKind, Subject, TrustError};

/// The run's authenticity settings (`download.verification`) and the Sigstore roots.
pub(super) struct Authenticator {
    /// `verification.signature`: check what the release offers.
    release_files: bool,
    /// Anything is checked: `signature` or `attestations`.
    enabled: bool,
    /// `verification.attestations`: ask GitHub for artifact attestations.
    attestations: bool,
    /// `verification.require: signature`.
    require_signature: bool,
    /// The trusted roots, or why they could not be loaded (then keyless checks fail).
    roots: Result<Arc<Roots>, String>,
}

impl Authenticator {
    /// Reads the settings and loads the trusted roots (embedded, or `verification.trusted_root`)
    /// when signatures are checked.
    pub fn new(config: &Config) -> Authenticator {
        let v = &config.download.verification;
        let enabled = v.signature || v.attestations;
        let roots = if !enabled {
            Err("signatures are not checked".to_string())
        } else {
            match &v.trusted_root {
                Some(path) => Roots::from_file(path),
                None => Roots::embedded(),
            }
            .map(Arc::new)
        };
        if let Err(e) = &roots
            && enabled
        {
            tracing::error!("cannot load the Sigstore trusted roots: {e}");
        }
        Authenticator {
            release_files: v.signature,
            enabled,
            attestations: v.attestations,
            require_signature: v.require == Require::Signature,
            roots,
        }
    }

    /// Why a file is refused before it is fetched (see [`Evidence::doomed`]), when signatures
    /// are checked.
    pub fn doomed(&self, evidence: &Evidence, name: &str, lists: &[&str]) -> Option<TrustError> {
        if self.release_files {
            evidence.doomed(name, lists)
        } else {
            None
        }
    }

    /// Whether the release's own signature files are fetched and checked (`signature`).
    pub fn checks_release_files(&self) -> bool {
        self.release_files
    }

    /// Checks `file` (the asset `name`, whose bytes are at `path` and hash to `digests`, and
    /// matched the upstream checksums `matched`) and returns the proofs that held and the notes
    /// on every check, or why it is refused.
    #[allow(clippy::too_many_arguments)]
    pub async fn authenticate(
        &self,
        client: &GithubClient,
        trust: &Arc<RepoTrust>,
        evidence: &Arc<Evidence>,
        name: &str,
        path: &Path,
        digests: &Digests,
        matched: &[Upstream],
    ) -> Result<Authenticated, DownloadError> {
        let mut out = Authenticated::default();
        if !self.enabled {
            return Ok(out);
        }
        if let Some(checked) = evidence.checked_sha256(name)
            && checked != digests.sha256
        {
            return Err(DownloadError::EvidenceChanged {
                name: name.to_string(),
            });
        }
        // Signed checksum files that list the file, now that its bytes matched them.
        for upstream in matched {
            let Some(file) = &upstream.file else { continue };
            for outcome in evidence.checksum_files.get(file).into_iter().flatten() {
                match outcome {
                    Outcome::Held(signature, proof) => {
                        let proof = proof.via(file);
                        out.note(signature, CheckResult::Verified, &proof.label);
                        out.proofs.push(proof);
                    }
                    Outcome::Failed(_, e) => return Err(DownloadError::Refused(e.clone())),
                    Outcome::Skipped(file_name, why) => {
                        out.note(file_name, CheckResult::Skipped, why)
                    }
                }
            }
        }
        // Signatures, bundles and provenance in the release (blocking: they read the file).
        let roots = self.roots.clone();
        let (trust2, evidence2) = (trust.clone(), evidence.clone());
        let (name2, path2, sha256) = (name.to_string(), path.to_path_buf(), digests.sha256.clone());
        let checked = tokio::task::spawn_blocking(move || {
            check_release_files(&roots, &trust2, &evidence2, &name2, &path2, &sha256)
        })
        .await??;
        out.extend(checked);
        // GitHub's artifact attestations for the digest (other forges have none).
        if self.attestations && client.kind() != crate::config::ForgeKind::Github {
            out.note(
                "attestation",
                CheckResult::Skipped,
                &format!(
                    "{} forges hold no artifact attestations",
                    client.kind().as_str()
                ),
            );
        } else if self.attestations {
            let checked = self
                .attestations(client, trust, name, path, digests)
                .await?;
            out.extend(checked);
        }
        // A signature file is evidence, checked through what it signs: it needs no signature of
        // its own.
        if self.require_signature
            && !evidence.signature_names.contains(name)
            && !out.proofs.iter().any(|p| p.kind.is_authenticity())
        {
            return Err(DownloadError::Unsigned {
                found: out.summary(),
            });
        }
        Ok(out)
    }

    /// Asks GitHub for the attestations of the file's digest and verifies each.
    async fn attestations(
        &self,
        client: &GithubClient,
        trust: &Arc<RepoTrust>,
        name: &str,
        path: &Path,
        digests: &Digests,
    ) -> Result<Authenticated, DownloadError> {
        let mut out = Authenticated::default();
        let answer = client
            .attestations(&trust.repo, &digests.sha256)
            .await
            .map_err(|e| DownloadError::Attestations(e.to_string()))?;
        let Some(answer) = answer else {
            out.note(
                "attestation",
                CheckResult::Skipped,
                "GitHub holds none (404)",
            );
            return Ok(out);
        };
        let (bundles, only_urls) = sigstore::attestation_bundles(&answer)
            .map_err(|e| DownloadError::Attestations(format!("unreadable answer: {e}")))?;
        if only_urls > 0 {
            out.note(
                "attestation",
                CheckResult::Skipped,
                &format!("{only_urls} given only as a bundle_url, which is not fetched"),
            );
        }
        let roots = usable_roots(&self.roots, "attestation")
            .map_err(DownloadError::Refused)?
            .clone();
        let (trust, path) = (trust.clone(), path.to_path_buf());
        let name = name.to_string();
        let proofs = tokio::task::spawn_blocking(move || {
            bundles
                .iter()
                .map(|bundle| {
                    sigstore::verify_bundle(
                        &roots,
                        bundle,
                        Subject::File(&path),
                        &trust.identity,
                        Origin::Attestation,
                    )
                })
                .collect::<Result<Vec<Proof>, TrustError>>()
                .inspect_err(|e| tracing::warn!("{name}: {e}"))
        })
        .await?
        .map_err(DownloadError::Refused)?;
        if !proofs.is_empty() {
            out.attestations = Some(answer);
        }
        for proof in proofs {
            out.note("attestation", CheckResult::Verified, &proof.label);
            if !out.proofs.contains(&proof) {
                out.proofs.push(proof);
            }
        }
        Ok(out)
    }
}

/// What authentication found for one file.
#[derive(Debug, Default)]
pub(super) struct Authenticated {
    /// The checks that held.
    pub proofs: Vec<Proof>,
    /// Every signature found for the file and what became of it.
    pub checks: Vec<SignatureCheck>,
    /// GitHub's attestations answer for the file's digest, when a bundle in it verified: kept
    /// beside the file for the service to hand on.
    pub attestations: Option<bytes::Bytes>,
}

impl Authenticated {
    /// Adds a note.
    fn note(&mut self, file: &str, result: CheckResult, detail: &str) {
        self.checks.push(SignatureCheck {
            file: file.to_string(),
            result,
            detail: detail.to_string(),
        });
    }

    /// Adds another set of findings.
    fn extend(&mut self, other: Authenticated) {
        self.proofs.extend(other.proofs);
        self.checks.extend(other.checks);
        self.attestations = other.attestations.or(self.attestations.take());
    }

    /// What was found, for the message of a refused unsigned file.
    fn summary(&self) -> String {
        if self.checks.is_empty() {
            return "nothing was offered".to_string();
        }
        self.checks
            .iter()
            .map(|c| format!("{} {}: {}", c.file, c.result.as_str(), c.detail))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The `verification` list and `verified_by` of a file that matched `matched`: every check
    /// that held, strongest last, and the strongest.
    pub fn verification(&self, matched: &[Upstream]) -> (Vec<String>, VerifiedBy) {
        let mut all: Vec<(ProofKind, String)> = matched
            .iter()
            .map(|u| (u.kind, u.label.clone()))
            .chain(self.proofs.iter().map(|p| (p.kind, p.label.clone())))
            .collect();
        all.sort_by_key(|(kind, _)| *kind);
        all.dedup();
        let strongest = all
            .last()
            .map_or(VerifiedBy::None, |(kind, _)| (*kind).into());
        (all.into_iter().map(|(_, label)| label).collect(), strongest)
    }
}

/// One repository's trust anchors and keyless identity.
#[derive(Debug)]
pub(super) struct RepoTrust {
    /// The mirrored repository (attestations are asked of it).
    pub repo: RepoId,
    /// Its keys.
    pub anchors: Anchors,
    /// Who may sign it keylessly.
    pub identity: Identity,
}

impl RepoTrust {
    /// From the repository's effective `signing` settings.
    pub fn new(repo: &RepoId, effective: &EffectiveRepo) -> RepoTrust {
        let s = &effective.signing;
        RepoTrust {
            repo: repo.clone(),
            anchors: Anchors {
                minisign: s.minisign.clone().unwrap_or_default(),
                pgp: s.pgp.clone().unwrap_or_default(),
                cosign: s.cosign.clone().unwrap_or_default(),
            },
            identity: Identity {
                repository: s.repository.clone().unwrap_or_else(|| repo.to_string()),
                workflow: s.workflow.clone(),
            },
        }
    }
}

/// One signature asset of the release, fetched.
#[derive(Debug)]
struct SigFile {
    /// Its name.
    name: String,
    /// What its name says it is.
    format: Format,
    /// What it signs (`None` for provenance).
    target: Option<String>,
    /// Its bytes.
    bytes: Vec<u8>,
    /// Their SHA-256.
    sha256: String,
}

/// The outcome of one signature of a checksum file; the first field names the signature file
/// (the checksum file itself when it is clearsigned).
#[derive(Debug, Clone)]
enum Outcome {
    /// The signature held.
    Held(String, Proof),
    /// The signature failed.
    Failed(String, TrustError),
    /// The signature was not checked, and why.
    Skipped(String, String),
}

impl Outcome {
    /// The signature file's name.
    fn file_name(&self) -> &str {
        match self {
            Outcome::Held(f, _) | Outcome::Failed(f, _) | Outcome::Skipped(f, _) => f,
        }
    }
}

/// The signature assets of one release and the verdicts on its checksum files' signatures.
#[derive(Debug, Default)]
pub(super) struct Evidence {
    /// Signature assets fetched.
    files: Vec<SigFile>,
    /// Signature assets that could not be fetched: (name, target, why). A file they sign fails
    /// rather than being stored with a check skipped.
    unavailable: Vec<(String, Option<String>, String)>,
    /// Names of certificate assets (`<file>.pem`), which mark keyless cosign signatures.
    certificates: Vec<(String, String)>,
    /// Checksum file → what became of each of its signatures.
    checksum_files: BTreeMap<String, Vec<Outcome>>,
    /// The names of every signature, certificate, bundle and provenance asset of the release.
    signature_names: std::collections::HashSet<String>,
}

impl Evidence {
    /// The plan's notes for `name`: each signature found for it and whether it will be checked.
    /// `lists` are the checksum files that list it.
    pub fn plan_notes(&self, trust: &RepoTrust, name: &str, lists: &[&str]) -> Vec<SignatureCheck> {
        let mut notes = Vec::new();
        for &file in lists {
            for outcome in self.checksum_files.get(file).into_iter().flatten() {
                let (result, detail) = match outcome {
                    Outcome::Held(_, p) => (CheckResult::Verified, p.via(file).label),
                    Outcome::Failed(_, e) => (CheckResult::Failed, e.to_string()),
                    Outcome::Skipped(_, why) => (CheckResult::Skipped, why.clone()),
                };
                notes.push(SignatureCheck {
                    file: outcome.file_name().to_string(),
                    result,
                    detail,
                });
            }
        }
        for sig in self.files_for(name) {
            let (result, detail) = match skip_reason(sig, &trust.anchors, self) {
                Some(why) => (CheckResult::Skipped, why),
                None => (CheckResult::ToCheck, sig.format.as_str().to_string()),
            };
            notes.push(SignatureCheck {
                file: sig.name.clone(),
                result,
                detail,
            });
        }
        notes
    }

    /// A signature of `name` (or a provenance file) that could not be fetched.
    fn unavailable_for(&self, name: &str) -> Option<TrustError> {
        self.unavailable
            .iter()
            .find(|(_, target, _)| target.as_deref().is_none_or(|t| t == name))
            .map(|(file, _, why)| TrustError::Unavailable {
                file: file.clone(),
                why: why.clone(),
            })
    }

    /// Why `name` is refused whatever its bytes, known while planning: a signature of it could
    /// not be fetched, or a checksum file among `lists` (those that list it) has a signature
    /// that failed. Checked before fetching, so a doomed file costs no transfer.
    pub fn doomed(&self, name: &str, lists: &[&str]) -> Option<TrustError> {
        self.unavailable_for(name).or_else(|| {
            lists.iter().find_map(|file| {
                self.checksum_files
                    .get(*file)
                    .into_iter()
                    .flatten()
                    .find_map(|o| match o {
                        Outcome::Failed(_, e) => Some(e.clone()),
                        _ => None,
                    })
            })
        })
    }

    /// The SHA-256 of a signature asset's bytes as they were checked while planning: its own
    /// download must give the same bytes (a signature asset rarely has an upstream checksum).
    pub fn checked_sha256(&self, name: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.sha256.as_str())
    }

    /// The signature assets that target `name`, and every provenance file.
    fn files_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a SigFile> {
        self.files
            .iter()
            .filter(move |f| f.target.as_deref().is_none_or(|t| t == name))
    }
}

/// Fetches the release's signature assets (not certificates, whose presence is all that
/// matters), when signatures are checked.
pub(super) async fn fetch_evidence(client: &GithubClient, release: &ReportedRelease) -> Evidence {
    let names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    let mut out = Evidence::default();
    for sig in detect::signature_assets(&names) {
        out.signature_names.insert(sig.name.clone());
        if sig.format == Format::Certificate {
            if let Some(target) = sig.target {
                out.certificates.push((sig.name, target));
            }
            continue;
        }
        let Some(asset) = release.assets.iter().find(|a| a.name == sig.name) else {
            continue;
        };
        match fetch_small_asset(client, asset, MAX_SIGNATURE_FILE).await {
            Ok(bytes) => out.files.push(SigFile {
                name: sig.name,
                format: sig.format,
                target: sig.target,
                sha256: Digests::of(&bytes).sha256,
                bytes,
            }),
            Err(e) => {
                tracing::warn!(
                    "{}: cannot fetch signature {}: {e}",
                    release.repository,
                    sig.name
                );
                out.unavailable.push((sig.name, sig.target, e));
            }
        }
    }
    out
}

/// Checks the signatures of each fetched checksum file (`files`: name, text): detached ones in
/// the release, and a clearsigned file's own. A verified clearsigned file's text is replaced by
/// its signed text, so only signed lines decide what verifies.
pub(super) fn check_checksum_files(
    auth: &Authenticator,
    trust: &RepoTrust,
    evidence: &mut Evidence,
    files: &mut [(String, String)],
) {
    for (name, text) in files.iter_mut() {
        let mut outcomes = Vec::new();
        if crate::trust::pgp::is_clearsigned(text) {
            let (outcome, signed) = clearsigned(trust, name, text);
            if let Some(signed) = signed {
                *text = signed;
            }
            outcomes.push(outcome);
        }
        for (file, _, why) in evidence
            .unavailable
            .iter()
            .filter(|(_, target, _)| target.as_deref() == Some(name.as_str()))
        {
            outcomes.push(Outcome::Failed(
                file.clone(),
                TrustError::Unavailable {
                    file: file.clone(),
                    why: why.clone(),
                },
            ));
        }
        let subject = Subject::Bytes(text.as_bytes());
        let sha256 = Digests::of(text.as_bytes()).sha256;
        for sig in evidence
            .files
            .iter()
            .filter(|f| f.target.as_deref() == Some(name.as_str()))
        {
            if let Some(why) = skip_reason(sig, &trust.anchors, evidence) {
                outcomes.push(Outcome::Skipped(sig.name.clone(), why));
                continue;
            }
            match check_one(&auth.roots, trust, sig, subject, &sha256) {
                Ok(proof) => outcomes.push(Outcome::Held(sig.name.clone(), proof)),
                Err(e) => outcomes.push(Outcome::Failed(sig.name.clone(), e)),
            }
        }
        if !outcomes.is_empty() {
            evidence.checksum_files.insert(name.clone(), outcomes);
        }
    }
}

/// Why a signature file is not checked, if it is not: no key of its kind is configured, or it
/// is a format this tool cannot check offline.
fn skip_reason(sig: &SigFile, anchors: &Anchors, evidence: &Evidence) -> Option<String> {
    let content = detect::sniff(&sig.bytes);
    let no_key = |kind: &str| Some(format!("no {kind} key is configured for this repository"));
    match sig.format {
        Format::Minisign if anchors.minisign.is_empty() => no_key("minisign"),
        Format::OpenPgp if anchors.pgp.is_empty() => no_key("pgp"),
        Format::Sig if content.is_pgp() && anchors.pgp.is_empty() => no_key("pgp"),
        Format::Sig if content == Content::CosignBase64 && anchors.cosign.is_empty() => {
            let keyless = sig
                .target
                .as_ref()
                .is_some_and(|t| evidence.certificates.iter().any(|(_, target)| target == t));
            if keyless {
                Some(
                    "a keyless cosign signature with a bare certificate carries no \
                     transparency-log proof to check offline (publish a .sigstore.json bundle)"
                        .into(),
                )
            } else {
                no_key("cosign")
            }
        }
        Format::Bundle if content == Content::Json && !sigstore::is_bundle(&sig.bytes) => Some(
            "cosign's older bundle format, which cannot be checked offline without Rekor".into(),
        ),
        _ => None,
    }
}

/// Checks one signature file (not skipped) over `subject`, whose SHA-256 is `sha256`.
fn check_one(
    roots: &Result<Arc<Roots>, String>,
    trust: &RepoTrust,
    sig: &SigFile,
    subject: Subject<'_>,
    sha256: &str,
) -> Result<Proof, TrustError> {
    let anchors = &trust.anchors;
    let content = detect::sniff(&sig.bytes);
    let text = || String::from_utf8_lossy(&sig.bytes).into_owned();
    match sig.format {
        Format::Minisign => {
            crate::trust::minisign::verify(&sig.name, &text(), &anchors.minisign, subject)
        }
        Format::OpenPgp => {
            crate::trust::pgp::verify_detached(&sig.name, &sig.bytes, &anchors.pgp, subject)
        }
        Format::Sig if content == Content::CosignBase64 => {
            let digest = hex::decode(sha256).map_err(|e| TrustError::Malformed {
                file: sig.name.clone(),
                kind: "cosign",
                why: e.to_string(),
            })?;
            sigstore::verify_cosign(&anchors.cosign, &sig.name, &text(), &digest)
        }
        Format::Sig => {
            crate::trust::pgp::verify_detached(&sig.name, &sig.bytes, &anchors.pgp, subject)
        }
        Format::Bundle => {
            let roots = usable_roots(roots, &sig.name)?;
            sigstore::verify_bundle(
                roots,
                &text(),
                subject,
                &trust.identity,
                Origin::Release(&sig.name),
            )
        }
        Format::Provenance | Format::Certificate => Err(TrustError::Malformed {
            file: sig.name.clone(),
            kind: sig.format.as_str(),
            why: "not a signature over one file".into(),
        }),
    }
}

/// The trusted roots for a keyless check of `file`, or the error saying they could not be loaded.
fn usable_roots<'a>(
    roots: &'a Result<Arc<Roots>, String>,
    file: &str,
) -> Result<&'a Arc<Roots>, TrustError> {
    roots.as_ref().map_err(|why| TrustError::Sigstore {
        file: file.to_string(),
        why: format!("no trusted root: {why}"),
    })
}

/// The checks on the release's own signature files for one file (blocking: reads the file).
fn check_release_files(
    roots: &Result<Arc<Roots>, String>,
    trust: &RepoTrust,
    evidence: &Evidence,
    name: &str,
    path: &Path,
    sha256: &str,
) -> Result<Authenticated, DownloadError> {
    let mut out = Authenticated::default();
    if let Some(e) = evidence.unavailable_for(name) {
        return Err(DownloadError::Refused(e));
    }
    // A clearsigned file (a checksum file with its signature inline) proves itself.
    if let Some(checked) = check_clearsigned(trust, name, path)? {
        out.extend(checked);
    }
    for sig in evidence.files_for(name) {
        if sig.format == Format::Provenance {
            out.extend(check_provenance(roots, trust, sig, name, path, sha256)?);
            continue;
        }
        if let Some(why) = skip_reason(sig, &trust.anchors, evidence) {
            out.note(&sig.name, CheckResult::Skipped, &why);
            continue;
        }
        let proof = check_one(roots, trust, sig, Subject::File(path), sha256)
            .map_err(DownloadError::Refused)?;
        out.note(&sig.name, CheckResult::Verified, &proof.label);
        out.proofs.push(proof);
    }
    Ok(out)
}

/// Checks a clearsigned file's inline signature over its own bytes; `None` when the file is not
/// clearsigned (or too large to be a checksum file).
fn check_clearsigned(
    trust: &RepoTrust,
    name: &str,
    path: &Path,
) -> Result<Option<Authenticated>, DownloadError> {
    use std::io::Read as _;
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    if detect::sniff(&head[..n]) != Content::PgpClearsigned
        || std::fs::metadata(path)?.len() > super::fetch::MAX_CHECKSUM_FILE
    {
        return Ok(None);
    }
    let mut out = Authenticated::default();
    let text = String::from_utf8_lossy(&std::fs::read(path)?).into_owned();
    match clearsigned(trust, name, &text).0 {
        Outcome::Held(_, proof) => {
            out.note(name, CheckResult::Verified, &proof.label);
            out.proofs.push(proof);
        }
        Outcome::Failed(_, e) => return Err(DownloadError::Refused(e)),
        Outcome::Skipped(_, why) => out.note(name, CheckResult::Skipped, &why),
    }
    Ok(Some(out))
}

/// A clearsigned file's own signature over `text`: held (with the signed text, the only part to
/// trust), failed, or skipped for want of a pgp key.
fn clearsigned(trust: &RepoTrust, name: &str, text: &str) -> (Outcome, Option<String>) {
    if trust.anchors.pgp.is_empty() {
        let why = "clearsigned, but no pgp key is configured for this repository";
        return (Outcome::Skipped(name.to_string(), why.to_string()), None);
    }
    match crate::trust::pgp::verify_clearsigned(name, text, &trust.anchors.pgp) {
        Ok((proof, signed)) => (Outcome::Held(name.to_string(), proof), Some(signed)),
        Err(e) => (Outcome::Failed(name.to_string(), e), None),
    }
}

/// Checks the envelopes of a provenance file that name the file (by SHA-256) as a subject.
fn check_provenance(
    roots: &Result<Arc<Roots>, String>,
    trust: &RepoTrust,
    sig: &SigFile,
    name: &str,
    path: &Path,
    sha256: &str,
) -> Result<Authenticated, DownloadError> {
    let mut out = Authenticated::default();
    let text = String::from_utf8_lossy(&sig.bytes);
    let mut covering = 0;
    // Provenance may name its subjects by SHA-512 only (npm's does): hashed once, when needed.
    let mut sha512: Option<String> = None;
    for (line, bundle) in sigstore::jsonl_bundles(&text).into_iter().enumerate() {
        let bundle = bundle.map_err(|why| {
            DownloadError::Refused(TrustError::Malformed {
                file: sig.name.clone(),
                kind: "slsa-provenance",
                why,
            })
        })?;
        let subjects = sigstore::subject_digests(&bundle);
        if sha512.is_none() && subjects.iter().any(|(alg, _)| alg == "sha512") {
            sha512 = super::checksum::hash_file(path, true)?.sha512;
        }
        let named = subjects.iter().any(|(alg, hex)| match alg.as_str() {
            "sha256" => hex.eq_ignore_ascii_case(sha256),
            "sha512" => sha512
                .as_deref()
                .is_some_and(|h| hex.eq_ignore_ascii_case(h)),
            _ => false,
        });
        if !named {
            continue;
        }
        covering += 1;
        if !sigstore::is_bundle(bundle.as_bytes()) {
            out.note(
                &sig.name,
                CheckResult::Skipped,
                &format!(
                    "line {}: a bare DSSE envelope without a transparency-log proof \
                     cannot be checked offline",
                    line + 1
                ),
            );
            continue;
        }
        let roots = usable_roots(roots, &sig.name).map_err(DownloadError::Refused)?;
        let proof = sigstore::verify_bundle(
            roots,
            &bundle,
            Subject::File(path),
            &trust.identity,
            Origin::Provenance(&sig.name),
        )
        .map_err(DownloadError::Refused)?;
        out.note(&sig.name, CheckResult::Verified, &proof.label);
        out.proofs.push(proof);
    }
    if covering == 0 {
        tracing::debug!("{name}: {} does not list it", sig.name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_check_is_last() {
        let a = Authenticated {
            proofs: vec![
                Proof::new(ProofKind::Attestation, "w"),
                Proof::new(ProofKind::Pgp, "0xAB"),
            ],
            checks: Vec::new(),
            attestations: None,
        };
        let digest = super::super::checksum::Checksum::new(
            super::super::checksum::Algorithm::Sha256,
            &"a".repeat(64),
        )
        .unwrap();
        let matched = [
            Upstream {
                kind: ProofKind::ChecksumFile,
                label: "checksum-file:SUMS".into(),
                file: Some("SUMS".into()),
                checksum: digest.clone(),
            },
            Upstream {
                kind: ProofKind::Digest,
                label: "digest".into(),
                file: None,
                checksum: digest,
            },
        ];
        let (list, by) = a.verification(&matched);
        assert_eq!(
            list,
            ["checksum-file:SUMS", "digest", "pgp:0xAB", "attestation:w"]
        );
        assert_eq!(by, VerifiedBy::Attestation);
        assert_eq!(
            Authenticated::default().verification(&[]),
            (Vec::new(), VerifiedBy::None)
        );
    }
}
