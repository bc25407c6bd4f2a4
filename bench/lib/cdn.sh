# Shared by bench/cdn.sh, bench/big.sh and bench/download.sh (sourced, not run): the fake GitHub listing releases
# whose downloads redirect to nginx, nginx over HTTPS with `limit_rate` per request (one
# connection per request under HTTP/1.1: a per-connection limit, as asset hosts have), a CA of
# the bench's, the assets' bytes laid out for nginx, and a timing helper.
#
# The caller sets RELEASES, API_PORT, ASSET_PORT, NGINX_PORT, writes "$work/scenario.yaml" after
# `bench_setup`, then calls `bench_start`.

bench_need() { # tools...
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "bench: $tool is missing (apt-get install nginx openssl curl aria2 time)" >&2
            exit 2
        }
    done
}

bench_setup() { # builds; makes $work, removed on exit
    cargo build --release -q -p release-monitor -p fake-github
    rm_bin="$PWD/target/release/release-monitor"
    fake_bin="$PWD/target/release/fake-github"
    work="$(mktemp -d -t rm-bench.XXXXXX)"
    chmod 755 "$work"
    fake_pid=""
    trap bench_cleanup EXIT
}

bench_cleanup() {
    [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null || true
    [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}

# Starts the fake GitHub on $work/scenario.yaml (extra fake-github flags as arguments) and waits
# until it listens: it makes every asset's bytes first, which takes a while for big assets. Sets
# $fake_pid and $fake_ca (the CA file it wrote).
bench_fake() {
    "$fake_bin" --scenario "$work/scenario.yaml" --api-port "$API_PORT" --asset-port "$ASSET_PORT" \
        "$@" --quiet >"$work/fake.out" 2>"$work/fake.err" &
    fake_pid=$!
    for _ in $(seq 1 1200); do
        grep -q '^ca_cert=' "$work/fake.out" 2>/dev/null && break
        kill -0 "$fake_pid" 2>/dev/null || break
        sleep 0.1
    done
    fake_ca="$(sed -n 's/^ca_cert=//p' "$work/fake.out")"
    [[ -n "$fake_ca" ]] || { echo "the fake GitHub did not start" >&2; cat "$work/fake.err" >&2; exit 1; }
}

# Starts the fake on $work/scenario.yaml, makes nginx's certificate, copies every asset into
# $work/www/download/<id>, and writes $work/urls.txt (nginx URLs) and $total (bytes).
bench_start() {
    bench_fake --public-asset-origin "https://127.0.0.1:$NGINX_PORT"

    bench_certs
    cat "$fake_ca" "$work/ca.crt" >"$work/trust.pem"

    repos="$(python3 -c "print('[' + ', '.join('{owner: bench, repo: r%d}' % i for i in range($RELEASES)) + ']')")"
    bench_config "$work/list.yaml" "$work/unused" ""
    "$rm_bin" -q --config "$work/list.yaml" monitor --state-file "$work/list.state" -o "$work/report.json"
    mkdir -p "$work/www/download"
    python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
report = json.load(open(f"{work}/report.json"))
ids = [a["url"].rsplit("/", 1)[1] for r in report["releases"] for a in r["assets"]]
open(f"{work}/ids.txt", "w").write("\n".join(ids) + "\n")
EOF
    total=0
    while read -r id; do
        curl -sS --fail --cacert "$fake_ca" -o "$work/www/download/$id" "https://localhost:$ASSET_PORT/download/$id"
        total=$(( total + $(stat -c %s "$work/www/download/$id") ))
    done <"$work/ids.txt"
    sed "s|^|https://127.0.0.1:$NGINX_PORT/download/|" "$work/ids.txt" >"$work/urls.txt"
}

# The bench's CA ($work/ca.crt) and a certificate for 127.0.0.1 and localhost signed by it
# ($work/nginx.crt, $work/nginx.key): nginx presents it, and so does `serve` in bench/serve.sh.
bench_certs() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=release-monitor bench CA" -addext "basicConstraints=critical,CA:TRUE" \
        -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$work/nginx.key" -out "$work/nginx.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$work/leaf.ext"
    openssl x509 -req -in "$work/nginx.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
        -days 2 -extfile "$work/leaf.ext" -out "$work/nginx.crt" 2>/dev/null
}

bench_config() { # $1 = file, $2 = directory, $3 = extra download keys (", key: value")
    cat >"$1" <<EOF
repositories: $repos
settings: {concurrency: 16}
github: {api_url: "https://127.0.0.1:$API_PORT", ca_cert: "$work/trust.pem", timeout: 60}
download: {enabled: true, directory: "$2", version_db: "$2.db.json"$3}
EOF
}

bench_nginx() { # $1 = rate per request ("0": no limit); NGINX_HTTP2=1 also offers HTTP/2
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
        listen 127.0.0.1:$NGINX_PORT ssl${NGINX_HTTP2:+ http2};
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

# Puts every run in the same state: dirty pages written back, the page cache dropped (when this
# user may), and nginx's files read back in, so no tool pays for the one before it.
bench_settle() {
    sync
    if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
    if [[ -d "$work/www/download" ]]; then cat "$work"/www/download/* >/dev/null; fi
}

bench_measure() { # $1 = label, rest = command; prints "seconds peak-RSS-KiB user-s sys-s"
    local label="$1"
    shift
    bench_settle
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >"$work/$label.out" 2>"$work/$label.err" || {
        echo "$label failed:" >&2; tail -5 "$work/$label.err" >&2; return 1; }
    cat "$work/time.txt"
}

# Prints the medians of "label|seconds rss" rows: $1 = bytes, $2 = title, rest = rows. Ratios are
# to the best tool whose label does not start with "release-monitor".
bench_table() {
    python3 - "$@" <<'EOF'
import sys, statistics
total, title, raw = int(sys.argv[1]), sys.argv[2], [r.split("|") for r in sys.argv[3:]]
runs = {}
for label, t in raw:
    secs, rss, user, sys_ = t.split()
    runs.setdefault(label, []).append((float(secs), int(rss), float(user) + float(sys_)))
rows = [(label, statistics.median(s for s, _, _ in r), max(m for _, m, _ in r),
         statistics.median(c for _, _, c in r), [s for s, _, _ in r]) for label, r in runs.items()]
best = min(s for label, s, _, _, _ in rows if not label.startswith("release-monitor"))
print(f"\n{total / 2**20:.0f} MiB, {title} (median of {len(rows[0][4])} runs)")
print(f"{'tool':<40} {'wall':>8} {'MiB/s':>8} {'vs best other':>14} {'peak RSS':>10} {'CPU':>7}  runs")
for label, s, rss, cpu, all_runs in rows:
    each = " ".join(f"{x:.2f}" for x in all_runs)
    print(f"{label:<40} {s:7.2f}s {total / 2**20 / s:8.1f} {s / best:13.2f}x {rss / 1024:8.1f}MiB {cpu:6.2f}s  {each}")
EOF
}
