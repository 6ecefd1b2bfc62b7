#!/bin/bash
# tracetrap-relay under $CONNS concurrent uploads (issue 3): the ingest
# throughput, and the latency of the HTTP API meanwhile.
#
# One real relay (lib.sh tt_start_relay; retention out of reach:
# [store] max_bytes = 100000G). $CONNS simulated recorders on loopback
# (bench/upload_client.py: Python asyncio, TLS 1.3), one connection and one
# client certificate per node, node01..node$CONNS: the relay takes one
# upload at a time per connection and files it under the certificate's
# name. Each connection uploads snapshots of $SNAP_MB MB (4 data files and
# a 4 kB metadata file, random bytes made once and sent again under a new
# id each time, their sha256 in the manifest) back to back, each one acked
# "stored" (verified, fsync'd, renamed) before the next BEGIN, for
# $DURATION s or $UPLOADS snapshots per connection; an upload under way
# when time is up is finished.
#
# The API is polled by bench/api_poll.py: GET /v1/snapshots?limit=50,
# /v1/incidents and /metrics in turn, $RATE requests/s on a fixed
# schedule, over one keep-alive connection to 127.0.0.1:$RELAY_API_PORT;
# a request's latency runs from writing it to its last body byte. Three
# phases, $IDLE s each for the idle ones:
#   before    no upload, empty store;
#   load      from the moment all $CONNS connections have said HELLO until
#             the first of them runs out of work: all of them upload all
#             along;
#   after     no upload, the store as the load left it: what the catalog's
#             size costs, apart from the load (each snapshot of a local
#             trigger is an incident of its own, and /v1/incidents sums up
#             the newest 100 of them).
# Percentiles are nearest rank.
#
# Throughput: "stored" is the bytes of the acked snapshots over the wall
# time from the start (all connected) to the last ACK, tail included;
# "received" is tracetrap_relay_received_bytes_total (chunk bytes read
# off the connections) over the load phase, all connections busy, and
# may run ahead of the disk by what the relay queues (at most 8 MB per
# connection, relay/ingest.c INGEST_QUEUED_HIGH). Bytes: MB = 10^6.
# The event loop's own view: tracetrap_relay_loop_lag_max_seconds (the
# longest a 100 ms timer ran late, since the relay started) after each
# phase, and tracetrap_relay_loop_lag_over_10ms_total per phase. CPU time:
# /proc/PID/task/TID/stat, user + system, over the load phase; the main
# thread (event loop: TLS, framing, the API) apart from the others (the
# disk worker: sha256, write, fsync; download's worker).
#
# Client, poller and relay share this machine's CPUs: with few of them,
# the client's TLS encryption competes with the relay's decryption, and
# the API figures under load include the poller waiting for a CPU.
# The store is on the disk under /tmp by default; FS_TMPFS=1 puts it on a
# tmpfs (no disk: CPU only; it must hold everything the run stores).
# About 1.5 to 2 minutes with the defaults. Prints figures only.
#
# usage: bench/relay-load.sh   (root; CONNS=50 SNAP_MB=20 DURATION=60
#                               UPLOADS=0 RATE=20 IDLE=10 FS_TMPFS=0 RAW=)
# UPLOADS=N (per connection) ends the load after N snapshots each, or
# after DURATION s if that comes first (DURATION=0: the count only). RAW=DIR
# keeps the samples there: uploads.txt (conn, begin ns, ack ns, bytes),
# api-PHASE.txt (path, latency us, late us, status, bytes) and the
# relay's log.
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RELAY" "$CLI"
tt_enter "$@"

CONNS=${CONNS:-50}
SNAP_MB=${SNAP_MB:-20}
DURATION=${DURATION:-60}
UPLOADS=${UPLOADS:-0}
RATE=${RATE:-20}
IDLE=${IDLE:-10}
FS_TMPFS=${FS_TMPFS:-0}
RAW=${RAW:-}
HZ=$(getconf CLK_TCK)

[ -x "$RELAY" ] || bail "no $RELAY: run make -j2 all first"

machine() {
	machine_line
	echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
	    /proc/meminfo); load average at start: $(cut -d' ' -f1-3 \
	    /proc/loadavg)"
	echo "$(python3 --version); $(python3 -c \
	    'import ssl; print(ssl.OPENSSL_VERSION)'); relay: $(openssl version)"
}

# cpu FILE...: "utime stime" summed over /proc stat files, clock ticks.
# The command name in field 2 may hold spaces: count fields after its ')'.
cpu() {
	local f
	for f in "$@"; do
		sed 's/.*) //' "$f" 2>/dev/null
	done | awk '{ u += $12; s += $13 } END { print u + 0, s + 0 }'
}

# The relay's CPU: "MAIN_U MAIN_S OTHERS_U OTHERS_S THREADS".
relay_cpu() {
	local others=() t
	for t in /proc/"$RELAY_PID"/task/*; do
		[ "${t##*/}" = "$RELAY_PID" ] || others+=("$t/stat")
	done
	echo "$(cpu "/proc/$RELAY_PID/task/$RELAY_PID/stat")" \
	    "$(cpu "${others[@]}")" $(( ${#others[@]} + 1 ))
}

# metric NAME [FILE]: a sample's value in /metrics (or a saved copy).
metric() {
	if [ -n "$2" ]; then
		awk -v n="$1" '$1 == n { print $2 }' "$2"
	else
		curl -s "http://127.0.0.1:$RELAY_API_PORT/metrics" |
		    awk -v n="$1" '$1 == n { print $2 }'
	fi
}

save_metrics() {
	curl -s -o "$T/metrics.$1" "http://127.0.0.1:$RELAY_API_PORT/metrics" ||
	    bail "GET /metrics failed"
}

now_ns() { date +%s%N; }

# drop_pid PID: out of tt_pids, once this script has waited for it.
drop_pid() {
	local p rest=""
	for p in $tt_pids; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	tt_pids=$rest
}

# api_row LABEL PATH|all: ms "p50 / p99 / max (n)" for each phase.
api_row() {
	local phase cells=() f=$T/api.tmp
	for phase in before load after; do
		awk -v p="$2" '$4 == 200 && (p == "all" || $1 == p) { print $2 }' \
		    "$T/api-$phase.txt" >"$f"
		cells+=("$(awk -v a="$(pct 0.50 <"$f")" -v b="$(pct 0.99 <"$f")" \
		    -v c="$(pct 1 <"$f")" -v n="$(wc -l <"$f")" 'BEGIN {
		    printf "%.2f / %.2f / %.2f (%d)", a / 1000, b / 1000,
		    c / 1000, n }')")
	done
	printf '  %-24s %-27s %-27s %s\n' "$1" "${cells[@]}"
}

machine
mkdir -p "$T/fs"
if [ "$FS_TMPFS" = 1 ]; then
	mount -t tmpfs tmpfs "$T/fs"	# lib.sh unmounts it
	echo "store: tmpfs"
else
	echo "store: $(df --output=source,fstype "$T/fs" | tail -1 |
	    tr -s ' '), $(df -h --output=avail "$T/fs" | tail -1 |
	    tr -d ' ') free"
fi
export TT_STORE=$T/fs/store

mapfile -t nodes < <(seq -f 'node%02g' 1 "$CONNS")
tt_certs "${nodes[@]}"
tt_relay_config "max_bytes = 100000G"
tt_start_relay

if [ "$UPLOADS" -gt 0 ] && [ "$DURATION" != 0 ]; then
	plan="$UPLOADS snapshots per connection or $DURATION s"
elif [ "$UPLOADS" -gt 0 ]; then
	plan="$UPLOADS snapshots per connection"
else
	plan="$DURATION s"
fi
echo "load: $CONNS connections (${nodes[0]}..${nodes[-1]}, a certificate" \
    "each), snapshots of $SNAP_MB MB (4 files + metadata) back to back," \
    "$plan; API polled at $RATE requests/s"

# ---- before: no upload, empty store
python3 "$BENCH/api_poll.py" --port "$RELAY_API_PORT" --rate "$RATE" \
    --duration "$IDLE" "$T/api-before.txt" 2>>"$T/poll.log" ||
    bail "api_poll.py failed: $(tail -1 "$T/poll.log")"
save_metrics before

# ---- load
python3 "$BENCH/upload_client.py" --port "$RELAY_PORT" --pki "$T/pki" \
    --nodes "$(IFS=,; echo "${nodes[*]}")" --snap-mb "$SNAP_MB" \
    --uploads "$UPLOADS" --duration "$DURATION" --started "$T/started" \
    --stopped "$T/stopped" "$T/uploads.txt" 2>>"$T/client.log" &
CLIENT_PID=$!
tt_pids="$tt_pids $CLIENT_PID"
wait_for 120 test -e "$T/started" ||
    bail "upload_client.py did not connect: $(tail -1 "$T/client.log")"
t0=$(now_ns)
cpu0=$(relay_cpu)
save_metrics start
python3 "$BENCH/api_poll.py" --port "$RELAY_API_PORT" --rate "$RATE" \
    --stop-file "$T/stopped" --while-pid "$CLIENT_PID" \
    "$T/api-load.txt" 2>>"$T/poll.log" ||
    bail "api_poll.py failed: $(tail -1 "$T/poll.log")"
t1=$(now_ns)
cpu1=$(relay_cpu)
client_cpu1=$(cpu "/proc/$CLIENT_PID/stat")
save_metrics stop
wait "$CLIENT_PID" ||
    bail "upload_client.py failed: $(tail -1 "$T/client.log")"
drop_pid "$CLIENT_PID"
t2=$(now_ns)
save_metrics load

# ---- after: no upload, the store as the load left it
python3 "$BENCH/api_poll.py" --port "$RELAY_API_PORT" --rate "$RATE" \
    --duration "$IDLE" "$T/api-after.txt" 2>>"$T/poll.log" ||
    bail "api_poll.py failed: $(tail -1 "$T/poll.log")"
save_metrics after
rss_peak=$(awk '/^VmHWM/ { print $2 }' "/proc/$RELAY_PID/status")

# ---- figures
stored=$(wc -l <"$T/uploads.txt")
# printf %.0f: mawk prints large numbers as %.6g otherwise.
stored_bytes=$(awk '{ b += $4 } END { printf "%.0f", b }' "$T/uploads.txt")
wall_ns=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 }
    END { printf "%.0f", m }' "$T/uploads.txt")
m=$T/metrics.load
store_bytes=$(metric tracetrap_relay_store_bytes "$m")
du_bytes=$(du -sb "$TT_STORE/incidents" | cut -f1)
on_disk=$(find "$TT_STORE/incidents" -mindepth 3 -maxdepth 3 -type d | wc -l)
rcv0=$(metric tracetrap_relay_received_bytes_total "$T/metrics.start")
rcv1=$(metric tracetrap_relay_received_bytes_total "$T/metrics.stop")
refused=$(metric 'tracetrap_relay_uploads_total{result="refused"}' "$m")
aborted=$(metric 'tracetrap_relay_uploads_total{result="aborted"}' "$m")
relay_stored=$(metric 'tracetrap_relay_uploads_total{result="stored"}' "$m")
perr=$(metric tracetrap_relay_protocol_errors_total "$m")
over() {	# over PHASE-FROM PHASE-TO: timer runs > 10 ms late in between
	echo $(( $(metric tracetrap_relay_loop_lag_over_10ms_total \
	    "$T/metrics.$2") - $(metric tracetrap_relay_loop_lag_over_10ms_total \
	    "$T/metrics.$1") ))
}

echo
echo "uploads, $CONNS connections"
printf '  %-24s %d snapshots, %s bytes acked (relay: %s stored,' \
    "stored" "$stored" "$stored_bytes" "$relay_stored"
echo " tracetrap_relay_store_bytes $store_bytes)"
printf '  %-24s %d snapshots, %s bytes (du -sb incidents/: with the' \
    "in the store" "$on_disk" "$du_bytes"
echo " manifests and directories)"
printf '  %-24s %s / %s / %s\n' "refused / cut / protocol" "$refused" \
    "$aborted" "$perr"
awk -v b="$stored_bytes" -v ns="$wall_ns" 'BEGIN {
    printf "  %-24s %.1f s, start -> last ACK\n", "wall", ns / 1e9
    printf "  %-24s %.1f MB/s stored (acked bytes / wall)\n", "aggregate",
	b / 1e6 / (ns / 1e9) }'
awk -v b="$(( rcv1 - rcv0 ))" -v ns="$(( t1 - t0 ))" -v n="$CONNS" 'BEGIN {
    printf "  %-24s %.1f MB/s received over %.1f s (all %d uploading)\n",
	"load phase", b / 1e6 / (ns / 1e9), ns / 1e9, n }'
cut -d' ' -f1 "$T/uploads.txt" | sort -n | uniq -c | awk '{ print $1 }' \
    >"$T/per-conn.txt"
printf '  %-24s %s / %s / %s snapshots, min / median / max\n' \
    "per connection" "$(pct 0 <"$T/per-conn.txt")" \
    "$(pct 0.5 <"$T/per-conn.txt")" "$(pct 1 <"$T/per-conn.txt")"
awk '{ printf "%d\n", ($3 - $2) / 1000 }' "$T/uploads.txt" \
    >"$T/upload-us.txt"
awk -v a="$(pct 0.5 <"$T/upload-us.txt")" \
    -v b="$(pct 0.99 <"$T/upload-us.txt")" \
    -v c="$(pct 1 <"$T/upload-us.txt")" 'BEGIN {
    printf "  %-24s %.2f / %.2f / %.2f s p50 / p99 / max (BEGIN -> ACK)\n",
	"one upload", a / 1e6, b / 1e6, c / 1e6 }'

echo
echo "HTTP API, $RATE requests/s, ms p50 / p99 / max (requests)"
printf '  %-24s %-27s %-27s %s\n' "" "before (empty store)" "under load" \
    "after ($on_disk snapshots)"
for path in "/v1/snapshots?limit=50" /v1/incidents /metrics; do
	api_row "$path" "$path"
done
api_row "all" all
for phase in before load after; do
	bad=$(awk '$4 != 200' "$T/api-$phase.txt" | wc -l)
	late=$(awk -v p="$(( 1000000 / RATE ))" '$3 > p' \
	    "$T/api-$phase.txt" | wc -l)
	printf '  %-24s %d not 200, %d sent more than one period late\n' \
	    "$phase" "$bad" "$late"
done

echo
echo "relay event loop (100 ms timer):"
# A running maximum: each figure covers the relay's life until then.
printf '  %-24s %s s before, %s connected, %s after the load, %s at the end\n' \
    "loop_lag_max_seconds" \
    "$(metric tracetrap_relay_loop_lag_max_seconds "$T/metrics.before")" \
    "$(metric tracetrap_relay_loop_lag_max_seconds "$T/metrics.start")" \
    "$(metric tracetrap_relay_loop_lag_max_seconds "$T/metrics.load")" \
    "$(metric tracetrap_relay_loop_lag_max_seconds "$T/metrics.after")"
printf '  %-24s %d before, %d connecting, %d under load (+%d in the tail),' \
    "runs > 10 ms late" "$(metric tracetrap_relay_loop_lag_over_10ms_total \
    "$T/metrics.before")" "$(over before start)" "$(over start stop)" \
    "$(over stop load)"
echo " $(over load after) after"

echo
# shellcheck disable=SC2086
set -- $cpu0 $cpu1
awk -v hz="$HZ" -v ns="$(( t1 - t0 ))" -v mb="$(( (rcv1 - rcv0) / 1000000 ))" \
    -v mu="$(( $6 - $1 ))" -v ms="$(( $7 - $2 ))" \
    -v ou="$(( $8 - $3 ))" -v os="$(( $9 - $4 ))" -v th="${10}" 'BEGIN {
    s = ns / 1e9
    printf "relay CPU time over the load phase (%.1f s, %d MB received, " \
	"%d threads), user + system:\n", s, mb, th
    printf "  %-24s %6d + %6d ms  %3.0f%% of a CPU  %.2f ms/MB\n",
	"main (event loop)", mu * 1000 / hz, ms * 1000 / hz,
	(mu + ms) * 100 / hz / s, (mu + ms) * 1000 / hz / mb
    printf "  %-24s %6d + %6d ms  %3.0f%% of a CPU  %.2f ms/MB\n",
	"other threads (disk)", ou * 1000 / hz, os * 1000 / hz,
	(ou + os) * 100 / hz / s, (ou + os) * 1000 / hz / mb }'
# shellcheck disable=SC2086
set -- $client_cpu1
awk -v hz="$HZ" -v ns="$(( t1 - t0 ))" -v u="$1" -v s="$2" 'BEGIN {
    printf "  %-24s %6d + %6d ms  (since its start, with setup)\n",
	"upload_client.py", u * 1000 / hz, s * 1000 / hz }'
printf '  %-24s %d MB\n' "relay peak RSS" $(( rss_peak / 1024 ))

echo
warnings=$(grep -cE 'refused|cut off|protocol error|peer error' "$T/relay.log")
late_max=$(sed -n 's/.*event loop ran a timer \([0-9]*\) us late.*/\1/p' \
    "$T/relay.log" | pct 1)
echo "relay log: $(wc -l <"$T/relay.log") lines, $warnings about refused," \
    "cut or bad uploads, $(grep -c 'event loop ran a timer' \
    "$T/relay.log") late timers (worst $late_max us)"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "run: $(( (t2 - t0) / 1000000000 )) s of load"
if [ -n "$RAW" ]; then
	mkdir -p "$RAW" && cp "$T/uploads.txt" "$T"/api-*.txt \
	    "$T/relay.log" "$T/client.log" "$RAW/"
fi
