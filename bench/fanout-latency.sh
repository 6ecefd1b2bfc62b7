#!/bin/bash
# Cluster trigger -> snapshot started on every recorder: the relay's
# fan-out (relay/fanout.c), measured two ways on one machine (one clock).
#
# (a) 3 real recorders, each a whole node in its own mount namespace (its
#     own lttng-sessiond and ticking app, lib.sh tt_start_node), linked to
#     one relay whose fleet budget is off ([fleet] cooldown = 0,
#     max_per_hour = 0, node_max_per_hour = 0). $RUNS cluster triggers are
#     sent to node1's trigger socket one at a time; the next goes once all
#     3 snapshots of the incident are in the relay's store. From the stored manifests, per
#     incident:
#       fan-out     trigger datagram read by the origin recorder
#                   (labels.trigger_received_at_us) -> the last of the 3
#                   recorders starts lttng_snapshot_record()
#                   (record_started_at_us), i.e. max over the nodes;
#       to relay    trigger read by the origin -> the relay fans out
#                   (labels.requested_at_us): origin forwards, TLS,
#                   relay reads and applies the fleet budget;
#       to nodes    relay fans out -> the last node has read its
#                   SNAPSHOT_REQUEST (that node's triggers[0].received_at_us);
#       dispatch    request read -> record start, the slowest node;
#       spread      last record start - first record start.
# (b) $CONNS simulated recorders on loopback (bench/fanout_client.py: Python
#     asyncio, TLS 1.3, a client certificate each: the relay keeps one
#     connection per node name), with
#     the real ones gone. One of them sends CLUSTER_TRIGGER $TRIGGERS times,
#     one at a time, each once every connection has its SNAPSHOT_REQUEST:
#       last / first   trigger written -> the last / first of the $CONNS
#                      requests handed to the client (monotonic clock);
#       last - first   per trigger: mostly the client reading the $CONNS
#                      connections one after the other, on one thread;
#       relay queue    the relay's own "snapshot requested from N recorders
#                      in X us": the time it took to queue the N frames
#                      (json, framing, bufferevent output), not to encrypt
#                      and send them.
#     The client's own reading (TLS decryption and one asyncio callback per
#     connection, on the same CPUs as the relay) is inside last and first.
# Warm-ups ($WARMUP in each part) are off the record. Percentiles are
# nearest rank: p99 of 30 incidents is the worst one. Figures only.
#
# usage: bench/fanout-latency.sh   (root; RUNS=30 CONNS=50 TRIGGERS=200
#                                   WARMUP=3 RAW=)
# RAW=DIR keeps the samples there: a.txt (per incident: fan-out, to relay,
# to nodes, dispatch, spread, us), b.txt (incident, first, last, us),
# queue.txt (relay queue, us) and the relay's log.
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RELAY" "$RECORDER" "$TTSEND" "$TTAPP"
tt_enter "$@"

RUNS=${RUNS:-30}
CONNS=${CONNS:-50}
TRIGGERS=${TRIGGERS:-200}
WARMUP=${WARMUP:-3}
RAW=${RAW:-}

machine() {
	machine_line
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "lttng: $(lttng --version | head -1); $(python3 --version);" \
	    "$(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)')"
}

# COLUMN of FILE (microseconds) as "p50 / p99" in ms.
p50_p99_ms() {
	local f=$T/pct.tmp
	cut -d' ' -f"$1" "$2" >"$f"
	awk -v a="$(pct 0.50 <"$f")" -v b="$(pct 0.99 <"$f")" \
	    'BEGIN { printf "%.2f / %.2f", a / 1000, b / 1000 }'
}

# drop_pid PID: out of tt_pids, once this script has ended it itself.
drop_pid() {
	local p rest=""
	for p in $tt_pids; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	tt_pids=$rest
}

# Complete snapshots in the relay's store, all incidents and nodes.
stored() {
	find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d \
	    2>/dev/null | wc -l
}

machine
sims=()
for i in $(seq 0 $((CONNS - 1))); do sims+=("sim$i"); done
tt_certs node1 node2 node3 "${sims[@]}"
tt_relay_config "[fleet]
cooldown = 0
max_per_hour = 0
node_max_per_hour = 0"
tt_start_relay

# ---- (a) three real recorders
nodes="node1 node2 node3"
declare -A recorder_pid
for n in $nodes; do
	tt_start_node "$n"
	recorder_pid[$n]=$!	# the node's recorder (unshare execs it)
done
for n in $nodes; do
	wait_until 20 "[ \"\$(node_status $n .relay.connected)\" = true ]" ||
	    bail "$n did not connect to the relay"
	wait_until 20 "[ -s '$T/$n/app.state' ]" || bail "$n's app did not run"
done

: >"$T/warmup.txt"
for i in $(seq 1 $((WARMUP + RUNS))); do
	"$TTSEND" -s "$T/node1/trigger.sock" -c -S app -r bench >/dev/null ||
	    bail "ttsend failed"
	wait_slowly 30 "[ \$(stored) -ge $((3 * i)) ]" ||
	    bail "incident $i: $(stored) of $((3 * i)) snapshots stored in 30 s"
	if [ "$i" -eq "$WARMUP" ]; then
		ls "$T/store/incidents" >"$T/warmup.txt"
	fi
done
[ "$(stored)" -eq $((3 * (WARMUP + RUNS))) ] ||
    bail "$(stored) snapshots stored, expected $((3 * (WARMUP + RUNS)))"

# One line per incident: fan-out, to relay, to nodes, dispatch, spread (us).
: >"$T/a.txt"
for dir in "$T"/store/incidents/*; do
	inc=${dir##*/}
	grep -qxF "$inc" "$T/warmup.txt" && continue
	# shellcheck disable=SC2016
	jq -rs '(.[0].triggers[0].labels) as $l
	    | ($l.trigger_received_at_us | tonumber) as $tr
	    | ($l.requested_at_us | tonumber) as $rq
	    | [.[].record_started_at_us] as $rs
	    | if length != 3 or $tr <= 0 or
		 ([.[].triggers[0].labels.trigger_received_at_us] | unique
		  | length) != 1 then error("incident \(.[0].incident): "
		  + "\(length) manifests, trigger_received_at_us \($tr)")
	      else empty end,
	      "\(($rs | max) - $tr) \($rq - $tr)"
	      + " \([.[].triggers[0].received_at_us] | max - $rq)"
	      + " \([.[] | .record_started_at_us - .triggers[0].received_at_us]
		   | max)"
	      + " \(($rs | max) - ($rs | min))"' \
	    "$dir"/*/*/manifest.json >>"$T/a.txt" ||
	    bail "incident $inc: bad manifests"
done
[ "$(wc -l <"$T/a.txt")" -eq "$RUNS" ] ||
    bail "$(wc -l <"$T/a.txt") incidents measured, expected $RUNS"

echo
echo "(a) 3 real recorders, $RUNS cluster triggers one at a time" \
    "(+$WARMUP warm-up), ms p50 / p99"
printf '%-18s %-18s %-18s %-18s %s\n' "fan-out" "to relay" "to nodes" \
    "dispatch" "spread"
printf '%-18s %-18s %-18s %-18s %s\n' "$(p50_p99_ms 1 "$T/a.txt")" \
    "$(p50_p99_ms 2 "$T/a.txt")" "$(p50_p99_ms 3 "$T/a.txt")" \
    "$(p50_p99_ms 4 "$T/a.txt")" "$(p50_p99_ms 5 "$T/a.txt")"

# The real recorders go (their session daemons and apps too): in (b) the
# relay fans out to the simulated ones only, on a quiet machine.
# lib.sh noted each node's sessiond as the newest on the host: found again
# here by the node's mount namespace, so that no other sessiond is touched.
others=""
for n in $nodes; do
	ns=$(readlink "/proc/${recorder_pid[$n]}/ns/mnt")
	pid=$(cat "$T/$n/sessiond.pid")
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$ns" ] || drop_pid "$pid"
	for pid in $(pgrep -x lttng-sessiond); do
		[ "$(readlink "/proc/$pid/ns/mnt")" = "$ns" ] &&
		    others="$others $pid"
	done
	others="$others $(cat "$T/$n/app.pid")"
done
# shellcheck disable=SC2086
kill -TERM "${recorder_pid[@]}" $others 2>/dev/null
for pid in "${recorder_pid[@]}"; do	# children of this shell: waited for
	wait "$pid" 2>/dev/null
	drop_pid "$pid"
done
for pid in $others; do
	wait_for 10 sh -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
	drop_pid "$pid"
done
for n in $nodes; do
	wait_for 10 grep -q "^.* $n (.*): disconnected" "$T/relay.log" ||
	    bail "the relay still has $n"
done

# ---- (b) simulated recorders
mark=$(wc -l <"$T/relay.log")
timeout 120 python3 "$BENCH/fanout_client.py" --port "$RELAY_PORT" \
    --ca "$T/pki/ca.pem" --cert-prefix "$T/pki/sim" \
    --conns "$CONNS" --triggers "$TRIGGERS" --warmup "$WARMUP" \
    "$T/b.txt" 2>>"$T/client.log" ||
    bail "fanout_client.py failed: $(tail -1 "$T/client.log")"
[ "$(wc -l <"$T/b.txt")" -eq "$TRIGGERS" ] ||
    bail "$(wc -l <"$T/b.txt") triggers measured, expected $TRIGGERS"

# The relay's line for each measured incident: "... from N recorders in X us".
: >"$T/queue.txt"
tail -n +"$((mark + 1))" "$T/relay.log" >"$T/relay-b.log"
while read -r inc _; do
	line=$(grep -F "incident $inc: " "$T/relay-b.log") ||
	    bail "no relay log line for $inc"
	n=$(sed -n 's/.* requested from \([0-9]*\) recorders in .*/\1/p' \
	    <<<"$line")
	[ "$n" = "$CONNS" ] || bail "$inc went to $n recorders, not $CONNS"
	sed -n 's/.* recorders in \([0-9]*\) us$/\1/p' <<<"$line" \
	    >>"$T/queue.txt"
done <"$T/b.txt"

echo
echo "(b) $CONNS simulated recorders (Python asyncio + TLS 1.3, loopback)," \
    "$TRIGGERS cluster triggers one at a time (+$WARMUP warm-up)"
printf '%-26s %s\n' "last request arrives" \
    "$(p50_p99_ms 3 "$T/b.txt") ms p50 / p99"
printf '%-26s %s\n' "first request arrives" \
    "$(p50_p99_ms 2 "$T/b.txt") ms p50 / p99"
awk '{ print $3 - $2 }' "$T/b.txt" >"$T/b-spread.txt"
printf '%-26s %s ms p50 / p99\n' "last - first" \
    "$(p50_p99_ms 1 "$T/b-spread.txt")"
printf '%-26s %s us p50 / p99 (max %s us)\n' "relay queues $CONNS frames" \
    "$(pct 0.50 <"$T/queue.txt") / $(pct 0.99 <"$T/queue.txt")" \
    "$(pct 1 <"$T/queue.txt")"
if [ -n "$RAW" ]; then
	mkdir -p "$RAW" &&
	    cp "$T/a.txt" "$T/b.txt" "$T/queue.txt" "$T/relay.log" "$RAW/"
fi

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "last/first are measured by the Python client, from writing the trigger"
echo "to asyncio handing it the decrypted request: they include the client's"
echo "own TLS decryption and one asyncio callback per connection, one after"
echo "the other on one thread, on the same $(nproc) CPUs as the relay, so they"
echo "overstate what the relay costs. The relay queue figure is the relay's"
echo "own: building and queueing the $CONNS frames, before OpenSSL encrypts"
echo "and sends them. Issue goal, for reference: fan-out p99 under 10 ms for"
echo "50 recorders on loopback."
