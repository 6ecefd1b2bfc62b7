#!/bin/bash
# The relay's analysis against what a node may send, and after a loss:
# - a real trace (ttreq's requests, recorded by tests/apps/mktrace.sh)
#   uploaded over the relay link is summarized;
# - a trace that makes libbabeltrace2 2.0.4 abort (found by fuzz_analyze)
#   and one whose metadata is garbage get summaries that say why, while
#   the relay goes on serving; the drill-down on them fails cleanly;
# - with its catalog lost and a summary.json deleted, the relay rebuilds
#   the catalog (the summaries on disk come back with it) and the backfill
#   analyzes the snapshot that had none.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

API=http://127.0.0.1:$RELAY_API_PORT
api() { curl -s "$API$1"; }
api_code() { curl -s -o "$T/api.body" -w '%{http_code}' "$API$1"; }
summary_of() { api "/v1/snapshots/$1/summary"; }
summarized() { [ "$(api_code "/v1/snapshots/$1/summary")" = 200 ]; }

# snapshot_from ID TRACE-DIR: a snapshot of node1 around the CTF files of
# TRACE-DIR (its metadata and streams), with their sha256 in a manifest.
snapshot_from() {
	local id=$1 src=$2 dir=$T/snap/$1 files
	mkdir -p "$dir/trace/ust"
	# The files only: LTTng's index/ directory is not needed to read.
	find "$src" -maxdepth 1 -type f -exec cp -t "$dir/trace/ust/" {} +
	files=$(cd "$dir" && for f in trace/ust/*; do
		jq -n --arg p "$f" --argjson b "$(stat -c %s "$f")" \
		    --arg s "$(sha256sum "$f" | cut -d' ' -f1)" \
		    '{path: $p, bytes: $b, sha256: $s}'
	done | jq -s .)
	jq -n --arg id "$id" --argjson files "$files" \
	    --argjson now "$(date +%s%6N)" \
	    '{id: $id, node: "node1", taken_at_us: $now, triggers: [{source:
	    "app", reason: "test", labels: {request_id: "r2"}}],
	    files: $files}' >"$dir/manifest.json"
}

tt_certs node1
tt_relay_config "[analysis]
backfill = 600"
tt_start_relay

# A real trace.
cat >"$T/req.script" <<'EOF'
begin 0 r1 GET /fast h1
end 0 r1 GET /fast h1 200 150 0
begin 0 r2 GET /slow h1
sleep 100
end 1 r2 GET /slow h1 200 100000 0
EOF
"$TT_ROOT/tests/apps/mktrace.sh" "$T/rec" 64k 4 "$BUILD/tests/ttreq" \
    "$T/req.script" "$T/req.state" >>"$T/mktrace.log" 2>&1 ||
    bail "mktrace.sh failed: $(tail -3 "$T/mktrace.log")"
real=$(dirname "$(find "$T/rec/trace" -name metadata | head -1)")
good=$(snap_id node1 1) abort=$(snap_id node1 2) garbage=$(snap_id node1 3)
snapshot_from "$good" "$real"
is "a real snapshot is stored" "$(upload_snapshot node1 "$good")" "ack stored "
ok "and summarized" wait_until 30 'summarized $good'
is "its slow request comes first, triggered by the manifest's request id" \
    "$(summary_of "$good" | jq -r '.requests[0] | .uri + " " + (.triggered | tostring)')" \
    "/slow true"

# What crashes libbabeltrace2, and what is not CTF at all.
mkdir -p "$T/hostile" "$T/garbage"
cp "$TT_ROOT/tests/fuzz/analyze/metadata" "$T/hostile/metadata"
tail -c +2 "$TT_ROOT/tests/fuzz/analyze/babeltrace-abort" >"$T/hostile/tt_0"
head -c 4000 /dev/urandom >"$T/garbage/metadata"
head -c 8192 /dev/urandom >"$T/garbage/tt_0"
snapshot_from "$abort" "$T/hostile"
snapshot_from "$garbage" "$T/garbage"
is "a trace that makes libbabeltrace2 abort is stored" \
    "$(upload_snapshot node1 "$abort")" "ack stored "
is "a garbage trace is stored" "$(upload_snapshot node1 "$garbage")" "ack stored "
ok "both get a summary" wait_until 30 'summarized $abort && summarized $garbage'
ok "the first says the analyzer was killed by an abort" \
    grep -q 'signal 6.*Assertion' <(summary_of "$abort" | jq -r .error)
ok "the second that the trace cannot be read" \
    test -n "$(summary_of "$garbage" | jq -r '.error // empty')"
is "both are catalogued as failed analyses" \
    "$(api '/v1/snapshots?node=node1' | jq -r '[.snapshots[] | select(.analysis == "failed")] | length')" 2
is "the relay still answers" "$(api_code /v1/status)" 200
ok "and is the same process" kill -0 "$RELAY_PID"
code=$(api_code "/v1/snapshots/$abort/events?from=1&to=2000000000000000000")
ok "the drill-down on the hostile trace fails with a JSON error ($code)" \
    test "$code" -ge 400 -a -n "$(jq -r '.error // empty' "$T/api.body")"
is "and the good one still answers" \
    "$(api_code "/v1/snapshots/$good/events?limit=5")" 200
is "the analyses are counted" \
    "$(api /v1/status | jq -r '[.analysis.done, .analysis.failed] | join(" ")')" "1 2"

# A lost catalog and a lost summary.
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
good_dir=$(dirname "$(find "$T/store/incidents" -path "*/$good/manifest.json")")
rm -f "$T/store/catalog.db" "$T/store/catalog.db-wal" "$T/store/catalog.db-shm"
rm -f "$good_dir/summary.json"
tt_start_relay
is "the rebuilt catalog has the summaries stored on disk" \
    "$(api '/v1/snapshots?node=node1' | jq -r '[.snapshots[] | select(.analysis == "failed")] | length')" 2
ok "the snapshot without one is analyzed by the backfill" \
    wait_until 30 'summarized $good'
is "counted as backfilled, the others not redone" \
    "$(api /v1/status | jq -r '[.analysis.backfilled, .analysis.done, .analysis.failed] | join(" ")')" \
    "1 1 0"
ok "its summary.json is back" test -f "$good_dir/summary.json"

# A relay with no analysis: it stores, and leaves the snapshot pending.
kill -TERM "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null
tt_relay_config "[analysis]
workers = 0"
tt_start_relay
late=$(snap_id node1 4)
snapshot_from "$late" "$real"
is "with workers = 0 a snapshot is stored" \
    "$(upload_snapshot node1 "$late")" "ack stored "
is "and stays pending: no summary" \
    "$(api_code "/v1/snapshots/$late/summary") $(jq -r .error "$T/api.body")" \
    "503 pending"
is "nothing was analyzed" \
    "$(api /v1/status | jq -r '[.analysis.submitted, .analysis.done, .analysis.backfilled] | join(" ")')" \
    "0 0 0"

# A reason that would drive the terminal: clear the screen, set the
# clipboard (OSC 52), a C1 CSI, a bidi override.
hostile=$(snap_id node1 5)
snapshot_from "$hostile" "$real"
jq --arg r "$(printf 'x\033[2J\033]52;c;aGk=\007\302\233y\342\200\256z')" \
    '.triggers[0].reason = $r | .triggers[0].source = "a\u001bb"' \
    "$T/snap/$hostile/manifest.json" >"$T/hostile.json" &&
    mv "$T/hostile.json" "$T/snap/$hostile/manifest.json"
is "a snapshot with a hostile reason is stored" \
    "$(upload_snapshot node1 "$hostile")" "ack stored "
"$CLI" list --relay "$API" >"$T/list.out" 2>&1
ok "tracetrap list shows it" grep -q "$hostile" "$T/list.out"
ok "with no control character, C1 or bidi override on the terminal" \
    sh -c "! LC_ALL=C grep -q \"\$(printf '[\\001-\\010\\013-\\037\\177]\\|\\302[\\200-\\237]\\|\\342\\200\\256')\" '$T/list.out'"
ok "the reason is there, its controls as '?'" \
    grep -q 'x?\[2J?\]52;c;aGk=???y???z' "$T/list.out"

done_testing
