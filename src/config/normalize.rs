//! Raw configuration + environment → the canonical [`Config`].
//!
//! Fills defaults, folds alternative spellings together, applies environment overrides and
//! produces the warnings that need the whole configuration (duplicates, unused overrides...).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use super::Env;
use super::error::{ConfigError, ConfigWarning, WarningKind};
use super::load::{EnvRepositories, REPOSITORY_OVERRIDES, override_key};
use super::model::{
    ArtifactoryStorage, Config, DEFAULT_PREFIX, DownloadSettings, EmailNotify, ExtractLimits,
    GithubApp, GithubSettings, HttpStorage, NotifySettings, PostDownload, Repository,
    RepositoryOverride, Retry, S3Storage, Segments, Settings, Signing, SlackNotify, SourceArchives,
    Verification, WebhookNotify,
};
use super::model::{Forge, ServeSettings, ServeTls};
use super::pattern::{AssetPattern, FilterEntry};
use super::raw::{
    RawArtifactory, RawConfig, RawDownload, RawGithubApp, RawHttpStorage, RawNotify, RawOverride,
    RawRepository, RawS3Storage, RawSigning, RawSourceArchives, RawStorage,
};
use super::values::{
    ApiUrl, FullName, NotifyTarget, REDACTED, Require, Seconds, Secret, StorageType, check_app_key,
    check_webhook_url, secure_base_url,
};
use super::values::{ForgeKind, default_forge};

/// `GITHUB_API_URL`: replaces `github.api_url`.
pub(crate) const GITHUB_API_URL: &str = "GITHUB_API_URL";
/// `SSL_CERT_FILE`: used for `github.ca_cert` when the file sets none.
pub(crate) const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
/// `DOWNLOAD_DIR`: replaces `download.directory`.
pub(crate) const DOWNLOAD_DIR: &str = "DOWNLOAD_DIR";
/// `VERSION_DB_PATH`: replaces `download.version_db`.
pub(crate) const VERSION_DB_PATH: &str = "VERSION_DB_PATH";
/// `SLACK_WEBHOOK_URL`: replaces `notify.slack.webhook_url` (Slack's own convention).
pub(crate) const SLACK_WEBHOOK_URL: &str = "SLACK_WEBHOOK_URL";
/// `SMTP_PASSWORD`: replaces `notify.email.password`.
pub(crate) const SMTP_PASSWORD: &str = "SMTP_PASSWORD";
/// `HTTP_STORAGE_PASSWORD`: replaces `download.http_storage.password`.
pub(crate) const HTTP_STORAGE_PASSWORD: &str = "HTTP_STORAGE_PASSWORD";
/// `HTTP_STORAGE_TOKEN`: replaces `download.http_storage.token`.
pub(crate) const HTTP_STORAGE_TOKEN: &str = "HTTP_STORAGE_TOKEN";

/// `ARTIFACTORY_URL`: replaces `download.artifactory_storage.base_url`.
pub(crate) const ARTIFACTORY_URL: &str = "ARTIFACTORY_URL";
/// `ARTIFACTORY_REPOSITORY`: replaces `download.artifactory_storage.repository`.
pub(crate) const ARTIFACTORY_REPOSITORY: &str = "ARTIFACTORY_REPOSITORY";
/// `ARTIFACTORY_USERNAME`: replaces `download.artifactory_storage.username`.
pub(crate) const ARTIFACTORY_USERNAME: &str = "ARTIFACTORY_USERNAME";
/// `ARTIFACTORY_PASSWORD`: replaces `download.artifactory_storage.password`.
pub(crate) const ARTIFACTORY_PASSWORD: &str = "ARTIFACTORY_PASSWORD";
/// `ARTIFACTORY_API_KEY`: replaces `download.artifactory_storage.api_key`.
pub(crate) const ARTIFACTORY_API_KEY: &str = "ARTIFACTORY_API_KEY";
/// `ARTIFACTORY_ACCESS_TOKEN`: an access token, sent as a bearer token.
pub(crate) const ARTIFACTORY_ACCESS_TOKEN: &str = "ARTIFACTORY_ACCESS_TOKEN";
/// `ARTIFACTORY_SKIP_SSL_VERIFICATION=true`: `download.artifactory_storage.verify_ssl: false`.
pub(crate) const ARTIFACTORY_SKIP_SSL_VERIFICATION: &str = "ARTIFACTORY_SKIP_SSL_VERIFICATION";

/// `GITHUB_APP_ID`: replaces `github.app.id`.
pub(crate) const GITHUB_APP_ID: &str = "GITHUB_APP_ID";
/// `GITHUB_APP_PRIVATE_KEY`: the App's private key, PEM text.
pub(crate) const GITHUB_APP_PRIVATE_KEY: &str = "GITHUB_APP_PRIVATE_KEY";
/// `GITHUB_APP_PRIVATE_KEY_FILE`: a file holding the App's private key.
pub(crate) const GITHUB_APP_PRIVATE_KEY_FILE: &str = "GITHUB_APP_PRIVATE_KEY_FILE";
/// `GITHUB_APP_INSTALLATION_ID`: replaces `github.app.installation_id`.
pub(crate) const GITHUB_APP_INSTALLATION_ID: &str = "GITHUB_APP_INSTALLATION_ID";

const DEFAULT_SMTP_PORT: u16 = 587;
const DEFAULT_SUBJECT: &str = "[release-monitor]";
const POST_NOTIFY_KEY: &str = "download.post_download.notify";

/// `VERSION_DB_S3_BUCKET`: the seed tool's way to keep the database in a bucket.
pub(crate) const VERSION_DB_S3_BUCKET: &str = "VERSION_DB_S3_BUCKET";
/// `VERSION_DB_S3_PREFIX`: the key prefix for `VERSION_DB_S3_BUCKET` (default
/// `release-monitor/`).
pub(crate) const VERSION_DB_S3_PREFIX: &str = "VERSION_DB_S3_PREFIX";

/// The database location the environment sets, if any: `VERSION_DB_PATH` (a path or an
/// `s3://bucket/key`), else the seed tool's `VERSION_DB_S3_BUCKET` as
/// `s3://{bucket}/{VERSION_DB_S3_PREFIX}version_db.json`.
pub(crate) fn version_db_from_env(env: &Env) -> Option<PathBuf> {
    if let Some(v) = env.get_non_empty(VERSION_DB_PATH) {
        return Some(PathBuf::from(v));
    }
    let bucket = env.get_non_empty(VERSION_DB_S3_BUCKET)?;
    let prefix = env.get(VERSION_DB_S3_PREFIX).unwrap_or(DEFAULT_PREFIX);
    let prefix = prefix.trim_matches('/');
    let key = if prefix.is_empty() {
        "version_db.json".to_string()
    } else {
        format!("{prefix}/version_db.json")
    };
    Some(PathBuf::from(format!("s3://{bucket}/{key}")))
}

const DEFAULT_RATE_LIMIT_DELAY: Seconds = Seconds::from_const(0.0);
const DEFAULT_MAX_RELEASES: u32 = 10;
const DEFAULT_GITHUB_TIMEOUT: Seconds = Seconds::from_const(30.0);
const DEFAULT_MAX_RATE_LIMIT_WAIT: Seconds = Seconds::from_const(900.0);
const DEFAULT_DOWNLOAD_TIMEOUT: Seconds = Seconds::from_const(300.0);
const DEFAULT_DIRECTORY: &str = "./downloads";
const DEFAULT_VERSION_DB: &str = "./version_db.json";
const DEFAULT_KEEP_VERSIONS: u32 = 5;
/// API calls at once at most: the ceiling of the adaptive limit (`github::ApiLimit`), which starts
/// at 8; `bench/scale.sh`.
const DEFAULT_CONCURRENCY: u32 = 32;
/// Connections transferring at once by default: asset hosts limit each connection, so it takes
/// many to fill a link. curl's `--parallel` and aria2c's `-j` use 16; 24 fetched 1,400 MiB at
/// 16 MiB/s per connection in 0.83× curl's time (`bench/cdn.sh`), and stays well below what
/// asset hosts accept from one client.
const DEFAULT_DOWNLOAD_CONCURRENCY: u32 = 24;

/// Connections per large asset by default: as many as `aria2c -x16 -s16` opens.
const DEFAULT_SEGMENT_CONNECTIONS: u32 = 16;
/// Assets from this size on are segmented by default: four pieces of the smallest size. Alone on
/// a 16 MiB/s-per-connection link, a 16 MiB asset took 0.30 s segmented and 0.91 s in one
/// stream (`BIG_MIB=16 MIN_MIB=8 bench/big.sh`).
const DEFAULT_SEGMENT_MIN_SIZE: u64 = 16 * 1024 * 1024;

const OVERRIDES_KEY: &str = "download.repository_overrides";

/// Builds the canonical configuration.
pub(crate) fn normalize(
    raw: RawConfig,
    env_repos: Option<EnvRepositories>,
    env: &Env,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Config, ConfigError> {
    let (env_replace, env_merge) = match env_repos {
        Some(EnvRepositories::Replace(list)) => (Some(list), None),
        Some(EnvRepositories::Merge(map)) => (None, Some(map)),
        None => (None, None),
    };

    let repositories = match env_replace {
        Some(list) => {
            tracing::debug!(
                count = list.len(),
                "REPOSITORY_OVERRIDES replaces repositories"
            );
            repositories(list, REPOSITORY_OVERRIDES, warnings)
        }
        None => repositories(
            raw.repositories.unwrap_or_default(),
            "repositories",
            warnings,
        ),
    };

    let mut repositories = repositories;
    let forges = forges(raw.forges.unwrap_or_default(), &mut repositories)?;

    let settings = {
        let s = raw.settings.unwrap_or_default();
        Settings {
            rate_limit_delay: s.rate_limit_delay.map_or(DEFAULT_RATE_LIMIT_DELAY, |v| v.0),
            max_releases_per_repo: s
                .max_releases_per_repo
                .map_or(DEFAULT_MAX_RELEASES, |v| v.0),
            include_prereleases: s.include_prereleases.unwrap_or(false),
            concurrency: s.concurrency.map_or(DEFAULT_CONCURRENCY, |v| v.0),
            minimum_release_age: s.minimum_release_age.unwrap_or_default(),
        }
    };

    let github = {
        let g = raw.github.unwrap_or_default();
        let api_url = match env.get_non_empty(GITHUB_API_URL) {
            Some(v) => {
                tracing::debug!("GITHUB_API_URL overrides github.api_url");
                ApiUrl::parse(v).map_err(|message| ConfigError::Env {
                    var: GITHUB_API_URL.to_string(),
                    message,
                })?
            }
            None => g.api_url.unwrap_or_default(),
        };
        GithubSettings {
            api_url,
            ca_cert: g
                .ca_cert
                .map(|p| p.0)
                .or_else(|| env.get_non_empty(SSL_CERT_FILE).map(PathBuf::from)),
            timeout: g.timeout.map_or(DEFAULT_GITHUB_TIMEOUT, |v| v.0),
            max_rate_limit_wait: g
                .max_rate_limit_wait
                .map_or(DEFAULT_MAX_RATE_LIMIT_WAIT, |v| v.0),
            graphql: g.graphql.unwrap_or(true),
            app: github_app(g.app, env)?,
        }
    };

    let names: HashSet<String> = repositories
        .iter()
        .map(|r| r.full_name().to_ascii_lowercase())
        .collect();
    let download = download(
        raw.download.unwrap_or_default(),
        env_merge,
        &names,
        env,
        warnings,
    )?;

    let notify = notify(raw.notify, &download.post_download.notify, env, warnings)?;

    let serve = serve(raw.serve.unwrap_or_default())?;

    Ok(Config {
        repositories,
        settings,
        github,
        download,
        notify,
        forges,
        serve,
    })
}

/// Builds `serve`: `tls` needs both files.
fn serve(raw: super::raw::RawServe) -> Result<ServeSettings, ConfigError> {
    let refuse = |key: &str, message: &str| ConfigError::Conflict {
        path: PathBuf::new(),
        key: key.to_string(),
        message: message.to_string(),
    };
    let tls = match raw.tls {
        None => None,
        Some(t) => match (t.cert, t.key) {
            (Some(cert), Some(key)) => Some(ServeTls {
                cert: cert.0,
                key: key.0,
            }),
            (None, _) => {
                return Err(refuse(
                    "serve.tls.cert",
                    "`serve.tls` needs `cert` and `key`",
                ));
            }
            (_, None) => {
                return Err(refuse(
                    "serve.tls.key",
                    "`serve.tls` needs `cert` and `key`",
                ));
            }
        },
    };
    let d = ServeSettings::default();
    let interval = raw.interval.unwrap_or(d.interval);
    if interval.as_duration() < std::time::Duration::from_secs(1) {
        return Err(refuse("serve.interval", "must be at least one second"));
    }
    Ok(ServeSettings {
        listen: raw.listen.map_or(d.listen, |l| l.0),
        interval,
        token_env: raw.token_env.map(|t| t.0),
        stale_after: raw.stale_after.map_or(d.stale_after, |b| b.0),
        tls,
        public_url: raw.public_url.map(|u| u.0),
    })
}

/// The forges by host: the file's `forges:`, then a default entry for each other host a
/// repository uses (gitlab.com, codeberg.org, or `https://HOST/api/vN` for a host named with
/// `forge:`). Each repository's host is settled here: `forge: github` on github.com (or no
/// forge at all) is the `github:` section's GitHub (`host: None`); `forge: gitlab` alone means
/// gitlab.com, `forge: gitea` codeberg.org. Only GitLab nests groups.
fn forges(
    raw: BTreeMap<super::values::HostKey, super::raw::RawForge>,
    repositories: &mut [Repository],
) -> Result<BTreeMap<String, Forge>, ConfigError> {
    let conflict = |key: String, message: String| ConfigError::Conflict {
        path: PathBuf::new(),
        key,
        message,
    };
    let mut out: BTreeMap<String, Forge> = raw
        .into_iter()
        .map(|(host, f)| {
            let api_url = match f.api_url {
                Some(u) => u,
                None => ApiUrl::parse(&f.kind.api_url_on(&host.0))
                    .map_err(|m| conflict(format!("forges.{}", host.0), m))?,
            };
            let forge = Forge {
                kind: f.kind,
                api_url,
                token_env: f
                    .token_env
                    .map(|t| t.0)
                    .or_else(|| default_forge(&host.0).map(|(.., env)| env.to_string())),
                ca_cert: f.ca_cert.map(|p| p.0),
            };
            Ok((host.0, forge))
        })
        .collect::<Result<_, ConfigError>>()?;
    for (i, r) in repositories.iter_mut().enumerate() {
        let at = format!("repositories[{i}]");
        let host = match (r.host.take(), r.forge) {
            (None, None | Some(ForgeKind::Github)) => None,
            (None, Some(kind)) => kind.default_host().map(str::to_string),
            (Some(h), _) => Some(h),
        };
        let Some(host) = host else {
            check_nesting(r, ForgeKind::Github, &at)?;
            continue;
        };
        let known = out
            .get(&host)
            .map(|f| f.kind)
            .or_else(|| default_forge(&host).map(|(kind, ..)| kind));
        let kind = match (known, r.forge) {
            (Some(k), Some(f)) if k != f => {
                return Err(conflict(
                    format!("{at}.forge"),
                    format!(
                        "`forge: {}` but {host} is a {} forge (`forges:` or the defaults)",
                        f.as_str(),
                        k.as_str()
                    ),
                ));
            }
            (Some(k), _) => k,
            (None, Some(f)) => f,
            (None, None) if host == "github.com" => ForgeKind::Github,
            (None, None) => {
                return Err(conflict(
                    format!("{at}.host"),
                    format!("{host} matches no entry of `forges:` and no default forge"),
                ));
            }
        };
        check_nesting(r, kind, &at)?;
        if host == "github.com" && kind == ForgeKind::Github && !out.contains_key(&host) {
            // github.com is the `github:` section's forge.
            r.forge = Some(ForgeKind::Github);
            continue;
        }
        if !out.contains_key(&host) {
            let (api, token_env) = match default_forge(&host) {
                Some((_, api, env)) => (api.to_string(), Some(env.to_string())),
                None => (kind.api_url_on(&host), None),
            };
            let api_url = ApiUrl::parse(&api).map_err(|m| conflict(format!("{at}.host"), m))?;
            out.insert(
                host.clone(),
                Forge {
                    kind,
                    api_url,
                    token_env,
                    ca_cert: None,
                },
            );
        }
        r.forge = Some(kind);
        r.host = Some(host);
    }
    Ok(out)
}

/// Refuses nested groups (`owner: a/b`) on a forge without them.
fn check_nesting(r: &Repository, kind: ForgeKind, at: &str) -> Result<(), ConfigError> {
    if kind != ForgeKind::Gitlab && r.owner.contains('/') {
        return Err(ConfigError::Conflict {
            path: PathBuf::new(),
            key: format!("{at}.owner"),
            message: format!(
                "a group path (`a/b`) is GitLab's only; {} owners are one name",
                kind.as_str()
            ),
        });
    }
    Ok(())
}

/// Builds `notify`: the section, the plan's `post_download.notify` targets folded in, and the
/// secrets from the environment. An enabled target that cannot send is warned about.
fn notify(
    raw: Option<RawNotify>,
    post_targets: &[NotifyTarget],
    env: &Env,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<NotifySettings, ConfigError> {
    let raw = raw.unwrap_or_default();
    let mut out = NotifySettings::default();
    if let Some(mut on) = raw.on {
        on.sort();
        on.dedup();
        out.on = on;
    }
    let mut slack = raw.slack.map(|s| SlackNotify {
        webhook_url: s.webhook_url.and_then(|u| u.0),
        channel: s.channel.map(|c| c.0),
        username: s.username.map(|u| u.0),
    });
    let mut webhooks: Vec<WebhookNotify> = raw
        .webhooks
        .unwrap_or_default()
        .into_iter()
        .map(|w| WebhookNotify {
            url: w.url.0,
            secret: w.secret.map(|s| s.0),
        })
        .collect();
    let mut email = raw.email.map(|e| EmailNotify {
        smtp_host: e.smtp_host,
        smtp_port: e.smtp_port.unwrap_or(DEFAULT_SMTP_PORT),
        username: e.username,
        password: e.password,
        from: e.from,
        to: e.to,
        starttls: e.starttls.unwrap_or(true),
        subject: e.subject.unwrap_or_else(|| DEFAULT_SUBJECT.to_string()),
    });

    for target in post_targets {
        match target.expose() {
            "slack" => {
                slack.get_or_insert(SlackNotify {
                    webhook_url: None,
                    channel: None,
                    username: None,
                });
            }
            "email" => {
                if email.is_none() {
                    warnings.push(ConfigWarning::new(
                        WarningKind::IncompleteNotify,
                        POST_NOTIFY_KEY,
                        format!(
                            "`{POST_NOTIFY_KEY}` asks for email, but `notify.email` is not \
                             configured; no e-mail will be sent"
                        ),
                    ));
                }
            }
            REDACTED => warnings.push(ConfigWarning::new(
                WarningKind::IncompleteNotify,
                POST_NOTIFY_KEY,
                format!("`{POST_NOTIFY_KEY}` holds a redacted URL (`***`); it is ignored"),
            )),
            url => {
                if !webhooks.iter().any(|w| w.url.expose() == url) {
                    webhooks.push(WebhookNotify {
                        url: Secret::new(url),
                        secret: None,
                    });
                }
            }
        }
    }

    if let Some(s) = slack.as_mut() {
        if let Some(v) = env.get_non_empty(SLACK_WEBHOOK_URL) {
            check_webhook_url(v).map_err(|message| ConfigError::Env {
                var: SLACK_WEBHOOK_URL.to_string(),
                message,
            })?;
            tracing::debug!("SLACK_WEBHOOK_URL overrides notify.slack.webhook_url");
            s.webhook_url = Some(Secret::new(v.trim()));
        }
        if s.webhook_url.is_none() {
            warnings.push(ConfigWarning::new(
                WarningKind::IncompleteNotify,
                "notify.slack.webhook_url",
                "Slack notifications are enabled but no webhook URL is set \
                 (`notify.slack.webhook_url` or SLACK_WEBHOOK_URL); sending them will fail",
            ));
        }
    }
    if let Some(e) = email.as_mut() {
        if let Some(v) = env.get_non_empty(SMTP_PASSWORD) {
            tracing::debug!("SMTP_PASSWORD overrides notify.email.password");
            e.password = Some(Secret::new(v));
        }
        if e.username.is_some() != e.password.is_some() {
            let (key, message) = if e.username.is_some() {
                (
                    "notify.email.password",
                    "`notify.email.username` is set but no password (`notify.email.password` or \
                     SMTP_PASSWORD); mail is sent without SMTP AUTH",
                )
            } else {
                (
                    "notify.email.username",
                    "a password is set but no `notify.email.username`; mail is sent without \
                     SMTP AUTH",
                )
            };
            warnings.push(ConfigWarning::new(
                WarningKind::IncompleteNotify,
                key,
                message,
            ));
        }
    }
    out.slack = slack;
    out.webhooks = webhooks;
    out.email = email;
    Ok(out)
}

fn repositories(
    list: Vec<RawRepository>,
    prefix: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> Vec<Repository> {
    if list.is_empty() {
        warnings.push(ConfigWarning::new(
            WarningKind::NoRepositories,
            prefix,
            format!("`{prefix}` lists no repository; nothing will be checked"),
        ));
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.into_iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        let full = match (r.host.as_deref(), r.forge.and_then(ForgeKind::default_host)) {
            (Some(host), _) | (None, Some(host)) => format!("{host}/{}/{}", r.owner, r.repo),
            (None, None) => format!("{}/{}", r.owner, r.repo),
        };
        if !seen.insert(full.to_ascii_lowercase()) {
            warnings.push(ConfigWarning::new(
                WarningKind::DuplicateRepository,
                at.clone(),
                format!("`{at}`: {full} is listed more than once; the first entry is used"),
            ));
            continue;
        }
        let (download_enabled, assets) = match r.download {
            Some(d) => (d.enabled, d.assets),
            None => (None, None),
        };
        let asset_patterns = merge_patterns(
            r.asset_patterns,
            assets,
            &format!("{at}.asset_patterns"),
            &format!("{at}.download.assets"),
            warnings,
        );
        out.push(Repository {
            host: r.host,
            forge: r.forge,
            owner: r.owner,
            repo: r.repo,
            description: r.description,
            include_prereleases: r.include_prereleases,
            tag_filter: r.tag_filter,
            version_strategy: r.version_strategy,
            target_version: r.target_version,
            asset_patterns,
            strict_prerelease_filtering: r.strict_prerelease_filtering,
            download_enabled,
            minimum_release_age: r.minimum_release_age,
            source: r.source.unwrap_or_default(),
            signing: r.signing.map(signing).unwrap_or_default(),
        });
    }
    out
}

/// Refuses verification settings that would have no effect: `require: signature` with
/// `signature: false`, trust keys without `signature: true`, keyless identity rules or a trusted
/// root when nothing keyless is checked. `Err` is (key path, message).
pub(crate) fn check_verification(config: &Config) -> Result<(), (String, String)> {
    let v = &config.download.verification;
    let keyless = v.signature || v.attestations;
    if v.require == Require::Signature && !v.signature {
        return Err((
            "download.verification.require".into(),
            "`signature` needs signatures checked, but download.verification.signature is false"
                .into(),
        ));
    }
    if v.trusted_root.is_some() && !keyless {
        return Err((
            "download.verification.trusted_root".into(),
            "has no effect: nothing keyless is checked (set download.verification.signature or \
             attestations to true)"
                .into(),
        ));
    }
    let blocks = config
        .repositories
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("repositories[{i}].signing"), &r.signing))
        .chain(
            config
                .download
                .repository_overrides
                .iter()
                .map(|(name, o)| {
                    (
                        format!("{}.signing", override_key(OVERRIDES_KEY, name)),
                        &o.signing,
                    )
                }),
        );
    for (at, signing) in blocks {
        let keys = [
            ("minisign", signing.minisign.is_some()),
            ("pgp", signing.pgp.is_some()),
            ("cosign", signing.cosign.is_some()),
        ];
        if let Some((key, _)) = keys.iter().find(|(_, set)| *set)
            && !v.signature
        {
            return Err((
                format!("{at}.{key}"),
                "has no effect: keys are used only with download.verification.signature: true"
                    .into(),
            ));
        }
        let identity = [
            ("workflow", signing.workflow.is_some()),
            ("repository", signing.repository.is_some()),
        ];
        if let Some((key, _)) = identity.iter().find(|(_, set)| *set)
            && !keyless
        {
            return Err((
                format!("{at}.{key}"),
                "has no effect: keyless signatures are checked only with \
                 download.verification.signature or attestations: true"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// The normalised `signing` block.
fn signing(raw: RawSigning) -> Signing {
    Signing {
        minisign: raw
            .minisign
            .map(|keys| keys.into_iter().map(|k| k.0).collect()),
        pgp: raw.pgp.map(|keys| keys.into_iter().map(|k| k.0).collect()),
        cosign: raw
            .cosign
            .map(|keys| keys.into_iter().map(|k| k.0).collect()),
        workflow: raw.workflow.map(|w| w.0),
        repository: raw.repository.map(|r| r.0),
    }
}

/// Combines the two spellings of a pattern list (strings first, then filter entries) and warns
/// about lists that can select nothing.
fn merge_patterns(
    strings: Option<Vec<AssetPattern>>,
    entries: Option<Vec<FilterEntry>>,
    strings_key: &str,
    entries_key: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> Option<Vec<AssetPattern>> {
    let entries = entries.map(|v| v.into_iter().map(|e| e.0).collect::<Vec<_>>());
    let (merged, key) = match (strings, entries) {
        (None, None) => return None,
        (Some(s), None) => (s, strings_key),
        (None, Some(e)) => (e, entries_key),
        (Some(mut s), Some(e)) => {
            warnings.push(ConfigWarning::new(
                WarningKind::BothSpellings,
                entries_key,
                format!(
                    "both `{strings_key}` and `{entries_key}` are set; they are combined \
                     (`{strings_key}` first)"
                ),
            ));
            s.extend(e);
            (s, entries_key)
        }
    };
    if !merged.is_empty() && merged.iter().all(AssetPattern::is_exclude) {
        warnings.push(ConfigWarning::new(
            WarningKind::OnlyExclusions,
            key,
            format!(
                "`{key}` holds only exclusions, so it selects no asset; add \"*\" first to \
                 select everything else"
            ),
        ));
    }
    Some(merged)
}

fn source_archives(base: SourceArchives, raw: RawSourceArchives) -> SourceArchives {
    SourceArchives {
        enabled: raw.enabled.unwrap_or(base.enabled),
        prefer: raw.prefer.unwrap_or(base.prefer),
        fallback_only: raw.fallback_only.unwrap_or(base.fallback_only),
    }
}

/// `repositories` holds the lower-cased `owner/repo` of every configured repository.
fn download(
    d: RawDownload,
    env_merge: Option<BTreeMap<FullName, RawOverride>>,
    repositories: &HashSet<String>,
    env: &Env,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<DownloadSettings, ConfigError> {
    let asset_patterns = merge_patterns(
        d.asset_patterns,
        d.filters,
        "download.asset_patterns",
        "download.filters",
        warnings,
    )
    .unwrap_or_default();

    let source_archives_global = d
        .source_archives
        .map(|raw| source_archives(SourceArchives::default(), raw))
        .unwrap_or_default();

    let (strategy, pre_release) = match d.version_strategy {
        Some(b) => (b.strategy, b.pre_release),
        None => (None, None),
    };

    let s3_storage = s3_storage(d.s3_storage, d.storage, warnings);

    // File overrides, then environment overrides merged over them field by field.
    let mut raw_overrides: BTreeMap<String, RawOverride> = d
        .repository_overrides
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.0, v))
        .collect();
    // Where each entry is reported: the file's key if the file has it, else the variable.
    let mut only_env: BTreeSet<String> = BTreeSet::new();
    if let Some(map) = env_merge {
        tracing::debug!(
            count = map.len(),
            "REPOSITORY_OVERRIDES merges repository_overrides"
        );
        for (k, over) in map {
            let merged = match raw_overrides.remove(&k.0) {
                Some(file) => file.merged(over),
                None => {
                    only_env.insert(k.0.clone());
                    over
                }
            };
            raw_overrides.insert(k.0, merged);
        }
    }
    let repository_overrides = raw_overrides
        .into_iter()
        .map(|(name, o)| {
            let prefix = if only_env.contains(&name) {
                REPOSITORY_OVERRIDES
            } else {
                OVERRIDES_KEY
            };
            let at = override_key(prefix, &name);
            // An override that names no configured repository is probably a typo.
            if !repositories.contains(&name.to_ascii_lowercase()) {
                warnings.push(ConfigWarning::new(
                    WarningKind::UnusedOverride,
                    at.clone(),
                    format!("`{at}` matches no configured repository"),
                ));
            }
            let asset_patterns = merge_patterns(
                o.asset_patterns,
                o.filters,
                &format!("{at}.asset_patterns"),
                &format!("{at}.filters"),
                warnings,
            );
            let value = RepositoryOverride {
                target_version: o.target_version.map(|t| t.0),
                asset_patterns,
                source_archives: o
                    .source_archives
                    .map(|raw| source_archives(source_archives_global, raw)),
                include_prereleases: o.include_prereleases,
                strict_prerelease_filtering: o.strict_prerelease_filtering,
                version_strategy: o.version_strategy,
                tag_filter: o.tag_filter,
                minimum_release_age: o.minimum_release_age,
                signing: o.signing.map(signing).unwrap_or_default(),
            };
            (name, value)
        })
        .collect();

    let directory = match env.get_non_empty(DOWNLOAD_DIR) {
        Some(v) => {
            tracing::debug!("DOWNLOAD_DIR overrides download.directory");
            PathBuf::from(v)
        }
        None => d
            .directory
            .map_or_else(|| PathBuf::from(DEFAULT_DIRECTORY), |p| p.0),
    };
    let artifactory_storage = artifactory(d.artifactory_storage, env)?;
    let version_db = match version_db_from_env(env) {
        Some(v) => {
            tracing::debug!("the environment overrides download.version_db");
            v
        }
        None => match d.version_db {
            Some(p) => p.0,
            // The seed tool keeps the database beside the files when Artifactory is enabled.
            None => artifactory_storage
                .default_db_location()
                .map_or_else(|| PathBuf::from(DEFAULT_VERSION_DB), PathBuf::from),
        },
    };

    let verification = d.verification.map_or_else(Verification::default, |v| {
        let def = Verification::default();
        let require = v.require.unwrap_or(def.require);
        // `require: signature` means signatures are checked, unless `signature` says otherwise
        // (which `check_verification` refuses).
        let signature = v
            .signature
            .unwrap_or(def.signature || require == Require::Signature);
        Verification {
            // Always on: `false` is refused by the loader.
            checksum: true,
            signature,
            attestations: v.attestations.unwrap_or(signature),
            require,
            trusted_root: v.trusted_root.map(|t| t.0),
        }
    });
    let retry = d.retry.map_or_else(Retry::default, |r| {
        let def = Retry::default();
        Retry {
            max_attempts: r.max_attempts.map_or(def.max_attempts, |v| v.0),
            delay: r.delay.map_or(def.delay, |v| v.0),
        }
    });
    let post_download = d.post_download.map_or_else(
        || PostDownload {
            verify_checksum: true,
            ..PostDownload::default()
        },
        |p| PostDownload {
            // Always on: `false` is refused by the loader.
            verify_checksum: true,
            extract: p.extract.unwrap_or(false),
            extract_limits: p.extract_limits.map_or_else(ExtractLimits::default, |l| {
                let def = ExtractLimits::default();
                ExtractLimits {
                    max_bytes: l.max_bytes.map_or(def.max_bytes, |v| v.0),
                    max_ratio: l.max_ratio.map_or(def.max_ratio, |v| v.0),
                    max_files: l.max_files.map_or(def.max_files, |v| v.0),
                }
            }),
            notify: p
                .notify
                .unwrap_or_default()
                .into_iter()
                .map(NotifyTarget::new)
                .collect(),
        },
    );

    Ok(DownloadSettings {
        enabled: d.enabled.unwrap_or(false),
        directory,
        version_db,
        timeout: d.timeout.map_or(DEFAULT_DOWNLOAD_TIMEOUT, |v| v.0),
        asset_patterns,
        include_prereleases: d.include_prereleases.or(pre_release),
        strict_prerelease_filtering: d.strict_prerelease_filtering.unwrap_or(false),
        source_archives: source_archives_global,
        // Always on: `false` is refused by the loader.
        verify_downloads: true,
        cleanup_old_versions: d.cleanup_old_versions.unwrap_or(false),
        keep_versions: d.keep_versions.map_or(DEFAULT_KEEP_VERSIONS, |v| v.0),
        concurrency: d.concurrency.map_or(DEFAULT_DOWNLOAD_CONCURRENCY, |v| v.0),
        segments: {
            let s = d.segments.unwrap_or_default();
            Segments {
                connections: s.connections.map_or(DEFAULT_SEGMENT_CONNECTIONS, |v| v.0),
                min_size: s.min_size.map_or(DEFAULT_SEGMENT_MIN_SIZE, |v| v.0),
            }
        },
        s3_storage,
        http_storage: http_storage(d.http_storage, env),
        artifactory_storage,
        repository_overrides,
        verification,
        retry,
        version_strategy: strategy.unwrap_or_default(),
        post_download,
    })
}

/// Folds the plan's `storage:` into the seed tool's `s3_storage:`.
fn s3_storage(
    s3: Option<RawS3Storage>,
    storage: Option<RawStorage>,
    warnings: &mut Vec<ConfigWarning>,
) -> S3Storage {
    let base = |s: RawS3Storage| S3Storage {
        enabled: s.enabled.unwrap_or(false),
        bucket: s.bucket,
        prefix: s.prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
        region: s.region,
        endpoint_url: s.endpoint_url,
    };
    match (s3, storage) {
        (None, None) => S3Storage::default(),
        (Some(s), None) => base(s),
        (None, Some(st)) => match st.kind {
            StorageType::Local => S3Storage::default(),
            StorageType::S3 => S3Storage {
                enabled: true,
                bucket: st.bucket,
                prefix: st.prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
                region: st.region,
                endpoint_url: st.endpoint_url,
            },
        },
        (Some(s), Some(st)) => {
            warnings.push(ConfigWarning::new(
                WarningKind::BothSpellings,
                "download.storage",
                "both `download.s3_storage` and `download.storage` are set; `s3_storage` values \
                 win and `storage` fills the keys it leaves out",
            ));
            match st.kind {
                StorageType::Local => base(s),
                StorageType::S3 => S3Storage {
                    enabled: s.enabled.unwrap_or(true),
                    bucket: s.bucket.or(st.bucket),
                    prefix: s
                        .prefix
                        .or(st.prefix)
                        .unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
                    region: s.region.or(st.region),
                    endpoint_url: s.endpoint_url.or(st.endpoint_url),
                },
            }
        }
    }
}

/// `download.http_storage`, with the password and token from the environment when set there.
fn http_storage(h: Option<RawHttpStorage>, env: &Env) -> HttpStorage {
    let mut out = h
        .map(|h| HttpStorage {
            enabled: h.enabled.unwrap_or(false),
            url: h.url,
            username: h.username,
            password: h.password,
            token: h.token,
        })
        .unwrap_or_default();
    if let Some(v) = env.get_non_empty(HTTP_STORAGE_PASSWORD) {
        tracing::debug!("HTTP_STORAGE_PASSWORD overrides download.http_storage.password");
        out.password = Some(Secret::new(v));
    }
    if let Some(v) = env.get_non_empty(HTTP_STORAGE_TOKEN) {
        tracing::debug!("HTTP_STORAGE_TOKEN overrides download.http_storage.token");
        out.token = Some(Secret::new(v));
    }
    out
}

/// An enabled Artifactory store needs its server and repository, at most one way to sign in,
/// and no other remote store beside it.
fn check_artifactory(a: &ArtifactoryStorage, other_store: bool) -> Result<(), (String, String)> {
    if !a.enabled {
        return Ok(());
    }
    let key = |k: &str| format!("download.artifactory_storage.{k}");
    if other_store {
        return Err((
            key("enabled"),
            "`download.s3_storage` or `download.http_storage` is enabled too; a run copies the \
             mirror to one remote store, so enable one of them"
                .into(),
        ));
    }
    if a.base_url.is_none() {
        return Err((
            key("base_url"),
            "required when Artifactory is enabled (or ARTIFACTORY_URL)".into(),
        ));
    }
    if a.repository.is_none() {
        return Err((
            key("repository"),
            "required when Artifactory is enabled (or ARTIFACTORY_REPOSITORY)".into(),
        ));
    }
    if a.access_token.is_some() && (a.password.is_some() || a.api_key.is_some()) {
        return Err((
            key("password"),
            "ARTIFACTORY_ACCESS_TOKEN is set together with a password or an API key; keep one way \
             to sign in"
                .into(),
        ));
    }
    if a.password.is_some() && a.api_key.is_some() {
        return Err((
            key("api_key"),
            "both a password and an API key are set (in the file or ARTIFACTORY_PASSWORD / \
             ARTIFACTORY_API_KEY); keep one"
                .into(),
        ));
    }
    if a.password.is_some() && a.username.is_none() {
        return Err((
            key("username"),
            "a password needs a username (or ARTIFACTORY_USERNAME)".into(),
        ));
    }
    Ok(())
}

/// Remote stores that cannot hold together: two enabled at once (a run copies to one), or an
/// HTTP store with half of basic auth, or basic auth and a token (from the file and the
/// environment together).
pub(crate) fn check_storage(config: &Config) -> Result<(), (String, String)> {
    let d = &config.download;
    let h = &d.http_storage;
    if d.s3_storage.enabled && h.enabled {
        return Err((
            "download.http_storage.enabled".into(),
            "`download.s3_storage` is enabled too; a run copies the mirror to one remote store, \
             so enable one of them"
                .into(),
        ));
    }
    check_artifactory(&d.artifactory_storage, d.s3_storage.enabled || h.enabled)?;
    if !h.enabled {
        // A disabled store's credentials (an environment variable set for another job) are
        // not used, so they cannot conflict.
        return Ok(());
    }
    if h.token.is_some() && (h.username.is_some() || h.password.is_some()) {
        return Err((
            "download.http_storage.token".into(),
            "a token (the file's `token` or HTTP_STORAGE_TOKEN) and basic auth (`username`, \
             `password` or HTTP_STORAGE_PASSWORD) are both set; keep one"
                .into(),
        ));
    }
    if h.username.is_some() != h.password.is_some() {
        return Err((
            "download.http_storage.password".into(),
            "basic auth needs both `username` and `password` (or HTTP_STORAGE_PASSWORD)".into(),
        ));
    }
    Ok(())
}

/// `download.artifactory_storage`, with the `ARTIFACTORY_*` environment variables winning over
/// the file (the seed tool's Concourse tasks pass everything that way). `ARTIFACTORY_URL` and
/// `ARTIFACTORY_REPOSITORY` together enable the store, as `VERSION_DB_S3_BUCKET` selects a
/// bucket. An environment value that is not a usable URL is an error naming the variable.
pub(crate) fn artifactory(
    a: Option<RawArtifactory>,
    env: &Env,
) -> Result<ArtifactoryStorage, ConfigError> {
    let mut out = match a {
        None => ArtifactoryStorage::default(),
        Some(a) => ArtifactoryStorage {
            enabled: a.enabled.unwrap_or(false),
            base_url: a.base_url,
            repository: a.repository,
            path_prefix: a.path_prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_string()),
            username: a.username,
            password: a.password,
            api_key: a.api_key,
            access_token: None,
            verify_ssl: a.verify_ssl.unwrap_or(true),
        },
    };
    let url = env.get_non_empty(ARTIFACTORY_URL);
    if let Some(v) = url {
        out.base_url = Some(secure_base_url(v).map_err(|message| ConfigError::Env {
            var: ARTIFACTORY_URL.to_string(),
            message,
        })?);
    }
    let repository = env.get_non_empty(ARTIFACTORY_REPOSITORY);
    if let Some(v) = repository {
        out.repository = Some(v.to_string());
    }
    if url.is_some() && repository.is_some() {
        out.enabled = true;
    }
    if let Some(v) = env.get_non_empty(ARTIFACTORY_USERNAME) {
        out.username = Some(v.to_string());
    }
    for (var, slot) in [
        (ARTIFACTORY_PASSWORD, &mut out.password),
        (ARTIFACTORY_API_KEY, &mut out.api_key),
        (ARTIFACTORY_ACCESS_TOKEN, &mut out.access_token),
    ] {
        if let Some(v) = env.get_non_empty(var) {
            tracing::debug!("{var} is set and used for Artifactory");
            *slot = Some(Secret::new(v));
        }
    }
    if let Some(v) = env.get_non_empty(ARTIFACTORY_SKIP_SSL_VERIFICATION) {
        match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => out.verify_ssl = false,
            "false" | "0" | "no" => {}
            _ => {
                return Err(ConfigError::Env {
                    var: ARTIFACTORY_SKIP_SSL_VERIFICATION.to_string(),
                    message: "expected true or false".to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// `github.app` with the `GITHUB_APP_*` variables winning over the file; `None` when neither
/// says anything. Whether the pieces fit together is [`check_github_app`]'s job.
fn github_app(raw: Option<RawGithubApp>, env: &Env) -> Result<Option<GithubApp>, ConfigError> {
    let env_err = |var: &str, message: String| ConfigError::Env {
        var: var.to_string(),
        message,
    };
    let number = |var: &str| -> Result<Option<u64>, ConfigError> {
        env.get_non_empty(var)
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| env_err(var, "expected a number".to_string()))
            })
            .transpose()
    };
    let env_id = number(GITHUB_APP_ID)?;
    let env_installation = number(GITHUB_APP_INSTALLATION_ID)?;
    let env_key = match (
        env.get_non_empty(GITHUB_APP_PRIVATE_KEY),
        env.get_non_empty(GITHUB_APP_PRIVATE_KEY_FILE),
    ) {
        (Some(pem), _) => {
            check_app_key(pem).map_err(|m| env_err(GITHUB_APP_PRIVATE_KEY, m))?;
            Some((Secret::new(pem), None))
        }
        (None, Some(file)) => {
            let path = PathBuf::from(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                env_err(
                    GITHUB_APP_PRIVATE_KEY_FILE,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            check_app_key(&text).map_err(|m| env_err(GITHUB_APP_PRIVATE_KEY_FILE, m))?;
            Some((Secret::new(text), Some(path)))
        }
        (None, None) => None,
    };
    let raw = raw.unwrap_or_default();
    if raw.id.is_none()
        && raw.private_key_file.is_none()
        && raw.installation_id.is_none()
        && env_id.is_none()
        && env_key.is_none()
        && env_installation.is_none()
    {
        return Ok(None);
    }
    let (private_key, private_key_file) = match (env_key, raw.private_key_file) {
        (Some((pem, path)), _) => (Some(pem), path),
        (None, Some(file)) => (Some(file.pem), Some(file.path)),
        (None, None) => (None, None),
    };
    Ok(Some(GithubApp {
        id: env_id.or(raw.id),
        private_key,
        private_key_file,
        installation_id: env_installation.or(raw.installation_id),
    }))
}

/// A GitHub App needs its id and its private key.
pub(crate) fn check_github_app(config: &Config) -> Result<(), (String, String)> {
    let Some(app) = &config.github.app else {
        return Ok(());
    };
    if app.id.is_none() {
        return Err((
            "github.app.id".into(),
            "a GitHub App needs its id (or GITHUB_APP_ID)".into(),
        ));
    }
    if app.private_key.is_none() {
        return Err((
            "github.app.private_key_file".into(),
            "a GitHub App needs its private key (private_key_file, GITHUB_APP_PRIVATE_KEY or \
             GITHUB_APP_PRIVATE_KEY_FILE)"
                .into(),
        ));
    }
    Ok(())
}
