#!/bin/bash
# TraceTrapOnStatus: a 500 fires, a 200 does not; ranges and single codes
# (500-599 404) both count; TraceTrapReason and TraceTrapScope reach the
# trigger. Without mod_unique_id the module makes its own request ids,
# the same in the manifest and in the trace.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apache-lib.sh"
tt_enter "$@"
tt_apache_check

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0"
tt_start_recorder
tt_apache_config event "TraceTrapSlowRequest Off
TraceTrapOnStatus 500-599 404
<Location /tt/checkout>
    TraceTrapReason \"checkout failed\"
    TraceTrapScope cluster
</Location>"
tt_start_apache

# snapshot_with URL: the manifest of the snapshot whose trigger has URL.
snapshot_with() {
	grep -l "\"url\": \"$1\"" "$T"/spool/*/manifest.json 2>/dev/null | head -1
}

base=$(access_count)
is "a 200 is served" "$(get '/tt/ok')" 200
is "a 403 is served" "$(get '/tt/forbidden?status=403')" 403
wait_access $((base + 2))
is "neither sends a trigger" "$(trap_counter Sent)" 0

is "a 500 is served" "$(get '/tt/fail?status=500')" 500
wait_until 20 '[ -n "$(snapshot_with /tt/fail)" ]'
m=$(snapshot_with /tt/fail)
ok "a 500 produces a snapshot" test -n "$m"
is "its trigger names the status" \
    "$(jq -r '.triggers[0] | "\(.labels.status) \(.reason) \(.scope)"' "$m")" \
    "500 status 500 node"
id=$(jq -r '.triggers[0].labels.request_id' "$m")
ok "the module made a request id ($id)" grep -Eq '^[0-9a-f]+-[0-9]+-[0-9]+$' <<<"$id"
end=$(events "$(trace_of "$(dirname "$m")")" request_end "$id")
is "the trace has the request under that id" \
    "$(event_field "$end" uri) $(event_field "$end" status)" "/tt/fail 500"

is "a 503 is served" "$(get '/tt/busy?status=503')" 503
is "a 404 is served" "$(get '/missing.html')" 404
wait_until 20 '[ -n "$(snapshot_with /tt/busy)" ] && [ -n "$(snapshot_with /missing.html)" ]'
ok "a 503 (in 500-599) produces one" test -n "$(snapshot_with /tt/busy)"
ok "a 404 (listed alone) produces one" test -n "$(snapshot_with /missing.html)"

is "a 500 under /tt/checkout is served" "$(get '/tt/checkout?status=500')" 500
wait_until 20 '[ -n "$(snapshot_with /tt/checkout)" ]'
m=$(snapshot_with /tt/checkout)
is "TraceTrapReason and TraceTrapScope reach the trigger" \
    "$(jq -r '.triggers[0] | "\(.reason)/\(.scope)"' "$m")" "checkout failed/cluster"

base=$(access_count)
is "a 200 after them is served" "$(get '/tt/ok-again')" 200
wait_access $((base + 1))
is "four triggers sent, no more" "$(trap_counter Sent)" 4
is "the recorder received four datagrams" "$(status_field .counters.datagrams)" 4
is "nothing in Apache's error log" "$(apache_errors)" ""
done_testing
