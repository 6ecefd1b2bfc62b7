#!/bin/bash
# "Incident ready" (issue 13): a cluster trigger on one node -> the last
# of the incident's snapshots durable on the relay (received, every
# file's sha256 verified, fsync'd, catalogued, acknowledged), with every
# node's rings full.
#
# NODES whole nodes on this machine (lib.sh tt_start_node: each its own
# mount namespace, lttng-sessiond, ticking app and recorder, rings RING
# per CPU, per-UID buffers), one relay with the fleet budget off; store
# and spools on the disk under /tmp (STORE_TMPFS=1: the relay's store on
# a tmpfs). Before every incident each node's rings are filled (one
# filler app per CPU, pinned, run inside the node's mount namespace);
# then one cluster trigger at node1, and the next incident once all
# NODES snapshots are stored. Per incident:
#   ready     node1 reads the trigger datagram (the manifests'
#             labels.trigger_received_at_us) -> the relay logs the last
#             of the NODES snapshots "stored" (its log's ms stamp);
#   records   the slowest node's lttng_snapshot_record();
#   hash      each node's hash of its snapshot (its upload starts after
#             it), from the recorder's log, over every node's snapshot;
#   bytes     all NODES snapshots together.
# One clock (one machine). Percentiles are nearest rank: p99 of 10 is
# the worst. ANALYSIS=0 turns the relay's analysis of each snapshot off
# (it runs after the ACK, in a child at nice 10); WAIT_FOR_UPLOADS sets
# [analysis] wait_for_uploads (the relay's default: 5s), how long an
# analysis gives way to the uploads that follow. Each incident starts
# once the last one's analyses are done: one incident at a time, not a
# storm. Figures only.
#
# usage: bench/incident-ready.sh   (root; RUNS=10 WARMUP=1 NODES=3
#                                   RING=8M:8 ANALYSIS=1 STORE_TMPFS=0
#                                   WAIT_FOR_UPLOADS=)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RELAY" "$RECORDER" "$TTSEND" "$TTAPP"
tt_enter "$@"

RUNS=${RUNS:-10}
WARMUP=${WARMUP:-1}
NODES=${NODES:-3}
RING=${RING:-8M:8}
per_cpu=$(( $(numfmt --from=iec "${RING%:*}") * ${RING#*:} ))

machine() {
	machine_line
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "lttng: $(lttng --version | head -1)"
}

# COLUMN of FILE (ms) as "p50 / p99".
p50_p99() {
	local f=$T/pct.tmp
	cut -d' ' -f"$1" "$2" >"$f"
	echo "$(pct 0.50 <"$f") / $(pct 0.99 <"$f")"
}

# 0 when the relay analyzes nothing (queued or running): the next
# incident does not share the CPUs with the last one's analyses.
analysis_idle() {
	curl -s "http://127.0.0.1:$RELAY_API_PORT/v1/status" |
	    jq -e '.analysis.queued + .analysis.running == 0' >/dev/null
}

stored() {
	find "$T/store/incidents" -mindepth 3 -maxdepth 3 -type d \
	    2>/dev/null | wc -l
}

# Every node's rings full: a filler app per CPU in each node's namespace.
fill_rings() {
	local n cpu pid pids=""

	for n in $nodes; do
		for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
			nsenter -m -t "${recorder_pid[$n]}" taskset -c "$cpu" \
			    "$TTAPP" $(( per_cpu / 32 )) "$T/$n/fill.$cpu" 0 \
			    >>"$T/$n/app.log" 2>&1 &
			pids="$pids $!"
		done
	done
	# Waited for here, so not in tt_pids.
	for pid in $pids; do
		wait "$pid" || bail "a filler app failed"
	done
}

machine
nodes=$(seq -f 'node%g' 1 "$NODES" | tr '\n' ' ')
# shellcheck disable=SC2086
tt_certs $nodes
fleet="[fleet]
cooldown = 0
max_per_hour = 0
node_max_per_hour = 0"
if [ "${ANALYSIS:-1}" = 0 ]; then
	tt_relay_config "$fleet
[analysis]
workers = 0"
elif [ -n "${WAIT_FOR_UPLOADS:-}" ]; then
	tt_relay_config "$fleet
[analysis]
wait_for_uploads = $WAIT_FOR_UPLOADS"
else
	tt_relay_config "$fleet"
fi
mkdir -p "$T/store"
if [ "${STORE_TMPFS:-0}" = 1 ]; then
	mount -t tmpfs tmpfs "$T/store"	# lib.sh unmounts it
	echo "store: tmpfs; spools: $(df --output=fstype /tmp | tail -1)"
else
	echo "store and spools: $(df --output=source,fstype /tmp | tail -1)"
fi
echo "$NODES nodes, ring $RING = $(numfmt --to=iec "$per_cpu") per CPU," \
    "$(nproc) CPUs; analysis ${ANALYSIS:-1}," \
    "wait_for_uploads ${WAIT_FOR_UPLOADS:-5s (default)}"
tt_start_relay

declare -A recorder_pid
export TT_NODE_SUBBUF=$RING
for n in $nodes; do
	tt_start_node "$n"
	recorder_pid[$n]=$!	# the node's recorder (unshare execs it)
done
for n in $nodes; do
	wait_until 20 "[ \"\$(node_status $n .relay.connected)\" = true ]" ||
	    bail "$n did not connect to the relay"
done

: >"$T/warmup.txt"
for i in $(seq 1 $((WARMUP + RUNS))); do
	fill_rings
	"$TTSEND" -s "$T/node1/trigger.sock" -c -S bench -r ready \
	    >/dev/null || bail "ttsend failed"
	wait_slowly 120 "[ \$(stored) -ge $((NODES * i)) ]" ||
	    bail "incident $i: $(stored) of $((NODES * i)) snapshots stored"
	wait_slowly 120 analysis_idle || bail "incident $i: still analyzing"
	[ "$i" -le "$WARMUP" ] && ls "$T/store/incidents" >>"$T/warmup.txt"
done

# Per incident: ready (ms), slowest record (ms), bytes; hashes apart.
: >"$T/ready.txt"
: >"$T/hash.txt"
day=86400000
for dir in "$T"/store/incidents/*; do
	inc=${dir##*/}
	grep -qxF "$inc" "$T/warmup.txt" && continue
	read -r tr rec bytes < <(jq -rs '[(.[0].triggers[0].labels
	    .trigger_received_at_us | tonumber), ([.[].record_us] | max),
	    ([.[].bytes] | add), length] | if .[3] != '"$NODES"' then
	    error("\(.[3]) manifests") else "\(.[0]) \(.[1]) \(.[2])" end' \
	    "$dir"/*/*/manifest.json) || bail "incident $inc: bad manifests"
	last=$(grep -E ": snapshot [^ ]+ stored$" "$T/relay.log" |
	    grep -F -f <(for m in "$dir"/*/*/manifest.json; do
		jq -r '"snapshot \(.id) stored"' "$m"; done) |
	    log_ms | sort -n | tail -1)
	[ -n "$last" ] || bail "incident $inc: no stored line in the log"
	echo "$(( (last - tr / 1000 % day + day) % day )) $(( rec / 1000 ))" \
	    "$bytes" >>"$T/ready.txt"
	# Each node's hash (its upload starts after it), from its log.
	for m in "$dir"/*/*/manifest.json; do
		read -r id node < <(jq -r '"\(.id) \(.node)"' "$m")
		sed -n "s/.*snapshot $id: recorded, .* hash \([0-9]*\) us.*/\1/p" \
		    "$T/$node/recorder.log"
	done | awk '{ print int($1 / 1000) }' >>"$T/hash.txt"
done
[ "$(wc -l <"$T/ready.txt")" -eq "$RUNS" ] ||
    bail "$(wc -l <"$T/ready.txt") incidents measured, expected $RUNS"

echo
echo "$RUNS incidents one at a time (+$WARMUP warm-up), ms p50 / p99:"
printf '%-22s %-22s %-22s %s\n' "trigger -> all stored" "slowest record" \
    "a node's hash" "MB per incident (median)"
printf '%-22s %-22s %-22s %s\n' "$(p50_p99 1 "$T/ready.txt")" \
    "$(p50_p99 2 "$T/ready.txt")" "$(p50_p99 1 "$T/hash.txt")" \
    "$(cut -d' ' -f3 "$T/ready.txt" | pct 0.50 |
	awk '{ printf "%.1f", $1 / 1e6 }')"
