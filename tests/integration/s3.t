#!/bin/bash
# The relay's S3 client (relay/s3.c, driven by tests/apps/tts3) against a
# real radosgw started by conf/tier.sh (Ceph only) in this test's network
# namespace: a single PUT, a multipart PUT above the part size, GETs
# byte-identical, HEAD, LIST, DELETE, odd keys, snapshots stored, deleted
# and swept as the relay's S3 backend will, and the store going away:
# radosgw stopped gives "store unavailable" within seconds, radosgw frozen
# (SIGSTOP) gives it after the stall timeout instead of a hang, and both
# recover once radosgw is back.
. "$(dirname "$0")/lib.sh"
tt_need_ceph
tt_enter "$@"
TTS3=$BUILD/tests/tts3
TIER=$T/tier

s3_cleanup() {
	local status=$?
	[ -n "$frozen" ] && kill -CONT "$frozen" 2>/dev/null
	"$TT_ROOT/conf/tier.sh" stop "$TIER" >/dev/null 2>&1
	if [ "$tap_failed" -gt 0 ] || [ "$status" -ne 0 ]; then
		for log in "$TIER"/log/*.log; do
			[ -s "$log" ] || continue
			echo "# ---- $log"
			tail -15 "$log" | sed 's/^/# /'
		done
	fi
	(exit "$status")
	tt_cleanup
}
trap s3_cleanup EXIT
frozen=

start=$(date +%s%N)
"$TT_ROOT/conf/tier.sh" start "$TIER" ceph >"$T/tier.log" 2>&1 ||
    bail "the tier did not start: $(tail -3 "$T/tier.log")"
echo "# tier (ceph) started in $(( ($(date +%s%N) - start) / 1000000 )) ms"
set -a
eval "$("$TT_ROOT/conf/tier.sh" env "$TIER")"
set +a
export TT_S3_PART_SIZE=5M
s3() { "$TTS3" "$@"; }

ok "the bucket answers" s3 check
is "the credentials file is 0600" "$(stat -c %a "$TT_S3_CREDENTIALS")" 600

head -c 3000000 /dev/urandom >"$T/small"
head -c 13000000 /dev/urandom >"$T/big"
small_sha=$(sha256sum "$T/small" | cut -c1-64)

ok "PUT below the part size, with the sha256 given" \
    s3 put incidents/i1/n1/s1/trace/small "$T/small" "$small_sha"
ok "PUT above the part size (multipart)" s3 put incidents/i1/n1/s1/trace/big "$T/big"
head_small=$(s3 head incidents/i1/n1/s1/trace/small)
head_big=$(s3 head incidents/i1/n1/s1/trace/big)
is "HEAD: the single PUT's size and MD5 ETag" "$head_small" \
    "3000000 $(md5sum "$T/small" | cut -c1-32)"
is "HEAD: the multipart object's size, and an ETag of 3 parts" \
    "${head_big%% *}/${head_big##*-}" "13000000/3"
ok "GET the single PUT: byte-identical" sh -c \
    "'$TTS3' get incidents/i1/n1/s1/trace/small '$T/small.out' && cmp '$T/small' '$T/small.out'"
ok "GET the multipart object: byte-identical" sh -c \
    "'$TTS3' get incidents/i1/n1/s1/trace/big '$T/big.out' && cmp '$T/big' '$T/big.out'"
s3 put incidents/i1/n1/s1/trace/small "$T/small" >/dev/null
ok "a wrong sha256 is refused by the store" sh -c \
    "! '$TTS3' put x '$T/small' $(printf '0%.0s' $(seq 64))"

odd='odd keys/a b+c&d=%e~f(é)*.bin'
printf 'odd' >"$T/odd"
ok "PUT a key that needs encoding" s3 put "$odd" "$T/odd"
ok "GET it back" sh -c "'$TTS3' get '$odd' '$T/odd.out' && cmp '$T/odd' '$T/odd.out'"

is "LIST by prefix: keys and sizes, each once" \
    "$(s3 list incidents/i1/ | cut -d' ' -f1,2 | tr '\n' ,)" \
    "incidents/i1/n1/s1/trace/big 13000000,incidents/i1/n1/s1/trace/small 3000000,"
is "LIST of a prefix that needs encoding" "$(s3 list 'odd keys/a b+' | cut -d' ' -f1-3)" \
    "$odd"
ok "HEAD of a missing key: not found (exit 1)" sh -c \
    "'$TTS3' head incidents/none; [ \$? = 1 ]"

ok "DELETE" s3 delete incidents/i1/n1/s1/trace/small
ok "the deleted key is gone" sh -c \
    "'$TTS3' head incidents/i1/n1/s1/trace/small; [ \$? = 1 ]"
ok "DELETE again: done already" s3 delete incidents/i1/n1/s1/trace/small

# Snapshots in the bucket (s3_store.c): files, then manifest.json; the
# sweeper deletes what the catalog does not hold once it is old enough.
mkdir -p "$T/snap/trace/ust"
cp "$T/big" "$T/snap/trace/ust/channel0_0"
echo metadata >"$T/snap/trace/ust/metadata"
jq -cn --arg s1 "$(sha256sum "$T/big" | cut -c1-64)" \
    --arg s2 "$(sha256sum "$T/snap/trace/ust/metadata" | cut -c1-64)" \
    '{id: "n1-1", files: [{path: "trace/ust/channel0_0", bytes: 13000000, sha256: $s1},
     {path: "trace/ust/metadata", bytes: 9, sha256: $s2}]}' >"$T/snap/manifest.json"
export TT_S3_PREFIX=relays/
ok "a snapshot directory goes up" s3 snapshot-put incidents/i9/n1/s1 "$T/snap"
ok "a second one" s3 snapshot-put incidents/i9/n2/s2 "$T/snap"
is "its objects, at the local store's paths under the prefix" \
    "$(s3 list relays/incidents/i9/n1/ | cut -d' ' -f1,2 | tr '\n' ,)" \
    "relays/incidents/i9/n1/s1/manifest.json $(stat -c %s "$T/snap/manifest.json"),relays/incidents/i9/n1/s1/trace/ust/channel0_0 13000000,relays/incidents/i9/n1/s1/trace/ust/metadata 9,"
sed -i 's/"bytes":9/"bytes":10/' "$T/snap/manifest.json"
ok "a file that is not the manifest's size is refused" sh -c \
    "! '$TTS3' snapshot-put incidents/i9/n3/s3 '$T/snap'"
# ... after channel0_0 went up: a partial snapshot, no manifest, which
# only the sweeper will remove.
put_time=$(date +%s)
echo incidents/i9/n1/s1 >"$T/catalogued"
is "the sweeper spares young objects" "$(s3 sweep 3600 "$T/catalogued")" \
    "snapshots 3 orphans 0 objects 0 foreign 0"
wait_until 5 '[ "$(date +%s)" -gt "$put_time" ]'
is "... and deletes the old ones the catalog does not hold" \
    "$(s3 sweep 0 "$T/catalogued")" "snapshots 3 orphans 2 objects 4 foreign 0"
is "the catalogued snapshot stays whole" "$(s3 list relays/ | wc -l)" 3
ok "a snapshot is deleted" s3 snapshot-delete incidents/i9/n1/s1
is "... all of it" "$(s3 list relays/ | wc -l)" 0
unset TT_S3_PREFIX

# radosgw stopped: refused at once, with a clear reason.
"$TT_ROOT/conf/tier.sh" stop-rgw "$TIER"
t0=$(date +%s)
s3 put incidents/i2/n1/s2/trace/small "$T/small" 2>"$T/down.err"
rc=$?
is "radosgw stopped: PUT fails as unavailable (exit 3)" "$rc" 3
ok "... saying so: $(head -c 150 "$T/down.err")" \
    grep -q "store unavailable: PUT incidents/i2/n1/s2/trace/small" "$T/down.err"
ok "... within 5 s" test $(( $(date +%s) - t0 )) -le 5
ok "GET unavailable too" sh -c \
    "'$TTS3' get incidents/i1/n1/s1/trace/big '$T/x' 2>/dev/null; [ \$? = 3 ]"

"$TT_ROOT/conf/tier.sh" start-rgw "$TIER" >>"$T/tier.log" 2>&1 ||
    bail "radosgw did not restart"
ok "radosgw back: the same PUT succeeds" s3 put incidents/i2/n1/s2/trace/small "$T/small"
ok "... and the object written before reads back byte-identical" sh -c \
    "'$TTS3' get incidents/i1/n1/s1/trace/big '$T/big.out2' && cmp '$T/big' '$T/big.out2'"

# radosgw frozen: connections are accepted by the kernel but nothing
# answers. The stall timeout turns that into "unavailable", not a hang
# (2 s here; libcurl's ~6 s speed window comes on top, see s3.h).
frozen=$(cat "$TIER/run/client.rgw.tier.pid")
kill -STOP "$frozen"
t0=$(date +%s)
TT_S3_STALL_S=2 TT_S3_ATTEMPTS=1 s3 put incidents/i3/x "$T/small" 2>"$T/frozen.err"
rc=$?
kill -CONT "$frozen"
frozen=
is "radosgw frozen: PUT fails as unavailable (exit 3)" "$rc" 3
ok "... after the stall timeout, not a hang ($(( $(date +%s) - t0 )) s)" \
    test $(( $(date +%s) - t0 )) -le 12
ok "... saying why: $(head -c 150 "$T/frozen.err")" grep -q "store unavailable" "$T/frozen.err"
ok "radosgw thawed: PUT succeeds" s3 put incidents/i3/x "$T/small"

rss=0
for name in mon.a osd.0 client.rgw.tier; do
	pid=$(cat "$TIER/run/$name.pid")
	rss=$((rss + $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")))
done
echo "# tier RSS (mon + osd + radosgw): $((rss / 1024)) MB"

"$TT_ROOT/conf/tier.sh" stop "$TIER"
ok "tier.sh stop leaves none of its daemons" sh -c \
    "! '$TT_ROOT/conf/tier.sh' status '$TIER' | grep -q running"

echo "1..$tap_count"
[ "$tap_failed" -eq 0 ]
