#!/usr/bin/env bash
# Downloader benchmark: RELEASES releases × ASSETS assets of ASSET_MB MB each (default 50 × 4 × 8 MB,
# about 1.6 GB) from the local fake GitHub over HTTPS (loopback, no limit), with
# `release-monitor monitor --download` (its defaults, or `download.concurrency: $CONCURRENCY`),
# then the same files with `curl --parallel` and `aria2c -j 16`. Prints wall time, MB/s and peak
# RSS (/usr/bin/time -v) for each. With BIG=1 it also downloads one 2 GiB asset (less one byte,
# a limit of the fake) and prints the peak RSS (the goal is at most 64 MiB).
#
#   bench/download.sh                 # needs: curl, aria2c, /usr/bin/time (Debian: curl aria2 time)
#   RELEASES=10 ASSET_MB=4 bench/download.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RELEASES="${RELEASES:-50}"
ASSETS="${ASSETS:-4}"
ASSET_MB="${ASSET_MB:-8}"
CONCURRENCY="${CONCURRENCY:-}"   # download.concurrency; unset: release-monitor's default
API_PORT="${API_PORT:-28443}"
ASSET_PORT="${ASSET_PORT:-28444}"
BIG="${BIG:-0}"

for tool in curl aria2c /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "bench/download.sh: $tool is missing (apt-get install curl aria2 time)" >&2; exit 2; }
done

cargo build --release -q -p release-monitor -p fake-github
rm_bin="$PWD/target/release/release-monitor"
fake_bin="$PWD/target/release/fake-github"

work="$(mktemp -d -t rm-bench.XXXXXX)"
fake_pid=""
cleanup() {
    [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A scenario and a config with one repository per release.
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

"$fake_bin" --scenario "$work/scenario.yaml" --api-port "$API_PORT" --asset-port "$ASSET_PORT" --quiet \
    >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
# The fake makes every asset's bytes before it listens: with BIG=1 that takes a while.
for _ in $(seq 1 1200); do
    grep -q '^ca_cert=' "$work/fake.out" 2>/dev/null && break
    kill -0 "$fake_pid" 2>/dev/null || break
    sleep 0.1
done
ca="$(sed -n 's/^ca_cert=//p' "$work/fake.out")"
[[ -n "$ca" ]] || { echo "the fake GitHub did not start" >&2; cat "$work/fake.err" >&2; exit 1; }

write_config() { # $1 = file, $2 = repositories (YAML flow list)
    cat >"$1" <<EOF
repositories: $2
github: {api_url: "https://127.0.0.1:$API_PORT", ca_cert: "$ca", timeout: 60}
download: {enabled: true, directory: "$work/rm", version_db: "$work/version_db.json"${CONCURRENCY:+, concurrency: $CONCURRENCY}}
EOF
}
repos="$(python3 -c "print('[' + ', '.join('{owner: bench, repo: r%d}' % i for i in range($RELEASES)) + ']')")"
write_config "$work/config.yaml" "$repos"

measure() { # $1 = label, $2 = bytes, rest = command; prints one row
    local label="$1" bytes="$2"
    shift 2
    # Each tool starts with no dirty pages to write back from the one before.
    sync
    if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
    /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/$label.out" 2>"$work/$label.err" || {
        echo "$label failed:" >&2; tail -5 "$work/$label.err" >&2; return 1; }
    python3 - "$work/time.txt" "$label" "$bytes" <<'EOF'
import sys, re
text = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1).strip()
parts = [float(p) for p in wall.split(":")]
secs = parts[-1] + (parts[-2] * 60 if len(parts) > 1 else 0) + (parts[-3] * 3600 if len(parts) > 2 else 0)
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
mb = int(sys.argv[3]) / 1e6
print(f"{sys.argv[2]:<16} {secs:8.2f} s  {mb / secs:9.1f} MB/s  peak RSS {rss_kb / 1024:8.1f} MiB")
EOF
}

total=$((RELEASES * ASSETS * ASSET_MB * 1000 * 1000))
echo "downloading $RELEASES releases x $ASSETS assets x $ASSET_MB MB = $((total / 1000000)) MB over HTTPS on loopback"
measure release-monitor "$total" "$rm_bin" -q --config "$work/config.yaml" monitor --download --state-file "$work/state.json" -o "$work/report.json"

# The same files for curl and aria2c, straight from the asset host.
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
report = json.load(open(f"{work}/report.json"))
urls = [a["browser_download_url"] for r in report["releases"] for a in r["assets"]]
open(f"{work}/urls.txt", "w").write("\n".join(urls) + "\n")
with open(f"{work}/curl.cfg", "w") as f:
    for i, u in enumerate(urls):
        f.write(f'url = "{u}"\noutput = "{work}/curl/{i}.bin"\n')
EOF
mkdir -p "$work/curl" "$work/aria2"
measure "curl --parallel" "$total" curl --parallel --parallel-max 16 --cacert "$ca" -sS -K "$work/curl.cfg"
measure "aria2c -j 16" "$total" aria2c -j 16 --ca-certificate="$ca" -d "$work/aria2" -i "$work/urls.txt" \
    --console-log-level=warn --summary-interval=0 --allow-overwrite=true --auto-file-renaming=false

if [[ "$BIG" == "1" ]]; then
    write_config "$work/big.yaml" "[{owner: bench, repo: big}]"
    measure "2 GiB asset" "$((2 * 1024 ** 3 - 1))" "$rm_bin" -q --config "$work/big.yaml" monitor --download --state-file "$work/state2.json" -o "$work/big.json"
fi
