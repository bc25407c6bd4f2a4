//! Sigstore: keyless bundles, SLSA provenance, GitHub artifact attestations and cosign key
//! signatures (being written).
