//! Trust anchors from the configuration: minisign public keys (inline), OpenPGP certificates and
//! cosign PEM public keys (files). Each is parsed and checked once, when the configuration is
//! loaded, so a malformed key is a configuration error and never a surprise mid-run. Each keeps
//! the text the user wrote, which is what `config check` shows and what a proof names.

use std::fmt;

use pgp::composed::{PublicOrSecret, SignedPublicKey};
use pgp::types::KeyDetails;
use sigstore_verify::crypto::VerificationKey;
use sigstore_verify::types::DerPublicKey;

/// A minisign public key (`RWQ…`, the second line of a `minisign.pub` file).
#[derive(Clone, PartialEq, Eq)]
pub struct MinisignKey {
    /// The base64 text as configured.
    text: String,
    /// The parsed key.
    key: minisign_verify::PublicKey,
}

impl MinisignKey {
    /// Parses the base64 text of a minisign public key; a whole `minisign.pub` file's text (an
    /// `untrusted comment:` line, then the key) is accepted too.
    pub fn parse(text: &str) -> Result<MinisignKey, String> {
        let text = text.trim();
        let line = text
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .unwrap_or(text);
        let key = minisign_verify::PublicKey::from_base64(line)
            .map_err(|e| format!("not a minisign public key ({e})"))?;
        Ok(MinisignKey {
            text: line.to_string(),
            key,
        })
    }

    /// The key as configured (base64), which is also how proofs name it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed key.
    pub fn key(&self) -> &minisign_verify::PublicKey {
        &self.key
    }
}

impl fmt::Debug for MinisignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MinisignKey({})", self.text)
    }
}

/// The OpenPGP certificates (public keys with their subkeys) of one key file, armored or binary.
#[derive(Clone, PartialEq, Eq)]
pub struct PgpKey {
    /// The file as configured (relative to the configuration file).
    source: String,
    /// The certificates in it.
    certs: Vec<SignedPublicKey>,
}

impl PgpKey {
    /// Parses every public key in `bytes` (armored or binary), checking each key's
    /// self-signatures. A secret key is refused: the configuration only needs public keys, and a
    /// secret key there is a leak.
    pub fn parse(source: &str, bytes: &[u8]) -> Result<PgpKey, String> {
        let parsed: Vec<_> = PublicOrSecret::from_reader_many(bytes)
            .map_err(|e| format!("is not an OpenPGP key file ({e})"))?
            .0
            .collect();
        let mut certs = Vec::new();
        for item in parsed {
            match item.map_err(|e| format!("is not an OpenPGP key file ({e})"))? {
                PublicOrSecret::Public(key) => {
                    key.verify_bindings().map_err(|e| {
                        format!("holds an OpenPGP key whose self-signature does not verify ({e})")
                    })?;
                    certs.push(key);
                }
                PublicOrSecret::Secret(_) => {
                    return Err(
                        "holds an OpenPGP secret key; configure the public key only".to_string()
                    );
                }
            }
        }
        if certs.is_empty() {
            return Err("holds no OpenPGP public key".to_string());
        }
        Ok(PgpKey {
            source: source.to_string(),
            certs,
        })
    }

    /// The file as configured.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The certificates.
    pub fn certs(&self) -> &[SignedPublicKey] {
        &self.certs
    }
}

/// A certificate's primary-key fingerprint, `0x` and upper-case hex, as proofs name keys.
pub fn pgp_fingerprint(cert: &SignedPublicKey) -> String {
    format!("0x{}", hex::encode_upper(cert.fingerprint().as_bytes()))
}

impl fmt::Debug for PgpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prints: Vec<String> = self.certs.iter().map(pgp_fingerprint).collect();
        write!(f, "PgpKey({} {})", self.source, prints.join(" "))
    }
}

/// A cosign public key (`cosign.pub`: a PEM `PUBLIC KEY`).
#[derive(Clone, PartialEq, Eq)]
pub struct CosignKey {
    /// The file as configured.
    source: String,
    /// The key, DER (SubjectPublicKeyInfo).
    der: DerPublicKey,
}

impl CosignKey {
    /// Parses a PEM public key and checks that it is a key Sigstore can verify with.
    pub fn parse(source: &str, pem: &str) -> Result<CosignKey, String> {
        let der = DerPublicKey::from_pem(pem).map_err(|e| format!("not a PEM public key ({e})"))?;
        VerificationKey::from_spki(&der)
            .map_err(|e| format!("not a public key cosign signs with ({e})"))?;
        Ok(CosignKey {
            source: source.to_string(),
            der,
        })
    }

    /// The file as configured, which is how proofs name the key.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The key, DER.
    pub fn der(&self) -> &DerPublicKey {
        &self.der
    }
}

impl fmt::Debug for CosignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignKey({})", self.source)
    }
}

/// Keys serialise as what the user wrote (`config check` prints a configuration that reads back).
impl serde::Serialize for MinisignKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// Serialises as the key file's path, as configured.
impl serde::Serialize for PgpKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

/// Serialises as the key file's path, as configured.
impl serde::Serialize for CosignKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}
