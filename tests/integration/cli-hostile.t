#!/bin/bash
# The CLI against a relay that lies, floods or stalls (tests/apps/
# tthostile.py): bad chunked encoding, a huge Content-Length, endless and
# slow-drip bodies, silence, an archive whose manifest lists one file twice.
# Each gets a clear error within its bounds: the CLI never holds more than
# 16 MiB of an answer in memory, a download stops at --max-size, a peer
# slower than 4 KiB/s or silent past --timeout is dropped, and a fetch that
# fails leaves nothing in its output directory.
. "$(dirname "$0")/lib.sh"
tt_enter "$@"

python3 "$TT_ROOT/tests/apps/tthostile.py" "$T/port" &
tt_pids="$tt_pids $!"
wait_for 10 test -s "$T/port" || bail "the hostile server did not start"
URL=http://127.0.0.1:$(cat "$T/port")

# run NAME MODE CLI-ARGS...: the CLI against /MODE, its stderr, exit
# status and peak RSS in $T/NAME.*; `timeout` catches a CLI that hangs.
run() {
	local name=$1 mode=$2
	shift 2
	/usr/bin/time -o "$T/$name.rss" -f %M timeout 30 "$CLI" "$@" \
	    --timeout 2s --relay "$URL/$mode" >"$T/$name.out" 2>"$T/$name.err"
	tail -n 1 "$T/$name.rss" >"$T/$name.rss1"
	grep -q 'Command exited with non-zero status 124' "$T/$name.rss" &&
	    echo 124 >"$T/$name.code"
}
says() { grep -q -- "$2" "$T/$1.err"; }
# Resident memory under 64 MiB: the body cap is 16 MiB.
bounded() { [ "$(cat "$T/$1.rss1")" -lt 65536 ]; }
not_hung() { [ ! -e "$T/$1.code" ]; }

run badchunk badchunk list
ok "a chunk size that is not hex: a clear error" \
    says badchunk "malformed chunked body"
ok "and advice that the server is no relay" \
    says badchunk "does not answer like a tracetrap relay"

run hugechunk hugechunk list
ok "a chunk size of 2^68 is refused" says hugechunk "malformed chunked body"

run hugelength hugelength list
ok "a huge Content-Length is refused before its body is read" \
    says hugelength "the answer would be 99999999999999 bytes, over the limit"

for mode in endless endlesschunk; do
	run "$mode" "$mode" list
	ok "an endless body ($mode) stops at the 16 MiB cap" \
	    says "$mode" "the body is larger than 16777216 bytes"
	ok "holding at most that much ($(cat "$T/$mode.rss1") KiB resident)" \
	    bounded "$mode"
done

run driphead driphead list
ok "headers dripping a byte at a time fail at --timeout" \
    says driphead "no complete HTTP headers within the timeout"
ok "(the CLI did not hang)" not_hung driphead

run dripbody dripbody list
ok "a body dripping 80 bytes/s is dropped as too slow" \
    says dripbody "too slow (under 4 KiB/s)"
ok "(the CLI did not hang)" not_hung dripbody

run silent silent list
ok "a server that never answers times out" \
    says silent "closed the connection without answering (timed out)"
ok "(the CLI did not hang)" not_hung silent

# fetch: bounded on disk, and nothing left behind.
mkdir "$T/out"
run fetch-endless endless fetch snap1 -o "$T/out" --max-size 1M
ok "fetch stops an endless archive at --max-size" \
    says fetch-endless "the body is larger than 1048576 bytes"
run fetch-huge hugelength fetch snap1 -o "$T/out"
ok "fetch refuses a Content-Length over the default 8G at once" \
    says fetch-huge "the answer would be 99999999999999 bytes"
run fetch-drip dripbody fetch snap1 -o "$T/out"
ok "fetch drops a dripping archive" says fetch-drip "too slow"
run fetch-twice twice fetch snap1 -o "$T/out"
ok "a manifest listing a file twice (another one unchecked) is refused" \
    says fetch-twice "manifest.json lists trace/a twice"
is "every failed fetch left the output directory empty" \
    "$(ls -A "$T/out")" ""
"$CLI" fetch snap1 -o "$T/out" --max-size lots --relay "$URL/twice" \
    2>"$T/badsize.err"
ok "a --max-size that is not a size is a usage error" \
    grep -q "fetch: --max-size: invalid size 'lots'" "$T/badsize.err"
done_testing
