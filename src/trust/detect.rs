//! Which release assets are signatures, bundles or provenance, what each one signs, and what a
//! signature file holds judged by its bytes (a `.sig` is OpenPGP or cosign; only the content
//! tells). Names are only ever compared with other asset names, never used as paths.

/// What a signature asset's name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `<file>.minisig`.
    Minisign,
    /// `<file>.asc` or `<file>.gpg`: an OpenPGP signature.
    OpenPgp,
    /// `<file>.sig`: an OpenPGP signature or a cosign signature, told apart by [`sniff`].
    Sig,
    /// `<file>.sigstore.json`, `<file>.sigstore` or `<file>.bundle`: a Sigstore bundle.
    Bundle,
    /// `<file>.pem` or `<file>.cert`: the certificate of a keyless cosign `.sig`.
    Certificate,
    /// `*.intoto.jsonl`: SLSA provenance, one envelope whose subjects list many assets.
    Provenance,
}

impl Format {
    /// A short name for messages and the dry-run plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Minisign => "minisign",
            Format::OpenPgp => "pgp",
            Format::Sig => "sig",
            Format::Bundle => "sigstore-bundle",
            Format::Certificate => "certificate",
            Format::Provenance => "slsa-provenance",
        }
    }
}

/// Name suffixes of signature assets, longest first so `.sigstore.json` wins over shorter ones.
const SUFFIXES: [(&str, Format); 9] = [
    (".sigstore.json", Format::Bundle),
    (".sigstore", Format::Bundle),
    (".minisig", Format::Minisign),
    (".bundle", Format::Bundle),
    (".cert", Format::Certificate),
    (".asc", Format::OpenPgp),
    (".gpg", Format::OpenPgp),
    (".sig", Format::Sig),
    (".pem", Format::Certificate),
];

/// The suffix of SLSA provenance assets.
const PROVENANCE_SUFFIX: &str = ".intoto.jsonl";

/// One signature asset of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureAsset {
    /// The asset's name.
    pub name: String,
    /// What its name says it is.
    pub format: Format,
    /// The asset it signs (`<target><suffix>`); `None` for provenance, which covers whatever its
    /// subjects list.
    pub target: Option<String>,
}

/// The signature assets among a release's asset names: each `<name><suffix>` whose `<name>` is
/// another asset of the release, and every `*.intoto.jsonl`. A signature whose target is not in
/// the release is ignored (it signs nothing we could take). Order follows `names`.
pub fn signature_assets(names: &[&str]) -> Vec<SignatureAsset> {
    let all: std::collections::HashSet<&str> = names.iter().copied().collect();
    let mut out = Vec::new();
    for &name in names {
        if ends_with_ignore_case(name, PROVENANCE_SUFFIX) {
            out.push(SignatureAsset {
                name: name.to_string(),
                format: Format::Provenance,
                target: None,
            });
            continue;
        }
        let found = SUFFIXES.iter().find_map(|&(suffix, format)| {
            let cut = name.len().checked_sub(suffix.len())?;
            let stem = name.get(..cut)?;
            (ends_with_ignore_case(name, suffix) && !stem.is_empty() && all.contains(stem))
                .then_some((stem, format))
        });
        if let Some((stem, format)) = found {
            out.push(SignatureAsset {
                name: name.to_string(),
                format,
                target: Some(stem.to_string()),
            });
        }
    }
    out
}

/// Whether `name` ends with `suffix`, ignoring ASCII case.
fn ends_with_ignore_case(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name
            .get(name.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// What a signature file holds, judged by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A minisign signature (`untrusted comment:` first).
    Minisign,
    /// An ASCII-armored OpenPGP signature.
    PgpArmored,
    /// A binary OpenPGP signature packet.
    PgpBinary,
    /// A clearsigned OpenPGP message (a checksum file with its signature inline).
    PgpClearsigned,
    /// JSON (a Sigstore bundle).
    Json,
    /// A cosign signature: base64 of a DER signature.
    CosignBase64,
    /// None of these.
    Unknown,
}

impl Content {
    /// Whether this is an OpenPGP signature (armored or binary).
    pub fn is_pgp(self) -> bool {
        matches!(self, Content::PgpArmored | Content::PgpBinary)
    }
}

/// Judges what `bytes` hold (see [`Content`]).
pub fn sniff(bytes: &[u8]) -> Content {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"untrusted comment:") {
        return Content::Minisign;
    }
    if trimmed.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
        return Content::PgpArmored;
    }
    if trimmed.starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----") {
        return Content::PgpClearsigned;
    }
    if trimmed.starts_with(b"{") {
        return Content::Json;
    }
    // An OpenPGP packet header has its top bit set; a signature packet is tag 2 (old format
    // 0x88..=0x8b, new format 0xc2).
    if let Some(&first) = bytes.first()
        && (first & 0xfc == 0x88 || first == 0xc2)
    {
        return Content::PgpBinary;
    }
    if super::sigstore::looks_like_cosign_signature(trimmed) {
        return Content::CosignBase64;
    }
    Content::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(names: &[&str]) -> Vec<(String, Format, Option<String>)> {
        signature_assets(names)
            .into_iter()
            .map(|s| (s.name, s.format, s.target))
            .collect()
    }

    #[test]
    fn signatures_are_found_next_to_what_they_sign() {
        let names = [
            "tool.tar.gz",
            "tool.tar.gz.minisig",
            "tool.tar.gz.asc",
            "tool.tar.gz.sig",
            "tool.tar.gz.pem",
            "tool.tar.gz.sigstore.json",
            "SHA256SUMS",
            "SHA256SUMS.gpg",
            "checksums.txt",
            "checksums.txt.sigstore",
            "tool.intoto.jsonl",
            "orphan.zip.minisig",
            "README.md",
        ];
        let t = targets(&names);
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            t,
            vec![
                (
                    "tool.tar.gz.minisig".into(),
                    Format::Minisign,
                    some("tool.tar.gz")
                ),
                (
                    "tool.tar.gz.asc".into(),
                    Format::OpenPgp,
                    some("tool.tar.gz")
                ),
                ("tool.tar.gz.sig".into(), Format::Sig, some("tool.tar.gz")),
                (
                    "tool.tar.gz.pem".into(),
                    Format::Certificate,
                    some("tool.tar.gz")
                ),
                (
                    "tool.tar.gz.sigstore.json".into(),
                    Format::Bundle,
                    some("tool.tar.gz")
                ),
                ("SHA256SUMS.gpg".into(), Format::OpenPgp, some("SHA256SUMS")),
                (
                    "checksums.txt.sigstore".into(),
                    Format::Bundle,
                    some("checksums.txt")
                ),
                ("tool.intoto.jsonl".into(), Format::Provenance, None),
            ]
        );
    }

    #[test]
    fn suffixes_ignore_case_and_need_a_target() {
        let t = targets(&["A.ZIP", "A.ZIP.MINISIG", ".minisig", "x.SIGSTORE.JSON"]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].2.as_deref(), Some("A.ZIP"));
    }

    #[test]
    fn a_signature_of_a_signature_targets_the_signature() {
        let t = targets(&["a", "a.sig", "a.sig.asc"]);
        assert_eq!(t[1].2.as_deref(), Some("a.sig"));
    }

    #[test]
    fn content_is_told_by_bytes() {
        assert_eq!(sniff(b"untrusted comment: x\nRW..."), Content::Minisign);
        assert_eq!(
            sniff(b"\n-----BEGIN PGP SIGNATURE-----\n"),
            Content::PgpArmored
        );
        assert_eq!(
            sniff(b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n"),
            Content::PgpClearsigned
        );
        assert_eq!(sniff(&[0x89, 0x01, 0x33]), Content::PgpBinary);
        assert_eq!(sniff(&[0xc2, 0x75]), Content::PgpBinary);
        assert_eq!(sniff(b"  {\"mediaType\": 1}"), Content::Json);
        // base64 of a DER SEQUENCE (0x30 0x03 0x02 0x01 0x01).
        assert_eq!(sniff(b"MAMCAQE=\n"), Content::CosignBase64);
        // base64, but not DER.
        assert_eq!(sniff(b"aGVsbG8=\n"), Content::Unknown);
        assert_eq!(sniff(b""), Content::Unknown);
        assert_eq!(sniff(b"hello world"), Content::Unknown);
    }
}
