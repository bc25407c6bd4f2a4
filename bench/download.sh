#!/usr/bin/env bash
# Downloader benchmark over loopback, no limit: RELEASES releases × ASSETS assets of ASSET_MB MB
# each (default 50 × 4 × 8 MB, 1.6 GB) from the local fake GitHub over HTTPS, with
# `release-monitor monitor --download` (its defaults, or `download.concurrency: $CONCURRENCY`),
# then the same files with `curl --parallel --parallel-max 16` and `aria2c -j 16`. Each tool runs
# REPEAT (5) times in turn, each run from a written-back, dropped page cache; the table shows each
# tool's median wall time, its ratio to the better of curl and aria2c, peak RSS and CPU seconds.
# Single runs on a shared 2-core machine vary by a third: read the medians. With BIG=1 it also
# downloads one 2 GiB asset (less one byte, a limit of the fake) and prints its peak RSS (the
# goal is at most 64 MiB).
#
#   bench/download.sh                 # needs: curl, aria2c, /usr/bin/time (Debian: curl aria2 time)
#   RELEASES=10 ASSET_MB=4 REPEAT=3 bench/download.sh
#   COMPARE=/tmp/release-monitor-before bench/download.sh   # two builds side by side
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source bench/lib/cdn.sh

RELEASES="${RELEASES:-50}"
ASSETS="${ASSETS:-4}"
ASSET_MB="${ASSET_MB:-8}"
CONCURRENCY="${CONCURRENCY:-}"   # download.concurrency; unset: release-monitor's default
API_PORT="${API_PORT:-28443}"
ASSET_PORT="${ASSET_PORT:-28444}"
REPEAT="${REPEAT:-5}"
BIG="${BIG:-0}"
COMPARE="${COMPARE:-}"           # another release-monitor binary (an earlier build) to run in turn

bench_need curl aria2c /usr/bin/time python3
bench_setup

# A scenario with one repository per release.
python3 - "$work" "$RELEASES" "$ASSETS" "$ASSET_MB" "$BIG" <<'EOF'
import sys
work, releases, assets, mb, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
with open(f"{work}/scenario.yaml", "w") as f:
    f.write("repositories:\n")
    for r in range(releases):
        f.write(f"  - owner: bench\n    repo: r{r}\n    releases:\n      - tag_name: v1.0.{r}\n        assets:\n")
        for a in range(assets):
            f.write(f"          - {{name: asset-{r}-{a}.bin, size: {mb * 1000 * 1000}}}\n")
    if big:
        f.write("  - owner: bench\n    repo: big\n    releases:\n      - tag_name: v2.0.0\n        assets:\n")
        # 2 GiB less one byte: fake-github cannot yet serve a body of 2^31 bytes or more.
        f.write(f"          - {{name: big.bin, size: {2 * 1024 ** 3 - 1}}}\n")
EOF
bench_fake

write_config() { # $1 = file, $2 = repositories (YAML flow list), $3 = directory
    cat >"$1" <<EOF
repositories: $2
github: {api_url: "https://127.0.0.1:$API_PORT", ca_cert: "$fake_ca", timeout: 60}
download: {enabled: true, directory: "$3", version_db: "$3.db.json"${CONCURRENCY:+, concurrency: $CONCURRENCY}}
EOF
}
repos="$(python3 -c "print('[' + ', '.join('{owner: bench, repo: r%d}' % i for i in range($RELEASES)) + ']')")"
write_config "$work/config.yaml" "$repos" "$work/rm"

# The asset URLs for curl and aria2c, straight from the asset host (a listing run, no download).
write_config "$work/list.yaml" "$repos" "$work/unused"
"$rm_bin" -q --config "$work/list.yaml" monitor --state-file "$work/list.state" -o "$work/list.json"
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
report = json.load(open(f"{work}/list.json"))
urls = [a["browser_download_url"] for r in report["releases"] for a in r["assets"]]
open(f"{work}/urls.txt", "w").write("\n".join(urls) + "\n")
with open(f"{work}/curl.cfg", "w") as f:
    for i, u in enumerate(urls):
        f.write(f'url = "{u}"\noutput = "{work}/curl/{i}.bin"\n')
EOF

total=$((RELEASES * ASSETS * ASSET_MB * 1000 * 1000))
echo "$RELEASES releases x $ASSETS assets x $ASSET_MB MB over HTTPS on loopback, $REPEAT runs per tool"
rows=()
for round in $(seq 1 "$REPEAT"); do
    rm -rf "$work/rm" "$work/rm.db.json" "$work/state.json" "$work/curl" "$work/aria2"
    mkdir -p "$work/curl" "$work/aria2"
    if [[ -n "$COMPARE" ]]; then
        t=$(bench_measure compare "$COMPARE" -q --config "$work/config.yaml" monitor --download --state-file "$work/state.json" -o "$work/report.json"); rows+=("release-monitor, $COMPARE|$t")
        rm -rf "$work/rm" "$work/rm.db.json" "$work/state.json"
    fi
    t=$(bench_measure rm "$rm_bin" -q --config "$work/config.yaml" monitor --download --state-file "$work/state.json" -o "$work/report.json"); rows+=("release-monitor${CONCURRENCY:+, concurrency $CONCURRENCY}|$t")
    t=$(bench_measure curl curl --parallel --parallel-max 16 --cacert "$fake_ca" -sS -K "$work/curl.cfg"); rows+=("curl --parallel --parallel-max 16|$t")
    t=$(bench_measure aria2c aria2c -j 16 --ca-certificate="$fake_ca" -d "$work/aria2" -i "$work/urls.txt" \
        --console-log-level=warn --summary-interval=0 --allow-overwrite=true --auto-file-renaming=false); rows+=("aria2c -j 16|$t")
done
bench_table "$total" "from the fake GitHub over HTTPS on loopback, no limit" "${rows[@]}"

if [[ "$BIG" == "1" ]]; then
    write_config "$work/big.yaml" "[{owner: bench, repo: big}]" "$work/big"
    t=$(bench_measure big "$rm_bin" -q --config "$work/big.yaml" monitor --download --state-file "$work/state2.json" -o "$work/big.json")
    read -r secs rss _ <<<"$t"
    echo "2 GiB asset: $secs s, peak RSS $((rss / 1024)) MiB"
fi
