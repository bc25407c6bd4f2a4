//! release-monitor: watches GitHub repositories for new releases, compares their versions with a
//! local version database, downloads and verifies the assets of newer releases, and records them.
//!
//! The crate follows the data flow: [`config`] is read first, [`version`] decides which release is
//! newer, [`concourse`] serves the same engine as a Concourse resource type, and [`cli`] wires the commands together for the thin `release-monitor` binary.

pub mod cli;
pub mod concourse;
pub mod config;
pub mod db;
pub mod download;
pub mod exit;
pub mod fsutil;
pub mod github;
pub mod monitor;
pub mod net;
pub mod post;
pub mod repo;
pub mod storage;
pub mod version;
