#!/bin/bash
# What mod_tracetrap costs Apache: wrk against a static page and a small
# dynamic handler (mod_tttest's "ok"), requests/s and p99 latency, for
#
#   off         apache2 without the module
#   no session  the module loaded, lttng-ust in every child, no session
#   session     the module and the recorder's session recording (every
#               request writes request_begin and request_end)
#   trigger 1/s the same, and one request a second answering 500, which
#               TraceTrapOnStatus turns into a trigger and the recorder
#               (no limits) into a snapshot: a snapshot every second
#
# side by side in one run. Both servers (one without the module, one
# with it) run the event MPM with the same settings, pinned to the last
# CPU; wrk runs pinned to the first, so the two do not fight over a core.
# Each cell is the median of BENCH_REPS short runs of BENCH_SECONDS, the
# configurations interleaved within each repetition so that drift of the
# machine spreads over all of them. Prints figures only.
#
# Four connections keep the one server CPU busy without queueing requests
# behind each other; with more, p99 measures the scheduler's time slices
# on this 2-CPU machine rather than the requests.
#
# usage: bench/apache-overhead.sh   (root; BENCH_SECONDS=3 BENCH_REPS=15
#        BENCH_CONNECTIONS=4)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=../tests/integration/apache-lib.sh
. "$BENCH/../tests/integration/apache-lib.sh"
tt_need "$RECORDER"
tt_enter "$@"
tt_apache_check
command -v wrk >/dev/null || bail "wrk is not installed (make deps)"

SECONDS_EACH=${BENCH_SECONDS:-3}
REPS=${BENCH_REPS:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-4}
LAST_CPU=$(($(nproc) - 1))
PORT_OFF=18081
HZ=$(getconf CLK_TCK)

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
echo "$(apache2 -v | head -1), event MPM, $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)," \
    "$CONNECTIONS connections, ${SECONDS_EACH}s x $REPS per cell (median)," \
    "apache on CPU $LAST_CPU, wrk on CPU 0"

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0"
mkdir -p "$T/spool"

# The same server twice: with the module (port 18080) and without (18081).
# No access log: it would cost both the same, and add noise.
settings="StartServers 2
ThreadsPerChild 25
MaxRequestWorkers 150
KeepAlive On
MaxKeepAliveRequests 0
TraceTrapOnStatus 500
TraceTrapSlowRequest 10s"
tt_apache_config event "$settings"
sed -i '/^CustomLog /d' "$T/httpd.conf"
grep -v '^LoadModule tracetrap_module\|^TraceTrap\|^ *TraceTrap' "$T/httpd.conf" |
    sed -e "s/:$APACHE_PORT\$/:$PORT_OFF/" \
    -e "s|^PidFile .*|PidFile $T/apache/run/off.pid|" \
    -e "s|^ErrorLog .*|ErrorLog $T/apache-off-error.log|" >"$T/httpd-off.conf"
taskset -c "$LAST_CPU" setsid apache2 -f "$T/httpd-off.conf" -DFOREGROUND \
    >>"$T/apache-stderr.log" 2>&1 &
OFF_PID=$!
tt_pids="$tt_pids $OFF_PID"
taskset -c "$LAST_CPU" setsid apache2 -f "$T/httpd.conf" -DFOREGROUND \
    >>"$T/apache-stderr.log" 2>&1 &
APACHE_PID=$!
tt_pids="$tt_pids $APACHE_PID"
wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$PORT_OFF/index.html" ||
    bail "apache2 (off) did not start"
wait_for 20 curl -sf -o /dev/null "$APACHE_URL/index.html" ||
    bail "apache2 (on) did not start"

# to_us VALUE: wrk's "812.00us", "1.23ms", "2.01s" in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000;
		else if (v ~ /s$/) m = 1000000; else m = 0;
		sub(/[a-z]+$/, "", v); printf "%.0f\n", v * m }'
}

# apache_ticks PARENT: CPU time of one server, in clock ticks: the
# parent's own and its reaped children's, and its live children's.
apache_ticks() {
	local pid total
	total=$(sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 + $14 + $15 }')
	for pid in $(pgrep -P "$1"); do
		total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" |
		    awk '{ print $12 + $13 }')))
	done
	echo "$total"
}

# run PORT PATH PID: "requests/s p50_us p99_us cpu_us_per_request" of one
# wrk run; the CPU is the server's (PID and its children), so it is what
# each request costs Apache, whatever the scheduler did to the latency.
run() {
	local out ticks0 ticks1 requests
	ticks0=$(apache_ticks "$3")
	out=$(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" \
	    --latency "http://127.0.0.1:$1$2" 2>&1)
	ticks1=$(apache_ticks "$3")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "wrk: errors on $1$2" >&2
	fi
	requests=$(awk '/ requests in / { print $1 }' <<<"$out")
	echo "$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out") \
$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")") \
$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")") \
$(awk -v t=$((ticks1 - ticks0)) -v hz="$HZ" -v n="$requests" \
    'BEGIN { printf "%.1f", t * 1000000 / hz / n }')"
}

trigger_loop() {
	while :; do
		curl -s -o /dev/null "$APACHE_URL/tt/failing?status=500"
		sleep 1
	done
}

# set_state off|nosession|session|trigger
TRIGGER_PID=
set_state() {
	if [ -n "$TRIGGER_PID" ]; then
		kill "$TRIGGER_PID" 2>/dev/null
		wait "$TRIGGER_PID" 2>/dev/null
		TRIGGER_PID=
	fi
	case $1 in
	off|nosession)
		[ -n "$RECORDER_PID" ] && tt_stop_recorder
		RECORDER_PID= ;;
	session|trigger)
		[ -z "$RECORDER_PID" ] && tt_start_recorder ;;
	esac
	if [ "$1" = trigger ]; then
		trigger_loop &
		TRIGGER_PID=$!
	fi
}

STATES="off nosession session trigger"
for rep in $(seq "$REPS"); do
	for page in static dynamic; do
		[ "$page" = static ] && path=/index.html || path=/tt
		for state in $STATES; do
			set_state "$state"
			port=$APACHE_PORT pid=$APACHE_PID
			[ "$state" = off ] && port=$PORT_OFF pid=$OFF_PID
			snapshots0=$(spool_count)
			echo "$page $state $(run "$port" "$path" "$pid") $(($(spool_count) - snapshots0))" \
			    >>"$T/results"
		done
	done
done
set_state off

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cell() {	# cell PAGE STATE FIELD
	awk -v p="$1" -v s="$2" -v f="$3" '$1 == p && $2 == s { print $f }' \
	    "$T/results" | median
}

printf '\n%-8s %-12s %11s %7s %9s %8s %9s %8s %12s %7s %9s\n' page module \
    "requests/s" "vs off" "p50 (us)" "vs off" "p99 (us)" "vs off" \
    "CPU us/req" "vs off" snapshots
for page in static dynamic; do
	base_rps=$(cell "$page" off 3)
	base_p50=$(cell "$page" off 4)
	base_p99=$(cell "$page" off 5)
	base_cpu=$(cell "$page" off 6)
	for state in $STATES; do
		rps=$(cell "$page" "$state" 3)
		p50=$(cell "$page" "$state" 4)
		p99=$(cell "$page" "$state" 5)
		cpu=$(cell "$page" "$state" 6)
		case $state in
		off) name=off ;; nosession) name="no session" ;;
		session) name=session ;; trigger) name="trigger 1/s" ;;
		esac
		printf '%-8s %-12s %11s %6.1f%% %9s %+8d %9s %+8d %12s %+7.1f %9s\n' \
		    "$page" "$name" "$rps" \
		    "$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { print (a - b) * 100 / b }')" \
		    "$p50" "$((p50 - base_p50))" "$p99" "$((p99 - base_p99))" \
		    "$cpu" "$(awk -v a="$cpu" -v b="$base_cpu" 'BEGIN { print a - b }')" \
		    "$(cell "$page" "$state" 7)"
	done
done
echo
echo "every run (page, module, requests/s, p50 us, p99 us, CPU us/request, snapshots):"
sed 's/^/  /' "$T/results"
