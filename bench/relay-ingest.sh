#!/bin/bash
# Ingest throughput of snapshot upload through tracetrap-relay (mutual TLS
# 1.3), side by side, in the same run, with LTTng's own lttng-relayd
# receiving the same snapshots over net:// (plaintext): the anchor. And
# `openssl speed` for AES-GCM on 16 KiB blocks (a TLS record), one core:
# the crypto ceiling.
#
# The ring is full before every snapshot (one filler app per CPU, pinned);
# the three kinds of snapshot alternate so all see the same machine:
#   tracetrap   `tracetrap snapshot --wait` into the spool, while the relay
#               is down: they wait there (store and forward);
#   file://     `lttng snapshot record` of the same session to a local dir:
#               the local cost of a snapshot (ring -> files);
#   net://      `lttng snapshot record` to lttng-relayd on 127.0.0.1.
# Then tracetrap-relay starts, and the recorder (which has kept retrying
# every 50 ms) uploads every spooled snapshot, oldest first, one at a time,
# each acknowledged once durable. Timed from the relay's log: "node1 ...
# connected" to the last "snapshot ... stored" (ms stamps; wall time from
# the relay's start is printed too). Bytes are the manifests' files[].bytes.
#
# net:// includes taking the snapshot; net - file:// is an estimate of its
# network part. tracetrap's upload starts from the spool (page cache) and
# the relay verifies each file's sha256 and fsyncs before it acks;
# lttng-relayd does not fsync. CPU time (utime+stime, all threads, from
# /proc/PID/stat) shows who pays: relay and recorder during the upload;
# lttng-relayd and lttng-consumerd during the net:// records.
#
# Store, spool and lttng-relayd's output share a filesystem, the disk under
# /tmp by default; FS_TMPFS=1 puts them on a tmpfs (no disk, CPU only).
# Bounded: about 1-2 minutes with the defaults. Prints figures only.
#
# usage: bench/relay-ingest.sh   (root; RUNS=4 RING=8M:8 FS_TMPFS=0)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
tt_enter "$@"
# lib.sh finds it from a test's path, two levels below the top.
MAKE_CERTS=$(cd "$BENCH/.." && pwd)/conf/make-dev-certs.sh

RUNS=${RUNS:-4}
RING=${RING:-8M:8}	# subbuf_size:subbuf_count
FS_TMPFS=${FS_TMPFS:-0}
HZ=$(getconf CLK_TCK)

machine() {
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
	    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
	echo "lttng: $(lttng --version | head -1)"
	echo "openssl: $(openssl version)"
}

# utime + stime of a process, all threads, in clock ticks. The command
# name in field 2 may hold spaces: count fields after its ')'.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
# "utime stime" in clock ticks.
cpu_us_sy() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'
}

# Daemons of this mount namespace only (the host may run its own).
ns_pids() {
	local pid
	for pid in $(pgrep -x "$1"); do
		[ "$(readlink "/proc/$pid/ns/mnt")" = \
		    "$(readlink /proc/self/ns/mnt)" ] && echo "$pid"
	done
}

consumerd_ticks() {
	local pid n=0
	for pid in $(ns_pids lttng-consumerd); do
		n=$(( n + $(cpu_ticks "$pid") ))
	done
	echo "$n"
}

# fill_ring BYTES_PER_CPU: one app per CPU overwrites its whole ring (39-byte
# events: 1/32 of the ring in events writes it about 1.2 times over).
# Waited for here, so not in tt_pids.
fill_ring() {
	local cpu pids=""

	for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
		taskset -c "$cpu" "$TTAPP" $(( $1 / 32 )) "$T/fill.$cpu" 0 \
		    >>"$T/app.log" 2>&1 &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
}

now_ns() { date +%s%N; }

# ms since midnight (UTC) of a log line's "HH:MM:SS.mmm" stamp.
log_ms() {
	awk '{ split($1, a, "[:.]")
	       print ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4] }'
}

# row METHOD BYTES NANOSECONDS [NOTE]
row() {
	awk -v m="$1" -v b="$2" -v ns="$3" -v note="$4" 'BEGIN {
	    s = ns / 1e9
	    printf "%-34s %12d %9.3f %9.1f  %s\n", m, b, s,
		(s > 0 ? b / 1e6 / s : 0), note }'
}

# speed_16k CIPHER: openssl speed's 16384-byte column, in MB/s.
speed_16k() {
	openssl speed -seconds 1 -evp "$1" 2>/dev/null | awk '
	    /^type/ { ok = ($(NF - 1) == "16384") }
	    ok && toupper($1) == toupper(c) { v = $NF; sub("k$", "", v)
		printf "%.1f", v / 1000 }' c="$1"
}

machine
mkdir -p "$T/fs"
if [ "$FS_TMPFS" = 1 ]; then
	mount -t tmpfs tmpfs "$T/fs"	# lib.sh unmounts it
	echo "store/spool/relayd output: tmpfs"
else
	echo "store/spool/relayd output: $(df --output=source,fstype "$T/fs" |
	    tail -1)"
fi
export TT_SPOOL=$T/fs/spool TT_STORE=$T/fs/store
size=${RING%:*} count=${RING#*:}
per_cpu=$(( $(numfmt --from=iec "$size") * count ))
echo "ring: ${size} x $count = $(numfmt --to=iec "$per_cpu") per CPU," \
    "$(nproc) CPUs; $RUNS snapshots of each kind"

tt_certs node1
tt_relay_config
tt_start_sessiond
lttng-relayd --daemonize --output="$T/fs/relayd" >>"$T/relayd.log" 2>&1 ||
    bail "lttng-relayd did not start"
RELAYD_PID=$(ns_pids lttng-relayd | head -1)
[ -n "$RELAYD_PID" ] || bail "no lttng-relayd"
tt_pids="$tt_pids $RELAYD_PID"

# The relay is configured but down: snapshots wait in the spool. The
# recorder retries every 50 ms, so it finds the relay soon after it starts.
# No limit of any kind; the spool cap is out of reach.
tt_config "[limits]
cooldown = 0
burst = 0
max_per_day = 0
coalesce = 0
$(tt_relay_section node1 | sed 's/^reconnect_min = .*/reconnect_min = 50ms/;
    s/^reconnect_max = .*/reconnect_max = 50ms/')"
sed -i "s/^name = testnode$/name = node1/;
    s/^subbuf_size = .*/subbuf_size = $size/;
    s/^subbuf_count = .*/subbuf_count = $count/;
    s/^\[spool\]$/[spool]\nmax_bytes = 1000G/" "$T/recorder.conf"
tt_start_recorder
wait_for 10 test -d "$TT_SPOOL" || bail "no spool directory"

# One warm-up of each kind (i = 0), off the record: the first snapshot of
# a session, and the first to a relayd, pay for setup.
: >"$T/file.txt"
: >"$T/net.txt"
relayd_ticks=0 consumerd_net_ticks=0
for i in $(seq 0 "$RUNS"); do
	fill_ring "$per_cpu"
	cli snapshot --wait --reason "bench $i" >>"$T/snap.log" 2>&1 ||
	    bail "tracetrap snapshot failed: $(tail -1 "$T/snap.log")"

	fill_ring "$per_cpu"
	rm -rf "$T/fs/file"
	t0=$(now_ns)
	lttng snapshot record -s tracetrap "file://$T/fs/file" \
	    >>"$T/lttng.log" 2>&1 || bail "lttng snapshot record file:// failed"
	t1=$(now_ns)
	[ "$i" -gt 0 ] && echo "$(du -sb "$T/fs/file" | cut -f1)" \
	    $(( t1 - t0 )) >>"$T/file.txt"
	rm -rf "$T/fs/file"

	fill_ring "$per_cpu"
	b0=$(du -sb "$T/fs/relayd" 2>/dev/null | cut -f1)
	r0=$(cpu_ticks "$RELAYD_PID") c0=$(consumerd_ticks)
	t0=$(now_ns)
	lttng snapshot record -s tracetrap net://127.0.0.1 \
	    >>"$T/lttng.log" 2>&1 || bail "lttng snapshot record net:// failed"
	t1=$(now_ns)
	r1=$(cpu_ticks "$RELAYD_PID") c1=$(consumerd_ticks)
	b1=$(du -sb "$T/fs/relayd" | cut -f1)
	[ "$i" -eq 0 ] && continue
	echo $(( b1 - ${b0:-0} )) $(( t1 - t0 )) >>"$T/net.txt"
	relayd_ticks=$(( relayd_ticks + r1 - r0 ))
	consumerd_net_ticks=$(( consumerd_net_ticks + c1 - c0 ))
done

# The spooled snapshots but the warm-up (the oldest), and their bytes.
mapfile -t ids < <(find "$TT_SPOOL" -mindepth 1 -maxdepth 1 -type d \
    ! -name .partial -printf '%f\n' | sort -t- -k3 -n)
[ "${#ids[@]}" -eq $(( RUNS + 1 )) ] ||
    bail "expected $(( RUNS + 1 )) spooled snapshots, got ${#ids[@]}"
tt_bytes=0 all_bytes=0 rec_us=0
for n in $(seq 0 "$RUNS"); do
	m=$TT_SPOOL/${ids[$n]}/manifest.json
	b=$(jq '[.files[].bytes] | add' "$m")
	all_bytes=$(( all_bytes + b ))
	[ "$n" -eq 0 ] && continue
	tt_bytes=$(( tt_bytes + b ))
	rec_us=$(( rec_us + $(jq -r .record_us "$m") ))
done

# The upload: all RUNS + 1 snapshots go; the warm-up, the oldest, goes
# first and is left out of the figure (from its "stored" to the last one).
sync
rec0=$(cpu_ticks "$RECORDER_PID")
t0=$(now_ns)
tt_start_relay
[ -n "$RELAY_STRACE" ] && { strace -c -f -p "$RELAY_PID" -o "$T/strace.txt" & STRACE_PID=$!; }
wait_until 180 '[ "$(store_count node1)" -ge $(( RUNS + 1 )) ]' ||
    bail "only $(store_count node1) of $(( RUNS + 1 )) snapshots stored"
t1=$(now_ns)
rec1=$(cpu_ticks "$RECORDER_PID")
relay_ticks=$(cpu_ticks "$RELAY_PID")
grep -E ': snapshot [^ ]+ stored' "$T/relay.log" | log_ms >"$T/stored.ms"
conn_ms=$(grep -m1 -E ': node1 \(.*\): connected$' "$T/relay.log" |
    log_ms)
first_ms=$(head -1 "$T/stored.ms") last_ms=$(tail -1 "$T/stored.ms")
[ "$(wc -l <"$T/stored.ms")" -eq $(( RUNS + 1 )) ] ||
    bail "the relay logged $(wc -l <"$T/stored.ms") stored snapshots"
day=86400000
all_ns=$(( ((last_ms - conn_ms + day) % day) * 1000000 ))
tt_ns=$(( ((last_ms - first_ms + day) % day) * 1000000 ))

# The suite TLS 1.3 settles on between two OpenSSL defaults, as the
# recorder's link does; asked after the measurement.
tt_stop_recorder
suite=$(timeout 5 openssl s_client -connect "127.0.0.1:$RELAY_PORT" \
    -cert "$T/pki/node1.pem" -key "$T/pki/node1.key" \
    -CAfile "$T/pki/ca.pem" -brief </dev/null 2>&1 |
    sed -n 's/^Ciphersuite: //p')

aes128=$(speed_16k aes-128-gcm)
aes256=$(speed_16k aes-256-gcm)

read -r fb fns < <(awk '{ b += $1; t += $2 } END { print b, t }' \
    "$T/file.txt")
read -r nb nns < <(awk '{ b += $1; t += $2 } END { print b, t }' \
    "$T/net.txt")

echo
printf '%-34s %12s %9s %9s\n' method bytes seconds MB/s
row "tracetrap-relay, mTLS upload" "$tt_bytes" "$tt_ns" \
    "$RUNS snapshots, spool -> relay store"
row "  (with the warm-up, from connect)" "$all_bytes" "$all_ns" \
    "$(( RUNS + 1 )) snapshots"
row "  (wall, relay start -> all stored)" "$all_bytes" $(( t1 - t0 )) \
    "incl. relay start, <=50 ms retry"
row "tracetrap snapshot (record_us)" "$tt_bytes" $(( rec_us * 1000 )) \
    "ring -> spool, for scale"
row "lttng snapshot record file://" "$fb" "$fns" "local cost"
row "lttng snapshot record net://" "$nb" "$nns" "lttng-relayd, plaintext"
row "  net:// - file:// (network part)" "$nb" $(( nns - fns )) "estimate"
echo "openssl speed -evp, 16384-byte blocks, one core: aes-128-gcm" \
    "$aes128 MB/s, aes-256-gcm $aes256 MB/s; negotiated: ${suite:-?}"

echo
echo "CPU time (utime+stime, all threads; 1 tick = $(( 1000 / HZ )) ms):"
awk -v hz="$HZ" -v rl="$relay_ticks" -v rc=$(( rec1 - rec0 )) \
    -v s=$(( (t1 - t0) / 1000000 )) -v ab="$all_bytes" \
    -v rd="$relayd_ticks" -v cd="$consumerd_net_ticks" -v nb="$nb" \
    -v ns=$(( nns / 1000000 )) 'BEGIN {
	printf "  upload (%d ms wall, %.0f MB):  tracetrap-relay %d ms" \
	    " (%.2f ms/MB), tracetrap-recorder %d ms (%.2f ms/MB)\n",
	    s, ab / 1e6, rl * 1000 / hz, rl * 1000 / hz / (ab / 1e6),
	    rc * 1000 / hz, rc * 1000 / hz / (ab / 1e6)
	printf "  net:// records (%d ms wall, %.0f MB):  lttng-relayd %d ms" \
	    " (%.2f ms/MB), lttng-consumerd %d ms (%.2f ms/MB)\n",
	    ns, nb / 1e6, rd * 1000 / hz, rd * 1000 / hz / (nb / 1e6),
	    cd * 1000 / hz, cd * 1000 / hz / (nb / 1e6) }'
echo
echo "MB = 10^6 bytes. The upload is timed from the relay's log (ms"
echo "stamps), from the first snapshot's \"stored\" to the last one: $RUNS"
echo "snapshots sent one after the other, each acked once fsync'd; the"
echo "relay also verifies every file's sha256. lttng-relayd neither"
echo "encrypts nor fsyncs. The consumerd's CPU includes taking the snapshot."
[ -n "$RELAY_STRACE" ] && { echo "relay u/s: $(cpu_us_sy $RELAY_PID)"; kill -INT $STRACE_PID; wait $STRACE_PID; head -30 $T/strace.txt; }
