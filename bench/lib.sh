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

# wait_slowly TIMEOUT_S 'EXPRESSION': lib.sh's wait_until, polling every
# 0.5 s instead of 0.05 s, for a wait during what a bench measures. Each
# poll forks (find, wc, curl, jq, date, sleep); 20 polls a second took a
# fifth of this machine's two CPUs during an incident (perf record -a),
# CPUs the daemons measured needed. The figures come from the daemons'
# own stamps, so polling slower only ends the wait a little later.
wait_slowly() {
	WAIT_INTERVAL=0.5 wait_until "$@"
}
