# shellcheck shell=bash
# What several benches share, sourced after tests/integration/lib.sh.

# pct P < numbers: nearest-rank percentile ("-" when there are none).
pct() {
	sort -n | awk -v p="$1" '{ v[NR] = $1 }
	    END { if (NR == 0) { print "-"; exit }
		  i = int(p * NR); if (i < p * NR) i++; if (i < 1) i = 1
		  print v[i] }'
}

# ms since midnight (UTC) of a log line's "HH:MM:SS.mmm" stamp.
log_ms() {
	awk '{ split($1, a, "[:.]")
	       print ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4] }'
}

# The machine a figure comes from: CPUs, model, kernel, time (UTC).
machine_line() {
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
	    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
}
