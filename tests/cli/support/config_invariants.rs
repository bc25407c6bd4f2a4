//! The configuration loader's invariants, shared by the fuzz target
//! (`fuzz/fuzz_targets/config_load.rs`) and by `tests/cli/fuzz_seeds.rs`, which replays the fuzz
//! seeds in `cargo test`.
//!
//! One input (UTF-8 text) is used three ways:
//! 1. as a whole `config.yaml`, loaded without and with secret environment variables
//!    (`SLACK_WEBHOOK_URL`, `SMTP_PASSWORD`);
//! 2. as the value of every secret in a small fixed config (Slack and webhook URLs, webhook
//!    secret, SMTP password, HTTP storage password, Artifactory password and API key);
//! 3. as the `REPOSITORY_OVERRIDES` variable next to a small fixed config.
//!
//! Each load must
//! - never panic, and give the same result twice (the same `Config`, warnings and error text);
//! - on success, serialise as `config check` does (pretty JSON) to a JSON object with one
//!   `repositories` entry per repository;
//! - on failure, name the file and a position inside the text (`file:line:col`, 1-based, line at
//!   most one past the last line) for YAML and value errors, and `REPOSITORY_OVERRIDES` for
//!   errors in that variable; a message is one line;
//! - never show a secret: the marker of a secret value ([`SECRET_MARKER`]) appears in no output
//!   (`config check` JSON, `Debug` of the config, warnings, error) unless the input itself put it
//!   somewhere that is not a secret.

use std::path::Path;

use release_monitor::config::{self, ConfigError, Env, Loaded};

/// The name the text is loaded under; errors must name it.
const PATH: &str = "fuzz/config.yaml";

/// Part of every secret value the checks plant, so a leak is found by a substring search. Seeds
/// carry it inside webhook URLs and passwords, so the fuzzer mutates around it.
pub const SECRET_MARKER: &str = "SECRET-7f3a";

/// The secret environment variables, each holding the marker.
fn secret_env() -> Env {
    Env::from_pairs([
        (
            "SLACK_WEBHOOK_URL",
            format!("https://hooks.slack.com/services/T0/B0/{SECRET_MARKER}-slack"),
        ),
        ("SMTP_PASSWORD", format!("pw-{SECRET_MARKER}-smtp")),
    ])
}

/// A valid config whose secrets are all `value` (a YAML double-quoted scalar).
fn secrets_config(value: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    let quoted = serde_json::to_string(value).expect("a str always serialises");
    format!(
        "repositories:\n  - {{owner: o, repo: r}}\n\
         notify:\n  slack: {{webhook_url: {quoted}}}\n  \
         webhooks: [{{url: {quoted}, secret: {quoted}}}]\n  \
         email: {{smtp_host: smtp.example.com, from: a@example.com, to: [b@example.com], \
         password: {quoted}}}\n\
         download:\n  http_storage: {{username: u, password: {quoted}}}\n  \
         artifactory_storage: {{password: {quoted}, api_key: {quoted}}}\n"
    )
}

/// A valid config for the `REPOSITORY_OVERRIDES` check.
const OVERRIDES_CONFIG: &str =
    "repositories:\n  - {owner: o, repo: r}\n  - {owner: kubernetes, repo: kubernetes}\n";

/// Checks every invariant on one input.
pub fn check_input(input: &str) {
    // 1. The input is the file; the environment may or may not hold secrets.
    check_load(input, &Env::default(), !input.contains(SECRET_MARKER));
    check_load(input, &secret_env(), !input.contains(SECRET_MARKER));
    // 2. The input is every secret of a fixed file. The value itself is only secret where the
    //    marker is, so no output may show the marker.
    check_load(&secrets_config(input), &Env::default(), true);
    // 3. The input is REPOSITORY_OVERRIDES.
    let env = Env::from_pairs([("REPOSITORY_OVERRIDES", input)]);
    check_load(OVERRIDES_CONFIG, &env, !input.contains(SECRET_MARKER));
}

/// Loads `text` twice under `env` and checks the outcome; `no_marker` says the marker may only
/// be in secrets, so no output may show it.
fn check_load(text: &str, env: &Env, no_marker: bool) {
    let path = Path::new(PATH);
    let first = config::load_str(text, path, env);
    let second = config::load_str(text, path, env);
    match (&first, &second) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.config, b.config, "two loads of one text differ");
            assert_eq!(
                a.warnings, b.warnings,
                "two loads of one text warn differently"
            );
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "two loads fail differently"),
        _ => panic!("one load succeeded and the other failed: {first:?} / {second:?}"),
    }
    match first {
        Ok(loaded) => check_loaded(&loaded, no_marker),
        Err(error) => check_error(&error, text, env, no_marker),
    }
}

fn check_loaded(loaded: &Loaded, no_marker: bool) {
    // What `config check` prints.
    let json = serde_json::to_string_pretty(&loaded.config).expect("the config serialises");
    let value: serde_json::Value = serde_json::from_str(&json).expect("config check prints JSON");
    let repositories = value
        .get("repositories")
        .and_then(serde_json::Value::as_array)
        .expect("a `repositories` array");
    assert_eq!(repositories.len(), loaded.config.repositories.len());
    for warning in &loaded.warnings {
        let message = warning.to_string();
        assert!(!message.is_empty(), "an empty warning");
        assert!(
            !message.contains('\n'),
            "a warning of several lines: {message:?}"
        );
    }
    if no_marker {
        let debug = format!("{:?}", loaded.config);
        assert!(
            !json.contains(SECRET_MARKER),
            "config check shows a secret: {json}"
        );
        assert!(
            !debug.contains(SECRET_MARKER),
            "Debug shows a secret: {debug}"
        );
        for warning in &loaded.warnings {
            assert!(
                !warning.message.contains(SECRET_MARKER) && !warning.key.contains(SECRET_MARKER),
                "a warning shows a secret: {warning:?}"
            );
        }
    }
}

fn check_error(error: &ConfigError, text: &str, env: &Env, no_marker: bool) {
    let message = error.to_string();
    assert!(
        !message.contains('\n'),
        "an error of several lines: {message:?}"
    );
    if no_marker {
        assert!(
            !message.contains(SECRET_MARKER),
            "an error shows a secret: {message}"
        );
    }
    // Lines as a YAML parser counts them: '\n', '\r\n' and a lone '\r' all end a line.
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .count();
    let names_the_file = |path: &Path| {
        assert_eq!(
            path,
            Path::new(PATH),
            "the error names another file: {message}"
        );
        assert!(
            message.starts_with(PATH),
            "the message does not start with the file: {message}"
        );
    };
    match error {
        ConfigError::Invalid {
            path, line, column, ..
        }
        | ConfigError::Syntax {
            path, line, column, ..
        } => {
            names_the_file(path);
            assert!(*line >= 1 && *column >= 1, "a 0 position: {message}");
            assert!(
                *line <= lines + 1,
                "line {line} of a {lines}-line text: {message}"
            );
        }
        ConfigError::Conflict { path, .. } => names_the_file(path),
        ConfigError::Env { var, .. } => {
            assert!(
                env.get(var).is_some(),
                "an error about unset {var}: {message}"
            );
        }
        ConfigError::Io { .. } => panic!("load_str read a file: {message}"),
    }
}
