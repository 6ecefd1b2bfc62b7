#!/bin/bash
# [store] backend = s3 against a real radosgw (conf/tier.sh, Ceph only, in
# this test's network namespace): uploads over real mutual TLS land in the
# bucket before their ACK, one above s3_part_size goes up in parts; the
# API serves the manifest, the summary and the archive from the bucket
# with the local cache emptied, byte-identical to what was sent; radosgw
# stopped refuses uploads "store unavailable" (nothing lost: the same
# snapshot, sent again once it is back, is stored exactly once, and a
# real recorder's spooled snapshots all arrive); retention deletes
# objects and rows with no orphan left, and a planted orphan is swept.
. "$(dirname "$0")/lib.sh"
tt_need_ceph
tt_enter "$@"
TTS3=$BUILD/tests/tts3
TIER=$T/tier
API=http://127.0.0.1:$RELAY_API_PORT

s3_cleanup() {
	local status=$?
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	if [ "$tap_failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		echo "# ---- relay.log"
		tail -30 "$T/relay.log" | sed 's/^/# /'
	fi
	(exit "$status")
	tt_cleanup
}
trap s3_cleanup EXIT

"$TT_ROOT/conf/tier.sh" start "$TIER" ceph >"$T/tier.log" 2>&1 ||
    bail "the tier did not start: $(tail -3 "$T/tier.log")"
set -a
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
set +a
s3() { "$TTS3" "$@"; }
# Snapshot dirs in the bucket with their manifest: complete ones.
bucket_snapshots() { s3 list incidents/ | cut -d' ' -f1 | grep -c '/manifest.json$'; }
catalog_rows() { sqlite3 "$T/store/catalog.db" 'select count(*) from snapshots'; }

# Planted first, so that its grace (30 s) has run out by the end.
echo orphan >"$T/orphan"
ok "an orphan planted in the bucket" s3 put incidents/lost/node9/node9-1/trace/x "$T/orphan"

tt_certs node1
# s3_relay_config [MORE KEYS]: the relay on the tier's bucket.
s3_relay_config() {
	tt_relay_config "backend = s3
s3_endpoint = $TT_S3_ENDPOINT
s3_region = $TT_S3_REGION
s3_bucket = $TT_S3_BUCKET
s3_credentials = $TT_S3_CREDENTIALS
s3_part_size = 5M
s3_sweep_grace = 30s
$1"
}
s3_relay_config
is "relay -n accepts backend = s3" \
    "$("$RELAY" -n -f "$T/relay.conf" 2>&1)/$?" "configuration OK/0"
tt_start_relay
ok "the relay says which store it runs on" grep -q "store: bucket $TT_S3_BUCKET at $TT_S3_ENDPOINT" "$T/relay.log"
is "/v1/status names the backend" "$(curl -s "$API/v1/status" | jq -r .store.backend)" s3

# A small snapshot, and one above the part size (12 MB of data: 3 parts).
id1=$(snap_id node1 1)
make_snapshot "$id1" node1
is "a snapshot is stored" "$(upload_snapshot node1 "$id1")" "ack stored "
key1=incidents/$id1/node1/$id1
is "its objects are in the bucket, manifest included" \
    "$(s3 list "$key1/" | cut -d' ' -f1 | grep -v summary.json | tr '\n' ' ')" \
    "$key1/manifest.json $key1/trace/ust/data $key1/trace/ust/metadata "
id2=$(snap_id node1 2)
make_snapshot "$id2" node1
head -c 12000000 /dev/urandom >"$T/snap/$id2/trace/ust/data"
jq --arg s "$(sha256sum "$T/snap/$id2/trace/ust/data" | cut -c1-64)" \
    '.files[0].bytes = 12000000 | .files[0].sha256 = $s | .bytes = 12001000' \
    "$T/snap/$id2/manifest.json" >"$T/m.json" && mv "$T/m.json" "$T/snap/$id2/manifest.json"
is "a 12 MB snapshot is stored" "$(upload_snapshot node1 "$id2")" "ack stored "
key2=incidents/$id2/node1/$id2
head2=$(s3 head "$key2/trace/ust/data")
is "its big file went up in 3 parts of 5 MiB" "${head2%% *}/${head2##*-}" "12000000/3"
is "both catalogued" "$(catalog_rows)" 2
ok "the analysis puts summary.json next to the objects" wait_until 30 \
    "s3 head $key2/summary.json >/dev/null"

# Reads, with the local cache emptied: from the bucket.
ok "both in the local cache after their upload" test -d "$T/store/$key2/trace"
rm -rf "$T/store/incidents/$id2"
curl -s -o "$T/manifest.out" "$API/v1/snapshots/$id2/manifest"
s3 get "$key2/manifest.json" "$T/manifest.bucket"
ok "the manifest from the API is the bucket's, byte for byte" cmp "$T/manifest.out" "$T/manifest.bucket"
is "and names the node and the relay's arrival time" \
    "$(jq -r '.node, (.received_at_us > 0)' "$T/manifest.out" | tr '\n' ' ')" "node1 true "
s3 get "$key2/summary.json" "$T/summary.bucket"
curl -s "$API/v1/snapshots/$id2/summary" >"$T/summary.out"
is "the summary from the API is the bucket's summary.json" \
    "$(jq -S 'del(.bytes, .analysis, .path)' "$T/summary.out")" "$(jq -S . "$T/summary.bucket")"
rm -rf "$T/store/incidents/$id2"
mkdir "$T/untar"
ok "the archive downloads from the bucket" sh -c \
    "curl -sf '$API/v1/snapshots/$id2/archive' | tar -x -C '$T/untar'"
ok "its trace files are byte-identical to what was sent" sh -c \
    "cmp '$T/snap/$id2/trace/ust/data' '$T/untar/$id2/trace/ust/data' &&
     cmp '$T/snap/$id2/trace/ust/metadata' '$T/untar/$id2/trace/ust/metadata'"
ok "its manifest is the bucket's (and no summary.json: as locally)" sh -c \
    "cmp '$T/manifest.bucket' '$T/untar/$id2/manifest.json' &&
     [ ! -e '$T/untar/$id2/summary.json' ]"
ok "the fetch is logged" grep -q "store: $key2 fetched from the bucket into the cache" "$T/relay.log"

# The bucket goes away: refused, nothing lost, then stored exactly once.
"$TT_ROOT/conf/tier.sh" stop-rgw "$TIER" >>"$T/tier.log" 2>&1
id3=$(snap_id node1 3)
make_snapshot "$id3" node1
answer=$(upload_snapshot node1 "$id3")
is "radosgw stopped: the upload is refused \"store unavailable\"" \
    "${answer%%: *}" "ack refused store unavailable"
ok "the refusal is logged" grep -q "upload $id3 refused: store unavailable" "$T/relay.log"
is "not catalogued" "$(sqlite3 "$T/store/catalog.db" "select count(*) from snapshots where id = '$id3'")" 0
ok "/v1/status counts the failure" sh -c \
    "[ \$(curl -s '$API/v1/status' | jq .store.unavailable) -ge 1 ]"
ok "/metrics too, with its HELP" sh -c \
    "curl -s '$API/metrics' | grep -q '^# HELP tracetrap_relay_s3_failures_total' &&
     curl -s '$API/metrics' | grep -q '^tracetrap_relay_s3_failures_total{reason=\"unavailable\"} [1-9]'"
is "and again while it is down" "$(upload_snapshot node1 "$id3" | cut -d: -f1)" "ack refused store unavailable"
"$TT_ROOT/conf/tier.sh" start-rgw "$TIER" >>"$T/tier.log" 2>&1 ||
    bail "radosgw did not come back"
is "radosgw back: the same snapshot is stored" "$(upload_snapshot node1 "$id3")" "ack stored "
is "sent again: answered as already stored" "$(upload_snapshot node1 "$id3")" "ack stored "
is "catalogued once" "$(sqlite3 "$T/store/catalog.db" "select count(*) from snapshots where id = '$id3'")" 1
is "three snapshots in the bucket" "$(bucket_snapshots)" 3

# A real recorder: snapshots taken while the bucket is away all arrive.
tt_start_sessiond
tt_config_for_relay node1
tt_start_recorder
tt_start_app 20000 300
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
ok "the recorder connects" wait_until 20 '[ "$(status_field .relay.connected)" = true ]'
"$TT_ROOT/conf/tier.sh" stop-rgw "$TIER" >>"$T/tier.log" 2>&1
for i in 1 2 3; do
	cli snapshot --wait --reason "bucket away $i" >/dev/null || bail "snapshot $i failed"
done
ok "the relay refuses them while the bucket is away" wait_until 30 \
    '[ "$(grep -c "node1: upload node1-.* refused: store unavailable" "$T/relay.log")" -ge 5 ]'
"$TT_ROOT/conf/tier.sh" start-rgw "$TIER" >>"$T/tier.log" 2>&1 ||
    bail "radosgw did not come back"
ok "once it is back, the recorder's retries bring all three" wait_until 150 \
    '[ "$(curl -s --unix-socket "$T/control.sock" http://x/v1/snapshots | jq "[.spool[] | select(.uploaded)] | length")" -eq 3 ]'
is "six snapshots in the bucket" "$(bucket_snapshots)" 6
is "and six catalogued: each once" "$(catalog_rows)" 6
tt_stop_recorder

# The events drill-down of a real trace, its cache copy gone: fetched.
rid=$(sqlite3 "$T/store/catalog.db" "select id from snapshots where id like 'node1-2026120%' limit 1")
rpath=$(sqlite3 "$T/store/catalog.db" "select path from snapshots where id = '$rid'")
ok "a recorder's snapshot is analyzed (summary in the bucket)" wait_until 30 \
    "s3 head $rpath/summary.json >/dev/null"
rm -rf "${T:?}/store/$rpath"
is "its events are read from a copy fetched from the bucket" \
    "$(curl -s -o "$T/events.json" -w '%{http_code}' "$API/v1/snapshots/$rid/events?limit=5")/$(jq '.events | length' "$T/events.json")" "200/5"
ok "the fetch is logged" grep -q "store: $rpath fetched from the bucket into the cache" "$T/relay.log"

# Retention: rows first, then objects; nothing left behind.
kill -TERM "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
s3_relay_config "max_bytes = 1M"
tt_start_relay
ok "retention removes incidents down to 1 MB" wait_until 20 \
    'grep -q "retention: removed incident $id2" "$T/relay.log"'
left=$(sqlite3 "$T/store/catalog.db" 'select path from snapshots order by path')
is "the recorder's three snapshots are left" "$(echo "$left" | wc -l)" 3
ok "every catalogued snapshot has its manifest in the bucket" sh -c "
    for p in $(echo $left); do '$TTS3' head \$p/manifest.json >/dev/null || exit 1; done"
# The objects go after the rows, on the bucket worker: soon after.
bucket_paths() {
	s3 list incidents/ | cut -d' ' -f1 | grep -v '^incidents/lost/' |
	    sed -E 's,^(incidents/[^/]+/[^/]+/[^/]+)/.*,\1,' | sort -u
}
ok "and the bucket holds no snapshot the catalog does not (but the orphan)" \
    wait_until 20 '[ "$(bucket_paths)" = "$left" ]'
is "the 12 MB snapshot's objects are gone" "$(s3 list "$key2/" | wc -l)" 0
ok "the planted orphan is swept once 30 s old" wait_until 60 \
    '[ -z "$(s3 list incidents/lost/)" ]'
ok "the sweep is logged" grep -q "store: sweep: .* 1 orphan(s) deleted" "$T/relay.log"
ok "/v1/status counts the sweeps" wait_until 20 \
    '[ "$(curl -s "$API/v1/status" | jq .store.sweeps)" -ge 1 ]'
done_testing
