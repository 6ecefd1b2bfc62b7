#!/bin/bash
# Ingest throughput through tracetrap-relay into S3 ([store] backend = s3,
# radosgw on one memstore OSD started by conf/tier.sh), next to the same
# relay on the local store, next to plain `curl --aws-sigv4` PUTting the
# same bytes into the same radosgw: the anchor. Alternating, RUNS times:
#   local   bench/upload_client.py, one node (mutual TLS 1.3), UPLOADS
#           snapshots of SNAP_MB back to back, each waiting for its ACK:
#           relay verifies (sha256), fsyncs, renames, catalogues;
#   s3      the same, and every snapshot also written to the bucket
#           (files, then manifest.json) before its ACK;
#   curl    the snapshot's 4 data files + metadata, UPLOADS times, in one
#           curl process (--next: one kept-alive connection), digests
#           computed beforehand: what the bucket takes with nothing else
#           in the way.
# MB/s = 10^6 bytes / s of wall time, from the first BEGIN to the last ACK
# (the client's monotonic stamps), median of RUNS. The analysis is off
# ([analysis] workers = 0) on every relay: ingest only. Store, cache and
# staging under /tmp (the disk). Prints figures only.
#
# NODES=2: two connections upload at once (UPLOADS each), so that one's
# bucket PUT overlaps the other's receipt; the anchor PUTs as many bytes.
# RELAYS=2 (with NODES=2): a fourth line, the tier: two relays on the one
# bucket and one PostgreSQL catalog (conf/tier.sh starts it too), node1
# uploading to the first and node2 to the second, at once.
#
# usage: bench/relay-s3.sh   (root; RUNS=3 UPLOADS=8 SNAP_MB=32 PART=16M
#                            NODES=1 RELAYS=1)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
for c in ceph-mon ceph-osd radosgw; do
	command -v "$c" >/dev/null || { echo "relay-s3: $c missing (make deps)"; exit 0; }
done
tt_need "$RELAY"
tt_enter "$@"
# shellcheck disable=SC2034 # tt_certs uses it
MAKE_CERTS=$(cd "$BENCH/.." && pwd)/conf/make-dev-certs.sh
RUNS=${RUNS:-3}
UPLOADS=${UPLOADS:-8}
SNAP_MB=${SNAP_MB:-32}
PART=${PART:-16M}
NODES=${NODES:-1}
RELAYS=${RELAYS:-1}
[ "$RELAYS" = 1 ] || [ "$RELAYS" = 2 ] || bail "RELAYS is 1 or 2"
[ "$RELAYS" = 2 ] && [ "$NODES" != 2 ] && bail "RELAYS=2 needs NODES=2"
nodes=$(seq -f 'node%g' -s, "$NODES")
parts=ceph
[ "$RELAYS" = 2 ] && parts="ceph postgresql"
TIER=$T/tier

bench_cleanup() {
	local status=$?
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	(exit "$status")
	tt_cleanup
}
trap bench_cleanup EXIT

# shellcheck disable=SC2086 # one or two parts
TIER_MEMSTORE_BYTES=$((8 << 30)) "$TT_ROOT/conf/tier.sh" start "$TIER" $parts \
    >"$T/tier.log" 2>&1 || bail "the tier did not start: $(tail -3 "$T/tier.log")"
set -a
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
set +a
access=$(awk '$1 == "access_key" { print $3 }' "$TT_S3_CREDENTIALS")
secret=$(awk '$1 == "secret_key" { print $3 }' "$TT_S3_CREDENTIALS")
# shellcheck disable=SC2046 # one argument per node
tt_certs $(echo "$nodes" | tr , ' ')

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# relay_run local|s3 N: one relay, UPLOADS snapshots, MB/s on stdout.
relay_run() {
	local store=$T/store-$1-$2 extra="" out=$T/$1-$2.out
	[ "$1" = s3 ] && extra="backend = s3
s3_endpoint = $TT_S3_ENDPOINT
s3_region = $TT_S3_REGION
s3_bucket = $TT_S3_BUCKET
s3_prefix = run$2/
s3_credentials = $TT_S3_CREDENTIALS
s3_part_size = $PART
s3_cache = 0"
	TT_STORE=$store tt_relay_config "max_bytes = 100G
$extra
[analysis]
workers = 0"
	tt_start_relay
	python3 "$BENCH/upload_client.py" --port "$RELAY_PORT" --pki "$T/pki" \
	    --nodes "$nodes" --snap-mb "$SNAP_MB" --uploads "$UPLOADS" \
	    --duration 0 "$out" 2>>"$T/client.log" ||
	    bail "upload_client failed: $(tail -2 "$T/client.log")"
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID" 2>/dev/null
	rm -rf "$store"
	[ "$(wc -l <"$out")" -eq $((UPLOADS * NODES)) ] ||
	    bail "$1: $(wc -l <"$out") of $((UPLOADS * NODES)) uploads stored"
	mbps "$out"
}

# MB/s over the uploads in the files given: first BEGIN to last ACK.
mbps() {
	awk '{ b += $4; if (min == "" || $2 < min) min = $2
	       if ($3 > max) max = $3 }
	     END { printf "%.1f\n", b / 1e6 / ((max - min) / 1e9) }' "$@"
}

# tier_run N: two relays on the bucket and the PostgreSQL catalog, node1
# to the first and node2 to the second at once, MB/s on stdout.
tier_run() {
	local n pids=""
	for n in 1 2; do
		mkdir -p "$T/t$1-$n"
		cat >"$T/t$1-$n/relay.conf" <<EOC
[node]
name = relay$n
[listen]
address = 127.0.0.1:546$n
ca = $T/pki/ca.pem
cert = $T/pki/relay.pem
key = $T/pki/relay.key
[api]
address = 127.0.0.1:547$n
[store]
dir = $T/t$1-$n/store
min_free = 1M
max_bytes = 100G
backend = s3
s3_endpoint = $TT_S3_ENDPOINT
s3_region = $TT_S3_REGION
s3_bucket = $TT_S3_BUCKET
s3_prefix = tier$1/
s3_credentials = $TT_S3_CREDENTIALS
s3_part_size = $PART
s3_cache = 0
[catalog]
backend = postgresql
conninfo = "$TT_PG_CONNINFO"
[analysis]
workers = 0
EOC
		rm -f "$T/t$1-$n/ready"
		mkfifo "$T/t$1-$n/ready"
		"$RELAY" -d -f "$T/t$1-$n/relay.conf" --ready-fd 3 \
		    3>"$T/t$1-$n/ready" >>"$T/tier-relay$n.log" 2>&1 &
		pids="$pids $!"
		[ "$(timeout 20 head -n1 "$T/t$1-$n/ready")" = READY=1 ] ||
		    bail "relay $n did not start: $(tail -2 "$T/tier-relay$n.log")"
	done
	for n in 1 2; do
		python3 "$BENCH/upload_client.py" --port "546$n" --pki "$T/pki" \
		    --nodes "node$n" --snap-mb "$SNAP_MB" --uploads "$UPLOADS" \
		    --duration 0 "$T/tier-$1-$n.out" 2>>"$T/client.log" &
	done
	for n in 1 2; do
		wait -n || bail "upload_client failed: $(tail -2 "$T/client.log")"
	done
	# shellcheck disable=SC2086 # the two pids
	kill -TERM $pids
	# shellcheck disable=SC2086
	wait $pids 2>/dev/null
	rm -rf "$T/t$1-1/store" "$T/t$1-2/store"
	[ "$(cat "$T/tier-$1-1.out" "$T/tier-$1-2.out" | wc -l)" -eq \
	    $((UPLOADS * 2)) ] || bail "tier: not every upload was stored"
	mbps "$T/tier-$1-1.out" "$T/tier-$1-2.out"
}

# The anchor's files: a snapshot as upload_client makes it (4 data files
# and 4096 bytes of metadata), PUT UPLOADS times under new keys.
mkdir -p "$T/files"
per=$(( (SNAP_MB * 1000000 - 4096) / 4 ))
for i in 0 1 2 3; do
	head -c "$per" /dev/urandom >"$T/files/f$i"
done
head -c 4096 /dev/urandom >"$T/files/metadata"
curl_args=()
for u in $(seq $((UPLOADS * NODES))); do
	for f in f0 f1 f2 f3 metadata; do
		[ ${#curl_args[@]} -gt 0 ] && curl_args+=(--next)
		curl_args+=(-sf -o /dev/null -X PUT --aws-sigv4
		    "aws:amz:$TT_S3_REGION:s3" --user "$access:$secret"
		    -H "x-amz-content-sha256: $(sha256sum "$T/files/$f" | cut -c1-64)"
		    -T "$T/files/$f" "$TT_S3_ENDPOINT/$TT_S3_BUCKET/curl/$u/$f")
	done
done
total=$(( (per * 4 + 4096) * UPLOADS * NODES ))

echo "relay-s3: $UPLOADS snapshots of $SNAP_MB MB from each of $NODES node(s), $RUNS runs" \
    "(MB/s, median; each run); s3_part_size = $PART"
curl "${curl_args[@]}" || bail "curl PUT failed"	# warm-up
: >"$T/local.mbps"
: >"$T/s3.mbps"
: >"$T/curl.mbps"
: >"$T/tier.mbps"
for run in $(seq "$RUNS"); do
	relay_run local "$run" >>"$T/local.mbps"
	relay_run s3 "$run" >>"$T/s3.mbps"
	[ "$RELAYS" = 2 ] && tier_run "$run" >>"$T/tier.mbps"
	t0=$(date +%s%N)
	curl "${curl_args[@]}" || bail "curl PUT failed"
	awk -v b="$total" -v ns=$(( $(date +%s%N) - t0 )) \
	    'BEGIN { printf "%.1f\n", b / 1e6 / (ns / 1e9) }' >>"$T/curl.mbps"
done
printf '  %-44s %7s   %s\n' \
    "relay, [store] backend = local" "$(median <"$T/local.mbps")" "$(tr '\n' ' ' <"$T/local.mbps")" \
    "relay, [store] backend = s3" "$(median <"$T/s3.mbps")" "$(tr '\n' ' ' <"$T/s3.mbps")" \
    "curl --aws-sigv4, same bytes (anchor)" "$(median <"$T/curl.mbps")" "$(tr '\n' ' ' <"$T/curl.mbps")"
[ "$RELAYS" = 2 ] && printf '  %-44s %7s   %s\n' \
    "2 relays, one bucket, PostgreSQL catalog" "$(median <"$T/tier.mbps")" \
    "$(tr '\n' ' ' <"$T/tier.mbps")"
echo "  machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%d GB", $2 / 1048576 }' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
