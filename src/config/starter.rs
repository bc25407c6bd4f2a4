//! The starter configuration `release-monitor config init` writes: every section with its
//! defaults and a comment on what each key does, the chosen repositories, and secrets only as
//! the names of the environment variables that hold them. It loads without a warning (a test
//! checks it normalises to the same configuration as the bare repository list, but for
//! `download.enabled`, which it turns on).

/// The starter file for `repositories` (`owner/repo`, or `host/path` on another forge).
pub fn starter(repositories: &[String]) -> String {
    let repos: String = repositories
        .iter()
        .map(|r| format!("  - {}\n", yaml_string(r)))
        .collect();
    format!(
        r#"# release-monitor configuration, written by `release-monitor config init`.
# Every key below is at its default unless it says otherwise; `release-monitor config check`
# prints the whole configuration as it is read. The reference: docs/src/configuration.md.
# Secrets never go in this file: they come from the environment variables named below.

# The repositories to watch: "owner/repo" on github.com, or a mapping with more keys, e.g.
#   - {{owner: jqlang, repo: jq, asset_patterns: ["jq-linux-amd64"]}}
#   - {{owner: gitlab-org, repo: cli, forge: gitlab}}     # GitLab; Gitea/Forgejo: forge: gitea
#   - {{owner: nginx, repo: nginx, source: tags}}         # projects that only push tags
repositories:
{repos}
settings:
  rate_limit_delay: 0            # least seconds between two API calls
  max_releases_per_repo: 10      # recent releases examined per repository
  include_prereleases: false
  concurrency: 32                # most API calls at once (an adaptive limit up to this)
  minimum_release_age: 0s        # a cooldown before adopting a release, e.g. 3d

# The token comes from GITHUB_TOKEN (or GH_TOKEN); a GitHub App from GITHUB_APP_ID,
# GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID.
github:
  api_url: https://api.github.com   # GitHub Enterprise: https://HOST/api/v3 (or GITHUB_API_URL)
  # ca_cert: /etc/ssl/certs/corporate-ca.pem   # an extra CA to trust (default: SSL_CERT_FILE)
  timeout: 30                    # seconds per API request
  max_rate_limit_wait: 900       # longest wait for a rate-limit reset, in seconds
  graphql: true                  # with a token, list 50 repositories per GraphQL query

download:
  enabled: true                  # turned on here (the default, false, only monitors)
  directory: ./downloads
  version_db: ./version_db.json  # or s3://BUCKET/KEY, artifactory://REPOSITORY/PATH
  timeout: 300                   # seconds a transfer may wait for its next bytes
  asset_patterns: []             # globs of the assets to take; [] takes every asset
  version_strategy: auto         # auto, semver-strict, calver, date or pep440
  concurrency: 24                # transfers at once
  segments: {{connections: 16, min_size: 16777216}}   # large assets in ranged pieces
  retry: {{max_attempts: 3, delay: 5}}
  source_archives: {{enabled: true, prefer: tarball, fallback_only: true}}
  verification:
    checksum: true               # always: the API digest, checksum files or sidecars
    signature: false             # check signatures against the keys under a repository's signing:
    attestations: false          # ask GitHub for artifact attestations
    require: false               # true: refuse what no checksum proves; signature: what nothing signs
  cleanup_old_versions: false
  keep_versions: 5
  post_download:
    extract: false
    extract_limits: {{max_bytes: 4294967296, max_ratio: 200, max_files: 100000}}
  # Copies of every verified file (one store at a time):
  # s3_storage: {{enabled: true, bucket: my-bucket, prefix: release-monitor/}}   # AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
  # http_storage: {{enabled: true, url: https://dav.example.com/mirror}}        # HTTP_STORAGE_PASSWORD or HTTP_STORAGE_TOKEN
  # artifactory_storage: {{enabled: true, base_url: https://artifactory.example.com/artifactory, repository: generic-local}}   # ARTIFACTORY_ACCESS_TOKEN

notify:
  on: [found, downloaded]
  # slack: {{enabled: true}}                                   # SLACK_WEBHOOK_URL
  # webhooks: [{{url: https://hooks.example.com/release}}]
  # email: {{enabled: true, smtp_host: smtp.example.com, from: rm@example.com, to: [ops@example.com]}}   # SMTP_PASSWORD

# Other forges by host (gitlab.com with GITLAB_TOKEN and codeberg.org with CODEBERG_TOKEN need none):
# forges:
#   gitlab.example.com: {{type: gitlab, token_env: GITLAB_EXAMPLE_TOKEN}}

# `release-monitor serve`: the same run on a schedule, the mirror over HTTP, /metrics.
serve:
  listen: 127.0.0.1:8080
  interval: 1h
  stale_after: 3                 # /readyz fails after this many intervals without a good run
  # token_env: RELEASE_MONITOR_SERVE_TOKEN   # a bearer token for everything but /healthz
"#
    )
}

/// `s` as a YAML scalar: plain when that reads back as the same string, quoted otherwise.
fn yaml_string(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c));
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}
