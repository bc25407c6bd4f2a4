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
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RELEASES="${RELEASES:-50}"
ASSETS="${ASSETS:-4}"
ASSET_MIB="${ASSET_MIB:-7}"
RATE="${RATE:-16m}"
API_PORT="${API_PORT:-28463}"
ASSET_PORT="${ASSET_PORT:-28464}"
NGINX_PORT="${NGINX_PORT:-28465}"
REPEAT="${REPEAT:-3}"           # runs per tool and limit, in turn; the median is printed

for tool in nginx openssl curl aria2c /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "bench/cdn.sh: $tool is missing (apt-get install nginx openssl curl aria2 time)" >&2; exit 2; }
done

cargo build --release -q -p release-monitor -p fake-github
rm_bin="$PWD/target/release/release-monitor"
fake_bin="$PWD/target/release/fake-github"

work="$(mktemp -d -t rm-cdn.XXXXXX)"
chmod 755 "$work"
fake_pid=""
cleanup() {
    [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null || true
    [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

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

"$fake_bin" --scenario "$work/scenario.yaml" --api-port "$API_PORT" --asset-port "$ASSET_PORT" \
    --public-asset-origin "https://127.0.0.1:$NGINX_PORT" --quiet >"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 1 600); do
    grep -q '^ca_cert=' "$work/fake.out" 2>/dev/null && break
    kill -0 "$fake_pid" 2>/dev/null || break
    sleep 0.1
done
fake_ca="$(sed -n 's/^ca_cert=//p' "$work/fake.out")"
[[ -n "$fake_ca" ]] || { echo "the fake GitHub did not start" >&2; cat "$work/fake.err" >&2; exit 1; }

# nginx: a certificate for 127.0.0.1 from a CA of the bench's; release-monitor trusts that CA and
# the fake's.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=release-monitor bench CA" -addext "basicConstraints=critical,CA:TRUE" \
    -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$work/nginx.key" -out "$work/nginx.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/leaf.ext"
openssl x509 -req -in "$work/nginx.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
    -days 2 -extfile "$work/leaf.ext" -out "$work/nginx.crt" 2>/dev/null
cat "$fake_ca" "$work/ca.crt" >"$work/trust.pem"

repos="$(python3 -c "print('[' + ', '.join('{owner: bench, repo: r%d}' % i for i in range($RELEASES)) + ']')")"
write_config() { # $1 = file, $2 = directory, $3 = extra download keys
    cat >"$1" <<EOF
repositories: $repos
settings: {concurrency: 16}
github: {api_url: "https://127.0.0.1:$API_PORT", ca_cert: "$work/trust.pem", timeout: 60}
download: {enabled: true, directory: "$2", version_db: "$2.db.json"$3}
EOF
}

# The assets' bytes, taken once from the fake's own asset origin, laid out for nginx.
write_config "$work/list.yaml" "$work/unused" ""
"$rm_bin" -q --config "$work/list.yaml" monitor --state-file "$work/list.state" -o "$work/report.json"
mkdir -p "$work/www/download"
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
report = json.load(open(f"{work}/report.json"))
ids = [a["url"].rsplit("/", 1)[1] for r in report["releases"] for a in r["assets"]]
open(f"{work}/ids.txt", "w").write("\n".join(ids) + "\n")
EOF
while read -r id; do
    curl -sS --fail --cacert "$fake_ca" -o "$work/www/download/$id" "https://localhost:$ASSET_PORT/download/$id"
done <"$work/ids.txt"
total=$(( $(wc -l <"$work/ids.txt") * ASSET_MIB * 1024 * 1024 ))
sed "s|^|https://127.0.0.1:$NGINX_PORT/download/|" "$work/ids.txt" >"$work/urls.txt"
python3 - "$work" <<'EOF'
import sys
work = sys.argv[1]
with open(f"{work}/curl.cfg", "w") as f:
    for i, u in enumerate(open(f"{work}/urls.txt").read().split()):
        f.write(f'url = "{u}"\noutput = "{work}/curl/{i}.bin"\n')
EOF

start_nginx() { # $1 = rate ("0": no limit)
    [[ -f "$work/nginx.pid" ]] && { kill "$(cat "$work/nginx.pid")"; sleep 0.5; rm -f "$work/nginx.pid"; }
    cat >"$work/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $work/nginx.crt;
        ssl_certificate_key $work/nginx.key;
        root $work/www;
        location / { limit_rate $1; }
    }
}
EOF
    nginx -p "$work" -c "$work/nginx.conf"
    for _ in $(seq 1 100); do
        curl -s -o /dev/null --cacert "$work/ca.crt" "https://127.0.0.1:$NGINX_PORT/" && break
        sleep 0.1
    done
}

measure() { # $1 = label, rest = command; prints seconds
    local label="$1"
    shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/$label.out" 2>"$work/$label.err" || {
        echo "$label failed:" >&2; tail -5 "$work/$label.err" >&2; return 1; }
    cat "$work/time.txt"
}

run_all() { # $1 = rate; each tool REPEAT times, in turn, into fresh folders; prints medians
    start_nginx "$1"
    local rows=() t round
    write_config "$work/c1.yaml" "$work/rm1" ""
    write_config "$work/c2.yaml" "$work/rm2" ", concurrency: 32"
    for round in $(seq 1 "$REPEAT"); do
        rm -rf "$work/rm1" "$work/rm2" "$work/curl" "$work/aria2" "$work"/*.db.json "$work"/s?.state
        mkdir -p "$work/curl" "$work/aria2"
        t=$(measure rm-defaults "$rm_bin" -q --config "$work/c1.yaml" monitor --download --state-file "$work/s1.state" -o "$work/r1.json"); rows+=("release-monitor, defaults|$t")
        t=$(measure rm-32 "$rm_bin" -q --config "$work/c2.yaml" monitor --download --state-file "$work/s2.state" -o "$work/r2.json"); rows+=("release-monitor, concurrency 32|$t")
        t=$(measure curl curl --parallel --parallel-max 16 --cacert "$work/ca.crt" -sS -K "$work/curl.cfg"); rows+=("curl --parallel-max 16|$t")
        t=$(measure aria2c aria2c -j 16 --ca-certificate="$work/ca.crt" -d "$work/aria2" -i "$work/urls.txt" \
            --console-log-level=warn --summary-interval=0 --allow-overwrite=true --auto-file-renaming=false); rows+=("aria2c -j 16|$t")
    done
    python3 - "$total" "$1" "${rows[@]}" <<'EOF'
import sys, statistics
total, rate, raw = int(sys.argv[1]), sys.argv[2], [r.split("|") for r in sys.argv[3:]]
runs = {}
for label, t in raw:
    secs, rss = t.split()
    runs.setdefault(label, []).append((float(secs), int(rss)))
rows = [(label, statistics.median(s for s, _ in r), max(m for _, m in r), [s for s, _ in r]) for label, r in runs.items()]
best = min(s for label, s, _, _ in rows if not label.startswith("release-monitor"))
limit = "no limit" if rate == "0" else f"limit_rate {rate} per connection"
print(f"\n{total / 2**20:.0f} MiB from nginx over HTTPS, {limit} (median of {len(rows[0][3])} runs)")
print(f"{'tool':<34} {'wall':>8} {'MiB/s':>8} {'vs best other':>14} {'peak RSS':>10}  runs")
for label, s, rss, all_runs in rows:
    each = " ".join(f"{x:.2f}" for x in all_runs)
    print(f"{label:<34} {s:7.2f}s {total / 2**20 / s:8.1f} {s / best:13.2f}x {rss / 1024:8.1f}MiB  {each}")
EOF
}

echo "$RELEASES releases x $ASSETS assets x $ASSET_MIB MiB"
run_all "$RATE"
run_all 0
