#!/bin/bash
# Regressions found in review: a second instance must not touch the first
# one's spool or session; shutdown answers a client still waiting; a
# relative -f survives daemon(); a renamed session does not leak; a burst
# of evictions does not kill the recorder.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

tt_start_sessiond
tt_config "[limits]
cooldown = 0
burst = 0
coalesce = 0
delay = 2s"
tt_start_recorder
mkdir -p "$T/spool/.partial/in-progress"
# A second instance with another config and other sockets, same spool.
sed -e "s|$T/control.sock|$T/c2.sock|; s|$T/trigger.sock|$T/t2.sock|" \
    -e 's/^subbuf_count = 4$/subbuf_count = 8/' "$T/recorder.conf" >"$T/second.conf"
out=$("$RECORDER" -d -f "$T/second.conf" 2>&1)
is "a second recorder on the same spool exits 1" "$?" 1
ok "saying the spool is in use" grep -q "another recorder uses this spool" <<<"$out"
ok "it left the first one's partial dir alone" test -d "$T/spool/.partial/in-progress"
ok "and its session (ring still 4 sub-buffers)" sh -c \
    "lttng list tracetrap | grep -q 'Sub-buffer count: 4'"
rmdir "$T/spool/.partial/in-progress"

# Shutdown during a delayed snapshot: the waiting client gets its answer.
curl -s -o "$T/wait.body" -w '%{http_code}' --unix-socket "$T/control.sock" \
    -X POST 'http://x/v1/snapshot?wait=1' >"$T/wait.code" &
curl_pid=$!
wait_for 10 grep -q "trigger from manual" "$T/recorder.log"
tt_stop_recorder
wait "$curl_pid"
is "a client waiting at shutdown gets 200" "$(cat "$T/wait.code")" 200
ok "for the snapshot recorded on the way out" test -d \
    "$T/spool/$(jq -r .id "$T/wait.body")"

# Relative -f with daemon(): SIGHUP must still find the file.
(cd "$T" && "$RECORDER" -f recorder.conf)
wait_for 10 test -S "$T/control.sock"
pid=$(pgrep -n -f "tracetrap-recorder -f recorder.conf")
tt_pids="$tt_pids $pid"
wait_for 10 sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq -r .session.state)\" = recording ]"
sed -i 's/^name = testnode$/name = testnode\n[session]\nname = renamed/' "$T/recorder.conf"
sed -i 's/^delay = 2s$/delay = 0\nburst = 9/' "$T/recorder.conf"
kill -HUP "$pid"
ok "a daemonized recorder reloads a relative -f path" wait_for 10 \
    sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq .limiter.burst)\" = 9 ]"
ok "a renamed session replaces the old one" wait_for 10 \
    sh -c "lttng list | grep -q renamed && ! lttng list | grep -q 'tracetrap \['"
kill -TERM "$pid"
wait_for 10 sh -c "! kill -0 $pid"
ok "and nothing is left in the sessiond at exit" sh -c "! lttng list | grep -Eq 'renamed|tracetrap'"

# 600 small snapshots and a 1 MB bound: one snapshot evicts hundreds.
for i in $(seq 1 600); do
	d=$T/spool/testnode-20200101T000000Z-$i
	mkdir -p "$d/trace"
	head -c 5000 /dev/zero >"$d/trace/f"
	echo "{\"taken_at_us\": $i}" >"$d/manifest.json"
done
tt_config "[limits]
cooldown = 0
[spool]
max_bytes = 1M"
tt_start_recorder
tt_start_app 5000 60
wait_for 20 test -s "$T/app.state"
out=$(cli snapshot --wait)
is "a snapshot that evicts hundreds succeeds" "$?" 0
ok "the recorder survives the eviction burst" wait_for 20 \
    sh -c "[ \"\$(\"$CLI\" status --json --socket $T/control.sock | jq .spool.evicted)\" -gt 400 ]"
# The bound counts file bytes (what du -b would add up for files alone).
file_bytes="find '$T/spool' -type f -printf '%s\n' | awk '{ n += \$1 } END { print n }'"
ok "the spool is back under its bound (1 MiB of files)" wait_for 20 \
    sh -c "[ \$($file_bytes) -le 1048576 ]"
done_testing
