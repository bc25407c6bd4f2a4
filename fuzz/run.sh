#!/usr/bin/env bash
# Runs a cargo-fuzz target of release-monitor for a fixed time on stable Rust.
#
#   fuzz/run.sh [TARGET] [SECONDS]        defaults: version_parse 60
#
# Environment:
#   FUZZ_SANITIZER  sanitizer for `cargo fuzz run -s` (default: address; `none` is faster)
#   FUZZ_DEV        1: build without optimisations (`--dev`): much quicker to build, slower to
#                   run; what CI's smoke run uses
#   FUZZ_ARGS       extra libFuzzer flags, e.g. "-max_len=256", or "-fork=1 -ignore_crashes=1"
#                   to keep fuzzing after a crash and collect every crashing input
#
# Seeds in fuzz/seeds/TARGET/ (committed) are copied into fuzz/corpus/TARGET/ (ignored by git),
# so the fuzzer grows its corpus there without touching the seeds. A crash leaves its input in
# fuzz/artifacts/TARGET/ and makes this script exit non-zero.
set -euo pipefail

target="${1:-version_parse}"
seconds="${2:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
profile=()
if [[ "${FUZZ_DEV:-0}" == 1 ]]; then
    profile=(--dev)
fi
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: installing cargo-fuzz from crates.io" >&2
    cargo install --locked cargo-fuzz
fi

# cargo-fuzz passes -Zsanitizer and other unstable flags; stable rustc accepts them only so.
export RUSTC_BOOTSTRAP=1

corpus="corpus/$target"
mkdir -p "$corpus"
if [[ -d "seeds/$target" ]]; then
    cp -n "seeds/$target"/* "$corpus"/ 2>/dev/null || true
fi

echo "run.sh: building $target (sanitizer: $sanitizer)" >&2
cargo fuzz build "${profile[@]}" -s "$sanitizer" "$target"

log="$(mktemp -t "fuzz-$target.XXXXXX.log")"
artifacts="artifacts/$target"
mkdir -p "$artifacts"
started="$(mktemp -t "fuzz-$target.start.XXXXXX")"
echo "run.sh: fuzzing $target for ${seconds}s, corpus $corpus, log $log" >&2
status=0
TIMEFORMAT='run.sh: wall %Rs, CPU user %Us + sys %Ss'
time {
    cargo fuzz run "${profile[@]}" -s "$sanitizer" "$target" "$corpus" -- \
        -max_total_time="$seconds" -print_final_stats=1 "${extra_args[@]}" \
        >"$log" 2>&1 || status=$?
}

echo "---- libFuzzer summary ($target) ----"
# Plain mode ends with "#N DONE ..." and "Done N runs in S second(s)"; fork mode (-fork=N) with
# "#N: cov: ... crash: a/b/c time: Ss" status lines and "INFO: fuzzed for S seconds".
grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs in|^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' "$log" || true
grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true
grep -E '^INFO: (fuzzed for|exiting:)' "$log" || true

mapfile -t crashes < <(find "$artifacts" -type f -newer "$started" | sort)
rm -f "$started"
if [[ $status -ne 0 || ${#crashes[@]} -gt 0 ]]; then
    echo "---- fuzzer exited with status $status, ${#crashes[@]} new artifact(s) in $artifacts (full log: $log) ----"
    grep -m1 -A6 -E 'panicked at|ERROR: AddressSanitizer' "$log" || true
    for crash in "${crashes[@]:0:10}"; do
        echo "$crash  base64: $(base64 -w0 "$crash")"
    done
    if [[ ${#crashes[@]} -gt 10 ]]; then
        echo "... and $((${#crashes[@]} - 10)) more"
    fi
    echo "reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s $sanitizer $target ARTIFACT)"
    exit "$(( status == 0 ? 1 : status ))"
fi
echo "no crash; full log: $log"
