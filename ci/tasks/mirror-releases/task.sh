#!/usr/bin/env bash
# Concourse task mirror-releases (ci/tasks/mirror-releases/task.yml): checks the configured
# repositories and mirrors their new releases into Artifactory with
# `release-monitor monitor --download`; the files and the version database live in Artifactory.
#
# Runs in the task's working directory, which holds the input `release-monitor` (the repository
# with config.yaml and these ci/ files) and the output `mirror-output`.
# Every param is declared in task.yml; an empty one counts as unset.
# Exit code: release-monitor's own (0 all done, 1 something failed, 2 config/usage error or a
# damaged version database). The report is written either way.
set -euo pipefail

CONFIG_FILE="${CONFIG_FILE:-release-monitor/config.yaml}"
DOWNLOAD_DIR="${DOWNLOAD_DIR:-downloads}"
# release-monitor reads these itself; they are only passed on here, never printed.
export GITHUB_TOKEN="${GITHUB_TOKEN:-}"
export GITHUB_API_URL="${GITHUB_API_URL:-}"
export REPOSITORY_OVERRIDES="${REPOSITORY_OVERRIDES:-}"
export ARTIFACTORY_URL="${ARTIFACTORY_URL:-}"
export ARTIFACTORY_REPOSITORY="${ARTIFACTORY_REPOSITORY:-}"
export ARTIFACTORY_ACCESS_TOKEN="${ARTIFACTORY_ACCESS_TOKEN:-}"
export ARTIFACTORY_USERNAME="${ARTIFACTORY_USERNAME:-}"
export ARTIFACTORY_PASSWORD="${ARTIFACTORY_PASSWORD:-}"
export ARTIFACTORY_API_KEY="${ARTIFACTORY_API_KEY:-}"
VERSION_DB_PATH="${VERSION_DB_PATH:-}"
# Nothing survives a build: by default the database is the seed tool's file in Artifactory, even
# when the config names a local one.
if [[ -z "$VERSION_DB_PATH" && -n "$ARTIFACTORY_REPOSITORY" ]]; then
  VERSION_DB_PATH="artifactory://$ARTIFACTORY_REPOSITORY/release-monitor/version_db.json"
fi
export VERSION_DB_PATH DOWNLOAD_DIR
release_monitor="${RELEASE_MONITOR_BIN:-release-monitor}"

fail() {
  echo "mirror-releases: $*" >&2
  exit 2
}

command -v "$release_monitor" >/dev/null 2>&1 ||
  fail "'$release_monitor' not found on PATH: run this task in the release-monitor image (see image_resource in task.yml), or set RELEASE_MONITOR_BIN"
[[ -d mirror-output ]] ||
  fail "no mirror-output/ directory in $PWD: run this script from the task's working directory, where Concourse puts its inputs and outputs"

report=mirror-output/releases.json
# The ETag state would not survive the build: keep it out of the working directory.
state_dir="$(mktemp -d)"
trap 'rm -rf "$state_dir"' EXIT
status=0
"$release_monitor" --config "$CONFIG_FILE" monitor --download \
  --state-file "$state_dir/release_state.json" >"$report" || status=$?
# The report in the build log.
cat "$report"
if [[ "$status" -ne 0 ]]; then
  echo "mirror-releases: release-monitor monitor --download exited $status" >&2
fi
exit "$status"
