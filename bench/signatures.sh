#!/usr/bin/env bash
# What authenticity checks cost: one release of ASSETS assets of ASSET_MB MB (default 8 × 64 MB),
# each signed with the real minisign and gpg, downloaded from the local fake GitHub over HTTPS by
# `release-monitor monitor --download` three times into fresh folders: checksums only, then with
# `verification: {signature: true, require: signature}` and a minisign key, then with a pgp key.
# Prints wall time, MB/s and the ratio to the checksum-only run.
#
#   bench/signatures.sh                       # needs: minisign, gpg, curl, /usr/bin/time
#   ASSETS=4 ASSET_MB=256 bench/signatures.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ASSETS="${ASSETS:-8}"
ASSET_MB="${ASSET_MB:-64}"
API_PORT="${API_PORT:-28453}"
ASSET_PORT="${ASSET_PORT:-28454}"

for tool in minisign gpg curl /usr/bin/time python3; do
    command -v "$tool" >/dev/null || { echo "bench/signatures.sh: $tool is missing (apt-get install minisign gnupg curl time)" >&2; exit 2; }
done

cargo build --release -q -p release-monitor -p fake-github
rm_bin="$PWD/target/release/release-monitor"
fake_bin="$PWD/target/release/fake-github"

work="$(mktemp -d -t rm-sigbench.XXXXXX)"
fake_pid=""
stop_fake() { [[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null || true; fake_pid=""; }
cleanup() { stop_fake; rm -rf "$work"; }
trap cleanup EXIT

start_fake() { # $1 = scenario
    "$fake_bin" --scenario "$1" --api-port "$API_PORT" --asset-port "$ASSET_PORT" --quiet \
        >"$work/fake.out" 2>"$work/fake.err" &
    fake_pid=$!
    for _ in $(seq 1 600); do
        grep -q '^ca_cert=' "$work/fake.out" 2>/dev/null && break
        kill -0 "$fake_pid" 2>/dev/null || break
        sleep 0.1
    done
    ca="$(sed -n 's/^ca_cert=//p' "$work/fake.out")"
    [[ -n "$ca" ]] || { echo "the fake GitHub did not start" >&2; cat "$work/fake.err" >&2; exit 1; }
}

# 1. The assets' bytes: the fake makes them from name and size; fetch them once to sign them.
python3 - "$work" "$ASSETS" "$ASSET_MB" <<'EOF'
import sys
work, assets, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/plain.yaml", "w") as f:
    f.write("repositories:\n  - owner: bench\n    repo: signed\n    releases:\n      - tag_name: v1.0.0\n        assets:\n")
    for a in range(assets):
        f.write(f"          - {{name: asset-{a}.bin, size: {mb * 1000 * 1000}}}\n")
EOF
start_fake "$work/plain.yaml"
mkdir -p "$work/bytes"
for a in $(seq 0 $((ASSETS - 1))); do
    curl -sS --fail --cacert "$ca" -o "$work/bytes/asset-$a.bin" \
        "https://127.0.0.1:$ASSET_PORT/bench/signed/releases/download/v1.0.0/asset-$a.bin"
done
stop_fake

# 2. Sign them with the real tools, and serve the signatures next to them.
minisign -G -W -p "$work/minisign.pub" -s "$work/minisign.key" >/dev/null
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Bench <bench@example.org>" ed25519 sign never
gpg --batch --quiet --armor --export bench@example.org >"$work/maintainer.asc"
for a in $(seq 0 $((ASSETS - 1))); do
    f="$work/bytes/asset-$a.bin"
    minisign -S -s "$work/minisign.key" -m "$f" -x "$f.minisig" >/dev/null
    gpg --batch --quiet --local-user bench@example.org --armor --detach-sign -o "$f.asc" "$f"
done
python3 - "$work" "$ASSETS" "$ASSET_MB" <<'EOF'
import sys, base64
work, assets, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f"{work}/signed.yaml", "w") as f:
    f.write("repositories:\n  - owner: bench\n    repo: signed\n    releases:\n      - tag_name: v1.0.0\n        assets:\n")
    for a in range(assets):
        f.write(f"          - {{name: asset-{a}.bin, size: {mb * 1000 * 1000}}}\n")
        for ext in ("minisig", "asc"):
            sig = open(f"{work}/bytes/asset-{a}.bin.{ext}", "rb").read()
            f.write(f"          - {{name: asset-{a}.bin.{ext}, content_base64: {base64.b64encode(sig).decode()}}}\n")
EOF
start_fake "$work/signed.yaml"
minisign_key="$(sed -n 2p "$work/minisign.pub")"

run() { # $1 = label, $2 = verification, $3 = signing; prints one row
    local label="$1" dir="$work/run-$RANDOM"
    mkdir -p "$dir"
    cat >"$dir/config.yaml" <<EOF
repositories: [{owner: bench, repo: signed, signing: $3}]
github: {api_url: "https://127.0.0.1:$API_PORT", ca_cert: "$ca", timeout: 60}
download: {enabled: true, directory: "$dir/mirror", version_db: "$dir/db.json", concurrency: 8,
           asset_patterns: ["*.bin"], verification: $2}
EOF
    /usr/bin/time -v -o "$dir/time.txt" "$rm_bin" -q --config "$dir/config.yaml" monitor --download \
        --state-file "$dir/state.json" -o "$dir/report.json" 2>"$dir/err" || {
        echo "$label failed:" >&2; tail -5 "$dir/err" >&2; return 1; }
    python3 - "$dir/time.txt" "$label" "$((ASSETS * ASSET_MB))" "$dir/report.json" "${base:-0}" <<'EOF'
import sys, re, json
text = open(sys.argv[1]).read()
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", text).group(1).strip()
parts = [float(p) for p in wall.split(":")]
secs = parts[-1] + (parts[-2] * 60 if len(parts) > 1 else 0)
report = json.load(open(sys.argv[4]))
files = [f for r in report["download_results"]["downloaded"] for f in r["files"]]
by = sorted({f["verified_by"] for f in files})
base = float(sys.argv[5])
ratio = f"{secs / base:5.2f}x" if base else "  1.00x"
print(f"{sys.argv[2]:<22} {secs:7.2f} s {int(sys.argv[3]) / secs:8.1f} MB/s  {ratio}  verified_by: {', '.join(by)}")
open("/tmp/rm-sigbench-last", "w").write(str(secs))
EOF
}

echo "one release, $ASSETS assets x $ASSET_MB MB, each with a .minisig and an .asc, over HTTPS on loopback"
base=""
run "checksums only" "{signature: false}" "{}"
base="$(cat /tmp/rm-sigbench-last)"
run "minisign required" "{signature: true, require: signature}" "{minisign: [\"$minisign_key\"]}"
run "pgp required" "{signature: true, require: signature}" "{pgp: [\"$work/maintainer.asc\"]}"
rm -f /tmp/rm-sigbench-last
