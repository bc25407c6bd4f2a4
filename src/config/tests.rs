//! Tests of the whole loading path: YAML text + environment → `Loaded` or `ConfigError`.

use std::path::{Path, PathBuf};

use super::*;
use crate::version::Strategy;

const SEED: &str = include_str!("../../tests/fixtures/seed-config.yaml");
const PLAN: &str = include_str!("../../tests/fixtures/plan-config.yaml");
const SHIPPED: &str = include_str!("../../config.yaml");

fn no_env() -> Env {
    Env::from_pairs(Vec::<(String, String)>::new())
}

fn ok(text: &str) -> Loaded {
    ok_env(text, &no_env())
}

fn ok_env(text: &str, env: &Env) -> Loaded {
    match load_str(text, Path::new("config.yaml"), env) {
        Ok(l) => l,
        Err(e) => panic!("expected success, got: {e}"),
    }
}

fn err(text: &str) -> ConfigError {
    err_env(text, &no_env())
}

fn err_env(text: &str, env: &Env) -> ConfigError {
    match load_str(text, Path::new("config.yaml"), env) {
        Ok(l) => panic!("expected an error, got {:?}", l.config),
        Err(e) => e,
    }
}

/// (line, column, key, message) of an `Invalid` error.
fn invalid(e: &ConfigError) -> (usize, usize, &str, &str) {
    match e {
        ConfigError::Invalid {
            line,
            column,
            key,
            message,
            ..
        } => (*line, *column, key.as_str(), message.as_str()),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn keys(l: &Loaded) -> Vec<&str> {
    l.warnings.iter().map(|w| w.key.as_str()).collect()
}

fn strs(p: &[AssetPattern]) -> Vec<&str> {
    p.iter().map(AssetPattern::as_str).collect()
}

const ONE_REPO: &str = "repositories:\n  - owner: a\n    repo: b\n";

// ---------------------------------------------------------------------------------------------
// Fixtures

#[test]
fn seed_config_loads_without_warnings() {
    let l = ok(SEED);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = &l.config;
    assert_eq!(c.repositories.len(), 1);
    assert_eq!(c.repositories[0].description.as_deref(), Some("Kubernetes"));
    assert_eq!(c.settings.max_releases_per_repo, 10);
    assert_eq!(c.settings.rate_limit_delay.as_secs_f64(), 1.0);
    assert!(!c.download.enabled);
    assert_eq!(c.download.directory, PathBuf::from("./downloads"));
    assert_eq!(c.download.timeout.as_secs_f64(), 300.0);
    assert_eq!(
        strs(&c.download.asset_patterns),
        ["*.tar.gz", "*.zip", "!*-sources.zip"]
    );
    assert_eq!(
        c.download.artifactory_storage.username.as_deref(),
        Some("deployer")
    );
    assert_eq!(
        c.download
            .artifactory_storage
            .password
            .as_ref()
            .map(Secret::expose),
        Some("s3cr3t-password")
    );
    let ov = &c.download.repository_overrides["kubernetes/kubernetes"];
    assert_eq!(ov.target_version.as_deref(), Some("v1.2.3"));
    // Keys not given in the override come from download.source_archives.
    assert_eq!(
        ov.source_archives,
        Some(SourceArchives {
            enabled: false,
            prefer: ArchivePreference::Tarball,
            fallback_only: true
        })
    );
    let eff = c.repository_settings(&c.repositories[0]);
    assert_eq!(eff.target_version.as_deref(), Some("v1.2.3"));
    assert_eq!(strs(&eff.asset_patterns), ["kubernetes-client-*.tar.gz"]);
    assert!(!eff.source_archives.enabled);
}

/// The plan's `notify: slack` needs a webhook URL; pipelines give it in the environment.
fn slack_env() -> Env {
    Env::from_pairs([(
        "SLACK_WEBHOOK_URL",
        "https://hooks.slack.com/services/T0/B0/ENVSECRET",
    )])
}

#[test]
fn plan_config_loads_without_warnings() {
    let l = ok_env(PLAN, &slack_env());
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = &l.config;
    let d = &c.download;
    assert!(d.enabled);
    assert_eq!(
        strs(&d.asset_patterns),
        ["*.tar.gz", "*.zip", "!*-sources.zip"]
    );
    assert_eq!(
        d.verification,
        Verification {
            checksum: true,
            signature: false,
            attestations: false,
            require: Require::Nothing,
            trusted_root: None,
        }
    );
    assert_eq!(d.retry.max_attempts, 3);
    assert_eq!(d.retry.delay.as_secs_f64(), 5.0);
    assert!(d.s3_storage.enabled);
    assert_eq!(d.s3_storage.bucket.as_deref(), Some("release-artifacts"));
    assert_eq!(d.s3_storage.prefix, "github-releases/");
    assert_eq!(d.version_strategy, Strategy::Auto);
    assert_eq!(d.include_prereleases, Some(false));
    assert!(d.post_download.verify_checksum);
    assert!(d.post_download.extract);
    assert_eq!(d.post_download.notify, vec![NotifyTarget::new("slack")]);
    let r = &c.repositories[0];
    assert_eq!(r.download_enabled, Some(true));
    assert_eq!(
        r.asset_patterns.as_deref().map(strs),
        Some(vec!["kubernetes-client-*.tar.gz"])
    );
}

#[test]
fn shipped_config_loads_without_warnings() {
    let l = ok(SHIPPED);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = &l.config;
    assert!(c.download.enabled);
    assert_eq!(c.download.directory, PathBuf::from("./downloads"));
    assert_eq!(c.download.version_db, PathBuf::from("./version_db.json"));
    assert!(c.repositories.len() >= 3);
    for r in &c.repositories {
        let eff = c.repository_settings(r);
        assert!(eff.download_enabled, "{}", r.full_name());
        assert!(!eff.asset_patterns.is_empty(), "{}", r.full_name());
    }
    let jq = &c.repositories[0];
    let filter = jq.tag_filter.as_ref().expect("jq has a tag filter");
    assert_eq!(filter.version_of("jq-1.7.1"), Some("1.7.1"));
    assert!(asset_selected(
        jq.asset_patterns.as_deref().unwrap_or_default(),
        "jq-linux-amd64"
    ));
}

#[test]
fn normalised_output_reloads_identically() {
    for text in [SEED, PLAN, SHIPPED] {
        let first = ok_env(text, &slack_env()).config;
        let json = serde_json::to_string_pretty(&first).unwrap();
        let again = ok_env(&json, &slack_env());
        assert!(again.warnings.is_empty(), "{:?}\n{json}", again.warnings);
        // Secrets come back as "***", everything else is identical.
        let mut expected = first.clone();
        let a = &mut expected.download.artifactory_storage;
        a.password = a.password.as_ref().map(|_| Secret::new(REDACTED));
        a.api_key = a.api_key.as_ref().map(|_| Secret::new(REDACTED));
        assert_eq!(again.config, expected, "{json}");
    }
}

#[test]
fn defaults_are_filled() {
    let c = ok(ONE_REPO).config;
    assert_eq!(c.settings.rate_limit_delay.as_secs_f64(), 0.0);
    assert_eq!(c.settings.max_releases_per_repo, 10);
    assert!(!c.settings.include_prereleases);
    assert_eq!(c.github.api_url.as_str(), "https://api.github.com");
    assert_eq!(c.github.timeout.as_secs_f64(), 30.0);
    assert_eq!(c.github.max_rate_limit_wait.as_secs_f64(), 900.0);
    assert_eq!(c.github.ca_cert, None);
    assert!(c.github.graphql);
    let d = &c.download;
    assert!(!d.enabled);
    assert_eq!(d.directory, PathBuf::from("./downloads"));
    assert_eq!(d.version_db, PathBuf::from("./version_db.json"));
    assert_eq!(d.timeout.as_secs_f64(), 300.0);
    assert!(d.asset_patterns.is_empty());
    assert_eq!(d.include_prereleases, None);
    assert!(!d.strict_prerelease_filtering);
    assert_eq!(d.source_archives, SourceArchives::default());
    assert!(d.verify_downloads);
    assert!(!d.cleanup_old_versions);
    assert_eq!(d.keep_versions, 5);
    assert_eq!(d.concurrency, 24);
    assert_eq!(d.segments.connections, 16);
    assert_eq!(d.segments.min_size, 16 * 1024 * 1024);
    assert_eq!(c.settings.concurrency, 32);
    assert_eq!(d.s3_storage, S3Storage::default());
    assert_eq!(d.s3_storage.prefix, "release-monitor/");
    assert_eq!(d.artifactory_storage, ArtifactoryStorage::default());
    assert!(d.artifactory_storage.verify_ssl);
    assert!(d.repository_overrides.is_empty());
    assert_eq!(d.verification, Verification::default());
    assert_eq!(d.retry, Retry::default());
    assert_eq!(d.version_strategy, Strategy::Auto);
    assert_eq!(d.post_download, PostDownload::default());
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["download"]["retry"]["max_attempts"], 3);
    assert_eq!(json["download"]["version_strategy"], "auto");
    assert_eq!(json["github"]["api_url"], "https://api.github.com");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys

#[test]
fn typo_in_download_key_is_one_warning() {
    let l = ok(&format!("{ONE_REPO}download:\n  verfy_downloads: true\n"));
    assert_eq!(keys(&l), ["download.verfy_downloads"]);
    assert_eq!(l.warnings[0].kind, WarningKind::UnknownKey);
    assert_eq!(
        l.warnings[0].to_string(),
        "unknown key `download.verfy_downloads` (ignored)"
    );
    // The misspelt key did not change the real one.
    assert!(l.config.download.verify_downloads);
}

#[test]
fn typo_in_repository_entry_names_its_index() {
    let text =
        "repositories:\n  - owner: a\n    repo: b\n  - owner: c\n    repo: d\n    descripton: x\n";
    let l = ok(text);
    assert_eq!(keys(&l), ["repositories[1].descripton"]);
}

#[test]
fn unknown_keys_everywhere_are_reported_with_paths() {
    let text = r#"
colour: blue
repositories:
  - owner: a
    repo: b
    download: {enabled: true, asets: []}
settings: {max_releases: 3}
github: {api: x}
download:
  retry: {attempts: 2}
  version_strategy: {type: auto, prerelease: true}
  post_download:
    - extract: true
    - notfy: slack
  repository_overrides:
    "a/b": {target_versio: v1}
"#;
    let l = ok(text);
    assert_eq!(
        keys(&l),
        [
            "colour",
            "repositories[0].download.asets",
            "settings.max_releases",
            "github.api",
            "download.retry.attempts",
            "download.version_strategy.prerelease",
            "download.post_download[1].notfy",
            "download.repository_overrides[\"a/b\"].target_versio",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Errors with positions

#[test]
fn type_error_has_line_column_and_key() {
    let text = "repositories:\n  - owner: a\n    repo: b\nsettings:\n  rate_limit_delay: 1\n  max_releases_per_repo: ten\n";
    let e = err(text);
    assert_eq!(
        invalid(&e),
        (
            6,
            26,
            "settings.max_releases_per_repo",
            "invalid type: a string, expected u32"
        )
    );
    assert_eq!(
        e.to_string(),
        "config.yaml:6:26: settings.max_releases_per_repo: invalid type: a string, expected u32"
    );
}

#[test]
fn range_errors_have_positions() {
    let cases = [
        (
            "settings:\n  max_releases_per_repo: 0\n",
            2,
            "settings.max_releases_per_repo",
        ),
        (
            "settings:\n  max_releases_per_repo: 1001\n",
            2,
            "settings.max_releases_per_repo",
        ),
        (
            "settings:\n  rate_limit_delay: -1\n",
            2,
            "settings.rate_limit_delay",
        ),
        (
            "download:\n  keep_versions: 0\n",
            2,
            "download.keep_versions",
        ),
        ("download:\n  concurrency: 65\n", 2, "download.concurrency"),
        ("settings:\n  concurrency: 101\n", 2, "settings.concurrency"),
        (
            "download:\n  segments:\n    connections: 0\n",
            3,
            "download.segments.connections",
        ),
        (
            "download:\n  segments:\n    min_size: 0\n",
            3,
            "download.segments.min_size",
        ),
        (
            "download:\n  retry:\n    max_attempts: 0\n",
            3,
            "download.retry.max_attempts",
        ),
        (
            "download:\n  retry:\n    delay: -5\n",
            3,
            "download.retry.delay",
        ),
        ("github:\n  timeout: 0\n", 2, "github.timeout"),
        ("download:\n  timeout: .nan\n", 2, "download.timeout"),
    ];
    for (tail, line, key) in cases {
        let e = err(&format!("{ONE_REPO}{tail}"));
        let (l, c, k, m) = invalid(&e);
        assert_eq!((l, k), (line + 3, key), "{tail}: {e}");
        // The column is the value's, not the key's.
        let last = tail.lines().last().unwrap_or_default();
        let value_col = last.find(": ").map(|i| i + 3);
        assert_eq!(Some(c), value_col, "{e}");
        assert!(m.starts_with("invalid value"), "{e}");
    }
    let e = err(&format!(
        "{ONE_REPO}settings:\n  max_releases_per_repo: -1\n"
    ));
    assert_eq!(
        invalid(&e).3,
        "invalid value: a number that does not fit u32"
    );
}

#[test]
fn bad_tag_filter_regex_has_position() {
    let text = "repositories:\n  - owner: a\n    repo: b\n  - owner: c\n    repo: d\n    tag_filter: \"v(\\\\d+\"\n";
    let e = err(text);
    assert_eq!(
        invalid(&e),
        (
            6,
            17,
            "repositories[1].tag_filter",
            "invalid regex: unclosed group"
        )
    );
}

#[test]
fn unknown_version_strategy_has_position() {
    let text = "repositories:\n  - owner: a\n    repo: b\n    version_strategy: semverx\n";
    let e = err(text);
    assert_eq!(
        invalid(&e),
        (
            4,
            23,
            "repositories[0].version_strategy",
            "unknown variant, expected one of `auto`, `semver`, `semver-strict`, `calver`, `date`, `pep440`"
        )
    );
    let e = err(&format!(
        "{ONE_REPO}download:\n  version_strategy: {{type: calverx}}\n"
    ));
    assert_eq!(invalid(&e).2, "download.version_strategy.type");
    let e = err(&format!("{ONE_REPO}download:\n  version_strategy: nope\n"));
    assert_eq!(invalid(&e).2, "download.version_strategy");
}

#[test]
fn version_strategy_spellings() {
    for (text, expected) in [
        ("semver", Strategy::Auto),
        ("auto", Strategy::Auto),
        ("semver-strict", Strategy::SemverStrict),
        ("calver", Strategy::Calver),
        ("date", Strategy::Date),
    ] {
        let c = ok(&format!(
            "{ONE_REPO}    version_strategy: {text}\ndownload:\n  version_strategy: {text}\n"
        ))
        .config;
        assert_eq!(c.repositories[0].version_strategy, Some(expected));
        assert_eq!(c.download.version_strategy, expected);
    }
}

#[test]
fn bad_names_are_invalid() {
    for (yaml, key) in [
        (
            "repositories:\n  - owner: \"\"\n    repo: b\n",
            "repositories[0].owner",
        ),
        // A group path is GitLab's only: refused for the entry, naming `owner`.
        (
            "repositories:\n  - owner: a/b\n    repo: b\n",
            "repositories[0]",
        ),
        (
            "repositories:\n  - owner: a\n    repo: \"b c\"\n",
            "repositories[0].repo",
        ),
        (
            "repositories:\n  - owner: a\n    repo: \"..\"\n",
            "repositories[0].repo",
        ),
        ("repositories:\n  - owner: a\n", "repositories[0]"),
    ] {
        let e = err(yaml);
        let (line, _, k, _) = invalid(&e);
        assert_eq!(k, key, "{e}");
        assert!(line >= 2, "{e}");
    }
}

#[test]
fn repository_shorthand_string() {
    let c = ok("repositories:\n  - cli/cli\n  - owner: a\n    repo: b\n").config;
    assert_eq!(c.repositories[0].full_name(), "cli/cli");
    let e = err("repositories:\n  - justone\n");
    assert_eq!(invalid(&e).2, "repositories[0]");
}

#[test]
fn api_url_rules_and_env_override() {
    let e = err(&format!(
        "{ONE_REPO}github:\n  api_url: http://example.com\n"
    ));
    let (line, col, key, msg) = invalid(&e);
    assert_eq!((line, col, key), (5, 12, "github.api_url"));
    assert!(msg.contains("loopback"), "{msg}");

    let c = ok(&format!(
        "{ONE_REPO}github:\n  api_url: http://127.0.0.1:8443/\n"
    ))
    .config;
    assert_eq!(c.github.api_url.as_str(), "http://127.0.0.1:8443");

    let env = Env::from_pairs([("GITHUB_API_URL", "https://ghe.example.com/api/v3/")]);
    let c = ok_env(
        &format!("{ONE_REPO}github:\n  api_url: http://127.0.0.1:8443/\n"),
        &env,
    )
    .config;
    assert_eq!(c.github.api_url.as_str(), "https://ghe.example.com/api/v3");

    let env = Env::from_pairs([("GITHUB_API_URL", "http://example.com")]);
    match err_env(ONE_REPO, &env) {
        ConfigError::Env { var, message } => {
            assert_eq!(var, "GITHUB_API_URL");
            assert!(message.contains("loopback"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn path_env_overrides() {
    let env = Env::from_pairs([
        ("DOWNLOAD_DIR", "/data/dl"),
        ("VERSION_DB_PATH", "version-db/versions.json"),
        ("SSL_CERT_FILE", "/etc/ca.pem"),
    ]);
    let c = ok_env(&format!("{ONE_REPO}download:\n  directory: ./x\n"), &env).config;
    assert_eq!(c.download.directory, PathBuf::from("/data/dl"));
    assert_eq!(
        c.download.version_db,
        PathBuf::from("version-db/versions.json")
    );
    assert_eq!(c.github.ca_cert, Some(PathBuf::from("/etc/ca.pem")));
    // A ca_cert in the file wins over SSL_CERT_FILE.
    let c = ok_env(&format!("{ONE_REPO}github:\n  ca_cert: /mine.pem\n"), &env).config;
    assert_eq!(c.github.ca_cert, Some(PathBuf::from("/mine.pem")));
    // Empty variables count as unset.
    let empty = Env::from_pairs([("DOWNLOAD_DIR", ""), ("REPOSITORY_OVERRIDES", "")]);
    let c = ok_env(ONE_REPO, &empty).config;
    assert_eq!(c.download.directory, PathBuf::from("./downloads"));
    assert_eq!(c.repositories.len(), 1);
}

#[test]
fn syntax_errors() {
    let e = err("settings:\n  a: b: c\n");
    match &e {
        ConfigError::Syntax { line, column, .. } => assert_eq!((*line, *column), (2, 7)),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().starts_with("config.yaml:2:7: "), "{e}");
    assert!(matches!(
        err("a: 1\n---\nb: 2\n"),
        ConfigError::Syntax { .. }
    ));
    assert!(matches!(err("a: *nope\n"), ConfigError::Syntax { .. }));
}

#[test]
fn duplicate_key_is_invalid() {
    let e = err(&format!(
        "{ONE_REPO}settings:\n  max_releases_per_repo: 1\n  max_releases_per_repo: 2\n"
    ));
    let (line, _, key, msg) = invalid(&e);
    assert_eq!(
        (line, key, msg),
        (6, "settings.max_releases_per_repo", "duplicate key")
    );
}

#[test]
fn empty_or_non_mapping_root() {
    for text in ["", "# only a comment\n", "---\n", "~\n"] {
        let e = err(text);
        let (_, _, key, msg) = invalid(&e);
        assert_eq!(key, "(root)", "{text:?}");
        assert!(msg.contains("empty"), "{text:?}: {msg}");
    }
    for text in ["hello\n", "- a\n- b\n"] {
        let e = err(text);
        let (line, col, key, msg) = invalid(&e);
        assert_eq!((line, col, key), (1, 1, "(root)"), "{text:?}");
        assert!(msg.contains("expected a mapping"), "{msg}");
    }
    let e = err("settings: 3\n");
    assert_eq!(invalid(&e).2, "settings");
}

#[test]
fn io_error_names_the_path() {
    let e = load(Path::new("/nonexistent/dir/config.yaml"), &no_env()).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }));
    assert!(
        e.to_string().contains("/nonexistent/dir/config.yaml"),
        "{e}"
    );
}

#[test]
fn storage_requirements() {
    let e = err(&format!(
        "{ONE_REPO}download:\n  s3_storage: {{enabled: true}}\n"
    ));
    assert_eq!(invalid(&e).2, "download.s3_storage");
    let e = err(&format!("{ONE_REPO}download:\n  storage:\n    type: s3\n"));
    assert_eq!(invalid(&e).2, "download.storage");
    let e = err(&format!(
        "{ONE_REPO}download:\n  artifactory_storage:\n    enabled: true\n    base_url: http://artifactory.example.com\n    repository: r\n"
    ));
    assert_eq!(invalid(&e).2, "download.artifactory_storage.base_url");
    let e = err(&format!("{ONE_REPO}download:\n  storage: {{type: gcs}}\n"));
    assert_eq!(invalid(&e).2, "download.storage.type");
}

#[test]
fn storage_spellings_are_folded() {
    let l = ok(&format!(
        "{ONE_REPO}download:\n  s3_storage: {{region: eu-west-1}}\n  storage: {{type: s3, bucket: bk}}\n"
    ));
    assert_eq!(keys(&l), ["download.storage"]);
    let s3 = &l.config.download.s3_storage;
    assert!(s3.enabled);
    assert_eq!(s3.bucket.as_deref(), Some("bk"));
    assert_eq!(s3.region.as_deref(), Some("eu-west-1"));
    let c = ok(&format!(
        "{ONE_REPO}download:\n  storage: {{type: local}}\n"
    ))
    .config;
    assert!(!c.download.s3_storage.enabled);
}

#[test]
fn s3_endpoints_accept_the_plan_spelling_and_follow_the_https_rule() {
    let c = ok(&format!(
        "{ONE_REPO}download:\n  storage: {{type: s3, bucket: bk, prefix: m/, endpoint: \"http://127.0.0.1:9000/\", region: eu-west-1}}\n"
    ))
    .config;
    let s3 = &c.download.s3_storage;
    assert!(s3.enabled);
    assert_eq!(s3.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(s3.prefix, "m/");
    for key in [
        "storage: {type: s3, bucket: bk, endpoint",
        "s3_storage: {enabled: true, bucket: bk, endpoint_url",
    ] {
        let e = err(&format!(
            "{ONE_REPO}download:\n  {key}: \"http://minio.example.com:9000\"}}\n"
        ));
        let (line, _, k, message) = invalid(&e);
        assert_eq!(line, 5, "{e}");
        assert!(k.starts_with("download."), "{e}");
        assert!(message.contains("loopback"), "{e}");
    }
}

#[test]
fn the_seed_s3_database_variables_set_the_database_location() {
    let env = Env::from_pairs([("VERSION_DB_S3_BUCKET", "dbs")]);
    let c = ok_env(ONE_REPO, &env).config;
    assert_eq!(
        c.download.version_db,
        PathBuf::from("s3://dbs/release-monitor/version_db.json")
    );
    let env = Env::from_pairs([
        ("VERSION_DB_S3_BUCKET", "dbs"),
        ("VERSION_DB_S3_PREFIX", "/state/"),
    ]);
    assert_eq!(
        version_db_from_env(&env),
        Some(PathBuf::from("s3://dbs/state/version_db.json"))
    );
    let env = Env::from_pairs([
        ("VERSION_DB_S3_BUCKET", "dbs"),
        ("VERSION_DB_S3_PREFIX", ""),
    ]);
    assert_eq!(
        version_db_from_env(&env),
        Some(PathBuf::from("s3://dbs/version_db.json"))
    );
    // An explicit VERSION_DB_PATH wins.
    let env = Env::from_pairs([
        ("VERSION_DB_S3_BUCKET", "dbs"),
        ("VERSION_DB_PATH", "s3://other/db.json"),
    ]);
    let c = ok_env(ONE_REPO, &env).config;
    assert_eq!(c.download.version_db, PathBuf::from("s3://other/db.json"));
}

// ---------------------------------------------------------------------------------------------
// REPOSITORY_OVERRIDES

#[test]
fn repository_overrides_array_replaces() {
    let env = Env::from_pairs([(
        "REPOSITORY_OVERRIDES",
        r#"[{"owner": "cli", "repo": "cli", "include_prereleases": true, "descripton": "x"}, "jqlang/jq"]"#,
    )]);
    let l = ok_env(ONE_REPO, &env);
    let names: Vec<String> = l
        .config
        .repositories
        .iter()
        .map(Repository::full_name)
        .collect();
    assert_eq!(names, ["cli/cli", "jqlang/jq"]);
    assert_eq!(l.config.repositories[0].include_prereleases, Some(true));
    assert_eq!(keys(&l), ["REPOSITORY_OVERRIDES[0].descripton"]);
}

#[test]
fn repository_overrides_object_merges_field_by_field() {
    let text = format!(
        "{ONE_REPO}download:\n  repository_overrides:\n    \"a/b\": {{target_version: v1, tag_filter: \"^v(.*)$\", source_archives: {{prefer: zipball}}}}\n"
    );
    let env = Env::from_pairs([(
        "REPOSITORY_OVERRIDES",
        r#"{"a/b": {"target_version": "v2", "asset_patterns": ["*.deb"], "source_archives": {"enabled": false}}, "c/d": {"include_prereleases": true}}"#,
    )]);
    let l = ok_env(&text, &env);
    let ov = &l.config.download.repository_overrides;
    let ab = &ov["a/b"];
    assert_eq!(ab.target_version.as_deref(), Some("v2"));
    assert_eq!(
        ab.tag_filter.as_ref().map(TagFilter::as_str),
        Some("^v(.*)$")
    );
    assert_eq!(ab.asset_patterns.as_deref().map(strs), Some(vec!["*.deb"]));
    assert_eq!(
        ab.source_archives,
        Some(SourceArchives {
            enabled: false,
            prefer: ArchivePreference::Zipball,
            fallback_only: true
        })
    );
    assert_eq!(ov["c/d"].include_prereleases, Some(true));
    // c/d names no configured repository.
    assert_eq!(keys(&l), ["REPOSITORY_OVERRIDES[\"c/d\"]"]);
    assert_eq!(l.warnings[0].kind, WarningKind::UnusedOverride);
}

#[test]
fn repository_overrides_errors() {
    for (value, needle) in [
        ("{not json", "expected a JSON array or object: invalid JSON"),
        (
            "\"cli/cli\"",
            "expected a JSON array or object: found a string",
        ),
        ("42", "found a number"),
        (r#"[{"owner": "a"}]"#, "[0]: missing field `repo`"),
        (
            r#"[{"owner": "a", "repo": "b", "tag_filter": "("}]"#,
            "[0].tag_filter: invalid regex",
        ),
        (r#"{"nodash": {}}"#, "owner/repo"),
        (
            r#"{"a/b": {"version_strategy": "x"}}"#,
            "[\"a/b\"].version_strategy: unknown variant",
        ),
    ] {
        let env = Env::from_pairs([("REPOSITORY_OVERRIDES", value)]);
        match err_env(ONE_REPO, &env) {
            ConfigError::Env { var, message } => {
                assert_eq!(var, "REPOSITORY_OVERRIDES");
                assert!(message.contains(needle), "{value}: {message}");
                assert!(!message.contains('\n'), "{message}");
            }
            other => panic!("{value}: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

#[test]
fn filters_and_asset_patterns_are_combined() {
    let text = format!(
        "{ONE_REPO}    asset_patterns: [\"*.deb\"]\n    download:\n      assets:\n        - pattern: \"*.rpm\"\n        - exclude: \"*-dbg.rpm\"\ndownload:\n  asset_patterns: [\"*.tar.gz\"]\n  filters:\n    - pattern: \"*.zip\"\n    - exclude: \"*-sources.zip\"\n    - \"!*.sig\"\n"
    );
    let l = ok(&text);
    assert_eq!(
        strs(&l.config.download.asset_patterns),
        ["*.tar.gz", "*.zip", "!*-sources.zip", "!*.sig"]
    );
    assert_eq!(
        l.config.repositories[0].asset_patterns.as_deref().map(strs),
        Some(vec!["*.deb", "*.rpm", "!*-dbg.rpm"])
    );
    assert_eq!(
        keys(&l),
        ["repositories[0].download.assets", "download.filters"]
    );
    assert!(
        l.warnings
            .iter()
            .all(|w| w.kind == WarningKind::BothSpellings)
    );
    let json = serde_json::to_value(&l.config).unwrap();
    assert_eq!(
        json["download"]["asset_patterns"],
        serde_json::json!(["*.tar.gz", "*.zip", "!*-sources.zip", "!*.sig"])
    );
    assert!(json["download"].get("filters").is_none());
}

#[test]
fn bad_patterns_are_invalid() {
    let e = err(&format!(
        "{ONE_REPO}download:\n  asset_patterns: [\"*.tar.gz\", \"foo[\"]\n"
    ));
    let (line, _, key, msg) = invalid(&e);
    assert_eq!((line, key), (5, "download.asset_patterns[1]"));
    assert!(msg.contains("unclosed"), "{msg}");
    let e = err(&format!(
        "{ONE_REPO}download:\n  filters:\n    - pattern: a\n      exclude: b\n"
    ));
    assert_eq!(invalid(&e).2, "download.filters[0]");
    let e = err(&format!(
        "{ONE_REPO}download:\n  filters:\n    - exclude: \"!x\"\n"
    ));
    assert_eq!(invalid(&e).2, "download.filters[0]");
}

#[test]
fn exclusion_only_list_warns() {
    let l = ok(&format!(
        "{ONE_REPO}download:\n  asset_patterns: [\"!*.sig\"]\n"
    ));
    assert_eq!(keys(&l), ["download.asset_patterns"]);
    assert_eq!(l.warnings[0].kind, WarningKind::OnlyExclusions);
}

#[test]
fn duplicates_and_empty_repositories_warn() {
    let l = ok(
        "repositories:\n  - owner: a\n    repo: b\n    description: first\n  - owner: A\n    repo: B\n",
    );
    assert_eq!(keys(&l), ["repositories[1]"]);
    assert_eq!(l.warnings[0].kind, WarningKind::DuplicateRepository);
    assert_eq!(l.config.repositories.len(), 1);
    assert_eq!(
        l.config.repositories[0].description.as_deref(),
        Some("first")
    );

    let l = ok("repositories: []\n");
    assert_eq!(keys(&l), ["repositories"]);
    assert_eq!(l.warnings[0].kind, WarningKind::NoRepositories);
    let l = ok("settings: {include_prereleases: true}\n");
    assert_eq!(keys(&l), ["repositories"]);
}

#[test]
fn secrets_are_redacted() {
    let text = format!(
        "{ONE_REPO}download:\n  artifactory_storage:\n    base_url: https://a.example.com\n    repository: r\n    username: me\n    password: hunter2\n    api_key: AKC-key\n  post_download:\n    notify: [slack, \"https://hooks.slack.com/services/T0/B0/XYZ\"]\n"
    );
    let c = ok(&text).config;
    let json = serde_json::to_string(&c).unwrap();
    for secret in ["hunter2", "AKC-key", "hooks.slack.com", "XYZ"] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
        assert!(
            !format!("{c:?}").contains(secret),
            "{secret} leaked in Debug"
        );
    }
    assert!(json.contains("\"password\":\"***\""));
    assert!(json.contains("\"username\":\"me\""));
    assert_eq!(
        c.download
            .artifactory_storage
            .api_key
            .as_ref()
            .map(Secret::expose),
        Some("AKC-key")
    );
    assert_eq!(
        c.download.post_download.notify[1].expose(),
        "https://hooks.slack.com/services/T0/B0/XYZ"
    );
}

#[test]
fn post_download_as_mapping() {
    let c = ok(&format!(
        "{ONE_REPO}download:\n  post_download: {{verify_checksum: true, notify: slack}}\n"
    ))
    .config;
    assert!(c.download.post_download.verify_checksum);
    assert!(!c.download.post_download.extract);
    assert_eq!(
        c.download.post_download.notify,
        vec![NotifyTarget::new("slack")]
    );
    let e = err(&format!(
        "{ONE_REPO}download:\n  post_download: {{notify: {{slack: x}}}}\n"
    ));
    assert_eq!(invalid(&e).2, "download.post_download.notify");
}

#[test]
fn extract_limits_defaults_both_spellings_and_errors() {
    let d = ok(ONE_REPO).config.download.post_download.extract_limits;
    assert_eq!(d, ExtractLimits::default());
    assert_eq!(
        (d.max_bytes, d.max_ratio, d.max_files),
        (4 * 1024 * 1024 * 1024, 200, 100_000)
    );
    // The plan's list of single-key mappings.
    let l = ok(&format!(
        "{ONE_REPO}download:\n  post_download:\n    - extract: true\n    - extract_limits: {{max_bytes: 10000000000, max_files: 5, max_fles: 1}}\n"
    ));
    let p = &l.config.download.post_download;
    assert!(p.extract);
    assert_eq!(
        p.extract_limits,
        ExtractLimits {
            max_bytes: 10_000_000_000,
            max_ratio: 200,
            max_files: 5
        }
    );
    assert_eq!(
        keys(&l),
        ["download.post_download[1].extract_limits.max_fles"]
    );
    // One mapping.
    let c = ok(&format!(
        "{ONE_REPO}download:\n  post_download: {{extract: true, extract_limits: {{max_ratio: 50}}}}\n"
    ))
    .config;
    assert_eq!(c.download.post_download.extract_limits.max_ratio, 50);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(
        json["download"]["post_download"]["extract_limits"],
        serde_json::json!({"max_bytes": 4_294_967_296u64, "max_ratio": 50, "max_files": 100_000})
    );
    // Zero, negative or non-numeric limits name the key and position.
    for (value, key, expected) in [
        ("{max_bytes: 0}", "max_bytes", "at least 1"),
        ("{max_ratio: 0}", "max_ratio", "at least 1"),
        ("{max_files: -3}", "max_files", "u32"),
        ("{max_bytes: 4GiB}", "max_bytes", "u64"),
    ] {
        let e = err(&format!(
            "{ONE_REPO}download:\n  post_download:\n    extract_limits: {value}\n"
        ));
        let (line, _, k, message) = invalid(&e);
        assert_eq!(line, 6, "{e}");
        assert_eq!(
            k,
            format!("download.post_download.extract_limits.{key}"),
            "{e}"
        );
        assert!(message.contains(expected), "{value}: {message}");
    }
}

#[test]
fn pre_release_sets_download_default_only_when_unset() {
    let c = ok(&format!(
        "{ONE_REPO}download:\n  version_strategy: {{type: calver, pre_release: true}}\n"
    ))
    .config;
    assert_eq!(c.download.include_prereleases, Some(true));
    assert_eq!(c.download.version_strategy, Strategy::Calver);
    let c = ok(&format!(
        "{ONE_REPO}download:\n  include_prereleases: false\n  version_strategy: {{type: semver, pre_release: true}}\n"
    ))
    .config;
    assert_eq!(c.download.include_prereleases, Some(false));
}

// ---------------------------------------------------------------------------------------------
// Effective per-repository settings

#[test]
fn effective_precedence() {
    let text = r#"
repositories:
  - owner: o
    repo: all-set
    include_prereleases: false
    strict_prerelease_filtering: true
    version_strategy: date
    tag_filter: "^r(.*)$"
    target_version: r1
    asset_patterns: ["*.repo"]
    download: {enabled: false}
  - owner: o
    repo: overridden
  - owner: o
    repo: inherits
settings:
  include_prereleases: true
download:
  enabled: true
  asset_patterns: ["*.global"]
  version_strategy: semver-strict
  source_archives: {prefer: both}
  repository_overrides:
    "O/Overridden":
      include_prereleases: false
      strict_prerelease_filtering: true
      version_strategy: calver
      tag_filter: "^x(.*)$"
      target_version: x2
      asset_patterns: ["*.override"]
      source_archives: {enabled: false}
    "o/all-set":
      include_prereleases: true
      version_strategy: calver
      target_version: nope
      asset_patterns: ["*.nope"]
"#;
    let l = ok(text);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let c = &l.config;
    let all = c.repository_settings(&c.repositories[0]);
    assert_eq!(
        all,
        EffectiveRepo {
            host: None,
            owner: "o".into(),
            repo: "all-set".into(),
            include_prereleases: false,
            strict_prerelease_filtering: true,
            version_strategy: Strategy::Date,
            tag_filter: Some(TagFilter::new("^r(.*)$").unwrap()),
            target_version: Some("r1".into()),
            asset_patterns: vec![AssetPattern::parse("*.repo").unwrap()],
            download_enabled: false,
            // Only source_archives is taken from the override here.
            source_archives: SourceArchives {
                enabled: true,
                prefer: ArchivePreference::Both,
                fallback_only: true
            },
            minimum_release_age: Age::default(),
            source: ReleaseSource::Releases,
            signing: Signing::default(),
        }
    );
    let ov = c.repository_settings(&c.repositories[1]);
    assert!(!ov.include_prereleases);
    assert!(ov.strict_prerelease_filtering);
    assert_eq!(ov.version_strategy, Strategy::Calver);
    assert_eq!(
        ov.tag_filter.as_ref().map(TagFilter::as_str),
        Some("^x(.*)$")
    );
    assert_eq!(ov.target_version.as_deref(), Some("x2"));
    assert_eq!(strs(&ov.asset_patterns), ["*.override"]);
    assert!(ov.download_enabled);
    assert_eq!(
        ov.source_archives,
        SourceArchives {
            enabled: false,
            prefer: ArchivePreference::Both,
            fallback_only: true
        }
    );
    let inh = c.repository_settings(&c.repositories[2]);
    assert!(inh.include_prereleases, "falls back to settings");
    assert!(!inh.strict_prerelease_filtering);
    assert_eq!(inh.version_strategy, Strategy::SemverStrict);
    assert_eq!(inh.tag_filter, None);
    assert_eq!(inh.target_version, None);
    assert_eq!(strs(&inh.asset_patterns), ["*.global"]);
    assert!(inh.download_enabled);
}

#[test]
fn download_level_prerelease_beats_settings() {
    let c = ok(&format!(
        "{ONE_REPO}settings: {{include_prereleases: true}}\ndownload: {{include_prereleases: false}}\n"
    ))
    .config;
    assert!(
        !c.repository_settings(&c.repositories[0])
            .include_prereleases
    );
}

#[test]
fn env_debug_hides_values() {
    let env = Env::from_pairs([("GITHUB_TOKEN", "ghp_secret")]);
    assert_eq!(env.get("GITHUB_TOKEN"), Some("ghp_secret"));
    assert!(!format!("{env:?}").contains("ghp_secret"));
    assert_eq!(env.get("NOPE"), None);
    let _ = Env::from_process();
}

// ---------------------------------------------------------------------------------------------
// notify

const NOTIFY_FULL: &str = "notify:
  on: [downloaded]
  slack:
    webhook_url: https://hooks.slack.com/services/T1/B1/FILESECRET
    channel: \"#releases\"
    username: release-bot
  webhooks:
    - url: https://hooks.example.com/rm?token=QUERYSECRET
      secret: HMACSECRET
    - url: http://127.0.0.1:9000/hook
  email:
    smtp_host: smtp.example.com
    username: mailer
    password: MAILSECRET
    from: Release Monitor <rm@example.com>
    to: [ops@example.com, \"Dev Team <dev@example.com>\"]
";

#[test]
fn notify_defaults_and_full_section() {
    let c = ok(ONE_REPO).config;
    assert_eq!(c.notify, NotifySettings::default());
    assert_eq!(c.notify.on, [NotifyEvent::Found, NotifyEvent::Downloaded]);
    assert!(!c.notify.any_target());

    let l = ok(&format!("{ONE_REPO}{NOTIFY_FULL}"));
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let n = &l.config.notify;
    assert_eq!(n.on, [NotifyEvent::Downloaded]);
    let slack = n.slack.as_ref().unwrap();
    assert_eq!(
        slack.webhook_url.as_ref().map(Secret::expose),
        Some("https://hooks.slack.com/services/T1/B1/FILESECRET")
    );
    assert_eq!(slack.channel.as_deref(), Some("#releases"));
    assert_eq!(n.webhooks.len(), 2);
    assert_eq!(
        n.webhooks[0].secret.as_ref().map(Secret::expose),
        Some("HMACSECRET")
    );
    assert_eq!(n.webhooks[1].secret, None);
    let email = n.email.as_ref().unwrap();
    assert_eq!(email.smtp_port, 587);
    assert!(email.starttls);
    assert_eq!(email.subject, "[release-monitor]");
    assert_eq!(email.to.len(), 2);
}

#[test]
fn notify_secrets_are_redacted_and_env_overrides_them() {
    let env = Env::from_pairs([
        (
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T9/B9/ENVSLACK",
        ),
        ("SMTP_PASSWORD", "ENVMAIL"),
    ]);
    let c = ok_env(&format!("{ONE_REPO}{NOTIFY_FULL}"), &env).config;
    let json = serde_json::to_string(&c).unwrap();
    for secret in [
        "FILESECRET",
        "ENVSLACK",
        "QUERYSECRET",
        "hooks.example.com",
        "HMACSECRET",
        "MAILSECRET",
        "ENVMAIL",
        "127.0.0.1:9000",
    ] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
        assert!(
            !format!("{c:?}").contains(secret),
            "{secret} leaked in Debug"
        );
    }
    let n = &c.notify;
    assert_eq!(
        n.slack
            .as_ref()
            .and_then(|s| s.webhook_url.as_ref())
            .map(Secret::expose),
        Some("https://hooks.slack.com/services/T9/B9/ENVSLACK")
    );
    assert_eq!(
        n.email
            .as_ref()
            .and_then(|e| e.password.as_ref())
            .map(Secret::expose),
        Some("ENVMAIL")
    );
    // The printed form reloads where the environment can give the secrets: `***` there counts
    // as unset ...
    let mut without_webhooks = c.clone();
    without_webhooks.notify.webhooks.clear();
    let printed = serde_json::to_string(&without_webhooks).unwrap();
    let again = ok_env(&printed, &env);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(again.config.notify, without_webhooks.notify);
    // ... but a secret only the file can give is refused with its position.
    let e = err_env(&json, &env);
    let (_, _, key, message) = invalid(&e);
    assert_eq!(key, "notify.webhooks[0].url");
    assert!(message.contains("redacted"), "{message}");
    // A bad SLACK_WEBHOOK_URL is an environment error that does not quote it.
    let bad = Env::from_pairs([("SLACK_WEBHOOK_URL", "http://example.com/BADSECRET")]);
    let e = err_env(&format!("{ONE_REPO}notify:\n  slack: {{}}\n"), &bad);
    assert!(matches!(e, ConfigError::Env { ref var, .. } if var == "SLACK_WEBHOOK_URL"));
    assert!(!e.to_string().contains("BADSECRET"), "{e}");
}

#[test]
fn notify_errors_have_positions_and_never_quote_urls() {
    let e = err(&format!(
        "{ONE_REPO}notify:\n  webhooks:\n    - url: http://hooks.example.com/PLAINSECRET\n"
    ));
    let (line, col, key, message) = invalid(&e);
    assert_eq!((line, key), (6, "notify.webhooks[0].url"), "{e}");
    assert!(col > 1);
    assert!(
        message.contains("loopback") && !message.contains("PLAINSECRET"),
        "{message}"
    );
    assert!(!e.to_string().contains("PLAINSECRET"));

    let e = err(&format!("{ONE_REPO}notify:\n  on: [found, released]\n"));
    let (_, _, key, message) = invalid(&e);
    assert_eq!(key, "notify.on[1]");
    assert!(message.contains("`found`, `downloaded`"), "{message}");

    let e = err(&format!(
        "{ONE_REPO}notify:\n  email:\n    smtp_host: smtp.example.com\n    from: rm@example.com\n    to: [ops@example.com]\n    starttls: false\n"
    ));
    let (line, _, key, message) = invalid(&e);
    assert_eq!((line, key), (6, "notify.email"), "{e}");
    assert!(message.contains("loopback"), "{message}");

    let e = err(&format!(
        "{ONE_REPO}notify:\n  email:\n    smtp_host: smtp.example.com\n    from: not an address\n    to: [ops@example.com]\n"
    ));
    let (line, _, key, _) = invalid(&e);
    assert_eq!((line, key), (7, "notify.email.from"), "{e}");

    let e = err(&format!(
        "{ONE_REPO}notify:\n  email:\n    smtp_host: smtp.example.com\n    from: rm@example.com\n    to: []\n"
    ));
    assert!(invalid(&e).3.contains("at least one"), "{e}");

    let e = err(&format!(
        "{ONE_REPO}notify:\n  webhooks:\n    - url: https://a.example.com/h\n      secret: \"\"\n"
    ));
    assert_eq!(invalid(&e).2, "notify.webhooks[0].secret");

    // Plain SMTP to a loopback relay is allowed.
    let c = ok(&format!(
        "{ONE_REPO}notify:\n  email:\n    smtp_host: 127.0.0.1\n    smtp_port: 2525\n    from: rm@example.com\n    to: [ops@example.com]\n    starttls: false\n"
    ))
    .config;
    assert_eq!(
        c.notify.email.map(|e| (e.smtp_port, e.starttls)),
        Some((2525, false))
    );

    let l = ok(&format!("{ONE_REPO}notify:\n  slack: {{chanel: x}}\n"));
    assert_eq!(
        keys(&l),
        ["notify.slack.chanel", "notify.slack.webhook_url"]
    );
}

#[test]
fn post_download_notify_targets_are_folded_in() {
    // `slack` enables Slack; its URL comes from SLACK_WEBHOOK_URL.
    let c = ok_env(
        &format!("{ONE_REPO}download:\n  post_download:\n    - notify: slack\n"),
        &slack_env(),
    )
    .config;
    assert_eq!(
        c.notify
            .slack
            .as_ref()
            .and_then(|s| s.webhook_url.as_ref())
            .map(Secret::expose),
        Some("https://hooks.slack.com/services/T0/B0/ENVSECRET")
    );
    // Without a URL anywhere it still loads, with a warning that names the key.
    let l = ok(&format!(
        "{ONE_REPO}download:\n  post_download:\n    - notify: slack\n"
    ));
    assert!(l.config.notify.slack.is_some());
    assert_eq!(keys(&l), ["notify.slack.webhook_url"]);
    assert_eq!(l.warnings[0].kind, WarningKind::IncompleteNotify);
    // A URL target is a generic webhook, once.
    let c = ok(&format!(
        "{ONE_REPO}notify:\n  webhooks: [{{url: \"https://x.example.com/h\"}}]\ndownload:\n  post_download:\n    notify: [\"https://x.example.com/h\", \"https://y.example.com/h\"]\n"
    ))
    .config;
    let urls: Vec<&str> = c.notify.webhooks.iter().map(|w| w.url.expose()).collect();
    assert_eq!(urls, ["https://x.example.com/h", "https://y.example.com/h"]);
    // `email` without `notify.email` warns; unknown names and insecure URLs are refused.
    let l = ok(&format!(
        "{ONE_REPO}download:\n  post_download:\n    notify: email\n"
    ));
    assert_eq!(keys(&l), ["download.post_download.notify"]);
    let e = err(&format!(
        "{ONE_REPO}download:\n  post_download:\n    notify: teams\n"
    ));
    assert!(
        invalid(&e)
            .3
            .contains("unknown notification target `teams`"),
        "{e}"
    );
    let e = err(&format!(
        "{ONE_REPO}download:\n  post_download:\n    notify: [\"http://x.example.com/SECRET\"]\n"
    ));
    assert!(!e.to_string().contains("SECRET"), "{e}");
}

#[test]
fn github_graphql_can_be_turned_off_and_must_be_a_boolean() {
    let c = ok(&format!("{ONE_REPO}github:\n  graphql: false\n")).config;
    assert!(!c.github.graphql);
    let e = err(&format!("{ONE_REPO}github:\n  graphql: sometimes\n"));
    let (line, col, key, message) = invalid(&e);
    assert_eq!((line, col, key), (5, 12, "github.graphql"), "{e}");
    assert!(message.contains("expected boolean"), "{e}");
}

// --- verification and signing ---

/// The key path of a `Conflict` error.
fn conflict(e: &ConfigError) -> &str {
    match e {
        ConfigError::Conflict { key, .. } => key,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

const MINISIGN_KEY: &str = "RWRDOQMYxSVc87rwNH7El9vLaENxA6zhU65l5Ji794zrdID8tgcy8WOH";

#[test]
fn require_signature_turns_signatures_on() {
    let l = ok(&format!(
        "{ONE_REPO}download:\n  verification: {{require: signature}}\n"
    ));
    let v = &l.config.download.verification;
    assert!(v.signature && v.attestations);
    assert_eq!(v.require, Require::Signature);
    let l = ok(&format!(
        "{ONE_REPO}download:\n  verification: {{require: true}}\n"
    ));
    assert_eq!(l.config.download.verification.require, Require::Checksum);
    assert!(!l.config.download.verification.signature);
    let e = err(&format!(
        "{ONE_REPO}download:\n  verification: {{require: signature, signature: false}}\n"
    ));
    assert_eq!(conflict(&e), "download.verification.require");
    let e = err(&format!(
        "{ONE_REPO}download:\n  verification: {{require: sometimes}}\n"
    ));
    assert!(invalid(&e).3.contains("`signature`"), "{e}");
}

#[test]
fn signing_keys_and_identity_are_read_and_merged_with_overrides() {
    let l = ok(&format!(
        "repositories:\n  - owner: a\n    repo: b\n    signing:\n      minisign: [\"{MINISIGN_KEY}\"]\n\
         download:\n  verification: {{signature: true}}\n  repository_overrides:\n    a/b:\n      \
         signing: {{workflow: .github/workflows/release.yml, minisign: []}}\n"
    ));
    let c = &l.config;
    let effective = c.repository_settings(&c.repositories[0]);
    // The repository's own keys win; the override adds the workflow.
    let keys = effective.signing.minisign.expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].text(), MINISIGN_KEY);
    assert_eq!(
        effective.signing.workflow.as_deref(),
        Some(".github/workflows/release.yml")
    );
    // `config check` shows the keys as written.
    let json = serde_json::to_value(c).expect("serialises");
    assert_eq!(
        json["repositories"][0]["signing"]["minisign"][0],
        MINISIGN_KEY
    );
}

#[test]
fn signing_settings_without_effect_are_refused() {
    let e = err(&format!(
        "repositories:\n  - owner: a\n    repo: b\n    signing: {{minisign: [\"{MINISIGN_KEY}\"]}}\n"
    ));
    assert_eq!(conflict(&e), "repositories[0].signing.minisign");
    assert!(e.to_string().starts_with("config.yaml: "), "{e}");
    let e = err(
        "repositories:\n  - owner: a\n    repo: b\ndownload:\n  repository_overrides:\n    \
         a/b: {signing: {repository: c/d}}\n",
    );
    assert_eq!(
        conflict(&e),
        "download.repository_overrides[\"a/b\"].signing.repository"
    );
    // Attestations alone use the identity rules.
    let l = ok(
        "repositories:\n  - owner: a\n    repo: b\n    signing: {workflow: c/d/.github/workflows/x.yml}\n\
         download:\n  verification: {attestations: true}\n",
    );
    let v = &l.config.download.verification;
    assert!(v.attestations && !v.signature);
}

#[test]
fn malformed_trust_anchors_are_errors_at_their_position() {
    let e = err(&format!(
        "{ONE_REPO}    signing:\n      minisign: [\"RWQnope\"]\ndownload:\n  verification: {{signature: true}}\n"
    ));
    let (line, _, key, message) = invalid(&e);
    assert_eq!((line, key), (5, "repositories[0].signing.minisign[0]"));
    assert!(message.contains("not a minisign public key"), "{message}");
    assert!(!message.contains("RWQnope"), "{message}");
    for bad in [
        "release.yml",
        ".github/workflows/x.yml@main",
        "../.github/workflows/x.yml",
    ] {
        let e = err(&format!(
            "{ONE_REPO}    signing: {{workflow: \"{bad}\"}}\ndownload:\n  verification: {{signature: true}}\n"
        ));
        assert_eq!(invalid(&e).2, "repositories[0].signing.workflow", "{bad}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    let text = format!(
        "{ONE_REPO}    signing: {{pgp: [keys/missing.asc]}}\ndownload:\n  verification: {{signature: true}}\n"
    );
    let e = load_str(&text, &config, &no_env()).expect_err("missing key file");
    let (_, _, key, message) = invalid(&e);
    assert_eq!(key, "repositories[0].signing.pgp[0]");
    // Relative to the configuration file's folder, which the message names; the value itself
    // is not repeated (it could be a secret pasted into the wrong key).
    assert!(
        message.contains(&format!("relative to {}", dir.path().display())),
        "{message}"
    );
    assert!(!message.contains("missing.asc"), "{message}");
    // A device is not read (it would never end).
    let text = format!(
        "{ONE_REPO}    signing: {{pgp: [/dev/zero]}}\ndownload:\n  verification: {{signature: true}}\n"
    );
    let e = load_str(&text, &config, &no_env()).expect_err("a device");
    assert!(invalid(&e).3.contains("not a regular file"), "{e}");
    // A token pasted into any signing key is never repeated.
    let token = "ghp_PASTEDINTOTHEWRONGKEY0123456789";
    for key in [
        "minisign: [\"T\"]",
        "pgp: [\"T\"]",
        "cosign: [\"T\"]",
        "workflow: \"T\"",
    ] {
        let text = format!(
            "{ONE_REPO}    signing: {{{}}}\ndownload:\n  verification: {{signature: true, trusted_root: \"T\"}}\n",
            key.replace('T', token)
        )
        .replace("trusted_root: \"T\"", &format!("trusted_root: \"{token}\""));
        let e = load_str(&text, &config, &no_env()).expect_err("bad value");
        assert!(!e.to_string().contains(token), "{key}: {e}");
        assert!(!format!("{e:?}").contains(token), "{key}: {e:?}");
    }
}

// --- download.http_storage ---

#[test]
fn http_storage_takes_basic_auth_or_a_token_and_secrets_from_the_environment() {
    let text = format!(
        "{ONE_REPO}download:\n  http_storage:\n    enabled: true\n    url: https://dav.example.com/mirror/\n    username: me\n    password: file-pw\n"
    );
    let h = ok(&text).config.download.http_storage;
    assert!(h.enabled);
    assert_eq!(h.url.as_deref(), Some("https://dav.example.com/mirror"));
    assert_eq!(h.username.as_deref(), Some("me"));
    assert_eq!(h.password.as_ref().map(Secret::expose), Some("file-pw"));
    let env = Env::from_pairs([("HTTP_STORAGE_PASSWORD", "env-pw")]);
    let h = ok_env(&text, &env).config.download.http_storage;
    assert_eq!(h.password.as_ref().map(Secret::expose), Some("env-pw"));
    // Printed back, the secrets are starred.
    let json = serde_json::to_string(&ok(&text).config).unwrap();
    assert!(
        !json.contains("file-pw") && json.contains("\"password\":\"***\""),
        "{json}"
    );

    let token = format!(
        "{ONE_REPO}download:\n  http_storage: {{enabled: true, url: \"http://127.0.0.1:8080/dav\"}}\n"
    );
    let env = Env::from_pairs([("HTTP_STORAGE_TOKEN", "tok")]);
    let h = ok_env(&token, &env).config.download.http_storage;
    assert_eq!(h.token.as_ref().map(Secret::expose), Some("tok"));
    // Off by default; a password in the environment for a disabled store is no conflict.
    assert_eq!(
        ok(ONE_REPO).config.download.http_storage,
        HttpStorage::default()
    );
    let env = Env::from_pairs([("HTTP_STORAGE_PASSWORD", "pw")]);
    assert!(!ok_env(ONE_REPO, &env).config.download.http_storage.enabled);
}

#[test]
fn http_storage_settings_that_cannot_work_exit_2_naming_the_key() {
    let d = |body: &str| format!("{ONE_REPO}download:\n  http_storage: {body}\n");
    // No URL, a plain-http URL off loopback, a URL with credentials in it.
    for (body, key) in [
        ("{enabled: true}", "download.http_storage"),
        (
            "{enabled: true, url: \"http://dav.example.com/m\"}",
            "download.http_storage.url",
        ),
        (
            "{enabled: true, url: \"https://u:p@dav.example.com/m\"}",
            "download.http_storage.url",
        ),
        (
            "{enabled: true, url: \"https://dav.example.com\", token: t, username: u, password: p}",
            "download.http_storage",
        ),
    ] {
        let e = err(&d(body));
        assert_eq!(invalid(&e).2, key, "{body}: {e}");
        assert!(!e.to_string().contains("u:p@"), "{e}");
    }
    // Half of basic auth; a token from the environment over basic auth from the file; two
    // remote stores at once.
    let e = err(&d(
        "{enabled: true, url: \"https://d.example.com\", username: u}",
    ));
    assert_eq!(conflict(&e), "download.http_storage.password");
    let env = Env::from_pairs([("HTTP_STORAGE_TOKEN", "tok")]);
    let e = err_env(
        &d("{enabled: true, url: \"https://d.example.com\", username: u, password: p}"),
        &env,
    );
    assert_eq!(conflict(&e), "download.http_storage.token");
    let e = err(&format!(
        "{ONE_REPO}download:\n  s3_storage: {{enabled: true, bucket: b}}\n  http_storage: {{enabled: true, url: \"https://d.example.com\"}}\n"
    ));
    assert_eq!(conflict(&e), "download.http_storage.enabled");
}

#[test]
fn verification_switches_accept_true_and_refuse_false() {
    // Downloads are always verified: `true` (the seed tool's default) loads, `false` would
    // promise something that does not happen.
    for (section, key) in [
        ("  verify_downloads: VALUE\n", "download.verify_downloads"),
        (
            "  verification: {checksum: VALUE}\n",
            "download.verification.checksum",
        ),
        (
            "  post_download: {verify_checksum: VALUE}\n",
            "download.post_download.verify_checksum",
        ),
    ] {
        let text = |v: &str| format!("{ONE_REPO}download:\n{}", section.replace("VALUE", v));
        let c = ok(&text("true")).config.download;
        assert!(c.verify_downloads && c.verification.checksum && c.post_download.verify_checksum);
        let e = err(&text("false"));
        let (line, _, k, message) = invalid(&e);
        assert_eq!((line, k), (5, key), "{e}");
        assert!(message.contains("not supported"), "{e}");
    }
}

// --- download.artifactory_storage ---

#[test]
fn artifactory_storage_takes_the_seed_keys_and_its_environment() {
    let text = format!(
        "{ONE_REPO}download:\n  artifactory_storage:\n    enabled: true\n    base_url: https://af.example.com/artifactory\n    repository: generic-local\n    path_prefix: mirror\n    username: me\n    password: file-pw\n"
    );
    let c = ok(&text).config.download;
    let a = &c.artifactory_storage;
    assert!(a.enabled && a.verify_ssl);
    assert_eq!(a.folder(), "mirror/");
    assert_eq!(a.password.as_ref().map(Secret::expose), Some("file-pw"));
    // The seed tool's database location follows, unless the file or the environment names one.
    assert_eq!(
        c.version_db,
        PathBuf::from("artifactory://generic-local/mirror/version_db.json")
    );
    let named = format!("{text}  version_db: ./db.json\n");
    assert_eq!(
        ok(&named).config.download.version_db,
        PathBuf::from("./db.json")
    );
    let env = Env::from_pairs([("VERSION_DB_PATH", "/tmp/x.json")]);
    assert_eq!(
        ok_env(&text, &env).config.download.version_db,
        PathBuf::from("/tmp/x.json")
    );
    // The environment wins, and URL + repository there enable the store on their own.
    let env = Env::from_pairs([
        ("ARTIFACTORY_URL", "https://env.example.com/artifactory"),
        ("ARTIFACTORY_REPOSITORY", "env-repo"),
        ("ARTIFACTORY_ACCESS_TOKEN", "tok-env"),
        ("ARTIFACTORY_SKIP_SSL_VERIFICATION", "true"),
    ]);
    let a = ok_env(ONE_REPO, &env).config.download.artifactory_storage;
    assert!(a.enabled && !a.verify_ssl);
    assert_eq!(
        (a.base_url.as_deref(), a.repository.as_deref()),
        (
            Some("https://env.example.com/artifactory"),
            Some("env-repo")
        )
    );
    assert_eq!(a.access_token.as_ref().map(Secret::expose), Some("tok-env"));
    assert_eq!(a.folder(), "release-monitor/");
    // Printed back, every secret is starred.
    let json = serde_json::to_string(&ok_env(ONE_REPO, &env).config).unwrap();
    assert!(
        !json.contains("tok-env") && json.contains("\"access_token\":\"***\""),
        "{json}"
    );
    let json = serde_json::to_string(&ok(&text).config).unwrap();
    assert!(!json.contains("file-pw"), "{json}");
    // Off by default, and a password in the environment alone enables nothing.
    let env = Env::from_pairs([("ARTIFACTORY_PASSWORD", "pw")]);
    let c = ok_env(ONE_REPO, &env).config.download;
    assert!(!c.artifactory_storage.enabled);
    assert_eq!(c.version_db, PathBuf::from("./version_db.json"));
}

#[test]
fn artifactory_settings_that_cannot_work_exit_2_naming_the_key() {
    let d = |body: &str| format!("{ONE_REPO}download:\n  artifactory_storage: {body}\n");
    let base = "enabled: true, base_url: \"https://a.example.com\", repository: r";
    let e = err(&d("{enabled: true, repository: r}"));
    assert_eq!(conflict(&e), "download.artifactory_storage.base_url");
    let e = err(&d("{enabled: true, base_url: \"https://a.example.com\"}"));
    assert_eq!(conflict(&e), "download.artifactory_storage.repository");
    let e = err(&d(&format!(
        "{{{base}, username: u, password: p, api_key: k}}"
    )));
    assert_eq!(conflict(&e), "download.artifactory_storage.api_key");
    let e = err(&d(&format!("{{{base}, password: p}}")));
    assert_eq!(conflict(&e), "download.artifactory_storage.username");
    let env = Env::from_pairs([("ARTIFACTORY_ACCESS_TOKEN", "tok")]);
    let e = err_env(&d(&format!("{{{base}, api_key: k}}")), &env);
    assert_eq!(conflict(&e), "download.artifactory_storage.password");
    assert!(!e.to_string().contains("tok"), "{e}");
    let e = err(&format!(
        "{ONE_REPO}download:\n  http_storage: {{enabled: true, url: \"https://d.example.com\"}}\n  artifactory_storage: {{{base}}}\n"
    ));
    assert_eq!(conflict(&e), "download.artifactory_storage.enabled");
    for (var, value) in [
        ("ARTIFACTORY_URL", "http://plain.example.com"),
        ("ARTIFACTORY_SKIP_SSL_VERIFICATION", "maybe"),
    ] {
        let env = Env::from_pairs([(var, value)]);
        let e = err_env(ONE_REPO, &env);
        assert!(e.to_string().contains(var), "{e}");
    }
}

// --- minimum_release_age ---

#[test]
fn minimum_release_age_is_read_as_people_write_it_and_resolved_per_repository() {
    let text = "repositories:\n  - {owner: a, repo: own, minimum_release_age: 12h}\n  - {owner: a, repo: ov}\n  - {owner: a, repo: plain}\nsettings:\n  minimum_release_age: 3d\ndownload:\n  repository_overrides:\n    a/ov: {minimum_release_age: 1w}\n".to_string();
    let c = ok(&text).config;
    let age = |i: usize| {
        c.repository_settings(&c.repositories[i])
            .minimum_release_age
            .as_duration()
            .as_secs()
    };
    assert_eq!((age(0), age(1), age(2)), (12 * 3600, 7 * 86400, 3 * 86400));
    // Printed back as it reads.
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["settings"]["minimum_release_age"], "3days");
    // A plain number is seconds; REPOSITORY_OVERRIDES may set it too.
    let env = Env::from_pairs([(
        "REPOSITORY_OVERRIDES",
        r#"{"a/plain": {"minimum_release_age": "2h"}}"#,
    )]);
    let c = ok_env(&text.replace("3d", "90"), &env).config;
    assert_eq!(c.settings.minimum_release_age.as_duration().as_secs(), 90);
    assert_eq!(
        c.repository_settings(&c.repositories[2])
            .minimum_release_age
            .as_duration()
            .as_secs(),
        7200
    );
    // Off by default.
    assert_eq!(
        ok(ONE_REPO).config.settings.minimum_release_age,
        Age::default()
    );
}

#[test]
fn a_minimum_release_age_that_does_not_parse_exits_2_naming_it() {
    for bad in ["3 fortnights", "ghp_SecretLooking123", "-1", "2y"] {
        let e = err(&format!(
            "{ONE_REPO}settings:\n  minimum_release_age: {bad}\n"
        ));
        let (line, _, key, message) = invalid(&e);
        assert_eq!((line, key), (5, "settings.minimum_release_age"), "{e}");
        assert!(message.contains("duration"), "{e}");
        assert!(!e.to_string().contains("ghp_Secret"), "{e}");
    }
}

#[test]
fn repositories_on_other_forges_settle_their_host_and_forge() {
    let c = ok(r#"
repositories:
  - {owner: gitlab-org, repo: cli, forge: gitlab}
  - {url: "https://gitlab.example.com/platform/tools/cli"}
  - {owner: nginx, repo: nginx, source: tags}
  - {owner: forgejo, repo: forgejo, forge: gitea, host: codeberg.org}
  - {owner: a, repo: b, forge: forgejo, host: git.example.org}
  - {url: "https://github.com/cli/cli"}
  - {url: "https://codeberg.org/x/y.git"}
forges:
  gitlab.example.com: {type: gitlab, api_url: "https://gitlab.example.com/api/v4", token_env: GITLAB_EXAMPLE_TOKEN}
"#)
    .config;
    let ids: Vec<String> = c.repositories.iter().map(|r| r.full_name()).collect();
    assert_eq!(
        ok("repositories:\n  - gitlab.com/group/sub/p\n")
            .config
            .repositories[0]
            .full_name(),
        "gitlab.com/group/sub/p"
    );
    assert!(matches!(
        err("repositories:\n  - git.nowhere.example/a/b\n"),
        ConfigError::Invalid { .. }
    ));
    assert_eq!(
        ids,
        [
            "gitlab.com/gitlab-org/cli",
            "gitlab.example.com/platform/tools/cli",
            "nginx/nginx",
            "codeberg.org/forgejo/forgejo",
            "git.example.org/a/b",
            "cli/cli",
            "codeberg.org/x/y",
        ]
    );
    let forge = |h: &str| c.forge(h).unwrap();
    assert_eq!(forge("gitlab.com").kind, ForgeKind::Gitlab);
    assert_eq!(
        forge("gitlab.com").token_env.as_deref(),
        Some("GITLAB_TOKEN")
    );
    assert_eq!(
        forge("codeberg.org").api_url.as_str(),
        "https://codeberg.org/api/v1"
    );
    assert_eq!(
        forge("codeberg.org").token_env.as_deref(),
        Some("CODEBERG_TOKEN")
    );
    assert_eq!(
        forge("gitlab.example.com").token_env.as_deref(),
        Some("GITLAB_EXAMPLE_TOKEN")
    );
    // A host named only with `forge:` gets the kind's API path and no token.
    assert_eq!(
        forge("git.example.org").api_url.as_str(),
        "https://git.example.org/api/v1"
    );
    assert_eq!(forge("git.example.org").token_env, None);
    assert!(c.forge("github.com").is_none());
    // Overrides and lookups use the same key.
    let id: crate::repo::RepoId = "GitLab.com/gitlab-org/CLI".parse().unwrap();
    assert_eq!(c.find_repository(&id).unwrap().repo, "cli");
}

#[test]
fn forge_mistakes_are_config_errors_with_positions() {
    for (yaml, key, says) in [
        (
            "repositories:\n  - {owner: a, repo: b, forge: sourcehut}\n",
            "repositories[0].forge",
            "unknown variant",
        ),
        (
            "repositories:\n  - {url: \"https://git.example.com/a/b\"}\n",
            "repositories[0]",
            "matches no entry of `forges:`",
        ),
        (
            "repositories:\n  - {owner: a, repo: b, host: git.example.com}\n",
            "repositories[0]",
            "matches no entry of `forges:`",
        ),
        (
            "repositories:\n  - {url: \"https://gitlab.com/a/b\", owner: a, repo: b}\n",
            "repositories[0]",
            "either `url` or `owner`",
        ),
        (
            "repositories:\n  - {owner: a/b, repo: c, forge: gitea}\n",
            "repositories[0]",
            "GitLab's only",
        ),
        (
            "repositories:\n  - {url: \"http://gitlab.com/a/b\"}\n",
            "repositories[0].url",
            "http://",
        ),
        (
            "repositories: [a/b]\nforges:\n  git.example.com: {type: gitlab, token_env: glpat-s3cr3t}\n",
            "forges[\"git.example.com\"].token_env",
            "not shown",
        ),
        (
            "repositories: [a/b]\nforges:\n  git.example.com: {type: svn}\n",
            "forges[\"git.example.com\"].type",
            "unknown variant",
        ),
    ] {
        let e = err(yaml);
        let (line, _, k, message) = invalid(&e);
        assert_eq!(k, key, "{e}");
        assert!(message.contains(says), "{e}");
        assert!(line >= 2, "{e}");
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
    // A forge type that contradicts the host's entry.
    let e = err("repositories:\n  - {owner: a, repo: b, forge: gitea, host: gitlab.com}\n");
    assert_eq!(conflict(&e), "repositories[0].forge");
    // A URL on a host `forges:` declares needs no `forge:`; nesting is GitLab's.
    let c = ok(
        "repositories:\n  - url: https://git.example.com/g/s/p\nforges:\n  git.example.com: {type: gitlab}\n",
    )
    .config;
    assert_eq!(c.repositories[0].owner, "g/s");
    let e = err(
        "repositories:\n  - url: https://git.example.com/g/s/p\nforges:\n  git.example.com: {type: gitea}\n",
    );
    assert_eq!(conflict(&e), "repositories[0].owner");
}
