#!/bin/bash
# A storm of 1000 trigger datagrams yields exactly the snapshots the limits
# allow; every other trigger is counted as coalesced or rate_limited, by
# source.
#
# Why the count is exact whatever the timing: the global bucket holds 3
# tokens and refills once an hour, so at most 3 snapshots can happen; the
# storm lasts ~2 s while a snapshot of this small ring takes ~20 ms, so all
# 3 do happen. The first datagram is from "noisy", whose own cap is one a
# day, so noisy gets exactly 1 and app exactly 2.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 3
refill = 1h
max_per_day = 1000
coalesce = 0
[source.noisy]
max_per_day = 1"
tt_start_recorder
tt_start_app 0

out=$("$TTSEND" -s "$T/trigger.sock" -n 1000 -i 2000 -S noisy,app -r storm)
is "the sender lost no datagram" "$(awk '{print $4}' <<<"$out")" 0
wait_until 20 '[ "$(status_field .counters.datagrams)" -eq 1000 ]'
is "the recorder read all 1000 datagrams" \
    "$(status_field .counters.datagrams)" 1000
wait_for 20 sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq .limiter.open)\" = false ]"

is "exactly 3 snapshots in the spool" "$(spool_count)" 3
is "noisy: exactly one accepted" \
    "$(status_field '.limiter.counters.noisy.accepted')" 1
is "app: exactly two accepted" \
    "$(status_field '.limiter.counters.app.accepted')" 2
for src in noisy app; do
	sum=$(status_field "[.limiter.counters.$src | .accepted // 0, .coalesced // 0, .rate_limited // 0] | add")
	is "$src: accepted + coalesced + rate_limited = 500" "$sum" 500
	limited=$(status_field ".limiter.counters.$src.rate_limited // 0")
	ok "$src: most of the storm was rate limited ($limited)" \
	    test "$limited" -gt 400
done
manifest_triggers() {
	cat "$T"/spool/*/manifest.json | jq -s '[.[].triggers | length] | add'
}
coalesced=$(status_field '[.limiter.counters[] | .coalesced // 0] | add')
# Late joiners reach the manifest through a rewrite job: wait for it.
wait_until 10 '[ "$(manifest_triggers)" -eq $((coalesced + 3)) ]'
joined=$(manifest_triggers)
is "every coalesced trigger is in a manifest" "$joined" \
    "$((coalesced + 3))"
code=$(curl_control GET /metrics)
ok "metrics show noisy's rate-limited count" grep -q \
    "tracetrap_triggers_total{source=\"noisy\",outcome=\"rate_limited\"} $(status_field '.limiter.counters.noisy.rate_limited')" \
    "$T/curl.body"
code=$(curl_control POST /v1/snapshot)
is "an operator's snapshot is refused with 429 now" "$code" 429
is "the refusal says which limit and when to retry" \
    "$(jq -r '.error + " " + .limit + " " + (.retry_after_ms > 0 | tostring)' "$T/curl.body")" \
    "rate_limited burst true"
cli snapshot >/dev/null 2>&1
is "tracetrap snapshot exits 1 when rate limited" "$?" 1
done_testing
