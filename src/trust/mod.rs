//! Authenticity: whether a file was made by whoever the configuration trusts, not just whether it
//! is intact. Checksums (the `download` module's `checksum` rules) prove that bytes are the ones
//! the release lists; a hijacked release lists its own bytes. The checks here tie bytes to a
//! trust anchor that comes from the configuration, never from the release:
//!
//! - [`minisign`] and [`pgp`] signatures, against configured public keys ([`keys`]);
//! - cosign signatures against configured PEM keys, and keyless Sigstore bundles, SLSA
//!   provenance and GitHub artifact attestations against the embedded Sigstore trusted roots and
//!   an [`Identity`] (the repository's own GitHub Actions, or what `signing` names) ([`sigstore`]);
//! - [`detect`] tells which release assets are signatures, of what, and of which kind.
//!
//! Every check that holds becomes a [`Proof`]; every one that fails is a [`TrustError`] that names
//! it. Nothing here does I/O beyond reading the file being checked: fetching signature files and
//! attestations is the downloader's job.

pub mod detect;
pub mod keys;
pub mod minisign;
pub mod pgp;
pub mod sigstore;

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;

pub use keys::{CosignKey, MinisignKey, PgpKey};

/// What kind of check proved a file, weakest first: the order is the order of strength, so the
/// strongest of several proofs is their maximum. The first four are the checksum layers (they
/// prove integrity, not authorship); the rest prove who made the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProofKind {
    /// A sibling `<asset>.sha256` asset.
    Sidecar,
    /// A checksum file of the release.
    ChecksumFile,
    /// The asset's `digest` from the GitHub API.
    Digest,
    /// An OpenPGP signature made by a configured key.
    Pgp,
    /// A minisign signature made by a configured key.
    Minisign,
    /// A cosign signature made by a configured key.
    Cosign,
    /// A keyless Sigstore bundle published with the release, signed by the expected identity.
    Sigstore,
    /// SLSA provenance published with the release (`*.intoto.jsonl`), signed by the expected
    /// identity.
    Provenance,
    /// A GitHub artifact attestation for the asset's digest, signed by the expected identity.
    Attestation,
}

impl ProofKind {
    /// The name used in reports, the database's `verified_by` and the `verification` list.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofKind::Sidecar => "sidecar",
            ProofKind::ChecksumFile => "checksum-file",
            ProofKind::Digest => "digest",
            ProofKind::Pgp => "pgp",
            ProofKind::Minisign => "minisign",
            ProofKind::Cosign => "cosign",
            ProofKind::Sigstore => "sigstore",
            ProofKind::Provenance => "provenance",
            ProofKind::Attestation => "attestation",
        }
    }

    /// Whether this kind proves who made the file (a signature or an attestation), rather than
    /// only that the bytes are the ones the release lists.
    pub fn is_authenticity(self) -> bool {
        self >= ProofKind::Pgp
    }

    /// Whether this kind is a keyless Sigstore identity (a bundle, provenance or an attestation).
    pub fn is_keyless(self) -> bool {
        self >= ProofKind::Sigstore
    }
}

/// One check that held: its kind and what it rests on, e.g. `pgp:0x1234…` or
/// `attestation:https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1`. The label is
/// what the report's `verification` list shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proof {
    /// The kind of check.
    pub kind: ProofKind,
    /// `kind` followed by what it rests on (a key, a checksum file, a signer workflow).
    pub label: String,
}

impl Proof {
    /// A proof of `kind` resting on `detail` (labelled `kind:detail`, or `kind` alone when
    /// `detail` is empty).
    pub fn new(kind: ProofKind, detail: impl AsRef<str>) -> Proof {
        let detail = detail.as_ref();
        let label = if detail.is_empty() {
            kind.as_str().to_string()
        } else {
            format!("{}:{detail}", kind.as_str())
        };
        Proof { kind, label }
    }

    /// The same proof reached through a signed checksum file: the label names the file.
    pub fn via(&self, checksum_file: &str) -> Proof {
        Proof {
            kind: self.kind,
            label: format!("{} (over {checksum_file})", self.label),
        }
    }
}

impl fmt::Display for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

/// Who may have made a keylessly signed file: the GitHub Actions of one repository, and
/// optionally one workflow. Built from the mirrored repository and its `signing` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `owner/repo` whose workflows may sign (`signing.repository`, or the mirrored repository).
    pub repository: String,
    /// The signer workflow, when pinned: `.github/workflows/x.yml` (in `repository`) or
    /// `owner/repo/.github/workflows/x.yml` (a reusable workflow elsewhere).
    pub workflow: Option<String>,
}

/// The OIDC issuer of GitHub Actions' tokens: the only issuer a keyless signature may have.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

impl Identity {
    /// The source-repository URI the certificate must carry.
    pub fn repository_uri(&self) -> String {
        format!("https://github.com/{}", self.repository)
    }

    /// The signer-workflow URI prefix (everything before `@ref`) when a workflow is pinned.
    pub fn workflow_uri(&self) -> Option<String> {
        let workflow = self.workflow.as_deref()?.trim_start_matches('/');
        // `owner/repo/.github/...` names a workflow in another repository.
        Some(if workflow.starts_with(".github/") {
            format!("https://github.com/{}/{workflow}", self.repository)
        } else {
            format!("https://github.com/{workflow}")
        })
    }
}

/// The trust anchors and identity rules for one repository (`repositories[].signing`, or the
/// repository's `repository_overrides` entry).
#[derive(Debug, Clone, Default)]
pub struct Anchors {
    /// minisign public keys.
    pub minisign: Vec<MinisignKey>,
    /// OpenPGP public keys (certificates).
    pub pgp: Vec<PgpKey>,
    /// cosign PEM public keys.
    pub cosign: Vec<CosignKey>,
}

/// Why a signature, bundle or attestation did not prove a file. Each variant names the failed
/// check, since that is what the user must act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The signature file cannot be read as the signature it claims to be.
    #[error("{file}: not a readable {kind} signature: {why}")]
    Malformed {
        /// The signature file (a release asset, or `attestation` for the API).
        file: String,
        /// The kind it was read as.
        kind: &'static str,
        /// What the parser said.
        why: String,
    },
    /// No configured key made the signature.
    #[error("{file}: signed by {signer}, which is not a configured {kind} key")]
    UnknownKey {
        /// The signature file.
        file: String,
        /// The kind of key.
        kind: &'static str,
        /// The key id the signature names.
        signer: String,
    },
    /// The signature does not match the bytes (tampered file, or a signature over another file).
    #[error("{file}: the {kind} signature does not verify: {why}")]
    BadSignature {
        /// The signature file.
        file: String,
        /// The kind of signature.
        kind: &'static str,
        /// What the verifier said.
        why: String,
    },
    /// A keyless signature's certificate is not from the expected identity.
    #[error("{file}: {what} is {found}, expected {expected}")]
    WrongIdentity {
        /// The bundle (or `attestation`).
        file: String,
        /// Which claim: `issuer`, `source repository`, `signer workflow`.
        what: &'static str,
        /// The claim in the certificate.
        found: String,
        /// What the policy wants.
        expected: String,
    },
    /// A signature offered for the file could not be fetched intact: the file cannot be checked
    /// this run.
    #[error("{file}: could not be fetched intact ({why}); retried next run")]
    Unavailable {
        /// The signature asset.
        file: String,
        /// Why.
        why: String,
    },
    /// A Sigstore bundle or attestation did not verify (chain, log proof, timestamp, subject).
    #[error("{file}: the Sigstore verification failed: {why}")]
    Sigstore {
        /// The bundle (or `attestation`).
        file: String,
        /// What the verifier said.
        why: String,
    },
}

/// The bytes a signature is checked against: a file on disk (a completed transfer, re-read as
/// often as a check needs, never held in memory) or bytes already in memory (a checksum file).
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A file on disk.
    File(&'a Path),
    /// Bytes in memory.
    Bytes(&'a [u8]),
}

impl Subject<'_> {
    /// A reader over the bytes, from the start.
    pub fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Subject::File(path) => Box::new(io::BufReader::with_capacity(
                64 * 1024,
                std::fs::File::open(path)?,
            )),
            Subject::Bytes(bytes) => Box::new(*bytes),
        })
    }

    /// The size in bytes.
    pub fn len(&self) -> io::Result<u64> {
        Ok(match self {
            Subject::File(path) => std::fs::metadata(path)?.len(),
            Subject::Bytes(bytes) => bytes.len() as u64,
        })
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
}
