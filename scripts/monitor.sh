#!/usr/bin/env bash
# Checks the configured repositories for new releases, outside Concourse, and prints the report
# (JSON) on stdout; logs go to stderr. Extra arguments go to `release-monitor monitor`.
#
#   scripts/monitor.sh > releases.json
#   scripts/monitor.sh | scripts/download.sh          # check, then download what is new
#
# CONFIG_FILE (default config.yaml) is the config; GITHUB_TOKEN, GITHUB_API_URL,
# REPOSITORY_OVERRIDES, VERSION_DB_PATH and SSL_CERT_FILE are read by release-monitor itself.
# The exit code is release-monitor's: 0 all checked, 1 some repositories failed, 2 config error.
set -euo pipefail

CONFIG_FILE="${CONFIG_FILE:-config.yaml}"
release_monitor="${RELEASE_MONITOR_BIN:-release-monitor}"

if ! command -v "$release_monitor" >/dev/null 2>&1; then
  echo "monitor.sh: '$release_monitor' not found on PATH: install it (cargo install --path .) or set RELEASE_MONITOR_BIN" >&2
  exit 2
fi

exec "$release_monitor" --config "$CONFIG_FILE" monitor "$@"
