#!/usr/bin/env bash
# Scale benchmark: re-check REPOS unchanged repositories (default 1000) against the local fake
# GitHub with LATENCY_MS of added latency on every response (default 50), and print the wall
# time and the calls counted against the rate limit (goal: at most 5 s and 25 calls).
#
# The version database holds every repository's newest release, so nothing is new. Each path is
# run twice with the same state file; the second run is the re-check:
#   - with a token: GraphQL, 50 repositories per query (the default);
#   - without a token: REST with the ETag state (a 304 is free), with the defaults (the adaptive
#     API limit, ceiling `settings.concurrency` 32), and with `settings.concurrency: 4` (the
#     old default) for comparison.
#
#   bench/scale.sh                       # needs: python3
#   REPOS=200 LATENCY_MS=100 bench/scale.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

REPOS="${REPOS:-1000}"
LATENCY_MS="${LATENCY_MS:-50}"
TOKEN="bench-token-0123456789"

command -v python3 >/dev/null || { echo "bench/scale.sh: python3 is missing" >&2; exit 2; }

cargo build --release -q -p release-monitor -p fake-github
rm_bin="$PWD/target/release/release-monitor"
fake_bin="$PWD/target/release/fake-github"

work="$(mktemp -d -t rm-scale.XXXXXX)"
fake_pid=""
cleanup() {
    [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The scenario (REPOS repositories with two releases each, the newest with one asset), the
# repository list for the config, and a version database that holds every newest release.
python3 - "$work" "$REPOS" "$TOKEN" <<'EOF'
import json, sys
work, n, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(f"{work}/scenario.yaml", "w") as f:
    f.write(f"token: {token}\nrate_limit: {{limit: 100000}}\nrepositories:\n")
    for i in range(n):
        f.write(f"  - owner: bench\n    repo: r{i}\n    releases:\n"
                f"      - tag_name: v1.1.{i}\n        assets:\n"
                f"          - {{name: r{i}-linux-amd64.tar.gz, size: 1024}}\n"
                f"      - {{tag_name: v1.0.{i}}}\n")
with open(f"{work}/repos.yaml", "w") as f:
    f.write("repositories:\n")
    for i in range(n):
        f.write(f"  - {{owner: bench, repo: r{i}}}\n")
stamp = "2026-01-01T00:00:00.000000+00:00"
db = {"metadata": {"created_at": stamp, "version": "1.0",
                   "description": "GitHub Release Monitor Version Database", "last_updated": stamp},
      "repositories": {f"bench/r{i}": {"owner": "bench", "repo": f"r{i}", "current_version": f"v1.1.{i}",
                                       "last_updated": stamp, "download_history": []} for i in range(n)}}
json.dump(db, open(f"{work}/version_db.json", "w"))
EOF

"$fake_bin" --scenario "$work/scenario.yaml" --latency-ms "$LATENCY_MS" --quiet \
    >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^ca_cert=' "$work/fake.out" 2>/dev/null && break; sleep 0.1; done
ca="$(sed -n 's/^ca_cert=//p' "$work/fake.out")"
api="$(sed -n 's/^api_url=//p' "$work/fake.out")"
[[ -n "$ca" && -n "$api" ]] || { echo "the fake GitHub did not start" >&2; cat "$work/fake.err" >&2; exit 1; }

write_config() { # $1 = name, $2 = concurrency ("": the default), $3 = graphql (true/false)
    {
        cat "$work/repos.yaml"
        [[ -n "$2" ]] && echo "settings: {concurrency: $2}"
        echo "github: {api_url: \"$api\", ca_cert: \"$ca\", timeout: 60, graphql: $3}"
        echo "download: {version_db: \"$work/version_db.json\"}"
    } >"$work/$1.yaml"
}

run() { # $1 = label, $2 = config name, $3 = token or "", $4 = run (first / re-check)
    local start end token_env=()
    [[ -n "$3" ]] && token_env=(GITHUB_TOKEN="$3")
    start="$(date +%s.%N)"
    env -u GITHUB_TOKEN -u GH_TOKEN -u GITHUB_API_URL "${token_env[@]}" \
        "$rm_bin" -q --config "$work/$2.yaml" monitor --explain --state-file "$work/$2.state" \
        -o "$work/$2.json" 2>"$work/$2.err" || { echo "$1 failed:" >&2; tail -5 "$work/$2.err" >&2; return 1; }
    end="$(date +%s.%N)"
    python3 - "$1" "$4" "$start" "$end" "$work/$2.err" "$work/$2.json" <<'EOF'
import json, re, sys
label, which, start, end, err, out = sys.argv[1:]
text = open(err).read()
calls = re.search(r"API calls: (\d+) requests \((\d+) GraphQL queries costing (\d+) points, (\d+) REST\), "
                  r"(\d+) answered 304 \(free\), (\d+) counted against the rate limit", text)
peak = re.search(r"API concurrency limit: peaked at (\d+)", text)
report = json.load(open(out))
requests, queries, cost, rest, free, limited = (int(g) for g in calls.groups())
print(f"{label:<34} {which:<9} {float(end) - float(start):7.2f} s  {limited:5d} rate-limited  "
      f"({queries} GraphQL, cost {cost}; {rest} REST, {free} of them 304; limit peaked at {peak.group(1)})  "
      f"new {report['new_releases_found']}, errors {len(report['errors'])}")
EOF
}

echo "$REPOS unchanged repositories, ${LATENCY_MS} ms added latency per response"
write_config graphql "" true
run "token: GraphQL, defaults" graphql "$TOKEN" first
run "token: GraphQL, defaults" graphql "$TOKEN" re-check
write_config rest "" false
run "no token: REST+ETag, defaults" rest "" first
run "no token: REST+ETag, defaults" rest "" re-check
write_config rest4 4 false
run "no token: REST+ETag, concurrency 4" rest4 "" first
run "no token: REST+ETag, concurrency 4" rest4 "" re-check
