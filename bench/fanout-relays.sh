#!/bin/bash
# Cluster fan-out across two relays through PostgreSQL ([catalog] backend
# = postgresql; relay/cluster.c): $CONNS simulated recorders
# (bench/fanout_client.py: Python asyncio, TLS 1.3, each connection its own
# node and certificate) split over two relays, round robin, both linked to
# one PostgreSQL (conf/tier.sh, on loopback). Connection 0 (on relay 1)
# sends CLUSTER_TRIGGER $TRIGGERS times, one at a time, each once every
# connection has its SNAPSHOT_REQUEST. The path: relay 1 calls the fleet
# budget's function (one transaction: lock, count, insert, NOTIFY), both
# relays get the notification at its commit, read the new trigger and
# queue their requests. Per trigger, on the client's monotonic clock:
#   last / first   trigger written -> the last / first of the $CONNS
#                  requests handed to the client, either relay;
#   relay 1 / 2    each relay's own log line: the trigger accepted by
#                  PostgreSQL (its clock) -> the requests queued (the
#                  relay's clock; one machine, one clock).
# The fleet budget is off (cooldown = 0, max_per_hour = 0). Warm-ups are
# off the record. Percentiles are nearest rank. Figures only.
#
# usage: bench/fanout-relays.sh   (root; CONNS=50 TRIGGERS=200 WARMUP=5
#                                  RAW=)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
# shellcheck source=lib.sh
. "$BENCH/lib.sh"
tt_need "$RELAY"
tt_enter "$@"
# shellcheck source=../tests/integration/cluster-lib.sh
. "$BENCH/../tests/integration/cluster-lib.sh"

CONNS=${CONNS:-50}
TRIGGERS=${TRIGGERS:-200}
WARMUP=${WARMUP:-5}
RAW=${RAW:-}

# p50_p99_ms < microseconds
p50_p99_ms() {
	local f=$T/pct.tmp
	cat >"$f"
	awk -v a="$(pct 0.50 <"$f")" -v b="$(pct 0.99 <"$f")" \
	    'BEGIN { printf "%.2f / %.2f", a / 1000, b / 1000 }'
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "postgresql: $(psql --version | head -1); $(python3 --version)"

sims=()
for i in $(seq 0 $((CONNS - 1))); do sims+=("sim$i"); done
tt_certs "${sims[@]}"
for n in 1 2; do
	relay_conf "$n" "cooldown = 0
max_per_hour = 0
node_max_per_hour = 0"
	start_relay "$n"
done

timeout 300 python3 "$BENCH/fanout_client.py" --port 5441,5442 \
    --ca "$T/pki/ca.pem" --cert-prefix "$T/pki/sim" \
    --conns "$CONNS" --triggers "$TRIGGERS" --warmup "$WARMUP" \
    "$T/b.txt" 2>>"$T/client.log" ||
    bail "fanout_client.py failed: $(tail -1 "$T/client.log")"
[ "$(wc -l <"$T/b.txt")" -eq "$TRIGGERS" ] ||
    bail "$(wc -l <"$T/b.txt") triggers measured, expected $TRIGGERS"

# Each relay's line per measured incident: "... from N recorders X us after".
for n in 1 2; do
	: >"$T/relay$n.txt"
	while read -r inc _; do
		line=$(grep -F "incident $inc: cluster trigger from sim0 via" \
		    "$T/relay$n.log") || bail "no relay $n log line for $inc"
		sed -n 's/.* requested from \([0-9]*\) recorders .*/\1/p' \
		    <<<"$line" | grep -qx "$((CONNS / 2))" ||
		    bail "relay $n: $inc did not go to $((CONNS / 2)) recorders"
		sed -n 's/.* recorders \(-\{0,1\}[0-9]*\) us after .*/\1/p' \
		    <<<"$line" >>"$T/relay$n.txt"
	done <"$T/b.txt"
done

echo
echo "$CONNS simulated recorders over 2 relays + PostgreSQL (loopback)," \
    "$TRIGGERS cluster triggers one at a time (+$WARMUP warm-up), ms p50 / p99"
printf '%-38s %s\n' "trigger -> last request" \
    "$(cut -d' ' -f3 "$T/b.txt" | p50_p99_ms)"
printf '%-38s %s\n' "trigger -> first request" \
    "$(cut -d' ' -f2 "$T/b.txt" | p50_p99_ms)"
printf '%-38s %s\n' "relay 1: accepted -> requests queued" \
    "$(p50_p99_ms <"$T/relay1.txt")"
printf '%-38s %s\n' "relay 2: accepted -> requests queued" \
    "$(p50_p99_ms <"$T/relay2.txt")"
if [ -n "$RAW" ]; then
	mkdir -p "$RAW" && cp "$T/b.txt" "$T"/relay?.txt "$T"/relay?.log "$RAW/"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "last/first include the Python client's own TLS decryption and one"
echo "asyncio callback per connection, on the same $(nproc) CPUs as both"
echo "relays and PostgreSQL. Issue goal: p99 under 15 ms on loopback."
