#!/bin/bash
# Ingest throughput of snapshot upload through tracetrap-relay (mutual TLS
# 1.3), side by side, in the same run, with LTTng's own lttng-relayd
# receiving the same snapshots over net:// (plaintext): the anchor. And
# `openssl speed` for AES-GCM on 16 KiB blocks (a full TLS record), one
# core: the crypto ceiling.
#
# The ring is full before every snapshot (one filler app per CPU, pinned);
# the three kinds of snapshot alternate so that all see the same machine:
#   tracetrap   `tracetrap snapshot --wait` into the spool while the relay
#               is down: they wait there (store and forward);
#   file://     `lttng snapshot record` of the same session to a local dir:
#               the local cost of a snapshot (ring -> files);
#   net://      `lttng snapshot record` to lttng-relayd on 127.0.0.1.
# Then tracetrap-relay starts, and the recorder (retrying every 50 ms)
# uploads every spooled snapshot, oldest first, one at a time, each acked
# once durable. Timed from the relay's log (ms stamps): the oldest is the
# warm-up, so the figure runs from its "snapshot ... stored" to the last
# one; from the relay's "node1 ... connected", and the wall time from the
# relay's start, are printed too. Bytes: the manifests' files[].bytes.
#
# net:// includes taking the snapshot; net - file:// (medians) estimates
# its network part, roughly: the local cost varies from one to the next. tracetrap's upload reads the spool (page cache), and the relay
# verifies every file's sha256 and fsyncs before it acks; lttng-relayd
# does not fsync. CPU time (user/system, all threads, /proc/PID/stat)
# shows who pays: relay and recorder during the upload; lttng-relayd and
# lttng-consumerd during the net:// records.
#
# Store, spool and every lttng output share one filesystem, the disk under
# /tmp by default; FS_TMPFS=1 puts them on a tmpfs (no disk: CPU only).
# About 45 s with the defaults. Prints figures only. PERF=DIR also records
# `perf record -g` of the relay and of the recorder during the upload, into
# DIR/relay.data and DIR/recorder.data (read them with perf report -i).
#
# usage: bench/relay-ingest.sh   (root; RUNS=5 RING=8M:8 FS_TMPFS=0 ANALYSIS=1
#                                 PERF=)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
# Quiet: lib.sh's TTFRAME assumes a test's path (tests/integration/x.t), and
# its cd fails from bench/; nothing here uses it. Sourcing only defines.
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RELAY" "$RECORDER" "$TTAPP"
tt_enter "$@"
# lib.sh finds it from a test's path, two levels below the top.
# shellcheck disable=SC2034 # tt_certs uses it
MAKE_CERTS=$(cd "$BENCH/.." && pwd)/conf/make-dev-certs.sh

RUNS=${RUNS:-5}
RING=${RING:-8M:8}	# subbuf_size:subbuf_count
FS_TMPFS=${FS_TMPFS:-0}
HZ=$(getconf CLK_TCK)

machine() {
	machine_line
	echo "lttng: $(lttng --version | head -1)"
	echo "openssl: $(openssl version)"
}

# Daemons of this mount namespace only (the host may run its own).
ns_pids() {
	local pid
	for pid in $(pgrep -x "$1"); do
		[ "$(readlink "/proc/$pid/ns/mnt")" = \
		    "$(readlink /proc/self/ns/mnt)" ] && echo "$pid"
	done
}

# cpu PID...: "utime stime" summed over processes (all their threads), in
# clock ticks. The command name in field 2 may hold spaces: count fields
# after its ')'.
cpu() {
	local pid
	for pid in "$@"; do
		sed 's/.*) //' "/proc/$pid/stat"
	done | awk '{ u += $12; s += $13 } END { print u + 0, s + 0 }'
}

# cpu_add ACC "U0 S0" "U1 S1": ACC + (1 - 0).
cpu_add() {
	echo "$1 $2 $3" | awk '{ print $1 + $5 - $3, $2 + $6 - $4 }'
}

# fill_ring BYTES_PER_CPU: one app per CPU overwrites its whole ring (39-byte
# events: 1/32 of the ring in events writes it about 1.2 times over).
# Waited for here, so not in tt_pids.
fill_ring() {
	local cpu pid pids=""

	for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
		taskset -c "$cpu" "$TTAPP" $(( $1 / 32 )) "$T/fill.$cpu" 0 \
		    >>"$T/app.log" 2>&1 &
		pids="$pids $!"
	done
	for pid in $pids; do
		wait "$pid" || { echo "Bail out! a filler app failed:" \
		    "$(tail -2 "$T/app.log")" >&2; exit 1; }
	done
}

now_ns() { date +%s%N; }

# warm_pages BYTES: writes and deletes a scratch file of that size where
# the transfers write. This machine is a VM whose balloon hands freed
# guest pages back to the host: a write into memory the guest has not
# touched lately costs a host fault per page (here ~0.4 GB/s against
# ~2.2 GB/s into recycled pages), and without this step whichever transfer
# follows an rm -rf (the net:// records, after file://) would run on
# recycled pages and the others not. Done right before every measured
# transfer, so all of them write into the same kind of memory.
warm_pages() {
	head -c "$1" /dev/zero >"$T/fs/warm" && rm -f "$T/fs/warm"
}

# spread < "BYTES NANOSECONDS" lines: per-snapshot MB/s, min / median / max.
spread() {
	awk '$2 > 0 { print $1 / 1e6 / ($2 / 1e9) }' | sort -n | awk \
	    '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
	      printf "%.0f / %.0f / %.0f", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# row METHOD BYTES NANOSECONDS [SPREAD [NOTE]]
row() {
	awk -v m="$1" -v b="$2" -v ns="$3" -v sp="$4" -v note="$5" 'BEGIN {
	    s = ns / 1e9
	    if (s > 0)
		printf "%-36s %11d %8.3f %8.1f  %-17s %s\n", m, b, s,
		    b / 1e6 / s, sp, note
	    else
		printf "%-36s %11d %8s %8s  %-17s %s\n", m, b, "-", "-",
		    sp, note }'
}

# speed_16k CIPHER: openssl speed's 16384-byte column, in MB/s.
speed_16k() {
	openssl speed -seconds 1 -evp "$1" 2>/dev/null | awk '
	    /^type/ { ok = ($(NF - 1) == "16384") }
	    ok && toupper($1) == toupper(c) { v = $NF; sub("k$", "", v)
		printf "%.0f", v / 1000 }' c="$1"
}

machine
mkdir -p "$T/fs"
if [ "$FS_TMPFS" = 1 ]; then
	mount -t tmpfs tmpfs "$T/fs"	# lib.sh unmounts it
	echo "store, spool, lttng outputs: tmpfs"
else
	echo "store, spool, lttng outputs: $(df --output=source,fstype \
	    "$T/fs" | tail -1)"
fi
export TT_SPOOL=$T/fs/spool TT_STORE=$T/fs/store
size=${RING%:*} count=${RING#*:}
per_cpu=$(( $(numfmt --from=iec "$size") * count ))
echo "ring: ${size} x $count = $(numfmt --to=iec "$per_cpu") per CPU," \
    "$(nproc) CPUs, full before each snapshot; $RUNS snapshots of each" \
    "kind (+1 warm-up)"

tt_certs node1
# ANALYSIS=0: a relay that analyzes nothing, to see what the analysis of
# each stored snapshot (a child at nice 10) costs the ingest.
if [ "${ANALYSIS:-1}" = 0 ]; then
	tt_relay_config "[analysis]
workers = 0"
else
	tt_relay_config
fi
tt_start_sessiond
lttng-relayd --daemonize --output="$T/fs/relayd" >>"$T/relayd.log" 2>&1 ||
    bail "lttng-relayd did not start"
RELAYD_PID=$(ns_pids lttng-relayd | head -1)
[ -n "$RELAYD_PID" ] || bail "no lttng-relayd"
tt_pids="$tt_pids $RELAYD_PID"

# The relay is configured but down: snapshots wait in the spool. No limit
# of any kind; the spool cap is out of reach.
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
relayd_cpu="0 0" consumerd_cpu="0 0"
for i in $(seq 0 "$RUNS"); do
	fill_ring "$per_cpu"
	warm_pages $(( 3 * per_cpu * $(nproc) ))
	cli snapshot --wait --reason "bench $i" >>"$T/snap.log" 2>&1 ||
	    bail "tracetrap snapshot failed: $(tail -1 "$T/snap.log")"

	fill_ring "$per_cpu"
	rm -rf "$T/fs/file"
	warm_pages $(( 3 * per_cpu * $(nproc) ))
	t0=$(now_ns)
	lttng snapshot record -s tracetrap "file://$T/fs/file" \
	    >>"$T/lttng.log" 2>&1 || bail "lttng snapshot record file:// failed"
	t1=$(now_ns)
	[ "$i" -gt 0 ] && echo "$(du -sb "$T/fs/file" | cut -f1)" \
	    $(( t1 - t0 )) >>"$T/file.txt"
	rm -rf "$T/fs/file"

	fill_ring "$per_cpu"
	b0=$(du -sb "$T/fs/relayd" 2>/dev/null | cut -f1)
	consumerds=$(ns_pids lttng-consumerd)
	# shellcheck disable=SC2086
	r0=$(cpu "$RELAYD_PID") c0=$(cpu $consumerds)
	warm_pages $(( 3 * per_cpu * $(nproc) ))
	t0=$(now_ns)
	lttng snapshot record -s tracetrap net://127.0.0.1 \
	    >>"$T/lttng.log" 2>&1 || bail "lttng snapshot record net:// failed"
	t1=$(now_ns)
	# shellcheck disable=SC2086
	r1=$(cpu "$RELAYD_PID") c1=$(cpu $consumerds)
	b1=$(du -sb "$T/fs/relayd" | cut -f1)
	[ "$i" -eq 0 ] && continue
	echo $(( b1 - ${b0:-0} )) $(( t1 - t0 )) >>"$T/net.txt"
	relayd_cpu=$(cpu_add "$relayd_cpu" "$r0" "$r1")
	consumerd_cpu=$(cpu_add "$consumerd_cpu" "$c0" "$c1")
done

# The spooled snapshots, oldest (the warm-up) first, and their bytes.
mapfile -t ids < <(find "$TT_SPOOL" -mindepth 1 -maxdepth 1 -type d \
    ! -name .partial -printf '%f\n' | sort -t- -k3 -n)
[ "${#ids[@]}" -eq $(( RUNS + 1 )) ] ||
    bail "expected $(( RUNS + 1 )) spooled snapshots, got ${#ids[@]}"
: >"$T/tt-bytes.txt"
rec_us=0
for n in $(seq 0 "$RUNS"); do
	m=$TT_SPOOL/${ids[$n]}/manifest.json
	jq '[.files[].bytes] | add' "$m" >>"$T/tt-bytes.txt"
	[ "$n" -gt 0 ] && rec_us=$(( rec_us + $(jq -r .record_us "$m") ))
done
all_bytes=$(awk '{ b += $1 } END { print b }' "$T/tt-bytes.txt")
tt_bytes=$(awk 'NR > 1 { b += $1 } END { print b }' "$T/tt-bytes.txt")

# The upload.
sync
warm_pages $(( all_bytes * 3 / 2 ))
rec0=$(cpu "$RECORDER_PID")
t0_ms=$(date +%T.%3N | log_ms)
tt_start_relay
perf_pids=
if [ -n "${PERF:-}" ]; then
	mkdir -p "$PERF"
	for who in relay recorder; do
		[ "$who" = relay ] && p=$RELAY_PID || p=$RECORDER_PID
		perf record -q -F 1999 -g -o "$PERF/$who.data" -p "$p" \
		    2>>"$T/perf.log" &
		perf_pids="$perf_pids $!"
	done
fi
wait_slowly 120 '[ "$(store_count node1)" -ge $(( RUNS + 1 )) ]' ||
    bail "only $(store_count node1) of $(( RUNS + 1 )) snapshots stored"
rec1=$(cpu "$RECORDER_PID")
relay_cpu=$(cpu "$RELAY_PID")
for p in $perf_pids; do kill -INT "$p"; wait "$p"; done
recorder_cpu=$(cpu_add "0 0" "$rec0" "$rec1")

grep -E ': snapshot [^ ]+ stored' "$T/relay.log" | log_ms >"$T/stored.ms"
[ "$(wc -l <"$T/stored.ms")" -eq $(( RUNS + 1 )) ] ||
    bail "the relay logged $(wc -l <"$T/stored.ms") stored snapshots"
conn_ms=$(grep -m1 -E ': node1 \(.*\): connected$' "$T/relay.log" | log_ms)
# Relay start -> the last one stored, from the log: not the 0.5 s poll.
wall_ns=$(( ($(sort -n "$T/stored.ms" | tail -1) - t0_ms + 86400000) %
    86400000 * 1000000 ))
day=86400000
# Per snapshot: its bytes, and the ns since the previous one was stored
# (the first: since the recorder connected). Uploads are one at a time.
awk -v d=$day -v p="$conn_ms" '{ print (($1 - p + d) % d) * 1e6; p = $1 }' \
    "$T/stored.ms" | paste -d' ' "$T/tt-bytes.txt" - >"$T/tt.txt"
all_ns=$(awk '{ t += $2 } END { print t }' "$T/tt.txt")
tt_ns=$(awk 'NR > 1 { t += $2 } END { print t }' "$T/tt.txt")

# The suite TLS 1.3 settles on between two OpenSSL defaults, as on the
# recorder's link; asked after the measurement.
tt_stop_recorder
suite=$(timeout 5 openssl s_client -connect "127.0.0.1:$RELAY_PORT" \
    -cert "$T/pki/node1.pem" -key "$T/pki/node1.key" \
    -CAfile "$T/pki/ca.pem" -brief </dev/null 2>&1 |
    sed -n 's/^Ciphersuite: //p')

aes128=$(speed_16k aes-128-gcm)
aes256=$(speed_16k aes-256-gcm)
sha256=$(speed_16k sha256)

read -r fb fns < <(awk '{ b += $1; t += $2 } END { print b, t }' \
    "$T/file.txt")
read -r nb nns < <(awk '{ b += $1; t += $2 } END { print b, t }' \
    "$T/net.txt")

echo
printf '%-36s %11s %8s %8s  %-17s\n' method bytes seconds MB/s \
    "per snapshot MB/s"
printf '%-36s %11s %8s %8s  %-17s\n' "" "" "" "" "min / med / max"
row "tracetrap-relay, mTLS (upload)" "$tt_bytes" "$tt_ns" \
    "$(tail -n +2 "$T/tt.txt" | spread)" "spool -> relay store"
row "  from connect, with the warm-up" "$all_bytes" "$all_ns" \
    "$(spread <"$T/tt.txt")"
row "  wall, relay start -> all stored" "$all_bytes" "$wall_ns" "" \
    "incl. relay start, 50 ms retry"
row "lttng-relayd, net:// (snapshot)" "$nb" "$nns" \
    "$(spread <"$T/net.txt")" "plaintext, incl. the snapshot"
# Medians: a single slow local snapshot would swing a difference of sums.
med() { cut -d' ' -f"$1" | sort -n | awk '{ v[NR] = $1 }
    END { print v[int((NR + 1) / 2)] }'; }
row "  net:// - file:// (network part)" "$(med 1 <"$T/net.txt")" \
    $(( $(med 2 <"$T/net.txt") - $(med 2 <"$T/file.txt") )) "" \
    "estimate: median - median, 1 snapshot"
row "lttng snapshot record file://" "$fb" "$fns" \
    "$(spread <"$T/file.txt")" "local cost of a snapshot"
row "tracetrap snapshot (record_us)" "$tt_bytes" $(( rec_us * 1000 )) "" \
    "ring -> spool, for scale"
echo "crypto ceiling: openssl speed -evp, 16384-byte column, one core:" \
    "aes-128-gcm $aes128 MB/s, aes-256-gcm $aes256 MB/s," \
    "sha256 $sha256 MB/s (negotiated: ${suite:-?})"
# On a disk: its own durable write rate, on the same filesystem, now.
if [ "$FS_TMPFS" != 1 ]; then
	dd_s=$(dd if=/dev/zero of="$T/fs/dd.tmp" bs=256K count=520 \
	    conv=fdatasync 2>&1 | sed -n 's/.*copied, \([0-9.]*\) s.*/\1/p')
	rm -f "$T/fs/dd.tmp"
	[ -n "$dd_s" ] || bail "dd printed no time"
	awk -v s="$dd_s" -v b="$tt_bytes" -v ns="$tt_ns" 'BEGIN {
	    d = 136314880 / s / 1e6; t = b * 1000 / ns
	    printf "disk: dd bs=256K count=520 conv=fdatasync here: %.0f " \
		"MB/s; tracetrap-relay %.0f MB/s = %.2fx of it\n", d, t, t / d }'
fi

echo
echo "CPU time, user + system ms (ms per MB):"
cpu_line() {	# LABEL "U S" BYTES
	echo "$2 $3" | awk -v l="$1" -v hz="$HZ" '{
	    u = $1 * 1000 / hz; s = $2 * 1000 / hz; mb = $3 / 1e6
	    printf "  %-36s %5d + %5d ms  (%.2f + %.2f ms/MB)\n", l, u, s,
		u / mb, s / mb }'
}
echo " the upload, $(( wall_ns / 1000000 )) ms wall," \
    "$(( all_bytes / 1000000 )) MB with the warm-up:"
cpu_line "tracetrap-relay (since its start)" "$relay_cpu" "$all_bytes"
cpu_line "tracetrap-recorder" "$recorder_cpu" "$all_bytes"
echo " the net:// records, $(( nns / 1000000 )) ms wall," \
    "$(( nb / 1000000 )) MB:"
cpu_line "lttng-relayd" "$relayd_cpu" "$nb"
cpu_line "lttng-consumerd (takes the snapshot)" "$consumerd_cpu" "$nb"
echo
echo "MB = 10^6 bytes; 1 CPU tick = $(( 1000 / HZ )) ms. The upload sends"
echo "one snapshot at a time, each acked once its files are verified"
echo "(sha256) and fsync'd; the per-snapshot figures come from the relay's"
echo "log stamps (ms). lttng-relayd neither encrypts, hashes nor fsyncs."
