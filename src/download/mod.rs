//! The downloader's stages, following the data flow: `verify` (which upstream checksum applies,
//! and streaming hashes) and `store` (safe paths, durable placement, deduplication, free space).
//!
//! The stages that fetch and run them (`download` and `monitor --download`) are not wired up yet.

pub mod fetch;
mod run;
pub mod verify;

pub use run::{
    DownloadReport, DownloadedRelease, Failed, Options, Planned, Skipped, StoredFile,
    UploadedObject, run, run_with_uploads,
};
