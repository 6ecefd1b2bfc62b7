#!/bin/bash
# The whole scale-out tier as `make tier` starts it (conf/tier.sh: Ceph
# with radosgw, PostgreSQL, two relays on the bucket and the PostgreSQL
# catalog, two recorders each with its own lttng-sessiond, listing both
# relays): a snapshot lands as objects in radosgw and a row in
# PostgreSQL, and its archive and summary read back byte-identical
# through either relay's API; a cluster trigger at node-a makes node-b
# snapshot, one incident with both nodes in both APIs; the relay node-b
# is on killed, node-b fails over to the other and its next snapshot
# lands; stop leaves none of the tier's processes.
. "$(dirname "$0")/lib.sh"
for c in ceph-mon ceph-osd radosgw radosgw-admin; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c is not installed (make deps installs the tier's packages)"
		exit 0
	fi
done
tt_need "$BUILD/tests/tts3" "$BUILD/tests/ttapp"
tt_enter "$@"
TIER=$T/tier
BASE=${TIER_PORT:-17400}
RELAY_1=127.0.0.1:$((BASE + 3))
RELAY_2=127.0.0.1:$((BASE + 5))

tier_cleanup() {
	local status=$?
	BUILD=$BUILD "$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	if [ "$tap_failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		for log in "$TIER"/log/setup.log "$TIER"/relay-*/relay.log \
		    "$TIER"/node-*/recorder.log; do
			[ -s "$log" ] || continue
			echo "# ---- $log"
			tail -15 "$log" | sed 's/^/# /'
		done
	fi
	(exit "$status")
	tt_cleanup
}
trap tier_cleanup EXIT

start=$(date +%s%N)
BUILD=$BUILD "$TT_ROOT/conf/tier.sh" start "$TIER" >"$T/tier.log" 2>&1 ||
    bail "the tier did not start: $(tail -3 "$T/tier.log")"
echo "# tier (ceph, postgresql, 2 relays, 2 recorders) started in $(( ($(date +%s%N) - start) / 1000000 )) ms"
set -a
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
set +a

running=$("$TT_ROOT/conf/tier.sh" status "$TIER" | grep -c ' running ')
is "tier.sh status: the 4 engines' daemons and the 4 nodes run" "$running" 8

api() { curl -sf "$1$2"; }
sql() { psql "$TT_PG_CONNINFO" -Atc "$1"; }
s3() { "$BUILD/tests/tts3" "$@"; }
node_on() {	# node_on NODE: the port of the relay the recorder is on
	"$CLI" status --json --socket "$(sock "$1")" 2>/dev/null |
	    jq -r '.relay.peer // ""'
}
sock() { eval echo "\$TT_NODE_$1_SOCKET"; }

for n in A B; do
	ok "node-${n,,} is connected to a relay" wait_until 20 \
	    "[ \"\$(\"$CLI\" status --json --socket $(sock $n) | jq -r .relay.connected)\" = true ]"
done

# One snapshot of node-a: bucket, PostgreSQL, both APIs.
"$CLI" snapshot --wait --reason "tier check" --socket "$(sock A)" >/dev/null
ok "node-a's snapshot is listed by relay-1" wait_until 30 \
    "[ \"\$(api $TT_RELAY_1_API '/v1/snapshots?node=node-a' | jq '.snapshots | length')\" -ge 1 ]"
id=$(api "$TT_RELAY_1_API" '/v1/snapshots?node=node-a' | jq -r '.snapshots[0].id')
is "its row is in PostgreSQL" \
    "$(sql "select count(*) from snapshots where id = '$id'")" 1
path=$(api "$TT_RELAY_1_API" "/v1/snapshots/$id" | jq -r '.path // empty')
keys=$(s3 list "${path:-incidents/}" 2>/dev/null)
ok "its manifest is an object in the bucket" grep -q "$id/manifest.json" <<<"$keys"
ok "and so is its trace" grep -q "$id/trace/" <<<"$keys"
ok "relay-2 lists it too (one catalog)" \
    sh -c "curl -sf '$TT_RELAY_2_API/v1/snapshots?node=node-a' | jq -e '.snapshots[] | select(.id == \"$id\")' >/dev/null"
api "$TT_RELAY_1_API" "/v1/snapshots/$id/archive" >"$T/a1.tar"
api "$TT_RELAY_2_API" "/v1/snapshots/$id/archive" >"$T/a2.tar"
ok "the archive reads back from relay-1" test -s "$T/a1.tar"
is "byte-identical through relay-2" "$(sha256sum <"$T/a2.tar")" \
    "$(sha256sum <"$T/a1.tar")"
# Analyzed by relay-1, which stored it (relay-2 leaves a fresh snapshot
# of another relay to it); its summary reaches the bucket before its row
# says so, and relay-2 reads it from there.
ok "its summary is analyzed (relay-1's API)" wait_until 30 \
    "curl -sf -o '$T/s1.json' '$TT_RELAY_1_API/v1/snapshots/$id/summary' &&
     jq -e '.analysis != \"pending\"' '$T/s1.json' >/dev/null"
ok "relay-2 serves it" wait_until 30 \
    "curl -sf -o '$T/s2.json' '$TT_RELAY_2_API/v1/snapshots/$id/summary'"
is "the summary is byte-identical through relay-2" "$(sha256sum <"$T/s2.json")" \
    "$(sha256sum <"$T/s1.json")"
mkdir -p "$T/unpacked"
tar -xf "$T/a1.tar" -C "$T/unpacked"
mf=$(find "$T/unpacked" -name manifest.json | head -1)
ok "the archive's files verify against its manifest" \
    sh -c "cd '$(dirname "$mf")' && jq -r '.files[] | \"\(.sha256)  \(.path)\"' manifest.json | sha256sum -c --quiet"

# A cluster trigger at node-a: node-b snapshots under its incident, one
# incident with both nodes in both APIs. Each recorder picked its relay
# at random: on two relays this crosses them (cluster-relays.t always
# does); the log says which it was.
on_a=$(node_on A) on_b=$(node_on B)
echo "# node-a is on $on_a, node-b on $on_b"
"$CLI" snapshot --cluster --reason "tier incident" --socket "$(sock A)" >/dev/null
ok "node-b snapshots under node-a's incident" wait_until 40 \
    "api $TT_RELAY_2_API '/v1/incidents?limit=5' | jq -e '.incidents[] | select(.reasons | index(\"tier incident\")) | select(.nodes | length == 2)' >/dev/null"
inc=$(api "$TT_RELAY_1_API" '/v1/snapshots?node=node-b&limit=1' | jq -r '.snapshots[0].incident')
for r in 1 2; do
	url=$(eval echo "\$TT_RELAY_${r}_API")
	is "relay-$r lists incident $inc with both nodes" \
	    "$(api "$url" "/v1/incidents/$inc" | jq -r '[.snapshots[].node] | sort | join(",")')" \
	    node-a,node-b
done

# The relay node-b is on, killed: node-b fails over to the other one and
# its next snapshot lands there; the other relay's API lists it.
if [ "$on_b" = "$RELAY_1" ]; then
	gone=relay-1 left=$RELAY_2 left_api=$TT_RELAY_2_API
else
	gone=relay-2 left=$RELAY_1 left_api=$TT_RELAY_1_API
fi
kill -KILL "$(cat "$TIER/run/$gone.pid")"
ok "node-b fails over from $gone to $left" wait_until 20 \
    "[ \"\$(node_on B)\" = $left ]"
before=$(api "$left_api" '/v1/snapshots?node=node-b' | jq '.snapshots | length')
"$CLI" snapshot --wait --reason "after failover" --socket "$(sock B)" >/dev/null
ok "node-b's next snapshot is stored through $left" wait_until 30 \
    "[ \"\$(api $left_api '/v1/snapshots?node=node-b' | jq '.snapshots | length')\" -gt $before ]"

BUILD=$BUILD "$TT_ROOT/conf/tier.sh" stop "$TIER"
ok "tier.sh stop leaves none of its processes" sh -c \
    "! '$TT_ROOT/conf/tier.sh' status '$TIER' | grep -q ' running '"
done_testing
