#!/bin/sh
# run.sh FUZZER SECONDS: one libFuzzer binary for SECONDS over a copy of
# its corpus (tests/fuzz/corpus/NAME, NAME without "fuzz_"); on a
# crash, the tail of its log and exit 1. `make fuzz` runs one per CPU.
set -e
f=$1
seconds=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
n=$(basename "$f")
work=$(mktemp -d)
trap 'rm -rf "$work" "$work.log"' EXIT
cp -r "$top/tests/fuzz/corpus/${n#fuzz_}/." "$work/" 2>/dev/null || :
case $n in fuzz_analyze) max=20000 ;; *) max=8192 ;; esac
echo "fuzzing $n for ${seconds}s"
if ! LSAN_OPTIONS=suppressions=$top/tests/fuzz/lsan.supp \
    LIBBABELTRACE2_NO_DLCLOSE=1 \
    ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=512 \
    "$f" -max_total_time="$seconds" -max_len=$max -print_final_stats=0 \
    "$work" 2>"$work.log"; then
	echo "$n failed:"
	tail -50 "$work.log"
	exit 1
fi
