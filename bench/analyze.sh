#!/bin/bash
# The analyzer's throughput on real snapshots, one core, next to
# libbabeltrace2's decode floor (babeltrace2 --output-format=dummy) and
# babeltrace2's text output, which the README's manual recipe reads.
# Snapshots are recorded here by tests/apps/mktrace.sh: ttapp's ticks and
# ttreq's HTTP requests in per-UID overwrite rings of 1M x 8 (8 MiB) and
# 8M x 8 (64 MiB) on one CPU. `tracetrap show DIR --json` is what an
# operator runs; it includes the child process every analysis runs in.
# Prints figures only.
#
# usage: bench/analyze.sh   (root; RUNS=7)
set -e
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RUNS=${RUNS:-7}

# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh" 2>/dev/null
tt_need "$BUILD/tracetrap" "$BUILD/tests/ttapp" "$BUILD/tests/ttreq"
for c in hyperfine babeltrace2 jq taskset; do
	command -v "$c" >/dev/null || {
		echo "bench/analyze.sh: $c is missing (make deps installs it)" >&2
		exit 1
	}
done
[ "$(id -u)" = 0 ] || { echo "bench/analyze.sh: needs root" >&2; exit 1; }

T=$(mktemp -d /tmp/tt-bench-analyze.XXXXXX)
trap 'rm -rf "$T"' EXIT
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"

# A request workload: 2000 requests, a slow one, interleaved with ticks.
{
	for i in $(seq 1 2000); do
		echo "begin 0 r$i GET /api/item/$((i % 40)) web"
		echo "work 0 r$i 1 db"
		echo "end 0 r$i GET /api/item/$((i % 40)) web 200 $((i % 97 * 13)) 0"
	done
} >"$T/requests.script"

record() {	# NAME SUBBUF TICKS
	"$ROOT/tests/apps/mktrace.sh" "$T/$1" "$2" 8 taskset -c 0 sh -c \
	    "'$BUILD/tests/ttreq' '$T/requests.script' '$T/$1.state' &&
	     '$BUILD/tests/ttapp' $3" >/dev/null 2>&1
}

# CPU seconds (user + system, children included) per run: what one core
# spends, whatever else the machine does meanwhile; and the wall median.
cpu() { jq -r '.results[0] | (.user + .system)' "$1"; }
wall() { jq -r '.results[0].median' "$1"; }

bench_one() {	# NAME
	local dir=$T/$1 events mb dummy text ours dw tw ow
	events=$("$BUILD/tracetrap" show "$dir" --json | jq '.events')
	mb=$(du -sb "$dir/trace" | awk '{ printf "%.1f", $1 / 1e6 }')
	hyperfine -N -w 1 -r "$RUNS" --export-json "$T/d.json" \
	    "taskset -c 1 babeltrace2 --output-format=dummy $dir/trace" \
	    >/dev/null 2>&1
	hyperfine -w 1 -r "$RUNS" --export-json "$T/t.json" \
	    "taskset -c 1 babeltrace2 $dir/trace >/dev/null" >/dev/null 2>&1
	hyperfine -w 1 -r "$RUNS" --export-json "$T/o.json" \
	    "taskset -c 1 $BUILD/tracetrap show $dir --json >/dev/null" \
	    >/dev/null 2>&1
	dummy=$(cpu "$T/d.json") dw=$(wall "$T/d.json")
	text=$(cpu "$T/t.json") tw=$(wall "$T/t.json")
	ours=$(cpu "$T/o.json") ow=$(wall "$T/o.json")
	echo "snapshot $1: $mb MB of CTF, $events events; CPU s per run (one" \
	    "core), events and MB per CPU second, wall median"
	awk -v e="$events" -v mb="$mb" -v d="$dummy" -v t="$text" -v o="$ours" \
	    -v dw="$dw" -v tw="$tw" -v ow="$ow" '
	function row(name, s, w) {
		printf "  %-38s %7.3f s  %10.0f events/s  %6.1f MB/s  " \
		    "(wall %.3f s)\n", name, s, e / s, mb / s, w
	}
	BEGIN {
		row("babeltrace2 --output-format=dummy", d, dw)
		row("babeltrace2 (text output)", t, tw)
		row("tracetrap show --json (the analyzer)", o, ow)
		printf "  analyzer / dummy: %.2fx   text / analyzer: %.2fx\n",
		    o / d, t / o
	}'
}

record ring8m 1M 400000
record ring64m 8M 3000000
bench_one ring8m
bench_one ring64m
