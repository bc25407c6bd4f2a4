#!/usr/bin/env bash
# Benchmarks the version engine (benches/version_compare.rs, criterion) and prints a summary of
# its throughput: compares per second and parses per second.
#
#   bench/version-compare.sh [CRITERION ARGS...]    e.g. bench/version-compare.sh compare/parsed
#
# The goal is at least 1 M compares/s for `compare/parsed`. The full criterion output is kept in
# target/version-compare-bench.txt; criterion's own data is in target/criterion/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

out="target/version-compare-bench.txt"
mkdir -p target
# criterion's results go to stdout; its progress lines go to stderr, shown as they come.
cargo bench --bench version_compare -- --noplot "$@" | tee "$out"

echo
echo "---- version_compare throughput (criterion's point estimate; [low estimate high] from its thrpt: line) ----"
awk '
    function per_second(value, unit) {
        if (unit ~ /^Gelem/) return value * 1e9
        if (unit ~ /^Melem/) return value * 1e6
        if (unit ~ /^Kelem/) return value * 1e3
        return value
    }
    # A result starts with the benchmark id at column 0 ("compare/parsed  time: [...]").
    /^[^[:space:]]/ && $1 ~ /\// { name = $1 }
    /thrpt:/ && /elem\/s/ {
        line = $0
        sub(/.*thrpt:[[:space:]]*\[/, "", line)
        sub(/\].*/, "", line)
        split(line, f, /[[:space:]]+/)
        # f: low unit mid unit high unit
        rate = per_second(f[3], f[4])
        what = (name ~ /^compare\//) ? "compares/s" : (name ~ /^parse\//) ? "parses/s" : "elements/s"
        printf "%-28s %10.2f M %-10s [%s]\n", name, rate / 1e6, what, line
        if (name == "compare/parsed") parsed = rate
    }
    END {
        if (parsed == "") { print "compare/parsed was not run"; exit }
        printf "goal >= 1 M compares/s (compare/parsed): %s\n", (parsed >= 1e6) ? "met" : "NOT met"
    }
' "$out"
