//! release-monitor's integration tests, as one test binary (`cargo test --test cli`): one module
//! per feature, most of them running the built `release-monitor` binary against the fake GitHub
//! (`fake-github/`), and the helpers they share in [`support`].
//!
//! One binary instead of one per file: the test code is linked once, and the tests of every
//! feature share the harness's threads. Run one feature with `cargo test --test cli monitor::`.

mod support;

mod api_concurrency;
mod architecture;
mod artifactory_storage;
mod book;
mod concourse_files;
mod concourse_resource;
mod concourse_tasks;
mod config;
mod config_effects;
mod config_load;
mod crash_safety;
mod db;
mod download;
mod extract;
mod faults;
mod forges;
mod github_app;
mod http_storage;
mod fuzz_seeds;
mod monitor;
mod monitor_graphql;
mod notify;
mod retention;
mod s3_storage;
mod secrets;
mod serve;
mod shell;
mod segmented;
mod signatures;
mod version;
