//! release-monitor: watches GitHub repositories for new releases, compares their versions with a
//! version database, downloads and verifies the assets of newer releases, keeps them in a local
//! mirror and an artifact store, and records them.
//!
//! The modules are listed in flow order, and a module uses only modules listed above it
//! (`scripts/module-graph.py --check` and the `architecture` test enforce it). See
//! `ARCHITECTURE.md` for the picture and the invariants.
//!
//! - Foundations: [`exit`] (the exit statuses), [`repo`] (repository names), [`version`] (version
//!   rules), [`fsutil`] (durable writes), [`http`] (transport policy, one retry policy), [`trust`]
//!   (authenticity checks: signatures, Sigstore bundles and attestations, offline).
//! - Input: [`config`] (the configuration file, validated and normalised).
//! - The forge: [`github`] (the one GitHub client: REST, GraphQL, conditional requests).
//! - Where things are kept: [`mirror`] (local files), [`storage`] (the artifact store, remote
//!   copies), [`db`] (the version database, the record of what is held).
//! - The stages: [`monitor`] (which releases are new), [`download`] (plan, fetch, verify, commit,
//!   upload, extract, record), [`notify`] (what is announced), [`retention`] (what is kept).
//! - Drivers: [`pipeline`] (the stages wired in their fixed order, shared by every front end),
//!   [`concourse`] (the Concourse resource type), [`serve`] (the long-running service),
//!   [`cli`] (the command line).

pub mod exit;
pub mod repo;
pub mod version;
pub mod fsutil;
pub mod http;
pub mod trust;
pub mod config;
pub mod github;
pub mod mirror;
pub mod storage;
pub mod db;
pub mod monitor;
pub mod download;
pub mod notify;
pub mod retention;
pub mod pipeline;
pub mod concourse;
pub mod serve;
pub mod cli;
