#!/usr/bin/env bash
# Downloads, verifies and records the new releases of a monitor report read from stdin, outside
# Concourse, and prints the result (JSON) on stdout; logs go to stderr. Extra arguments go to
# `release-monitor download` (e.g. --dry-run, --force, or --input FILE instead of stdin).
#
#   scripts/monitor.sh | scripts/download.sh
#   scripts/download.sh --dry-run < releases.json
#
# CONFIG_FILE (default config.yaml) is the config; GITHUB_TOKEN, GITHUB_API_URL,
# REPOSITORY_OVERRIDES, DOWNLOAD_DIR, VERSION_DB_PATH and SSL_CERT_FILE are read by
# release-monitor itself. The exit code is release-monitor's: 0 all done, 1 something failed,
# 2 config error, unreadable report or damaged version database.
set -euo pipefail

CONFIG_FILE="${CONFIG_FILE:-config.yaml}"
release_monitor="${RELEASE_MONITOR_BIN:-release-monitor}"

if ! command -v "$release_monitor" >/dev/null 2>&1; then
  echo "download.sh: '$release_monitor' not found on PATH: install it (cargo install --path .) or set RELEASE_MONITOR_BIN" >&2
  exit 2
fi

# The report comes from stdin unless an --input was given.
input=(--input -)
for arg in "$@"; do
  case "$arg" in
    --input | --input=* | -i | -i?*) input=() ;;
  esac
done

exec "$release_monitor" --config "$CONFIG_FILE" download "${input[@]}" "$@"
