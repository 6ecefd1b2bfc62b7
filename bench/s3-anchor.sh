#!/bin/bash
# PUT throughput into S3 (radosgw, started by conf/tier.sh: one memstore
# OSD, so no disk in the path), the same files two ways, alternating:
#   curl        plain `curl --aws-sigv4`, one process for all the files
#               (--next: one kept-alive connection), x-amz-content-sha256
#               computed beforehand: the anchor;
#   tts3        the relay's client (relay/s3.c) through tests/apps/tts3,
#               one connection, the sha256 given as the relay will know it
#               from the upload (FILE:SHA256);
# and tts3 again on one large file in multipart (PART-sized parts, each
# part's sha256 computed by the client, as the relay will have to).
# MB/s = 10^6 bytes per second of wall time, median of RUNS.
# The anchor for issue 12's ingest figure; prints figures only.
#
# usage: bench/s3-anchor.sh   (root; RUNS=5 FILES=8 SIZE=16M BIG=128M PART=16M)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
for c in ceph-mon ceph-osd radosgw; do
	command -v "$c" >/dev/null || { echo "s3-anchor: $c missing (make deps)"; exit 0; }
done
tt_enter "$@"
RUNS=${RUNS:-5}
FILES=${FILES:-8}
SIZE=${SIZE:-16M}
BIG=${BIG:-128M}
PART=${PART:-16M}
TIER=$T/tier
TTS3=$BUILD/tests/tts3

bench_cleanup() {
	local status=$?
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	(exit "$status")
	tt_cleanup
}
trap bench_cleanup EXIT

start=$(date +%s%N)
TIER_MEMSTORE_BYTES=$((8 << 30)) "$TT_ROOT/conf/tier.sh" start "$TIER" ceph \
    >"$T/tier.log" 2>&1 || bail "the tier did not start: $(tail -3 "$T/tier.log")"
echo "s3-anchor: tier (ceph) started in $(( ($(date +%s%N) - start) / 1000000 )) ms;" \
    "RSS mon+osd+radosgw: $(for n in mon.a osd.0 client.rgw.tier; do
	awk '/^VmRSS/ { print $2 }' "/proc/$(cat "$TIER/run/$n.pid")/status"; done |
	awk '{ s += $1 } END { printf "%d MB", s / 1024 }')"
set -a
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
set +a
export TT_S3_PART_SIZE=$PART
access=$(awk '$1 == "access_key" { print $3 }' "$TT_S3_CREDENTIALS")
secret=$(awk '$1 == "secret_key" { print $3 }' "$TT_S3_CREDENTIALS")

mkdir -p "$T/files"
args=()
curl_args=()
total=0
for i in $(seq 0 $((FILES - 1))); do
	f=$T/files/f$i
	head -c "$SIZE" /dev/urandom 2>/dev/null >"$f" ||
	    dd if=/dev/urandom of="$f" bs=1M count="${SIZE%M}" status=none
	sha=$(sha256sum "$f" | cut -c1-64)
	args+=("$f:$sha")
	[ "$i" -gt 0 ] && curl_args+=(--next)
	curl_args+=(-sf -o /dev/null -X PUT --aws-sigv4 "aws:amz:$TT_S3_REGION:s3"
	    --user "$access:$secret" -H "x-amz-content-sha256: $sha"
	    -T "$f" "$TT_S3_ENDPOINT/$TT_S3_BUCKET/bench/curl$i")
	total=$((total + $(stat -c %s "$f")))
done
head -c "$BIG" /dev/urandom >"$T/files/big"
big_bytes=$(stat -c %s "$T/files/big")
# Warm-up: the page cache, radosgw's first objects.
curl "${curl_args[@]}" || bail "curl PUT failed"
"$TTS3" bench bench/tts3- "${args[@]}" >/dev/null || bail "tts3 PUT failed"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.1f\n", b / (ns / 1e9) / 1e6 }'; }

: >"$T/curl.mbps"
: >"$T/tts3.mbps"
: >"$T/multipart.mbps"
for run in $(seq "$RUNS"); do
	t0=$(date +%s%N)
	curl "${curl_args[@]}" || bail "curl PUT failed"
	mbps "$total" $(( $(date +%s%N) - t0 )) >>"$T/curl.mbps"
	t0=$(date +%s%N)
	"$TTS3" bench bench/tts3- "${args[@]}" >/dev/null || bail "tts3 PUT failed"
	mbps "$total" $(( $(date +%s%N) - t0 )) >>"$T/tts3.mbps"
	t0=$(date +%s%N)
	"$TTS3" put bench/big "$T/files/big" || bail "tts3 multipart PUT failed"
	mbps "$big_bytes" $(( $(date +%s%N) - t0 )) >>"$T/multipart.mbps"
done
echo "s3-anchor: $FILES files of $SIZE, $RUNS runs (MB/s, median; each run):"
printf '  %-44s %7s   %s\n' \
    "curl --aws-sigv4 (anchor)" "$(median <"$T/curl.mbps")" "$(tr '\n' ' ' <"$T/curl.mbps")" \
    "tts3 (relay/s3.c), single PUTs" "$(median <"$T/tts3.mbps")" "$(tr '\n' ' ' <"$T/tts3.mbps")" \
    "tts3 multipart, $BIG in $PART parts" "$(median <"$T/multipart.mbps")" "$(tr '\n' ' ' <"$T/multipart.mbps")"
echo "  machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%d GB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
