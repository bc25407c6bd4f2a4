//! OpenPGP signatures against configured certificates, with the crate `pgp` (rPGP): detached
//! signatures (`<file>.asc`, `.sig`, `.gpg`, armored or binary), streamed over the file, and
//! clearsigned checksum files, whose signed text is what the checksums are then read from.

use pgp::composed::{
    CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey, SignedPublicSubKey,
};
use pgp::packet::Signature;
use pgp::types::KeyDetails;

use super::detect::{Content, sniff};
use super::keys::{PgpKey, pgp_fingerprint};
use super::{Proof, ProofKind, Subject, TrustError};

/// The kind named in messages.
const KIND: &str = "pgp";

/// Checks the detached signature `sig_bytes` (the asset `sig_file`, armored or binary) over
/// `subject`, with whichever configured key (primary key or subkey) made it.
pub fn verify_detached(
    sig_file: &str,
    sig_bytes: &[u8],
    keys: &[PgpKey],
    subject: Subject<'_>,
) -> Result<Proof, TrustError> {
    let malformed = |why: String| TrustError::Malformed {
        file: sig_file.to_string(),
        kind: KIND,
        why,
    };
    let signature = match sniff(sig_bytes) {
        Content::PgpArmored => DetachedSignature::from_armor_single(sig_bytes)
            .map(|(s, _)| s)
            .map_err(|e| malformed(e.to_string()))?,
        Content::PgpBinary => {
            DetachedSignature::from_bytes(sig_bytes).map_err(|e| malformed(e.to_string()))?
        }
        _ => {
            return Err(malformed(
                "neither an armored nor a binary signature".into(),
            ));
        }
    };
    let (key, signer) = signer(sig_file, &signature.signature, keys)?;
    let reader = subject.open().map_err(|e| TrustError::BadSignature {
        file: sig_file.to_string(),
        kind: KIND,
        why: e.to_string(),
    })?;
    signer
        .check(&signature.signature, reader)
        .map(|()| Proof::new(ProofKind::Pgp, pgp_fingerprint(key)))
        .map_err(|e| TrustError::BadSignature {
            file: sig_file.to_string(),
            kind: KIND,
            why: e.to_string(),
        })
}

/// Whether `text` is a clearsigned OpenPGP message.
pub fn is_clearsigned(text: &str) -> bool {
    sniff(text.as_bytes()) == Content::PgpClearsigned
}

/// Checks a clearsigned file (`file`, e.g. a `SHA256SUMS` with its signature inline) and returns
/// the proof and the signed text: only that text may be trusted, not lines around it.
pub fn verify_clearsigned(
    file: &str,
    text: &str,
    keys: &[PgpKey],
) -> Result<(Proof, String), TrustError> {
    let (message, _) =
        CleartextSignedMessage::from_string(text).map_err(|e| TrustError::Malformed {
            file: file.to_string(),
            kind: KIND,
            why: e.to_string(),
        })?;
    let signed = message.signed_text();
    let mut last = None;
    for signature in message.signatures() {
        match signer(file, signature, keys) {
            Ok((key, signer)) => {
                return signer
                    .check(signature, signed.as_bytes())
                    .map(|()| {
                        (
                            Proof::new(ProofKind::Pgp, pgp_fingerprint(key)),
                            signed.clone(),
                        )
                    })
                    .map_err(|e| TrustError::BadSignature {
                        file: file.to_string(),
                        kind: KIND,
                        why: e.to_string(),
                    });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| TrustError::Malformed {
        file: file.to_string(),
        kind: KIND,
        why: "no signature in the message".into(),
    }))
}

/// The key in a certificate that made a signature.
#[derive(Debug)]
enum SigningKey<'k> {
    /// The primary key.
    Primary(&'k SignedPublicKey),
    /// A subkey.
    Subkey(&'k SignedPublicSubKey),
}

impl SigningKey<'_> {
    /// Checks `signature` over `data` with this key.
    fn check(&self, signature: &Signature, data: impl std::io::Read) -> pgp::errors::Result<()> {
        match self {
            SigningKey::Primary(k) => signature.verify(*k, data),
            SigningKey::Subkey(k) => signature.verify(*k, data),
        }
    }
}

/// The configured certificate and the key in it (primary or subkey) that `signature` names as
/// its issuer.
fn signer<'k>(
    file: &str,
    signature: &Signature,
    keys: &'k [PgpKey],
) -> Result<(&'k SignedPublicKey, SigningKey<'k>), TrustError> {
    let ids = signature.issuer_key_id();
    let fingerprints = signature.issuer_fingerprint();
    let names = |k: &dyn KeyDetails| {
        ids.iter().any(|id| **id == k.legacy_key_id())
            || fingerprints.iter().any(|f| **f == k.fingerprint())
    };
    for cert in keys.iter().flat_map(PgpKey::certs) {
        if names(cert) {
            return Ok((cert, SigningKey::Primary(cert)));
        }
        if let Some(sub) = cert.public_subkeys.iter().find(|s| names(*s)) {
            return Ok((cert, SigningKey::Subkey(sub)));
        }
    }
    let signer = fingerprints
        .first()
        .map(|f| format!("0x{}", hex::encode_upper(f.as_bytes())))
        .or_else(|| {
            ids.first()
                .map(|id| format!("key ID 0x{}", hex::encode_upper(id.as_ref())))
        })
        .unwrap_or_else(|| "an unnamed key".to_string());
    Err(TrustError::UnknownKey {
        file: file.to_string(),
        kind: KIND,
        signer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNER: &[u8] = include_bytes!("testdata/signer.asc");
    const OTHER: &[u8] = include_bytes!("testdata/other.asc");
    const ARMORED: &[u8] = include_bytes!("testdata/test.asc");
    const BINARY: &[u8] = include_bytes!("testdata/test.sig");
    const CLEAR: &str = include_str!("testdata/SUMS.clear");
    const FINGERPRINT: &str = "0x2D643D7D9821E893B59C031140CB49592B1536B6";

    fn keys(bytes: &[u8]) -> Vec<PgpKey> {
        vec![PgpKey::parse("k.asc", bytes).unwrap()]
    }

    #[test]
    fn armored_and_binary_signatures_verify() {
        for sig in [ARMORED, BINARY] {
            let proof =
                verify_detached("test.asc", sig, &keys(SIGNER), Subject::Bytes(b"test")).unwrap();
            assert_eq!(proof.label, format!("pgp:{FINGERPRINT}"));
        }
    }

    #[test]
    fn tampered_bytes_fail() {
        let err = verify_detached("test.asc", ARMORED, &keys(SIGNER), Subject::Bytes(b"Test"))
            .unwrap_err();
        assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn another_key_is_not_trusted() {
        let err = verify_detached("test.asc", ARMORED, &keys(OTHER), Subject::Bytes(b"test"))
            .unwrap_err();
        match err {
            TrustError::UnknownKey { signer, .. } => assert_eq!(signer, FINGERPRINT),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn garbage_is_malformed() {
        let err = verify_detached("x.sig", b"MAMCAQE=", &keys(SIGNER), Subject::Bytes(b"test"))
            .unwrap_err();
        assert!(matches!(err, TrustError::Malformed { .. }), "{err}");
    }

    #[test]
    fn a_clearsigned_file_gives_its_signed_text() {
        assert!(is_clearsigned(CLEAR));
        let (proof, text) = verify_clearsigned("SUMS", CLEAR, &keys(SIGNER)).unwrap();
        assert_eq!(proof.kind, ProofKind::Pgp);
        assert!(text.contains("  tool.tar.gz"), "{text:?}");
        assert!(!text.contains("BEGIN PGP"), "{text:?}");
    }

    #[test]
    fn an_edited_clearsigned_file_fails() {
        let edited = CLEAR.replace("abab", "cdcd");
        let err = verify_clearsigned("SUMS", &edited, &keys(SIGNER)).unwrap_err();
        assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
        let err = verify_clearsigned("SUMS", CLEAR, &keys(OTHER)).unwrap_err();
        assert!(matches!(err, TrustError::UnknownKey { .. }), "{err}");
    }

    #[test]
    fn key_files_are_checked() {
        assert_eq!(pgp_fingerprint(&keys(SIGNER)[0].certs()[0]), FINGERPRINT);
        let two = [SIGNER, OTHER].concat();
        // Two armored blocks in one file: the signer's key is among them.
        let ring = PgpKey::parse("ring.asc", &two).unwrap();
        assert!(
            ring.certs()
                .iter()
                .any(|c| pgp_fingerprint(c) == FINGERPRINT)
        );
        assert!(PgpKey::parse("x", b"not a key").is_err());
        assert!(PgpKey::parse("x", b"").is_err());
    }
}
