#!/usr/bin/env bash
# Concourse task check-releases (ci/tasks/check-releases/task.yml): checks every repository of
# the config for new releases and writes the report to monitor-output/releases.json.
#
# Runs in the task's working directory, which holds the inputs `release-monitor` (the repository
# with config.yaml and these ci/ files) and, optionally, `version-db`, and the output
# `monitor-output`. Every param is declared in task.yml; an empty one counts as unset.
# Exit code: release-monitor's own (0 all checked, 1 some repositories failed, 2 config/usage
# error or a damaged version database).
set -euo pipefail

CONFIG_FILE="${CONFIG_FILE:-release-monitor/config.yaml}"
VERSION_DB_PATH="${VERSION_DB_PATH:-version-db/versions.json}"
# release-monitor reads these itself; they are only passed on here, never printed.
export GITHUB_TOKEN="${GITHUB_TOKEN:-}"
export GITHUB_API_URL="${GITHUB_API_URL:-}"
export REPOSITORY_OVERRIDES="${REPOSITORY_OVERRIDES:-}"
export VERSION_DB_PATH
release_monitor="${RELEASE_MONITOR_BIN:-release-monitor}"

report=monitor-output/releases.json

fail() {
  echo "check-releases: $*" >&2
  exit 2
}

command -v "$release_monitor" >/dev/null 2>&1 ||
  fail "'$release_monitor' not found on PATH: run this task in the release-monitor image (see image_resource in task.yml), or set RELEASE_MONITOR_BIN"
[[ -d monitor-output ]] ||
  fail "no monitor-output/ directory in $PWD: run this script from the task's working directory, where Concourse puts its inputs and outputs"
if [[ ! -e "$VERSION_DB_PATH" ]]; then
  echo "check-releases: no version database at $VERSION_DB_PATH: every release counts as new" >&2
fi

# ETags are kept between runs only to save API requests; nothing survives a Concourse build, so
# keep them out of the outputs.
state_dir="$(mktemp -d)"
trap 'rm -rf "$state_dir"' EXIT

status=0
"$release_monitor" --config "$CONFIG_FILE" monitor \
  --output "$report" \
  --state-file "$state_dir/release_state.json" || status=$?

# The report in the build log too (the only place it is kept by ci/pipeline-simple.yml).
if [[ -f "$report" ]]; then
  cat "$report"
fi
exit "$status"
