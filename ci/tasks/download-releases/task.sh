#!/usr/bin/env bash
# Concourse task download-releases (ci/tasks/download-releases/task.yml): downloads, verifies and
# records the new releases of monitor-output/releases.json, then bundles what it stored into
# downloads/release-monitor-downloads-<UTC timestamp>.tgz, the one file an s3 put can upload.
#
# Runs in the task's working directory, which holds the inputs `release-monitor` (the repository
# with config.yaml and these ci/ files), `monitor-output` and, optionally, `version-db`, and the
# outputs `downloads` and `version-db` (the same directory as the input when it is given).
# Every param is declared in task.yml; an empty one counts as unset.
# Exit code: release-monitor's own (0 all done, 1 something failed, 2 config/usage error, an
# unreadable report or a damaged version database). Only on 0 is a bundle made, so a pipeline's
# puts run only after a complete download, and the version database never advances past files
# that were not uploaded.
set -euo pipefail

CONFIG_FILE="${CONFIG_FILE:-release-monitor/config.yaml}"
DOWNLOAD_DIR="${DOWNLOAD_DIR:-downloads}"
VERSION_DB_PATH="${VERSION_DB_PATH:-version-db/versions.json}"
DRY_RUN="${DRY_RUN:-false}"
# release-monitor reads these itself; they are only passed on here, never printed.
export GITHUB_TOKEN="${GITHUB_TOKEN:-}"
export GITHUB_API_URL="${GITHUB_API_URL:-}"
export REPOSITORY_OVERRIDES="${REPOSITORY_OVERRIDES:-}"
export DOWNLOAD_DIR VERSION_DB_PATH
release_monitor="${RELEASE_MONITOR_BIN:-release-monitor}"

report=monitor-output/releases.json
bundle_prefix=release-monitor-downloads-

fail() {
  echo "download-releases: $*" >&2
  exit 2
}

command -v "$release_monitor" >/dev/null 2>&1 ||
  fail "'$release_monitor' not found on PATH: run this task in the release-monitor image (see image_resource in task.yml), or set RELEASE_MONITOR_BIN"
for dir in downloads version-db; do
  [[ -d "$dir" ]] ||
    fail "no $dir/ directory in $PWD: run this script from the task's working directory, where Concourse puts its inputs and outputs"
done
[[ -f "$report" ]] || fail "no monitor report at $report (the monitor-output input)"

args=(--config "$CONFIG_FILE" download --input "$report")
case "${DRY_RUN,,}" in
  true | yes | 1) args+=(--dry-run) ;;
  false | no | 0) ;;
  *) fail "DRY_RUN must be true or false, not '$DRY_RUN'" ;;
esac
if [[ ! -e "$VERSION_DB_PATH" ]]; then
  echo "download-releases: no version database at $VERSION_DB_PATH: a new one is created" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results="$work/download-results.json"

status=0
"$release_monitor" "${args[@]}" >"$results" || status=$?
# The result (or, with DRY_RUN, the plan) in the build log.
cat "$results"
if [[ "$status" -ne 0 ]]; then
  echo "download-releases: release-monitor download exited $status: no bundle made" >&2
  exit "$status"
fi

# One tarball of everything under DOWNLOAD_DIR plus the result, written outside the outputs and
# moved in when complete, so it never contains itself (nor an older bundle).
mkdir -p "$DOWNLOAD_DIR"
download_dir_abs="$(cd "$DOWNLOAD_DIR" && pwd -P)"
entries=()
shopt -s nullglob dotglob
for path in "$download_dir_abs"/*; do
  name="${path##*/}"
  case "$name" in
    "$bundle_prefix"*.tgz | download-results.json) ;;
    *) entries+=("$name") ;;
  esac
done
shopt -u nullglob dotglob
members=(-C "$work" download-results.json)
if ((${#entries[@]} > 0)); then
  # After "--", a name that starts with "-" is still a name.
  members+=(-C "$download_dir_abs" -- "${entries[@]}")
fi

bundle="downloads/${bundle_prefix}$(date -u +%Y%m%d%H%M%S).tgz"
tar -czf "$work/bundle.tgz" "${members[@]}"
mv "$work/bundle.tgz" "$bundle"
echo "download-releases: bundled $DOWNLOAD_DIR and download-results.json into $bundle" >&2
