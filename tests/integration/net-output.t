#!/bin/bash
# output = net://HOST streams snapshots to an existing lttng-relayd instead
# of the spool; the spool keeps only the manifest.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
lttng-relayd --daemonize --output="$T/relayd" >>"$T/relayd.log" 2>&1 ||
    bail "lttng-relayd did not start"
tt_pids="$tt_pids $(pgrep -n -x lttng-relayd)"
tt_config "[session]
output = net://127.0.0.1
[limits]
cooldown = 0"
tt_start_recorder
tt_start_app 5000 60
wait_for 20 test -s "$T/app.state" || bail "ttapp did not run"
last=$(cat "$T/app.state")

out=$(cli snapshot --wait --reason relayd)
is "snapshot --wait succeeds with a network output" "$?" 0
ok "lttng-relayd received the trace" wait_for 10 \
    sh -c "find '$T/relayd' -name metadata | grep -q ."
got=$(babeltrace2 "$T/relayd" | grep 'ttapp:tick' | tail -1 | sed -E 's/.*n = ([0-9]+).*/\1/')
is "the relayed trace ends with the app's latest event" "$got" "$last"
id=$(ls "$T/spool" | grep -v '^\.partial$' | head -1)
is "the spool keeps the manifest" "$(jq -r .session.output "$T/spool/$id/manifest.json")" net://127.0.0.1
is "and no trace files" "$(jq '.files | length' "$T/spool/$id/manifest.json")" 0
done_testing
