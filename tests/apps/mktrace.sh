#!/bin/bash
# mktrace.sh OUTDIR SUBBUF_SIZE SUBBUF_COUNT COMMAND...
#
# Records a real LTTng snapshot of what COMMAND (an lttng-ust
# application) emits: a private lttng-sessiond in its own mount and
# network namespaces (fresh /run/lttng and /dev/shm, so it meets no other
# session daemon), a snapshot-mode session with one per-UID overwrite
# channel of SUBBUF_COUNT x SUBBUF_SIZE per CPU and the vpid, vtid and
# procname contexts, as tracetrap-recorder sets it up; the snapshot goes
# to OUTDIR/trace. Only the session daemon it started is stopped.
set -e
if [ "$(id -u)" != 0 ]; then
	echo "mktrace.sh: needs root (namespaces, a private sessiond)" >&2
	exit 77
fi
if [ -z "$TT_MKTRACE_NS" ]; then
	mkdir -p /run/lttng
	TT_MKTRACE_NS=1 exec unshare -m -n --propagation private "$0" "$@"
fi
out=$1 size=$2 count=$3
shift 3
mount -t tmpfs -o mode=0755 tmpfs /run/lttng
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
LTTNG_HOME=$(mktemp -d /tmp/tt-mktrace.XXXXXX)
export LTTNG_HOME
stop() {
	local pid
	for pid in $(pgrep -x lttng-sessiond); do
		[ "$(readlink "/proc/$pid/ns/mnt")" = \
		    "$(readlink /proc/self/ns/mnt)" ] && kill "$pid"
	done
	rm -rf "$LTTNG_HOME"
}
trap stop EXIT
lttng-sessiond --daemonize --no-kernel
lttng create tt --snapshot --no-output >/dev/null
lttng enable-channel -u tt --overwrite --subbuf-size="$size" \
    --num-subbuf="$count" --buffers-uid >/dev/null
lttng enable-event -u -a -c tt >/dev/null
lttng add-context -u -c tt -t vpid -t vtid -t procname >/dev/null
lttng start tt >/dev/null
"$@"
mkdir -p "$out"
lttng snapshot record -s tt "file://$out/trace" >/dev/null
lttng destroy tt >/dev/null
