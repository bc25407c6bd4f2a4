#!/usr/bin/env bash
# Serving benchmark: `release-monitor serve` against nginx, both over HTTPS on loopback with the
# same certificate, serving the same mirror (FILES files of FILE_MB MB, mirrored first from the
# local fake GitHub). wrk drives CONNECTIONS (64) connections for DURATION seconds (10) per run: whole
# files, then 64 KiB ranges; REPEAT (3) runs each, in turn. The table shows each server's median
# throughput (MiB/s) and requests per second, their ratio to nginx's, and the median p99 latency
# and its ratio (goals: throughput ≥ 0.8× nginx, p99 ≤ 2×). On a 2-core machine the client,
# the server and TLS on both ends share the cores: compare the ratios, not the absolute numbers.
#
#   bench/serve.sh                    # needs: nginx, wrk, openssl, curl (Debian: nginx wrk openssl curl)
#   FILES=8 FILE_MB=2 DURATION=5 REPEAT=1 bench/serve.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib/cdn.sh

FILES="${FILES:-16}"
FILE_MB="${FILE_MB:-4}"
CONNECTIONS="${CONNECTIONS:-64}"
DURATION="${DURATION:-10}"
REPEAT="${REPEAT:-3}"
API_PORT="${API_PORT:-28543}"
ASSET_PORT="${ASSET_PORT:-28544}"
NGINX_PORT="${NGINX_PORT:-28545}"
SERVE_PORT="${SERVE_PORT:-28546}"

bench_need nginx wrk openssl curl python3
bench_setup

python3 - "$work" "$FILES" "$FILE_MB" <<'PY'
import sys
work, files, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/scenario.yaml", "w") as f:
    f.write("repositories:\n  - owner: bench\n    repo: mirror\n    releases:\n      - tag_name: v1.0.0\n        assets:\n")
    for i in range(files):
        f.write(f"          - {{name: file{i}.bin, size: {mb * 1000 * 1000}}}\n")
PY
bench_fake
bench_certs
cat "$fake_ca" "$work/ca.crt" >"$work/trust.pem"

# The mirror (nginx's root is the same folder), then the service over it.
cat >"$work/config.yaml" <<YAML
repositories: [{owner: bench, repo: mirror}]
github: {api_url: "https://127.0.0.1:$API_PORT", ca_cert: "$work/trust.pem", timeout: 60}
download: {enabled: true, directory: "$work/www", version_db: "$work/db.json"}
serve: {listen: "127.0.0.1:$SERVE_PORT", interval: 1d, tls: {cert: "$work/nginx.crt", key: "$work/nginx.key"}}
YAML
"$rm_bin" -q --config "$work/config.yaml" monitor --download --state-file "$work/state.json" >/dev/null
"$rm_bin" --config "$work/config.yaml" serve --state-file "$work/state.json" 2>"$work/serve.err" &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; bench_cleanup' EXIT
for _ in $(seq 1 600); do
    grep -q "run done" "$work/serve.err" 2>/dev/null && break
    sleep 0.1
done
grep -q "run done" "$work/serve.err" || { echo "serve did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
bench_nginx 0

for i in $(seq 0 $((FILES - 1))); do echo "/bench/mirror/releases/download/v1.0.0/file$i.bin"; done >"$work/serve.paths"
for i in $(seq 0 $((FILES - 1))); do echo "/bench_mirror/v1.0.0/file$i.bin"; done >"$work/nginx.paths"
cat >"$work/paths.lua" <<'LUA'
local paths, i = {}, 0
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
if os.getenv("WRK_RANGE") ~= "" then wrk.headers["Range"] = os.getenv("WRK_RANGE") end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.6f %.6f\n", summary.requests, summary.bytes,
    summary.duration / 1e6, latency:percentile(99) / 1e6))
end
LUA

# One wrk run: prints "requests bytes seconds p99-seconds".
run_wrk() { # $1 = port, $2 = paths file, $3 = Range header ("" for whole files)
    WRK_PATHS="$2" WRK_RANGE="$3" wrk -t 2 -c "$CONNECTIONS" -d "${DURATION}s" \
        -s "$work/paths.lua" "https://127.0.0.1:$1" | sed -n 's/^RESULT //p'
}

rows=()
for mode in whole range; do
    range=""
    [[ "$mode" == range ]] && range="bytes=0-65535"
    for _ in $(seq 1 "$REPEAT"); do
        bench_settle
        rows+=("$mode|release-monitor serve|$(run_wrk "$SERVE_PORT" "$work/serve.paths" "$range")")
        bench_settle
        rows+=("$mode|nginx|$(run_wrk "$NGINX_PORT" "$work/nginx.paths" "$range")")
    done
done

python3 - "$FILES" "$FILE_MB" "$CONNECTIONS" "${rows[@]}" <<'PY'
import sys, statistics
files, mb, conns, raw = sys.argv[1], sys.argv[2], sys.argv[3], [r.split("|") for r in sys.argv[4:]]
runs = {}
for mode, server, result in raw:
    reqs, nbytes, secs, p99 = result.split()
    runs.setdefault((mode, server), []).append(
        (int(nbytes) / float(secs) / 2**20, int(reqs) / float(secs), float(p99)))
print(f"\n{files} files of {mb} MB over HTTPS on loopback, {conns} connections (wrk), median of {len(next(iter(runs.values())))} runs")
print(f"{'requests':<8} {'server':<24} {'MiB/s':>9} {'req/s':>9} {'vs nginx':>9} {'p99 ms':>8} {'vs nginx':>9}")
for mode in ("whole", "range"):
    med = {s: tuple(statistics.median(x[i] for x in r) for i in range(3)) for (m, s), r in runs.items() if m == mode}
    n = med["nginx"]
    for server, (mibs, rps, p99) in sorted(med.items()):
        print(f"{mode:<8} {server:<24} {mibs:9.1f} {rps:9.0f} {mibs / n[0]:8.2f}x {p99 * 1000:8.1f} {p99 / n[2]:8.2f}x")
PY
