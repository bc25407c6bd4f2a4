//! Sigstore: keyless bundles, SLSA provenance, GitHub artifact attestations and cosign key
//! signatures.
//!
//! Every cryptographic check (certificate chain to a Fulcio CA, SCT, Rekor inclusion, RFC 3161
//! timestamps, DSSE and message signatures, the in-toto subject digest) is `sigstore-verify`'s;
//! this module only decides which trusted root and which policy a bundle is checked with, and
//! whether the verified certificate names the expected identity. Nothing here goes on the
//! network: the trusted roots are the ones the crate embeds, or a file the configuration names.
//!
//! # Which root, which policy
//!
//! The policy of a trusted root follows from what the root holds, as `gh attestation verify`
//! decides it for the two instances it knows:
//!
//! - a root with a transparency log (the public-good instance: Fulcio `sigstore.dev` and Rekor)
//!   requires a verified Rekor entry (inclusion proof, checkpoint and any SET) in every bundle;
//! - a root without one (GitHub's instance: Fulcio `fulcio.githubapp.com` and its TSA) skips
//!   the log and requires at least one RFC 3161 timestamp from a timestamp authority in the root;
//! - a root with certificate-transparency logs requires the certificate's SCT; GitHub's root has
//!   none, and its certificates carry no SCT, so there is nothing to check it against.
//!
//! Either way at least one verified signing time is needed (`sigstore-verify` never falls back
//! to the current time), and the certificate must chain to a Fulcio CA of the root that was valid
//! then. A bundle is tried with each root whose requirements its content can meet (a bundle with
//! a Rekor entry with the public-good root, one with only timestamps with GitHub's), and the
//! first root that verifies it wins: each attempt is a whole verification under that root's own
//! policy, so trying several never loosens any of them.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sigstore_verify::crypto::{KeyAlgorithm, SigningScheme, VerificationKey};
use sigstore_verify::trust_root::{
    SIGSTORE_GITHUB_TRUSTED_ROOT, SIGSTORE_PRODUCTION_TRUSTED_ROOT, TrustedRoot,
};
use sigstore_verify::types::{Bundle, SignatureBytes};
use sigstore_verify::{
    CertificateError, Error as VerifyError, TimestampError, TransparencyLogError,
    VerificationPolicy, VerificationResult, Verifier,
};

use super::{CosignKey, GITHUB_ACTIONS_ISSUER, Identity, Proof, ProofKind, Subject, TrustError};

/// The Sigstore trusted roots keyless checks use: the embedded public-good and GitHub roots
/// (`sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT` and `SIGSTORE_GITHUB_TRUSTED_ROOT`),
/// or one `trusted_root.json` file replacing both. Each root is parsed and its keys and
/// certificates checked once, when the roots are built, so a bad root is a configuration error
/// rather than a failure of every check.
pub struct Roots {
    /// The roots, in the order bundles are tried with them.
    roots: Vec<Root>,
}

/// One trusted root, ready to verify with, and the policy its contents call for.
struct Root {
    /// How errors name the root.
    name: String,
    /// The root's prepared keys and certificates.
    verifier: Verifier,
    /// Whether the root has a transparency log (Rekor): if so, bundles need a verified entry in
    /// it; if not, they need an RFC 3161 timestamp instead.
    transparency_log: bool,
    /// Whether the root has certificate-transparency logs to check the certificate's SCT with.
    ct_logs: bool,
}

impl Root {
    /// Prepares `root`, refusing one that could not verify any keyless bundle.
    fn new(name: &str, root: &TrustedRoot) -> Result<Root, String> {
        if root.certificate_authorities.is_empty() {
            return Err(format!(
                "{name} has no Fulcio certificate authority, so no keyless signature can chain \
                 to it"
            ));
        }
        if root.tlogs.is_empty() && root.timestamp_authorities.is_empty() {
            return Err(format!(
                "{name} has neither a transparency log nor a timestamp authority, so no signing \
                 time could ever be verified with it"
            ));
        }
        let verifier = Verifier::new(root).map_err(|e| format!("{name} is not usable: {e}"))?;
        Ok(Root {
            name: name.to_string(),
            verifier,
            transparency_log: !root.tlogs.is_empty(),
            ct_logs: !root.ctlogs.is_empty(),
        })
    }

    /// The crate's policy for this root. The identity is not part of it: it is checked on the
    /// verified certificate afterwards, so that a mismatch names the claim that differs.
    fn policy(&self) -> VerificationPolicy {
        let mut policy = VerificationPolicy::any_identity();
        if !self.transparency_log {
            // GitHub's instance has no transparency log; its bundles prove their signing time
            // with RFC 3161 timestamps instead (`accepts` insists on one), as gh requires.
            policy = policy.skip_tlog_unsafe();
        }
        if !self.ct_logs {
            // No CT log to check an SCT against: GitHub's certificates carry none.
            policy = policy.skip_sct();
        }
        policy
    }

    /// Whether the bundle carries the evidence this root's policy needs, and if not why.
    fn accepts(&self, bundle: &Bundle) -> Result<(), String> {
        let material = &bundle.verification_material;
        if self.transparency_log {
            if material.tlog_entries.is_empty() {
                return Err(format!(
                    "has no transparency-log entry, which {} requires",
                    self.name
                ));
            }
        } else if material
            .timestamp_verification_data
            .rfc3161_timestamps
            .is_empty()
        {
            return Err(format!(
                "has no RFC 3161 timestamp, which {} requires (it has no transparency log)",
                self.name
            ));
        }
        Ok(())
    }
}

impl Roots {
    /// The roots the crate embeds: Sigstore's public-good instance and GitHub's. They may be
    /// stale for signatures made after this build (a new Fulcio CA or Rekor shard); a current
    /// `trusted_root.json` file is the remedy ([`Roots::from_file`]).
    pub fn embedded() -> Result<Roots, String> {
        let parse = |name: &str, json: &str| {
            let root = TrustedRoot::from_json(json)
                .map_err(|e| format!("the embedded {name} is not readable: {e}"))?;
            Root::new(name, &root)
        };
        Ok(Roots {
            roots: vec![
                parse(
                    "the public-good Sigstore root",
                    SIGSTORE_PRODUCTION_TRUSTED_ROOT,
                )?,
                parse("GitHub's Sigstore root", SIGSTORE_GITHUB_TRUSTED_ROOT)?,
            ],
        })
    }

    /// The roots in a `trusted_root.json` file (see [`Roots::from_json`]), which replace the
    /// embedded ones: for a private Sigstore instance, or for newer trust material than this
    /// build embeds.
    pub fn from_file(path: &Path) -> Result<Roots, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the trusted root: {e}", path.display()))?;
        Roots::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The roots in a trusted-root JSON text: one trusted root, or one per line (JSON Lines, as
    /// `gh attestation trusted-root` writes them). Malformed or unusable → the reason.
    pub fn from_json(json: &str) -> Result<Roots, String> {
        let single = TrustedRoot::from_json(json.trim());
        let lines: Vec<(usize, &str)> = json
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty())
            .collect();
        let roots = match single {
            Ok(root) => vec![Root::new("the configured trusted root", &root)?],
            // JSON Lines only when each line is JSON on its own: a pretty-printed root that does
            // not parse is reported as a whole.
            Err(e)
                if lines.len() < 2
                    || lines.iter().any(|(_, line)| {
                        serde_json::from_str::<serde_json::Value>(line).is_err()
                    }) =>
            {
                return Err(format!("not a Sigstore trusted root: {e}"));
            }
            Err(_) => lines
                .into_iter()
                .map(|(number, line)| {
                    let name = format!("the configured trusted root on line {number}");
                    let root = TrustedRoot::from_json(line)
                        .map_err(|e| format!("line {number}: not a Sigstore trusted root: {e}"))?;
                    Root::new(&name, &root)
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Roots { roots })
    }
}

impl fmt::Debug for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for root in &self.roots {
            list.entry(&format_args!(
                "{} (transparency log: {}, SCT: {})",
                root.name, root.transparency_log, root.ct_logs
            ));
        }
        list.finish()
    }
}

/// Where a keyless bundle came from: decides the [`ProofKind`] and how errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A bundle published as a release asset (`<asset>.sigstore.json`, `.sigstore`, `.bundle`,
    /// `<checksums>.sigstore.json`): [`ProofKind::Sigstore`]; errors name the asset.
    Release(&'a str),
    /// One envelope/bundle of a SLSA provenance asset (`*.intoto.jsonl`):
    /// [`ProofKind::Provenance`]; errors name the asset.
    Provenance(&'a str),
    /// A GitHub artifact attestation from the API: [`ProofKind::Attestation`]; errors name it
    /// `attestation`.
    Attestation,
}

impl Origin<'_> {
    /// The kind of proof a bundle from here gives.
    fn kind(self) -> ProofKind {
        match self {
            Origin::Release(_) => ProofKind::Sigstore,
            Origin::Provenance(_) => ProofKind::Provenance,
            Origin::Attestation => ProofKind::Attestation,
        }
    }

    /// How errors name the bundle.
    fn file(self) -> String {
        match self {
            Origin::Release(asset) | Origin::Provenance(asset) => asset.to_string(),
            Origin::Attestation => "attestation".to_string(),
        }
    }
}

/// Why a bundle without a certificate is refused.
const NO_CERTIFICATE: &str = "the bundle has no signing certificate (only a public-key hint), \
     and a keyless check needs the certificate that names the signer";

/// Verifies one Sigstore bundle (JSON text) against the bytes of `subject` and the identity
/// rules: the signature, the certificate chain to a Fulcio CA of a trusted root, the
/// transparency-log inclusion or RFC 3161 timestamps that root's policy requires, and for DSSE
/// bundles the in-toto subject digest (all `sigstore-verify`'s); then that the certificate was
/// issued to GitHub Actions ([`GITHUB_ACTIONS_ISSUER`]) for `identity`'s repository (compared
/// ignoring case) and, when `identity` pins one, by its workflow (any ref).
///
/// A bundle without a certificate is refused: a keyless check needs one. The proof is labelled
/// with the certificate's build signer URI (the workflow and its ref). The subject is read as a
/// stream, once per trusted root the bundle is tried with, never whole into memory.
pub fn verify_bundle(
    roots: &Roots,
    bundle_json: &str,
    subject: Subject<'_>,
    identity: &Identity,
    origin: Origin<'_>,
) -> Result<Proof, TrustError> {
    let file = origin.file();
    let fail = |why: String| TrustError::Sigstore {
        file: file.clone(),
        why,
    };
    let bundle = parse_bundle(bundle_json).map_err(fail)?;

    let mut candidates = Vec::new();
    let mut unmet = Vec::new();
    for root in &roots.roots {
        match root.accepts(&bundle) {
            Ok(()) => candidates.push(root),
            Err(why) => unmet.push(why),
        }
    }
    if candidates.is_empty() {
        return Err(fail(format!("the bundle {}", unmet.join("; it "))));
    }

    let mut failures = Vec::new();
    for root in &candidates {
        let reader = subject
            .open()
            .map_err(|e| fail(format!("cannot read the file: {e}")))?;
        match root.verifier.verify_reader(reader, &bundle, &root.policy()) {
            Ok(result) => return check_identity(&result, identity, origin.kind(), &file),
            Err(e) => failures.push((root, e)),
        }
    }
    // The most telling failure: the first that is not merely "signed under another root".
    let index = failures
        .iter()
        .position(|(_, e)| !is_other_root(e))
        .unwrap_or(0);
    Err(fail(match failures.get(index) {
        Some((root, e)) if failures.len() > 1 => format!("{e} (with {})", root.name),
        Some((_, e)) => e.to_string(),
        None => "no trusted root to verify with".to_string(),
    }))
}

/// Parses a bundle, refusing one without a certificate with a reason that says so (rather than
/// the parser's, for a bundle whose material is only a public-key hint).
fn parse_bundle(json: &str) -> Result<Bundle, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("the bundle is not JSON ({e})"))?;
    if let Some(material) = value.get("verificationMaterial")
        && material.get("certificate").is_none()
        && material.get("x509CertificateChain").is_none()
    {
        return Err(NO_CERTIFICATE.to_string());
    }
    let bundle =
        Bundle::from_json(json).map_err(|e| format!("not a readable Sigstore bundle ({e})"))?;
    if bundle.signing_certificate().is_none() {
        return Err(NO_CERTIFICATE.to_string());
    }
    Ok(bundle)
}

/// Whether a verification error only says that the bundle was not made under this root (its
/// certificate, timestamps or log entries come from another instance), so that another root's
/// error, if any, tells more.
fn is_other_root(error: &VerifyError) -> bool {
    matches!(
        error,
        VerifyError::Certificate(
            CertificateError::ChainInvalid(_) | CertificateError::NoValidAuthority { .. }
        ) | VerifyError::Timestamp(
            TimestampError::Invalid(_) | TimestampError::OutsideAuthorityValidity { .. }
        ) | VerifyError::TransparencyLog(
            TransparencyLogError::UnknownLog { .. }
                | TransparencyLogError::InclusionPromise(_)
                | TransparencyLogError::Checkpoint(_)
        )
    )
}

/// Checks the verified certificate's claims against the identity and makes the proof.
fn check_identity(
    result: &VerificationResult,
    identity: &Identity,
    kind: ProofKind,
    file: &str,
) -> Result<Proof, TrustError> {
    let wrong =
        |what: &'static str, found: Option<&str>, expected: String| TrustError::WrongIdentity {
            file: file.to_string(),
            what,
            found: found.unwrap_or("none").to_string(),
            expected,
        };
    // Never the case with the policies above; checked so that claims are never trusted from a
    // certificate whose chain went unchecked.
    if !result.certificate_verified() {
        return Err(TrustError::Sigstore {
            file: file.to_string(),
            why: "the certificate chain was not verified".to_string(),
        });
    }
    let issuer = result.issuer();
    if issuer != Some(GITHUB_ACTIONS_ISSUER) {
        return Err(wrong("issuer", issuer, GITHUB_ACTIONS_ISSUER.to_string()));
    }
    let claims = result.certificate().map(|c| &c.ci_claims);
    let repository = claims.and_then(|c| c.source_repository_uri.as_deref());
    let expected = identity.repository_uri();
    if !repository.is_some_and(|r| r.eq_ignore_ascii_case(&expected)) {
        return Err(wrong("source repository", repository, expected));
    }
    let signer = claims.and_then(|c| c.build_signer_uri.as_deref());
    if let Some(prefix) = identity.workflow_uri()
        && !signer.is_some_and(|s| is_workflow_run(s, &prefix))
    {
        return Err(wrong("signer workflow", signer, format!("{prefix}@<ref>")));
    }
    let detail = signer
        .or_else(|| result.identity().map(|san| san.as_str()))
        .unwrap_or_default();
    Ok(Proof::new(kind, detail))
}

/// Whether a build signer URI (`https://github.com/o/r/.github/workflows/x.yml@refs/...`) is a
/// run of the workflow `prefix` at some ref. The repository part is compared ignoring case, as
/// GitHub's names are; the path inside it exactly, as git's are.
fn is_workflow_run(signer: &str, prefix: &str) -> bool {
    let (Some(head), Some(rest)) = (signer.get(..prefix.len()), signer.get(prefix.len()..)) else {
        return false;
    };
    if !rest.starts_with('@') || rest.len() < 2 {
        return false;
    }
    match prefix.find("/.github/") {
        Some(i) => match (head.get(..i), head.get(i..)) {
            (Some(repo), Some(path)) => {
                repo.eq_ignore_ascii_case(&prefix[..i]) && path == &prefix[i..]
            }
            _ => false,
        },
        None => head == prefix,
    }
}

/// The bundles in a JSON Lines text (`.jsonl` provenance, `gh attestation download` output): one
/// JSON value per non-empty line, each returned as its own JSON text (a line that wraps its
/// bundle as `{"bundle": {…}}`, as the attestations API does, gives the bundle). A line that is
/// not JSON is an `Err` naming its line number, so that the other lines still count.
pub fn jsonl_bundles(text: &str) -> Vec<Result<String, String>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let line = line.trim();
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("line {}: not JSON ({e})", i + 1))?;
            match value.get("bundle") {
                Some(bundle) if bundle.is_object() && value.get("mediaType").is_none() => {
                    Ok(bundle.to_string())
                }
                _ => Ok(line.to_string()),
            }
        })
        .collect()
}

/// The bundles in the attestations API answer
/// `{"attestations":[{"bundle":{…},"repository_id":N,"bundle_url":…}]}`: each `bundle`
/// re-serialised as JSON text. Entries with only a `bundle_url` (the API leaves the bundle out
/// when it is large) are skipped, and counted as the second value so that the caller can say so.
/// A malformed answer is an `Err`.
pub fn attestation_bundles(api_json: &[u8]) -> Result<(Vec<String>, usize), String> {
    let value: serde_json::Value = serde_json::from_slice(api_json)
        .map_err(|e| format!("the attestations answer is not JSON ({e})"))?;
    let entries = value
        .get("attestations")
        .and_then(serde_json::Value::as_array)
        .ok_or("the attestations answer has no `attestations` list")?;
    let mut bundles = Vec::new();
    let mut skipped = 0;
    for (i, entry) in entries.iter().enumerate() {
        match entry.get("bundle") {
            Some(bundle) if bundle.is_object() => bundles.push(bundle.to_string()),
            _ if entry
                .get("bundle_url")
                .is_some_and(serde_json::Value::is_string) =>
            {
                skipped += 1;
            }
            _ => {
                return Err(format!(
                    "attestation {} has neither a bundle nor a bundle_url",
                    i + 1
                ));
            }
        }
    }
    Ok((bundles, skipped))
}

/// Verifies a key-based cosign blob signature (the `.sig` asset: base64 of the signature, as
/// `cosign sign-blob --key` writes it) over a file whose SHA-256 is `sha256`, with each
/// configured key until one verifies. cosign signs the file's SHA-256 with every key type it
/// loads from a file: ECDSA (P-256, or P-384) and RSA (PKCS#1 v1.5). An Ed25519 key signs the
/// whole file, which is not at hand here, so it cannot verify.
pub fn verify_cosign(
    keys: &[CosignKey],
    sig_file: &str,
    sig_text: &str,
    sha256: &[u8],
) -> Result<Proof, TrustError> {
    let malformed = |why: String| TrustError::Malformed {
        file: sig_file.to_string(),
        kind: "cosign",
        why,
    };
    let compact: String = sig_text.split_ascii_whitespace().collect();
    let signature = BASE64
        .decode(compact.as_bytes())
        .map_err(|e| malformed(format!("not base64 ({e})")))?;
    if signature.is_empty() {
        return Err(malformed("empty".to_string()));
    }
    let any_rsa = keys
        .iter()
        .any(|key| KeyAlgorithm::from_spki(key.der()).is_ok_and(|a| a == KeyAlgorithm::Rsa));
    // An ECDSA signature is a DER SEQUENCE; only an RSA one is raw bytes.
    if signature[0] != 0x30 && !any_rsa {
        return Err(malformed("not a DER-encoded ECDSA signature".to_string()));
    }
    let signature = SignatureBytes::new(signature);

    let mut reasons = Vec::new();
    for key in keys {
        match verify_cosign_key(key, &signature, sha256) {
            Ok(()) => return Ok(Proof::new(ProofKind::Cosign, key.source())),
            Err(why) => reasons.push(format!("{}: {why}", key.source())),
        }
    }
    Err(TrustError::BadSignature {
        file: sig_file.to_string(),
        kind: "cosign",
        why: if reasons.is_empty() {
            "no cosign key is configured".to_string()
        } else {
            reasons.join("; ")
        },
    })
}

/// Verifies a cosign signature over a SHA-256 digest with one key: the schemes cosign signs with
/// for the key's algorithm, each tried until one verifies.
fn verify_cosign_key(
    key: &CosignKey,
    signature: &SignatureBytes,
    sha256: &[u8],
) -> Result<(), String> {
    let algorithm = KeyAlgorithm::from_spki(key.der()).map_err(|e| e.to_string())?;
    let schemes: &[SigningScheme] = match algorithm {
        KeyAlgorithm::EcdsaP256 => &[SigningScheme::EcdsaP256Sha256],
        KeyAlgorithm::EcdsaP384 => &[SigningScheme::EcdsaP384Sha256],
        KeyAlgorithm::Rsa => &[SigningScheme::RsaPkcs1Sha256, SigningScheme::RsaPssSha256],
        other => {
            return Err(format!(
                "a {other:?} key signs the whole file, not its SHA-256, which is all that is \
                 checked here"
            ));
        }
    };
    let mut last = String::new();
    for &scheme in schemes {
        let verified = VerificationKey::from_spki_with_scheme(key.der(), scheme)
            .and_then(|k| k.verify_prehashed(sha256, signature));
        match verified {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// Whether bytes look like a cosign base64 signature rather than an OpenPGP one (used to tell
/// `.sig` files apart by content): trimmed, all base64 characters, decoding to a DER SEQUENCE.
pub fn looks_like_cosign_signature(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty()
        || !trimmed
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return false;
    }
    BASE64
        .decode(trimmed)
        .is_ok_and(|der| der.first() == Some(&0x30))
}

/// Whether JSON bytes are a Sigstore bundle (they name a bundle `mediaType`), not cosign's older
/// `.bundle` or a bare DSSE envelope: the downloader skips those as not checkable offline.
pub fn is_bundle(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
}

/// The subject digests (algorithm, hex) of a bundle's (or bare envelope's) in-toto statement.
/// Only decides whether the envelope concerns a file; the verifier checks the binding itself.
pub fn subject_digests(bundle: &str) -> Vec<(String, String)> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(bundle) else {
        return Vec::new();
    };
    let envelope = value.get("dsseEnvelope").unwrap_or(&value);
    let Some(payload) = envelope.get("payload").and_then(|p| p.as_str()) else {
        return Vec::new();
    };
    let Ok(statement) = BASE64.decode(payload) else {
        return Vec::new();
    };
    let Ok(statement) = serde_json::from_slice::<serde_json::Value>(&statement) else {
        return Vec::new();
    };
    let subjects = statement.get("subject").and_then(|s| s.as_array());
    subjects
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("digest").and_then(|d| d.as_object()))
        .flat_map(|digests| {
            digests.iter().filter_map(|(alg, hex)| {
                Some((alg.to_ascii_lowercase(), hex.as_str()?.to_string()))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use sigstore_verify::crypto::{KeyPair, sha256};

    /// A file of `shared/fixtures/sigstore/` (real bundles from the GitHub CLI's test data).
    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/sigstore/"
        ))
        .join(name)
    }

    fn read(name: &str) -> String {
        std::fs::read_to_string(fixture(name)).unwrap()
    }

    fn identity(repository: &str, workflow: Option<&str>) -> Identity {
        Identity {
            repository: repository.to_string(),
            workflow: workflow.map(str::to_string),
        }
    }

    const JS_BUNDLE: &str = "sigstore-js-2.1.0-bundle.json";
    const JS_PACKAGE: &str = "sigstore-js-2.1.0.tgz";
    const JS_WORKFLOW: &str =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    const DEMO_BUNDLE: &str = "github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl";
    const DEMO_WHEEL: &str = "github_provenance_demo-0.0.12-py3-none-any.whl";
    const DEMO_WORKFLOW: &str =
        "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main";

    /// The one bundle of a JSON Lines fixture.
    fn only_bundle(name: &str) -> String {
        let mut bundles = jsonl_bundles(&read(name));
        assert_eq!(bundles.len(), 1, "{name}");
        bundles.remove(0).unwrap()
    }

    /// Verifies the sigstore-js bundle (or `bundle`) against `file` with the embedded roots.
    fn verify_js(bundle: &str, file: &str, identity: &Identity) -> Result<Proof, TrustError> {
        let roots = Roots::embedded().unwrap();
        let path = fixture(file);
        verify_bundle(
            &roots,
            bundle,
            Subject::File(&path),
            identity,
            Origin::Release("sigstore-2.1.0.tgz.sigstore.json"),
        )
    }

    fn sigstore_why(result: Result<Proof, TrustError>) -> String {
        match result {
            Err(TrustError::Sigstore { why, .. }) => why,
            other => panic!("expected a Sigstore error, got {other:?}"),
        }
    }

    #[test]
    fn roots_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Roots>();
        let roots = Roots::embedded().unwrap();
        let debug = format!("{roots:?}");
        assert!(debug.contains("public-good"), "{debug}");
        assert!(debug.contains("GitHub"), "{debug}");
    }

    #[test]
    fn public_good_bundle_verifies_and_its_kind_follows_the_origin() {
        let roots = Roots::embedded().unwrap();
        let bundle = read(JS_BUNDLE);
        let path = fixture(JS_PACKAGE);
        let who = identity("sigstore/sigstore-js", None);
        for (origin, kind, file) in [
            (
                Origin::Release("a.sigstore.json"),
                ProofKind::Sigstore,
                "a.sigstore.json",
            ),
            (
                Origin::Provenance("a.intoto.jsonl"),
                ProofKind::Provenance,
                "a.intoto.jsonl",
            ),
            (Origin::Attestation, ProofKind::Attestation, "attestation"),
        ] {
            let proof = verify_bundle(&roots, &bundle, Subject::File(&path), &who, origin).unwrap();
            assert_eq!(proof.kind, kind);
            assert_eq!(proof.label, format!("{}:{JS_WORKFLOW}", kind.as_str()));
            // Errors name the bundle by its origin.
            let other = identity("someone/else", None);
            match verify_bundle(&roots, &bundle, Subject::File(&path), &other, origin) {
                Err(TrustError::WrongIdentity { file: named, .. }) => assert_eq!(named, file),
                other => panic!("expected WrongIdentity, got {other:?}"),
            }
        }
        // Bytes in memory verify the same as the file.
        let bytes = std::fs::read(&path).unwrap();
        let proof = verify_bundle(
            &roots,
            &bundle,
            Subject::Bytes(&bytes),
            &who,
            Origin::Attestation,
        )
        .unwrap();
        assert_eq!(proof.label, format!("attestation:{JS_WORKFLOW}"));
    }

    #[test]
    fn a_pinned_workflow_must_be_the_signer() {
        let bundle = read(JS_BUNDLE);
        for workflow in [
            ".github/workflows/release.yml",
            "/.github/workflows/release.yml",
            "sigstore/sigstore-js/.github/workflows/release.yml",
            // GitHub's names ignore case; the path in the repository does not.
            "Sigstore/Sigstore-JS/.github/workflows/release.yml",
        ] {
            let who = identity("sigstore/sigstore-js", Some(workflow));
            let proof = verify_js(&bundle, JS_PACKAGE, &who).unwrap();
            assert!(proof.label.ends_with(JS_WORKFLOW), "{workflow}: {proof}");
        }
        for workflow in [
            ".github/workflows/other.yml",
            ".github/workflows/release",
            ".github/workflows/Release.yml",
            "someone/else/.github/workflows/release.yml",
        ] {
            let who = identity("sigstore/sigstore-js", Some(workflow));
            match verify_js(&bundle, JS_PACKAGE, &who) {
                Err(TrustError::WrongIdentity {
                    what,
                    found,
                    expected,
                    ..
                }) => {
                    assert_eq!(what, "signer workflow");
                    assert_eq!(found, JS_WORKFLOW);
                    assert_eq!(expected, format!("{}@<ref>", who.workflow_uri().unwrap()));
                }
                other => panic!("{workflow}: expected WrongIdentity, got {other:?}"),
            }
        }
    }

    #[test]
    fn workflow_runs_match_by_prefix_and_ref() {
        let prefix = "https://github.com/o/r/.github/workflows/x.yml";
        assert!(is_workflow_run(&format!("{prefix}@refs/tags/v1"), prefix));
        assert!(is_workflow_run(
            "https://github.com/O/R/.github/workflows/x.yml@refs/heads/main",
            prefix
        ));
        for signer in [
            prefix,
            "https://github.com/o/r/.github/workflows/x.yml@",
            "https://github.com/o/r/.github/workflows/x.yml2@refs/heads/main",
            "https://github.com/o/r/.github/workflows/X.yml@refs/heads/main",
            "https://github.com/o/r2/.github/workflows/x.yml@refs/heads/main",
            "https://github.com/o/r/.github/workflows/x.ym",
        ] {
            assert!(!is_workflow_run(signer, prefix), "{signer}");
        }
    }

    #[test]
    fn another_repository_is_the_wrong_identity() {
        let who = identity("someone/else", None);
        match verify_js(&read(JS_BUNDLE), JS_PACKAGE, &who) {
            Err(TrustError::WrongIdentity {
                what,
                found,
                expected,
                ..
            }) => {
                assert_eq!(what, "source repository");
                assert_eq!(found, "https://github.com/sigstore/sigstore-js");
                assert_eq!(expected, "https://github.com/someone/else");
            }
            other => panic!("expected WrongIdentity, got {other:?}"),
        }
        // The repository is compared ignoring case, as GitHub does.
        let who = identity("SigStore/Sigstore-JS", None);
        assert!(verify_js(&read(JS_BUNDLE), JS_PACKAGE, &who).is_ok());
    }

    #[test]
    fn another_file_is_refused() {
        let who = identity("sigstore/sigstore-js", None);
        let why = sigstore_why(verify_js(&read(JS_BUNDLE), DEMO_WHEEL, &who));
        assert!(why.contains("does not match"), "{why}");
        // And one byte more than the package, in memory.
        let mut bytes = std::fs::read(fixture(JS_PACKAGE)).unwrap();
        bytes.push(0);
        let roots = Roots::embedded().unwrap();
        let why = sigstore_why(verify_bundle(
            &roots,
            &read(JS_BUNDLE),
            Subject::Bytes(&bytes),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("does not match"), "{why}");
    }

    #[test]
    fn a_tampered_bundle_is_refused() {
        let who = identity("sigstore/sigstore-js", None);
        let mut bundle: serde_json::Value = serde_json::from_str(&read(JS_BUNDLE)).unwrap();
        // Another valid signature encoding, over nothing that was signed: flip one byte.
        let signature = bundle["dsseEnvelope"]["signatures"][0]["sig"]
            .as_str()
            .unwrap()
            .to_string();
        let mut raw = BASE64.decode(&signature).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        bundle["dsseEnvelope"]["signatures"][0]["sig"] = BASE64.encode(&raw).into();
        let why = sigstore_why(verify_js(&bundle.to_string(), JS_PACKAGE, &who));
        assert!(why.contains("signature"), "{why}");
        // A log entry that is not in the log.
        let mut bundle: serde_json::Value = serde_json::from_str(&read(JS_BUNDLE)).unwrap();
        let entry = &mut bundle["verificationMaterial"]["tlogEntries"][0];
        entry["logIndex"] = "1".into();
        entry["inclusionProof"]["logIndex"] = "1".into();
        let why = sigstore_why(verify_js(&bundle.to_string(), JS_PACKAGE, &who));
        assert!(why.contains("inclusion promise"), "{why}");
        // Not a bundle at all.
        let why = sigstore_why(verify_js("{]", JS_PACKAGE, &who));
        assert!(why.contains("not JSON"), "{why}");
        let why = sigstore_why(verify_js(r#"{"mediaType":"x"}"#, JS_PACKAGE, &who));
        assert!(why.contains("not a readable Sigstore bundle"), "{why}");
    }

    #[test]
    fn github_instance_bundle_verifies_with_the_embedded_roots() {
        let roots = Roots::embedded().unwrap();
        let bundle = only_bundle(DEMO_BUNDLE);
        let path = fixture(DEMO_WHEEL);
        let who = identity(
            "actions/attest-demo",
            Some(".github/workflows/build-python.yml"),
        );
        let proof = verify_bundle(
            &roots,
            &bundle,
            Subject::File(&path),
            &who,
            Origin::Attestation,
        )
        .unwrap();
        assert_eq!(proof.kind, ProofKind::Attestation);
        assert_eq!(proof.label, format!("attestation:{DEMO_WORKFLOW}"));
        // The identity rules hold for GitHub's instance too.
        let who = identity("actions/other", None);
        assert!(matches!(
            verify_bundle(
                &roots,
                &bundle,
                Subject::File(&path),
                &who,
                Origin::Attestation
            ),
            Err(TrustError::WrongIdentity {
                what: "source repository",
                ..
            })
        ));
        // And so does the subject.
        let other = fixture(JS_PACKAGE);
        let who = identity("actions/attest-demo", None);
        let why = sigstore_why(verify_bundle(
            &roots,
            &bundle,
            Subject::File(&other),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("does not match"), "{why}");
    }

    #[test]
    fn github_instance_bundle_without_its_timestamp_is_refused() {
        let roots = Roots::embedded().unwrap();
        let mut bundle: serde_json::Value =
            serde_json::from_str(&only_bundle(DEMO_BUNDLE)).unwrap();
        bundle["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({});
        let path = fixture(DEMO_WHEEL);
        let who = identity("actions/attest-demo", None);
        let why = sigstore_why(verify_bundle(
            &roots,
            &bundle.to_string(),
            Subject::File(&path),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("RFC 3161 timestamp"), "{why}");
        assert!(why.contains("transparency-log entry"), "{why}");
        // Nor with a timestamp that GitHub's authority did not sign.
        let mut bundle: serde_json::Value =
            serde_json::from_str(&only_bundle(DEMO_BUNDLE)).unwrap();
        let timestamps = &mut bundle["verificationMaterial"]["timestampVerificationData"];
        let token = &mut timestamps["rfc3161Timestamps"][0]["signedTimestamp"];
        let mut raw = BASE64.decode(token.as_str().unwrap()).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        *token = BASE64.encode(&raw).into();
        let why = sigstore_why(verify_bundle(
            &roots,
            &bundle.to_string(),
            Subject::File(&path),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("RFC 3161 timestamp"), "{why}");
    }

    #[test]
    fn a_bundle_without_certificate_is_refused() {
        let roots = Roots::embedded().unwrap();
        let bundle =
            only_bundle("github_provenance_demo-0.0.12-py3-none-any-bundle-missing-cert.jsonl");
        let path = fixture(DEMO_WHEEL);
        let who = identity("actions/attest-demo", None);
        let why = sigstore_why(verify_bundle(
            &roots,
            &bundle,
            Subject::File(&path),
            &who,
            Origin::Provenance("demo.intoto.jsonl"),
        ));
        assert!(why.contains("no signing certificate"), "{why}");
        // The real bundle with its certificate swapped for a key hint, content and all.
        let mut full: serde_json::Value = serde_json::from_str(&only_bundle(DEMO_BUNDLE)).unwrap();
        let material = full["verificationMaterial"].as_object_mut().unwrap();
        material.remove("certificate");
        material.insert("publicKey".into(), serde_json::json!({"hint": "abc"}));
        let why = sigstore_why(verify_bundle(
            &roots,
            &full.to_string(),
            Subject::File(&path),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("no signing certificate"), "{why}");
    }

    #[test]
    fn the_invalid_signature_bundle_is_refused_whatever_the_subject() {
        // Its DSSE payload is the text `hello, world!` (type `text/plain`), its certificate an
        // e-mail identity from Sigstore's OAuth flow: sigstore-verify refuses a DSSE payload it
        // cannot bind to the file before it gets to the signature.
        let roots = Roots::embedded().unwrap();
        let bundle = read("sigstoreBundle-invalid-signature.json");
        let package = fixture(JS_PACKAGE);
        for subject in [Subject::Bytes(b"hello, world!"), Subject::File(&package)] {
            for who in [
                identity("sigstore/sigstore-js", None),
                identity("bdehamer/hello", None),
            ] {
                let result = verify_bundle(
                    &roots,
                    &bundle,
                    subject,
                    &who,
                    Origin::Release("x.sigstore"),
                );
                assert!(
                    matches!(result, Err(TrustError::Sigstore { .. })),
                    "{result:?}"
                );
            }
        }
    }

    #[test]
    fn each_bundle_of_a_jsonl_file_verifies() {
        let roots = Roots::embedded().unwrap();
        let bundles = jsonl_bundles(&read("sigstore-js-2.1.0_with_2_bundles.jsonl"));
        assert_eq!(bundles.len(), 2);
        let path = fixture(JS_PACKAGE);
        let who = identity(
            "sigstore/sigstore-js",
            Some(".github/workflows/release.yml"),
        );
        for bundle in bundles {
            let bundle = bundle.unwrap();
            let proof = verify_bundle(
                &roots,
                &bundle,
                Subject::File(&path),
                &who,
                Origin::Provenance("sigstore-2.1.0.intoto.jsonl"),
            )
            .unwrap();
            assert_eq!(proof.label, format!("provenance:{JS_WORKFLOW}"));
        }
    }

    #[test]
    fn jsonl_lines_are_bundles_or_errors_naming_the_line() {
        let bundle = only_bundle(DEMO_BUNDLE);
        let wrapped = format!(r#"{{"bundle":{bundle},"repository_id":1}}"#);
        let text = format!("\n{bundle}\r\nnot json\n\n  {wrapped}  \n");
        let lines = jsonl_bundles(&text);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].as_deref(), Ok(bundle.as_str()));
        let error = lines[1].as_ref().unwrap_err();
        assert!(error.starts_with("line 3:"), "{error}");
        let unwrapped: serde_json::Value =
            serde_json::from_str(lines[2].as_ref().unwrap()).unwrap();
        assert_eq!(
            unwrapped,
            serde_json::from_str::<serde_json::Value>(&bundle).unwrap()
        );
        assert!(jsonl_bundles("\n \n").is_empty());
    }

    #[test]
    fn a_trusted_root_file_replaces_the_embedded_ones() {
        let roots = Roots::from_file(&fixture("trusted_root.json")).unwrap();
        let who = identity("sigstore/sigstore-js", None);
        let path = fixture(JS_PACKAGE);
        let proof = verify_bundle(
            &roots,
            &read(JS_BUNDLE),
            Subject::File(&path),
            &who,
            Origin::Release("a.sigstore.json"),
        )
        .unwrap();
        assert_eq!(proof.label, format!("sigstore:{JS_WORKFLOW}"));
        // GitHub's instance is not in it: its bundle, with no log entry, is refused.
        let wheel = fixture(DEMO_WHEEL);
        let who = identity("actions/attest-demo", None);
        let why = sigstore_why(verify_bundle(
            &roots,
            &only_bundle(DEMO_BUNDLE),
            Subject::File(&wheel),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("transparency-log entry"), "{why}");
        // GitHub's root alone does not verify the public-good bundle.
        let github = Roots::from_json(SIGSTORE_GITHUB_TRUSTED_ROOT).unwrap();
        let who = identity("sigstore/sigstore-js", None);
        let why = sigstore_why(verify_bundle(
            &github,
            &read(JS_BUNDLE),
            Subject::File(&path),
            &who,
            Origin::Attestation,
        ));
        assert!(why.contains("RFC 3161 timestamp"), "{why}");
    }

    #[test]
    fn a_trusted_root_jsonl_file_holds_several_roots() {
        let minify = |json: &str| {
            serde_json::from_str::<serde_json::Value>(json)
                .unwrap()
                .to_string()
        };
        let text = format!(
            "{}\n{}\n",
            minify(&read("trusted_root.json")),
            minify(SIGSTORE_GITHUB_TRUSTED_ROOT)
        );
        let roots = Roots::from_json(&text).unwrap();
        assert_eq!(roots.roots.len(), 2);
        let package = fixture(JS_PACKAGE);
        let wheel = fixture(DEMO_WHEEL);
        let js = identity("sigstore/sigstore-js", None);
        let demo = identity("actions/attest-demo", None);
        let bundle = read(JS_BUNDLE);
        assert!(
            verify_bundle(
                &roots,
                &bundle,
                Subject::File(&package),
                &js,
                Origin::Attestation
            )
            .is_ok()
        );
        let bundle = only_bundle(DEMO_BUNDLE);
        assert!(
            verify_bundle(
                &roots,
                &bundle,
                Subject::File(&wheel),
                &demo,
                Origin::Attestation
            )
            .is_ok()
        );
    }

    #[test]
    fn malformed_trusted_roots_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let error = Roots::from_file(&missing).unwrap_err();
        assert!(error.contains("missing.json"), "{error}");
        for (text, says) in [
            ("{not json", "not a Sigstore trusted root"),
            ("{\n  \"mediaType\": 1\n", "not a Sigstore trusted root"),
            (
                r#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#,
                "no Fulcio certificate authority",
            ),
            ("{\"a\":1}\nnot json\n", "not a Sigstore trusted root"),
        ] {
            let path = dir.path().join("trusted_root.json");
            std::fs::write(&path, text).unwrap();
            let error = Roots::from_file(&path).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains("trusted_root.json"), "{text}: {error}");
        }
        // A root whose CAs are there but which has no way to tell the signing time.
        let mut root: serde_json::Value = serde_json::from_str(&read("trusted_root.json")).unwrap();
        root.as_object_mut().unwrap().remove("tlogs");
        let error = Roots::from_json(&root.to_string()).unwrap_err();
        assert!(error.contains("neither a transparency log"), "{error}");
    }

    #[test]
    fn attestation_answers_give_their_bundles() {
        let js = read(JS_BUNDLE);
        let demo = only_bundle(DEMO_BUNDLE);
        let answer = format!(
            r#"{{"attestations":[
                {{"bundle":{js},"repository_id":1,"bundle_url":"https://example.invalid/1"}},
                {{"bundle":null,"repository_id":2,"bundle_url":"https://example.invalid/2"}},
                {{"repository_id":3,"bundle_url":"https://example.invalid/3"}},
                {{"bundle":{demo},"repository_id":4}}
            ]}}"#
        );
        let (bundles, skipped) = attestation_bundles(answer.as_bytes()).unwrap();
        assert_eq!(bundles.len(), 2);
        assert_eq!(skipped, 2);
        let roots = Roots::embedded().unwrap();
        let package = fixture(JS_PACKAGE);
        let who = identity("sigstore/sigstore-js", None);
        let proof = verify_bundle(
            &roots,
            &bundles[0],
            Subject::File(&package),
            &who,
            Origin::Attestation,
        )
        .unwrap();
        assert_eq!(proof.label, format!("attestation:{JS_WORKFLOW}"));
        let wheel = fixture(DEMO_WHEEL);
        let who = identity("actions/attest-demo", None);
        assert!(
            verify_bundle(
                &roots,
                &bundles[1],
                Subject::File(&wheel),
                &who,
                Origin::Attestation
            )
            .is_ok()
        );

        assert_eq!(
            attestation_bundles(br#"{"attestations":[]}"#).unwrap(),
            (Vec::new(), 0)
        );
        for malformed in [
            &b"not json"[..],
            b"{}",
            br#"{"attestations":{}}"#,
            br#"{"attestations":[{"repository_id":1}]}"#,
            br#"[]"#,
        ] {
            assert!(
                attestation_bundles(malformed).is_err(),
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
    }

    /// A cosign key made here, its configuration form, and a signature in `.sig` form over the
    /// SHA-256 of `data`.
    fn cosign_key(name: &str) -> (KeyPair, CosignKey) {
        let pair = KeyPair::generate_ecdsa_p256().unwrap();
        let pem = pair.public_key_der().unwrap().to_pem();
        let key = CosignKey::parse(name, &pem).unwrap();
        (pair, key)
    }

    fn cosign_sign(pair: &KeyPair, data: &[u8]) -> String {
        // `sign` hashes the whole message with SHA-256, as cosign does.
        format!("{}\n", BASE64.encode(pair.sign(data).unwrap().as_bytes()))
    }

    #[test]
    fn cosign_signatures_verify_with_a_configured_key() {
        let (pair, key) = cosign_key("keys/cosign.pub");
        let (_, other) = cosign_key("keys/other.pub");
        let data = b"the release asset";
        let digest = sha256(data);
        let sig = cosign_sign(&pair, data);

        let proof =
            verify_cosign(std::slice::from_ref(&key), "a.sig", &sig, digest.as_bytes()).unwrap();
        assert_eq!(proof.kind, ProofKind::Cosign);
        assert_eq!(proof.label, "cosign:keys/cosign.pub");
        // Each key is tried until one verifies.
        let proof = verify_cosign(
            &[other.clone(), key.clone()],
            "a.sig",
            &sig,
            digest.as_bytes(),
        )
        .unwrap();
        assert_eq!(proof.label, "cosign:keys/cosign.pub");
        // A signature over the digest alone is the same signature.
        let prehashed = BASE64.encode(pair.sign_digest(&digest).unwrap().as_bytes());
        assert!(
            verify_cosign(
                std::slice::from_ref(&key),
                "a.sig",
                &prehashed,
                digest.as_bytes()
            )
            .is_ok()
        );

        // Another file.
        let tampered = sha256(b"the release asset, tampered");
        match verify_cosign(
            std::slice::from_ref(&key),
            "a.sig",
            &sig,
            tampered.as_bytes(),
        ) {
            Err(TrustError::BadSignature { file, kind, why }) => {
                assert_eq!(file, "a.sig");
                assert_eq!(kind, "cosign");
                assert!(why.contains("keys/cosign.pub"), "{why}");
            }
            other => panic!("expected BadSignature, got {other:?}"),
        }
        // Another key.
        assert!(matches!(
            verify_cosign(&[other], "a.sig", &sig, digest.as_bytes()),
            Err(TrustError::BadSignature { .. })
        ));
        // No key at all.
        assert!(matches!(
            verify_cosign(&[], "a.sig", &sig, digest.as_bytes()),
            Err(TrustError::BadSignature { .. })
        ));
        // Not a signature.
        for garbage in [
            "not a signature!",
            "",
            "aGVsbG8=",
            "-----BEGIN PGP SIGNATURE-----",
        ] {
            match verify_cosign(
                std::slice::from_ref(&key),
                "a.sig",
                garbage,
                digest.as_bytes(),
            ) {
                Err(TrustError::Malformed { file, kind, .. }) => {
                    assert_eq!((file.as_str(), kind), ("a.sig", "cosign"));
                }
                other => panic!("{garbage:?}: expected Malformed, got {other:?}"),
            }
        }
    }

    #[test]
    fn cosign_signatures_are_told_from_openpgp_ones() {
        let (pair, _) = cosign_key("cosign.pub");
        let sig = cosign_sign(&pair, b"data");
        assert!(looks_like_cosign_signature(sig.as_bytes()));
        assert!(looks_like_cosign_signature(
            format!("  {}  ", sig.trim()).as_bytes()
        ));
        let armored = b"-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0WIQQ=\n=abcd\n\
                        -----END PGP SIGNATURE-----\n";
        assert!(!looks_like_cosign_signature(armored));
        // A binary OpenPGP signature packet.
        assert!(!looks_like_cosign_signature(&[
            0x88, 0x75, 0x04, 0x00, 0x16, 0x0a, 0x00
        ]));
        // Base64, but not of a DER SEQUENCE.
        assert!(!looks_like_cosign_signature(b"aGVsbG8="));
        assert!(!looks_like_cosign_signature(b""));
        assert!(!looks_like_cosign_signature(b"  \n"));
    }

    #[test]
    fn provenance_subjects_are_read_from_the_statement() {
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "a", "digest": {"sha256": "AB".repeat(32)}}],
        });
        let payload = BASE64.encode(statement.to_string());
        let envelope =
            serde_json::json!({"payloadType": "application/vnd.in-toto+json", "payload": payload})
                .to_string();
        let expected = vec![("sha256".to_string(), "AB".repeat(32))];
        assert_eq!(subject_digests(&envelope), expected);
        let bundle = serde_json::json!({"dsseEnvelope": {"payload": payload}}).to_string();
        assert_eq!(subject_digests(&bundle), expected);
        assert!(subject_digests("not json").is_empty());
    }
}
