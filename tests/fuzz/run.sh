#!/bin/sh
# tests/fuzz/run.sh [seconds] [target...] -- builds every libFuzzer target in tests/fuzz with
# clang -fsanitize=fuzzer,address,undefined and runs each for `seconds` (default 10), starting
# from its seed corpus (tests/fuzz/corpus/<target>, read-only; new inputs go to
# build/fuzz/corpus/<target>). A crash, leak, sanitizer report, timeout or broken property is
# a failure; its input is saved as build/fuzz/crash-<target>-*. Prints each target's
# executions and the last line "fuzz: N passed, N failed". Without clang or libFuzzer it says
# so and exits 0 ("fuzz: 0 passed, 0 failed", skipped).
# Environment: CLANG (default clang), FUZZ_OUT (default build/fuzz), FUZZ_FLAGS (extra
# libFuzzer flags, e.g. -jobs=2 -workers=2).
set -u
cd "$(dirname "$0")/../.."
secs=${1:-10}
[ $# -gt 0 ] && shift
targets=${*:-"traceparent tracestate xray headers resource url http_response json_str"}
CLANG=${CLANG:-clang}
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out"

if ! command -v "$CLANG" >/dev/null 2>&1; then
    echo "fuzz: skipped: $CLANG not found (apt-get install clang; libFuzzer ships with it)"
    echo "fuzz: 0 passed, 0 failed"
    exit 0
fi
probe="$out/probe.c"
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/probe" >/dev/null 2>&1; then
    echo "fuzz: skipped: $CLANG cannot link -fsanitize=fuzzer (libFuzzer missing: Debian ships it with clang >= 6; else install libclang-rt-dev / compiler-rt)"
    echo "fuzz: 0 passed, 0 failed"
    exit 0
fi

CFLAGS="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror -g -O1 \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
passed=0; failed=0; total=0
# Build first, as many at once as there are cores (a build takes longer than a short run).
jobs=$(nproc 2>/dev/null || echo 2)
running=0
for t in $targets; do
    [ -f "tests/fuzz/fuzz_$t.c" ] || continue
    rm -f "$out/fuzz_$t"
    $CLANG $CFLAGS "tests/fuzz/fuzz_$t.c" -o "$out/fuzz_$t" -lpthread &
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then wait; running=0; fi
done
wait
for t in $targets; do
    src="tests/fuzz/fuzz_$t.c"
    bin="$out/fuzz_$t"
    if [ ! -f "$src" ]; then echo "fuzz_$t: no such target"; failed=$((failed + 1)); continue; fi
    if [ ! -x "$bin" ]; then
        echo "fuzz_$t: BUILD FAILED"; failed=$((failed + 1)); continue
    fi
    mkdir -p "$out/corpus/$t"
    log="$out/fuzz_$t.log"
    # Long inputs only where they reach more code (the 16 KiB read buffer, the 8 KiB bound on
    # propagation headers); short ones run many times faster.
    case $t in
        http_response) maxlen=65536 ;;
        tracestate|xray) maxlen=16384 ;;
        *) maxlen=4096 ;;
    esac
    # -timeout: one input over 10 s is a hang; -rss_limit_mb: a leak or runaway allocation.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=$maxlen \
        -print_final_stats=1 -artifact_prefix="$out/crash-$t-" ${FUZZ_FLAGS:-} \
        "$out/corpus/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
    execs=${execs:-0}
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
    if [ $rc -eq 0 ]; then
        printf 'fuzz_%-14s ok      %12s execs in %ss (%s/s, cov %s)\n' "$t" "$execs" "$secs" "${rate:-?}" "${cov:-?}"
        passed=$((passed + 1))
    else
        printf 'fuzz_%-14s FAILED  after %s execs (exit %s); log: %s\n' "$t" "$execs" "$rc" "$log"
        grep -E 'ERROR|property failed|SUMMARY|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    total=$((total + execs))
done
echo "fuzz: $total executions in all"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
