#!/bin/bash
# Trigger-to-snapshot latency, and what tracetrap adds to LTTng's own cost.
#
# For each ring size, with the ring refilled before every snapshot (one
# filler app per CPU) and an app ticking at 1 kHz throughout, three figures
# over $RUNS snapshots taken one after the other:
#   tracetrap   one datagram sent -> snapshot directory renamed into the
#               spool (bench/trigger_latency.c, inotify IN_MOVED_TO);
#   lttng CLI   `lttng snapshot record` on the same session, as an operator
#               would run it without tracetrap: the anchor;
#   record      the time the recorder spent inside lttng_snapshot_record()
#               (manifest record_us); tracetrap minus record is the price of
#               the policy, dispatch, sha256 of the files, fsync and
#               publication (per snapshot, then percentiles).
# p99 of 50 samples is the worst one (nearest rank). Prints figures only.
#
# The spool is on the disk under /tmp, as it would be under /var/lib: the
# overhead includes fsync. SPOOL_TMPFS=1 puts it on a tmpfs instead, which
# leaves the CPU part (sha256, JSON, renames).
#
# Then $RUNS2 pairs per ring: a second trigger 50 ms after the first
# snapshot's record returned; its dispatch shows whether the LTTng worker
# waits for the first one's hashing and fsync (it must not).
#
# usage: bench/trigger-latency.sh   (root; RUNS=50 RUNS2=20
#                                    RINGS="1M:8 8M:8" SPOOL_TMPFS=0)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RECORDER" "$TTAPP" "$TTSEND" "$BUILD/libtracetrap.a"
tt_enter "$@"

RUNS=${RUNS:-50}
RUNS2=${RUNS2:-20}	# back-to-back pairs
seconds=""
RINGS=${RINGS:-"1M:8 8M:8"}	# subbuf_size:subbuf_count
SPOOL_TMPFS=${SPOOL_TMPFS:-0}

machine() {
	machine_line
	echo "lttng: $(lttng --version | head -1)"
}

# ms P50 P99 from microseconds on stdin.
p50_p99_ms() {
	local f=$T/pct.tmp
	cat >"$f"
	awk -v a="$(pct 0.50 <"$f")" -v b="$(pct 0.99 <"$f")" \
	    'BEGIN { printf "%.2f / %.2f", a / 1000, b / 1000 }'
}

# fill_ring BYTES_PER_CPU: one app per CPU overwrites its whole ring. Every
# snapshot switches sub-buffers, which frees one of them, so without this
# the ring would drain snapshot after snapshot and the 1 kHz ticker alone
# would take minutes to fill it again: each sample would copy less. Full is
# the worst case, and the steady state of a busy machine. The apps' events
# are 39 bytes (header, vpid, vtid, procname, n): 1/32 of the ring in
# events writes it about 1.2 times over.
fill_ring() {
	local cpu pid pids=""

	for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
		taskset -c "$cpu" "$TTAPP" $(( $1 / 32 )) "$T/fill.$cpu" 0 \
		    >>"$T/app.log" 2>&1 &
		pids="$pids $!"
	done
	# Waited for here, so not in tt_pids: cleanup must not signal a
	# pid the system has since given to another process.
	for pid in $pids; do
		wait "$pid" || { echo "Bail out! a filler app failed:" \
		    "$(tail -2 "$T/app.log")" >&2; exit 1; }
	done
}

to_bytes() {
	numfmt --from=iec "$1"
}

machine
# The sender is built here, against the library the recorder ships.
cc -O2 -Wall -I"$BENCH/../include" -o "$T/trigger_latency" \
    "$BENCH/trigger_latency.c" "$BUILD/libtracetrap.a" ||
    bail "cannot build bench/trigger_latency.c"

# Spool and retired snapshots share a filesystem: the helper renames.
mkdir -p "$T/fs"
if [ "$SPOOL_TMPFS" = 1 ]; then
	mount -t tmpfs tmpfs "$T/fs"	# lib.sh unmounts it
	echo "spool: tmpfs"
else
	echo "spool: $(df --output=source,fstype "$T/fs" | tail -1)"
fi
export TT_SPOOL=$T/fs/spool

# What starting the lttng client alone costs, to read the CLI column.
: >"$T/start.txt"
for i in $(seq 20); do
	t0=$(date +%s%N)
	lttng --version >/dev/null
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 )) >>"$T/start.txt"
done
echo "lttng --version (process start alone): p50 / p99 ms" \
    "$(p50_p99_ms <"$T/start.txt")"

tt_start_sessiond
# The ticker outlives each recorder: an app stays registered with the
# sessiond and joins every session it creates, as production apps do.
"$TTAPP" 0 "$T/tick.state" >>"$T/app.log" 2>&1 &
tt_pids="$tt_pids $!"

printf '\n%-14s %-16s %-16s %-16s %-16s %-16s %s\n' "ring/CPU" \
    "tracetrap ms" "lttng CLI ms" "record ms" "dispatch ms" "overhead ms" \
    "snapshot bytes"
printf '%-14s %-16s %-16s %-16s %-16s %-16s %s\n' "" "p50 / p99" \
    "p50 / p99" "p50 / p99" "p50 / p99" "p50 / p99" "median"

for ring in $RINGS; do
	size=${ring%:*} count=${ring#*:}
	per_cpu=$(( $(to_bytes "$size") * count ))
	# No limit of any kind: every datagram must become a snapshot. The
	# spool cap is out of reach so no eviction runs during the
	# measurement; the helper deletes each trace itself, off the clock.
	tt_config "[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 0"
	# The session health check at its default (tests check every
	# 200 ms): a trigger that lands while the LTTng worker runs one
	# waits for it, and a node does that every 2 s.
	sed -i "s/^subbuf_size = .*/subbuf_size = $size/;
	    s/^subbuf_count = .*/subbuf_count = $count/;
	    s/^check_interval = .*/check_interval = 2s/;
	    s/^\[spool\]$/[spool]\nmax_bytes = 1000G/" "$T/recorder.conf"
	rm -rf "$TT_SPOOL" "$T/fs/done"
	mkdir -p "$T/fs/done"
	tt_start_recorder
	wait_for 10 test -d "$TT_SPOOL" || bail "no spool directory"

	# One warm-up each (i = 0), off the record: the first snapshot of a
	# session pays for the consumer's first-time setup. The two kinds
	# alternate so that both see the same machine.
	: >"$T/tt.txt"
	: >"$T/cli.txt"
	: >"$T/cli-bytes.txt"
	for i in $(seq 0 "$RUNS"); do
		fill_ring "$per_cpu"
		"$T/trigger_latency" "$T/trigger.sock" "$TT_SPOOL" \
		    "$T/fs/done" 1 0 >"$T/tt.one" 2>>"$T/bench.log" ||
		    bail "tracetrap run failed: $(tail -1 "$T/bench.log")"
		[ "$i" -gt 0 ] && cat "$T/tt.one" >>"$T/tt.txt"

		fill_ring "$per_cpu"
		rm -rf "$T/cli"
		t0=$(date +%s%N)
		lttng snapshot record -s tracetrap "file://$T/cli" \
		    >>"$T/lttng.log" 2>&1 || bail "lttng snapshot record failed"
		t1=$(date +%s%N)
		[ "$i" -eq 0 ] && continue
		echo $(( (t1 - t0) / 1000 )) >>"$T/cli.txt"
		du -sb "$T/cli" | cut -f1 >>"$T/cli-bytes.txt"
	done
	rm -rf "$T/cli"

	# Per snapshot: its manifest's record_us next to the measured total.
	: >"$T/record.txt"
	: >"$T/dispatch.txt"
	: >"$T/overhead.txt"
	: >"$T/bytes.txt"
	while read -r id us; do
		m=$T/fs/done/$id/manifest.json
		rec=$(jq -r .record_us "$m")
		echo "$rec" >>"$T/record.txt"
		# Policy + dispatch: datagram read -> worker starts recording.
		jq -r '.record_started_at_us - .triggers[0].received_at_us' \
		    "$m" >>"$T/dispatch.txt"
		echo $(( us - rec )) >>"$T/overhead.txt"
		jq -r .bytes "$m" >>"$T/bytes.txt"
	done <"$T/tt.txt"

	# A second trigger 50 ms after the first record returned (its
	# snapshot "publishing" or done): dispatch = its datagram read ->
	# its record starts. The LTTng worker must not be waiting for the
	# first one's hashing and fsync.
	: >"$T/second.txt"
	overlap=0
	for i in $(seq "$RUNS2"); do
		fill_ring "$per_cpu"
		"$TTSEND" -s "$T/trigger.sock" -S bench -r first >/dev/null
		until curl -s --unix-socket "$T/control.sock" \
		    http://x/v1/snapshots | jq -e '.recent[0].state |
		    . == "publishing" or . == "recorded"' >/dev/null; do
			sleep 0.005
		done
		sleep 0.05
		"$TTSEND" -s "$T/trigger.sock" -S bench -r second >/dev/null
		# Not a curl and a jq on the CPUs while the second one is being
		# dispatched: its publish takes far longer than this anyway.
		sleep 0.2
		wait_until 30 '[ "$(curl -s --unix-socket "$T/control.sock" \
		    http://x/v1/snapshots | jq "[.recent[0:2][] |
		    select(.state == \"recorded\")] | length")" -eq 2 ]' ||
		    bail "the two snapshots did not complete"
		curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots \
		    >"$T/two.json"
		second=$(jq -r '.recent[0].id' "$T/two.json")
		jq -r '.record_started_at_us - .triggers[0].received_at_us' \
		    "$TT_SPOOL/$second/manifest.json" >>"$T/second.txt"
		jq -e '.recent[0].record_started_at_us <
		    .recent[1].published_at_us' "$T/two.json" >/dev/null &&
		    overlap=$((overlap + 1))
		rm -rf "${TT_SPOOL:?}"/*-*
	done
	second_line=$(printf '%-14s second trigger 50 ms after the first record: dispatch p50 / p99 ms %s (p90 %s, over 2 ms: %d of %d); its record started while the first was publishing in %d of %d\n' \
	    "${size}x$count" "$(p50_p99_ms <"$T/second.txt")" \
	    "$(pct 0.90 <"$T/second.txt" | awk '{ printf "%.2f", $1 / 1000 }')" \
	    "$(awk '$1 > 2000' "$T/second.txt" | wc -l)" "$RUNS2" \
	    "$overlap" "$RUNS2")
	seconds="$seconds$second_line
"

	tt_stop_recorder
	tt_pids=${tt_pids/ $RECORDER_PID/}
	rm -rf "$TT_SPOOL" "$T/fs/done"

	printf '%-14s %-16s %-16s %-16s %-16s %-16s %s\n' \
	    "${size}x$count=$(numfmt --to=iec "$per_cpu")" \
	    "$(cut -d' ' -f2 "$T/tt.txt" | p50_p99_ms)" \
	    "$(p50_p99_ms <"$T/cli.txt")" \
	    "$(p50_p99_ms <"$T/record.txt")" \
	    "$(p50_p99_ms <"$T/dispatch.txt")" \
	    "$(p50_p99_ms <"$T/overhead.txt")" \
	    "$(pct 0.5 <"$T/bytes.txt") (lttng CLI: $(pct 0.5 <"$T/cli-bytes.txt"))"
done
echo
printf '%s' "$seconds"
echo
echo "$RUNS snapshots per figure, one at a time, every ring full (refilled"
echo "before each), per-uid buffers; bytes include all CPUs. The lttng CLI"
echo "time includes starting the lttng process. dispatch = trigger datagram"
echo "read by the recorder -> lttng_snapshot_record() starts (policy, id,"
echo "manifest skeleton, hand-off to the worker); overhead = tracetrap -"
echo "record, i.e. dispatch + sha256 of every file + fsync + publish."
