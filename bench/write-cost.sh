#!/bin/bash
# CPU per MB of putting a snapshot's bytes into a file, the store's last
# pass over them (README, "Relay ingest"): 256 KiB blocks with write(2),
# as the relay's disk thread does, against copying them into an mmap of
# the file, faulted page by page or populated first (bench/write_cost.c).
# Three rounds each of MB megabytes into a fresh file on a tmpfs (CPU
# only; FS_TMPFS=0: the disk under /tmp). Figures only.
#
# usage: bench/write-cost.sh   (MB=256 FS_TMPFS=1)
BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
MB=${MB:-256}
dir=$(mktemp -d /tmp/tracetrap-bench.XXXXXX) || exit 1
trap 'umount "$dir" 2>/dev/null; rm -rf "$dir"' EXIT
if [ "${FS_TMPFS:-1}" = 1 ]; then
	mount -t tmpfs -o size=$(( MB * 2 ))m tmpfs "$dir" ||
	    { echo "cannot mount a tmpfs (root?)" >&2; exit 1; }
fi
cc -O2 -Wall -o "$dir/write_cost" "$BENCH/write_cost.c" ||
    { echo "cannot build bench/write_cost.c" >&2; exit 1; }
machine_line
echo "into $(df --output=fstype "$dir" | tail -1), $MB MB per round, ms per MB (10^6 bytes):"
"$dir/write_cost" "$dir/file" "$MB"
