#!/bin/bash
# 200 slow requests at once: every one is served, each child sends at most
# TraceTrapMaxPerSecond triggers a second and counts the rest as limited,
# the recorder's limits turn what was sent into at most `burst` snapshots,
# and Apache's error log stays clean. Then the recorder is stopped: the
# requests are still served, the triggers are dropped and counted (and
# warned about, at most once a minute per child), and once the recorder
# is back the next trigger reaches it.
#
# Why the bounds hold: 5 children (ServerLimit 5 x 50 threads, room for
# the 200 and the test's own requests; none stopped as spare), so at most
# 5 x 5 triggers in any second of the monotonic clock, and the storm's
# requests all end within ab's run: at most 25 x (its seconds + 1) sent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apache-lib.sh"
tt_enter "$@"
tt_apache_check

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 3
refill = 1h
coalesce = 0"
tt_start_recorder
tt_apache_config event "StartServers 5
ServerLimit 5
ThreadsPerChild 50
MaxRequestWorkers 250
MinSpareThreads 25
MaxSpareThreads 250
TraceTrapSlowRequest 300ms
TraceTrapMaxPerSecond 5"
tt_start_apache
is "5 children serve" "$(apache_children | wc -l)" 5

base=$(access_count)
ab -q -n 200 -c 200 "$APACHE_URL/tt/storm?sleep=600" >"$T/ab.out" 2>&1
is "ab: 200 requests complete" "$(awk '/^Complete requests:/ { print $3 }' "$T/ab.out")" 200
is "ab: none failed" "$(awk '/^Failed requests:/ { print $3 }' "$T/ab.out")" 0
ok "ab: all answered 200" sh -c "! grep -q '^Non-2xx' '$T/ab.out'"
wait_access $((base + 200))
sent=$(trap_counter Sent)
limited=$(trap_counter Limited)
is "every slow request was sent or limited" "$((sent + limited))" 200
taken=$(awk '/^Time taken for tests:/ { printf "%d", $5 + 0.999 }' "$T/ab.out")
bound=$((25 * (taken + 1)))
ok "at most 5 children x 5/s x $((taken + 1)) s were sent ($sent <= $bound)" \
    test "$sent" -ge 1 -a "$sent" -le "$bound"
ok "the per-child limit held the others back ($limited)" test "$limited" -ge $((200 - bound))
is "none was dropped" "$(trap_counter Dropped)" 0
wait_until 20 '[ "$(status_field .counters.datagrams)" -eq '"$sent"' ]'
is "the recorder received every trigger sent" "$(status_field .counters.datagrams)" "$sent"
wait_until 20 '[ "$(status_field .limiter.open)" = false ]'
decided=$(status_field '[.limiter.counters.apache | .accepted // 0, .coalesced // 0, .rate_limited // 0] | add')
is "the recorder decided on each (accepted + coalesced + rate limited)" "$decided" "$sent"
accepted=$(status_field '.limiter.counters.apache.accepted')
ok "at most burst = 3 snapshots were accepted ($accepted)" test "$accepted" -ge 1 -a "$accepted" -le 3
wait_until 20 '[ "$(spool_count)" -eq '"$accepted"' ]'
is "and they are in the spool" "$(spool_count)" "$accepted"
is "nothing in Apache's error log" "$(apache_errors)" ""

# The recorder goes away.
tt_stop_recorder
sent_before=$(trap_counter Sent)
limited_before=$(trap_counter Limited)
codes=$(seq 8 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    "$APACHE_URL/tt/down?sleep=350&n={}" | sort -u)
is "with the recorder down, slow requests are served" "$codes" 200
is "a 500 is still a 500" "$(get '/tt/down?status=500')" 500
# The children's limits may still be spent by the storm (a window lasts a
# second): slow requests one by one until one is dropped rather than held.
wait_until 20 '[ "$(get "/tt/down?sleep=350")" = 200 ] &&
    [ "$(trap_counter Dropped)" -ge 1 ]'
dropped=$(trap_counter Dropped)
ok "drops are counted ($dropped)" test "$dropped" -ge 1
down_slow() { grep -c ' 200 /tt/down$' "$T/apache-access.log"; }
held() { echo $(($(trap_counter Dropped) + $(trap_counter Limited) - limited_before)); }
wait_until 20 '[ "$(held)" -eq "$(down_slow)" ]'
is "every slow request was dropped or limited" "$(held)" "$(down_slow)"
is "no trigger was sent" "$(trap_counter Sent)" "$sent_before"
warnings=$(grep -c 'TT00001' "$T/apache-error.log")
ok "and warned about, at most once per child ($warnings)" \
    test "$warnings" -ge 1 -a "$warnings" -le 5
ok "the warning says what to check" grep -q \
    "trigger dropped: $T/trigger.sock takes no datagram (is tracetrap-recorder running" \
    "$T/apache-error.log"
ok "no other warning or error" sh -c "! grep -E '\[[a-z_]+:(warn|error|crit|alert|emerg)\]' '$T/apache-error.log' | grep -v TT00001"

# It comes back: the next trigger reaches it (the socket is not connected,
# so a restarted recorder is found again).
tt_config "[limits]
cooldown = 0
coalesce = 0"
tt_start_recorder
is "with the recorder back, a slow request is served" "$(get '/tt/back?sleep=400')" 200
wait_until 20 '[ "$(status_field .counters.datagrams)" -ge 1 ]'
is "its trigger reaches the recorder" "$(status_field .counters.datagrams)" 1
is "mod_status counts it" "$(trap_counter Sent)" "$((sent_before + 1))"
done_testing
