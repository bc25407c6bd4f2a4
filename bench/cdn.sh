#!/usr/bin/env bash
# Downloads from a CDN-like asset host: nginx over HTTPS (HTTP/1.1) with `limit_rate` per
# request, so each connection is limited as real asset hosts limit them. RELEASES releases ×
# ASSETS assets of ASSET_MIB MiB (default 50 × 4 × 7 MiB = 1,400 MiB), listed by the fake GitHub
# (whose download redirects point at nginx: `fake-github --public-asset-origin`), fetched by
# `release-monitor monitor --download` with its defaults and with `download.concurrency: 32`, and
# the same files by `curl --parallel --parallel-max 16` and `aria2c -j 16`. Runs once with
# RATE (default 16m per connection) and once without a limit, each tool REPEAT (3) times in
# turn, and prints each tool's median wall time and its ratio to the better of curl and aria2c.
#
#   bench/cdn.sh                          # needs: nginx, openssl, curl, aria2c, /usr/bin/time
#   RELEASES=10 ASSET_MIB=4 RATE=8m bench/cdn.sh
#   H2=1 UNLIMITED=0 bench/cdn.sh   # nginx also offers HTTP/2: curl multiplexes its transfers
#                                   # over one connection, and `curl --http1.1` is added
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib/cdn.sh

RELEASES="${RELEASES:-50}"
ASSETS="${ASSETS:-4}"
ASSET_MIB="${ASSET_MIB:-7}"
RATE="${RATE:-16m}"
API_PORT="${API_PORT:-28463}"
ASSET_PORT="${ASSET_PORT:-28464}"
NGINX_PORT="${NGINX_PORT:-28465}"
REPEAT="${REPEAT:-3}"           # runs per tool and limit, in turn; the median is printed
H2="${H2:-0}"                   # 1: nginx offers HTTP/2 too
UNLIMITED="${UNLIMITED:-1}"     # 0: skip the run without a limit
if [[ "$H2" == 1 ]]; then NGINX_HTTP2=1; fi

bench_need nginx openssl curl aria2c /usr/bin/time python3
bench_setup
python3 - "$work" "$RELEASES" "$ASSETS" "$ASSET_MIB" <<'EOF'
import sys
work, releases, assets, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(f"{work}/scenario.yaml", "w") as f:
    f.write("repositories:\n")
    for r in range(releases):
        f.write(f"  - owner: bench\n    repo: r{r}\n    releases:\n      - tag_name: v1.0.{r}\n        assets:\n")
        for a in range(assets):
            f.write(f"          - {{name: asset-{r}-{a}.bin, size: {mib * 1024 * 1024}}}\n")
EOF
bench_start
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
with open(f"{work}/curl.cfg", "w") as f:
    for i, u in enumerate(open(f"{work}/urls.txt").read().split()):
        f.write(f'url = "{u}"\noutput = "{work}/curl/{i}.bin"\n')
EOF

run_all() { # $1 = rate; each tool REPEAT times, in turn, into fresh folders; prints medians
    bench_nginx "$1"
    local rows=() t round
    bench_config "$work/c1.yaml" "$work/rm1" ""
    bench_config "$work/c2.yaml" "$work/rm2" ", concurrency: 32"
    for round in $(seq 1 "$REPEAT"); do
        rm -rf "$work/rm1" "$work/rm2" "$work/curl" "$work/aria2" "$work"/*.db.json "$work"/s?.state
        mkdir -p "$work/curl" "$work/aria2"
        t=$(bench_measure rm-defaults "$rm_bin" -q --config "$work/c1.yaml" monitor --download --state-file "$work/s1.state" -o "$work/r1.json"); rows+=("release-monitor, defaults|$t")
        t=$(bench_measure rm-32 "$rm_bin" -q --config "$work/c2.yaml" monitor --download --state-file "$work/s2.state" -o "$work/r2.json"); rows+=("release-monitor, concurrency 32|$t")
        if [[ "$H2" == 1 ]]; then
            t=$(bench_measure curl curl --parallel --parallel-max 16 --cacert "$work/ca.crt" -sS -K "$work/curl.cfg"); rows+=("curl --parallel-max 16, HTTP/2|$t")
            t=$(bench_measure curl1 curl --http1.1 --parallel --parallel-max 16 --cacert "$work/ca.crt" -sS -K "$work/curl.cfg"); rows+=("curl --parallel-max 16 --http1.1|$t")
        else
            t=$(bench_measure curl curl --parallel --parallel-max 16 --cacert "$work/ca.crt" -sS -K "$work/curl.cfg"); rows+=("curl --parallel-max 16|$t")
        fi
        t=$(bench_measure aria2c aria2c -j 16 --ca-certificate="$work/ca.crt" -d "$work/aria2" -i "$work/urls.txt" \
            --console-log-level=warn --summary-interval=0 --allow-overwrite=true --auto-file-renaming=false); rows+=("aria2c -j 16|$t")
    done
    local limit="no limit"
    [[ "$1" != 0 ]] && limit="limit_rate $1 per connection"
    bench_table "$total" "from nginx over HTTPS, $limit" "${rows[@]}"
}

echo "$RELEASES releases x $ASSETS assets x $ASSET_MIB MiB"
run_all "$RATE"
if [[ "$UNLIMITED" == 1 ]]; then run_all 0; fi
