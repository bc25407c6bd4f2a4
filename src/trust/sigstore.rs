//! Sigstore: keyless bundles, SLSA provenance, GitHub artifact attestations and cosign key
//! signatures (being written on the `sigstore` branch; this stub only parses trusted roots).

use std::path::Path;

/// The Sigstore trusted roots keyless checks use.
#[derive(Debug)]
pub struct Roots;

impl Roots {
    /// The embedded roots.
    pub fn embedded() -> Result<Roots, String> {
        Ok(Roots)
    }

    /// One `trusted_root.json` file replacing the embedded roots.
    pub fn from_file(path: &Path) -> Result<Roots, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        Self::from_json(&text)
    }

    /// A `trusted_root.json` text.
    pub fn from_json(json: &str) -> Result<Roots, String> {
        sigstore_verify::trust_root::TrustedRoot::from_json(json)
            .map(|_| Roots)
            .map_err(|e| e.to_string())
    }
}

use super::{CosignKey, Identity, Proof, Subject, TrustError};

/// Where a keyless bundle came from.
pub enum Origin<'a> {
    /// A bundle published as a release asset.
    Release(&'a str),
    /// A SLSA provenance asset.
    Provenance(&'a str),
    /// A GitHub artifact attestation.
    Attestation,
}

/// Verifies one Sigstore bundle (stub).
pub fn verify_bundle(
    _roots: &Roots,
    _bundle_json: &str,
    _subject: Subject<'_>,
    _identity: &Identity,
    _origin: Origin<'_>,
) -> Result<Proof, TrustError> {
    Err(TrustError::Sigstore {
        file: String::new(),
        why: "not yet".into(),
    })
}

/// The bundles in a JSON Lines text (stub).
pub fn jsonl_bundles(text: &str) -> Vec<Result<String, String>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(l.to_string()))
        .collect()
}

/// The bundles in the attestations API answer (stub).
pub fn attestation_bundles(_api_json: &[u8]) -> Result<(Vec<String>, usize), String> {
    Ok((Vec::new(), 0))
}

/// Verifies a key-based cosign blob signature (stub).
pub fn verify_cosign(
    _keys: &[CosignKey],
    sig_file: &str,
    _sig_text: &str,
    _sha256: &[u8],
) -> Result<Proof, TrustError> {
    Err(TrustError::BadSignature {
        file: sig_file.to_string(),
        kind: "cosign",
        why: "not yet".into(),
    })
}
