#!/bin/bash
# The API's listings on a catalog of 10,000 snapshots (2,000 incidents,
# 20 nodes), on SQLite and on PostgreSQL (conf/tier.sh's, loopback, the
# relay's own connections): p50 and p99 of GET /v1/incidents and
# GET /v1/snapshots with filters, RUNS requests each, one at a time.
# The rows are written by build/tests/ttcatalog through the catalog's own
# code (catalog_add_stored, as an upload is indexed), then a relay is
# started on them. Prints figures only.
#
# usage: bench/catalog-pg.sh   (root; RUNS=200, N=10000)
BENCH=$(cd "$(dirname "$0")" && pwd)
export BUILD=${BUILD:-$(cd "$BENCH/.." && pwd)/build}
# shellcheck source=../tests/integration/lib.sh
. "$BENCH/../tests/integration/lib.sh"
tt_need "$RELAY" "$BUILD/tests/ttcatalog"
tt_enter "$@"
RUNS=${RUNS:-200}
N=${N:-10000}
TIER=$T/tier
chmod 755 "$T"
trap '"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1; tt_cleanup' EXIT

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' \
    /proc/cpuinfo | head -1), kernel $(uname -r), $(date -u +%FT%TZ)"
"$TT_ROOT/conf/tier.sh" start "$TIER" postgresql >"$T/tier.log" 2>&1 ||
    bail "PostgreSQL did not start: $(tail -3 "$T/tier.log")"
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
export PGPASSFILE
tt_certs

# p50 and p99 of RUNS GETs of $1, in ms.
measure() {
	local url="http://127.0.0.1:$RELAY_API_PORT$1"
	curl -sf "$url" >/dev/null || bail "GET $1 failed"
	for _ in $(seq "$RUNS"); do
		curl -s -o /dev/null -w '%{time_total}\n' "$url"
	done | sort -n | awk -v q="$1" '{ t[NR] = $1 * 1000 } END {
	    printf "  %-58s p50 %6.2f ms  p99 %6.2f ms\n", q,
	    t[int(NR * 0.5)], t[int(NR * 0.99)] }'
}

for backend in sqlite postgresql; do
	if [ "$backend" = sqlite ]; then
		address=$T/catalog.db
		section="[store]
catalog = $T/catalog.db"
	else
		address="postgresql:$TT_PG_CONNINFO"
		section="[catalog]
backend = postgresql
conninfo = $TT_PG_CONNINFO"
	fi
	# The schema the relay's own open would make, then the rows.
	start=$(date +%s%N)
	"$BUILD/tests/ttcatalog" "$address" "$N" 20 ||
	    bail "ttcatalog $backend failed"
	echo "$backend: $N snapshots indexed in" \
	    "$(( ($(date +%s%N) - start) / 1000000 )) ms (catalog_add_stored, 1,000 per transaction)"
	tt_relay_config "$section
[analysis]
workers = 0"
	sed -i "s|^dir = .*|dir = $T/store-$backend|" "$T/relay.conf"
	tt_start_relay
	since=$((1795000000000000 + (N - 500) * 1000000))
	measure "/v1/incidents?limit=100"
	measure "/v1/incidents?limit=100&node=n03&source=watcher"
	measure "/v1/incidents?limit=100&q=slow"
	measure "/v1/snapshots?limit=100"
	measure "/v1/snapshots?limit=100&node=n07"
	measure "/v1/snapshots?source=watcher&since=$since&limit=100"
	kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
done
