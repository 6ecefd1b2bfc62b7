#!/bin/bash
# tracetrap-relay under an idle-connection flood (issue 10): the same
# upload load twice, without and then with $FLOOD idle TCP connections
# held open on the ingest port, and the relay's figures side by side:
# ingest MB/s, HTTP API p50/p99, the relay's CPU, its RSS.
#
# Load: $CONNS simulated recorders (bench/upload_client.py, TLS 1.3, a
# certificate each) upload snapshots of $SNAP_MB MB back to back for
# $DURATION s; "ingest MB/s" is the bytes of the snapshots acked "stored"
# over the time from the start to the last ACK. The API is polled by
# bench/api_poll.py at $RATE requests/s (/v1/snapshots?limit=50,
# /v1/incidents, /metrics). Flood: tests/apps/ttflood.py opens $FLOOD TCP
# connections from 127.0.0.1 that never send a byte, and opens a new one
# for each the relay closes ([listen] handshake_timeout: $HANDSHAKE_TIMEOUT
# here, so that all of them stay; the default 10 s would close them in
# waves), for the whole phase. The relay runs with max_connections = $MAX_CONNS,
# max_per_address = 0 (everyone is 127.0.0.1 here) and max_memory =
# $MAX_MEMORY. CPU: the relay's user + system time over the phase, in %
# of one core. RSS: the largest VmRSS sampled every 200 ms in the phase,
# and VmHWM at the end. Store on a tmpfs unless FS_TMPFS=0.
#
# Calm and flooded phases alternate, ROUNDS of each; the ingest figure of
# a kind is the mean of its phases'.
#
# usage: bench/relay-flood.sh (root; CONNS=50 FLOOD=1000 SNAP_MB=4
#        DURATION=20 RATE=20 MAX_CONNS=2000 MAX_MEMORY=64M FS_TMPFS=1
#        ROUNDS=2 HANDSHAKE_TIMEOUT=60s)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_enter "$@"
MAKE_CERTS=$(cd "$BENCH/.." && pwd)/conf/make-dev-certs.sh
TTFLOOD=$(cd "$BENCH/.." && pwd)/tests/apps/ttflood.py

CONNS=${CONNS:-50}
FLOOD=${FLOOD:-1000}
SNAP_MB=${SNAP_MB:-4}
DURATION=${DURATION:-20}
RATE=${RATE:-20}
MAX_CONNS=${MAX_CONNS:-2000}
MAX_MEMORY=${MAX_MEMORY:-64M}
FS_TMPFS=${FS_TMPFS:-1}
ROUNDS=${ROUNDS:-2}
HANDSHAKE_TIMEOUT=${HANDSHAKE_TIMEOUT:-60s}
HZ=$(getconf CLK_TCK)

[ -x "$RELAY" ] || bail "no $RELAY: run make -j2 all first"
ulimit -n 8192 2>/dev/null || :

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
    /proc/meminfo); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$T/fs"
if [ "$FS_TMPFS" = 1 ]; then
	mount -t tmpfs tmpfs "$T/fs"	# lib.sh unmounts it
	echo "store: tmpfs"
else
	echo "store: $(df --output=source,fstype "$T/fs" | tail -1 | tr -s ' ')"
fi
export TT_STORE=$T/fs/store

ticks() { sed 's/.*) //' "/proc/$RELAY_PID/stat" | awk '{ print $12 + $13 }'; }
now_ns() { date +%s%N; }

mapfile -t nodes < <(seq -f 'node%02g' 1 "$CONNS")
tt_certs "${nodes[@]}"
tt_relay_config "max_bytes = 100000G
min_free = 0
[listen]
max_connections = $MAX_CONNS
max_per_address = 0
max_memory = $MAX_MEMORY
handshake_timeout = $HANDSHAKE_TIMEOUT
[analysis]
workers = 0"
tt_start_relay
echo "load: $CONNS recorders, snapshots of $SNAP_MB MB back to back for" \
    "$DURATION s; API at $RATE requests/s; flood: $FLOOD idle connections"
echo "relay: [listen] max_connections = $MAX_CONNS, max_per_address = 0," \
    "max_memory = $MAX_MEMORY, handshake_timeout = $HANDSHAKE_TIMEOUT;" \
    "analysis off"

# phase NAME: one load phase; its figures in $T/NAME.*
phase() {
	local name=$1 t0 t1 c0 c1 sampler others client

	python3 "$BENCH/upload_client.py" --port "$RELAY_PORT" --pki "$T/pki" \
	    --nodes "$(IFS=,; echo "${nodes[*]}")" --snap-mb "$SNAP_MB" \
	    --duration "$DURATION" --started "$T/$name.started" \
	    --stopped "$T/$name.stopped" "$T/$name.uploads" \
	    2>>"$T/client.log" &
	client=$!
	tt_pids="$tt_pids $client"
	wait_for 120 test -e "$T/$name.started" ||
	    bail "upload_client.py did not connect: $(tail -1 "$T/client.log")"
	( while :; do awk '/^VmRSS/ { print $2 }' "/proc/$RELAY_PID/status"
	    sleep 0.2; done ) >"$T/$name.rss" &
	sampler=$!
	# The uploading client's and the flood's CPU ticks ("-" when gone).
	( tk() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk '{ print $12 + $13 }' | grep . || echo -; }
	  while :; do echo "$(tk "$client") $(tk "${FLOOD_PID:-0}")"
	    sleep 0.5; done ) >"$T/$name.others" &
	others=$!
	tt_pids="$tt_pids $sampler $others"
	t0=$(now_ns)
	c0=$(ticks)
	python3 "$BENCH/api_poll.py" --port "$RELAY_API_PORT" --rate "$RATE" \
	    --stop-file "$T/$name.stopped" --while-pid "$client" \
	    "$T/$name.api" 2>>"$T/poll.log" ||
	    bail "api_poll.py failed: $(tail -1 "$T/poll.log")"
	wait "$client" || bail "upload_client.py failed: $(tail -1 "$T/client.log")"
	c1=$(ticks)
	t1=$(now_ns)
	kill "$sampler" "$others"; wait "$sampler" "$others" 2>/dev/null
	# Room for the next phase: a phase writes up to ~5 GB, and a tmpfs
	# takes half the RAM at most. The catalog keeps their rows; ingest
	# does not read them.
	find "$TT_STORE/incidents" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	echo $(( c1 - c0 )) $(( t1 - t0 )) >"$T/$name.cpu"
}

# Calm and flooded alternate, $ROUNDS of each, so that both see the same
# machine (other load on it comes and goes).
held=""
for r in $(seq 1 "$ROUNDS"); do
	phase "calm$r"
	python3 "$TTFLOOD" --port "$RELAY_PORT" --count "$FLOOD" --forever \
	    >"$T/flood.out" 2>&1 &
	FLOOD_PID=$!
	tt_pids="$tt_pids $FLOOD_PID"
	wait_for 20 grep -q opened "$T/flood.out" || bail "the flood did not start"
	wait_until 20 "[ \"\$(curl -s http://127.0.0.1:$RELAY_API_PORT/v1/status | jq .ingest.connections)\" -ge $FLOOD ]" ||
	    echo "note: the relay holds fewer than $FLOOD connections"
	held="$held $(curl -s "http://127.0.0.1:$RELAY_API_PORT/v1/status" |
	    jq .ingest.connections)"
	phase "flooded$r"
	kill "$FLOOD_PID"; wait "$FLOOD_PID" 2>/dev/null
	wait_until 20 "[ \"\$(curl -s http://127.0.0.1:$RELAY_API_PORT/v1/status | jq .ingest.connections)\" -eq 0 ]"
done
status=$(curl -s "http://127.0.0.1:$RELAY_API_PORT/v1/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$RELAY_PID/status")

row() {	# row NAME
	local n=$1 bytes wall mbs p50 p99 cpu rss
	bytes=$(awk '{ b += $4 } END { printf "%.0f", b }' "$T/$n.uploads")
	wall=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { printf "%.0f", m }' \
	    "$T/$n.uploads")
	mbs=$(awk -v b="$bytes" -v w="$wall" 'BEGIN { if (w > 0)
	    printf "%.1f", b / 1e6 / (w / 1e9); else print "-" }')
	awk '$4 == 200 { print $2 }' "$T/$n.api" >"$T/$n.lat"
	p50=$(pct 0.50 <"$T/$n.lat")
	p99=$(pct 0.99 <"$T/$n.lat")
	read -r tk ns <"$T/$n.cpu"
	cpu=$(awk -v t="$tk" -v ns="$ns" -v hz="$HZ" \
	    'BEGIN { printf "%.0f", t / hz / (ns / 1e9) * 100 }')
	rss=$(sort -n "$T/$n.rss" | tail -1)
	# The client's and the flood's CPU over the phase, % of a core.
	others=$(awk -v ns="$ns" -v hz="$HZ" '
	    $1 != "-" { if (c0 == "") c0 = $1; c1 = $1 }
	    $2 != "-" { if (f0 == "") f0 = $2; f1 = $2 }
	    END { s = ns / 1e9 * hz / 100
		  printf "%s %s", c0 == "" ? "-" : sprintf("%.0f%%",
		      (c1 - c0) / s), f0 == "" ? "-" : sprintf("%.0f%%",
		      (f1 - f0) / s) }' "$T/$n.others")
	printf '%-9s %8d %9.1f %8s  %6.2f / %-7.2f %5s%%  %7.1f  %s\n' "$n" \
	    "$(wc -l <"$T/$n.uploads")" "$(awk -v b="$bytes" \
	    'BEGIN { print b / 1e6 }')" "$mbs" "$(awk -v v="$p50" \
	    'BEGIN { print v / 1000 }')" "$(awk -v v="$p99" \
	    'BEGIN { print v / 1000 }')" "$cpu" "$(awk -v v="$rss" \
	    'BEGIN { print v / 1024 }')" "$others"
	echo "$mbs" >"$T/$n.mbs"
}
# Each kind's phases together: "calm" = calm1 + calm2 + ...
for kind in calm flooded; do
	cat "$T/$kind"[0-9]*.uploads >"$T/$kind.uploads.all"
	cat "$T/$kind"[0-9]*.api >"$T/$kind.api.all"
	cat "$T/$kind"[0-9]*.rss >"$T/$kind.rss.all"
	awk '{ t += $1; ns += $2 } END { print t, ns }' "$T/$kind"[0-9]*.cpu \
	    >"$T/$kind.cpu.all"
done
echo
printf '%-9s %8s %9s %8s  %-16s %6s  %7s  %s\n' phase uploads MB "MB/s" \
    "API ms p50 / p99" CPU "RSS MiB" "CPU of the client, the flood"
for r in $(seq 1 "$ROUNDS"); do
	row "calm$r"
	row "flooded$r"
done
# All of a kind: MB/s is the mean of its phases' MB/s.
for kind in calm flooded; do
	awk '{ print $1 }' "$T/$kind"[0-9]*.mbs | awk '{ s += $1 }
	    END { printf "%.1f\n", s / NR }' >"$T/$kind.mean"
done
echo
echo "mean ingest: calm $(cat "$T/calm.mean") MB/s, flooded" \
    "$(cat "$T/flooded.mean") MB/s"
awk -v a="$(cat "$T/calm.mean")" -v b="$(cat "$T/flooded.mean")" 'BEGIN {
    if (a > 0) printf "ingest flooded / calm: %.1f %%\n", b / a * 100 }'
for kind in calm flooded; do
	awk '$4 == 200 { print $2 }' "$T/$kind.api.all" >"$T/$kind.lat"
	echo "API $kind, all phases: p50 $(pct 0.50 <"$T/$kind.lat" |
	    awk '{ print $1 / 1000 }') ms, p99 $(pct 0.99 <"$T/$kind.lat" |
	    awk '{ print $1 / 1000 }') ms ($(wc -l <"$T/$kind.lat") requests)"
done
echo "flood: connections held by the relay as each flooded phase began:$held;" \
    "$(jq .ingest.timeouts <<<"$status") timed out," \
    "$(jq .ingest.evicted <<<"$status") evicted," \
    "$(jq .ingest.refused <<<"$status") refused"
echo "relay VmHWM $(( hwm / 1024 )) MiB; ingest memory peak" \
    "$(( $(jq .ingest.memory_peak <<<"$status") / 1048576 )) MiB of" \
    "max_memory $(( $(jq .ingest.memory_max <<<"$status") / 1048576 )) MiB"
echo "uploads refused: $(jq .stats.uploads_refused <<<"$status"), cut off:" \
    "$(jq .stats.uploads_aborted <<<"$status")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
