#!/usr/bin/env bash
# One large asset (BIG_MIB, default 2,048 MiB) from a CDN-like host: nginx over HTTPS with
# `limit_rate RATE` (default 16m) per connection, listed by the fake GitHub. Fetched by
# `release-monitor monitor --download` with its defaults (ranged pieces over 16 connections,
# `download.segments`) and with segmenting off (`segments: {connections: 1}`), and by
# `aria2c -x16 -s16` and one `curl` stream. Prints each tool's median wall time, its ratio to
# the best of the others and its peak RSS (the target: ≤ 1.1× aria2c, ≤ 64 MiB), and what
# hashing the whole file once at the end would add (`openssl dgst -sha256` of it from the page
# cache, SHA extensions like ours),
# against release-monitor's hashing in order while the pieces arrive.
#
#   bench/big.sh                     # needs: nginx, openssl, curl, aria2c, /usr/bin/time
#   BIG_MIB=512 RATE=8m REPEAT=1 bench/big.sh
#   BIG_MIB=16 MIN_MIB=8 bench/big.sh  # is a 16 MiB asset worth segmenting?
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib/cdn.sh

BIG_MIB="${BIG_MIB:-2048}"
RATE="${RATE:-16m}"
RELEASES=1
API_PORT="${API_PORT:-28473}"
ASSET_PORT="${ASSET_PORT:-28474}"
NGINX_PORT="${NGINX_PORT:-28475}"
REPEAT="${REPEAT:-3}"
SINGLE="${SINGLE:-1}"           # 0: skip the slow one-stream runs (curl, segments off)
MIN_MIB="${MIN_MIB:-}"          # set download.segments.min_size (MiB) for the first row, to
                                # measure the threshold with smaller assets

bench_need nginx openssl curl aria2c /usr/bin/time python3
bench_setup
cat >"$work/scenario.yaml" <<EOF
repositories:
  - owner: bench
    repo: r0
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: big.tar.gz, size: $((BIG_MIB * 1024 * 1024))}
EOF
bench_start
url="$(head -1 "$work/urls.txt")"
file="$work/www/download/$(head -1 "$work/ids.txt")"

bench_nginx "$RATE"
if [[ -n "$MIN_MIB" ]]; then
    bench_config "$work/c1.yaml" "$work/rm1" ", segments: {min_size: $((MIN_MIB * 1024 * 1024))}"
else
    bench_config "$work/c1.yaml" "$work/rm1" ""
fi
bench_config "$work/c2.yaml" "$work/rm2" ", segments: {connections: 1}"
rows=()
for round in $(seq 1 "$REPEAT"); do
    rm -rf "$work/rm1" "$work/rm2" "$work/aria2" "$work/curl.bin" "$work"/*.db.json "$work"/s?.state
    mkdir -p "$work/aria2"
    t=$(bench_measure rm-defaults "$rm_bin" -q --config "$work/c1.yaml" monitor --download --state-file "$work/s1.state" -o "$work/r1.json"); rows+=("release-monitor, segmented|$t")
    rm -rf "$work/rm1"
    t=$(bench_measure aria2c aria2c -x16 -s16 --ca-certificate="$work/ca.crt" -d "$work/aria2" "$url" \
        --console-log-level=warn --summary-interval=0 --allow-overwrite=true --auto-file-renaming=false \
        --file-allocation=none); rows+=("aria2c -x16 -s16|$t")
    rm -rf "$work/aria2"
    if [[ "$SINGLE" == 1 ]]; then
        t=$(bench_measure rm-single "$rm_bin" -q --config "$work/c2.yaml" monitor --download --state-file "$work/s2.state" -o "$work/r2.json"); rows+=("release-monitor, segments off|$t")
        rm -rf "$work/rm2"
        t=$(bench_measure curl curl --cacert "$work/ca.crt" -sS -o "$work/curl.bin" "$url"); rows+=("curl, one stream|$t")
        rm -f "$work/curl.bin"
    fi
done
bench_table "$total" "one asset from nginx over HTTPS, limit_rate $RATE per connection" "${rows[@]}"
cat "$file" >/dev/null
hash=$( { /usr/bin/time -f "%e" openssl dgst -sha256 "$file" >/dev/null; } 2>&1 )
echo "hashing it once at the end instead (openssl dgst -sha256 from the page cache): +${hash}s"
