#!/bin/sh
# bench/compare.sh BUILD_DIR [--quick] -- obs.h's benchmark, then the OpenTelemetry JS SDK on
# the same cases (bench/peer-js; skipped with a message without node), and the two side by side.
# --quick (CI's smoke run): small counts; fails only when the bench does not run or loses spans.
b=$1; shift
quick=$1
obsj=$b/bench-obs.jsonl; jsj=$b/bench-js.jsonl
: > "$jsj"
OBS_BENCH_JSON=$obsj "./$b/bench" $quick || { echo "bench: the C benchmark failed"; exit 1; }

# The peer exports end to end to the project's own receiver.
"./$b/obs-receiver" --port 0 --quiet --exit-after-idle 900 > "$b/receiver.out" 2>&1 &
rpid=$!
i=0; port=""
while [ $i -lt 50 ] && [ -z "$port" ]; do
    sleep 0.1; i=$((i + 1))
    port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$b/receiver.out")
done
echo
if [ -n "$port" ]; then
    OBS_BENCH_ENDPOINT=http://127.0.0.1:$port/v1/traces bash bench/peer-js/run.sh $quick > "$jsj" || echo "peer-js: failed"
else
    echo "peer-js: no receiver; e2e skipped"
    bash bench/peer-js/run.sh $quick --only sampled_span,unsampled_span,parent_child,log_filtered,log_emitted > "$jsj" || echo "peer-js: failed"
fi
kill $rpid 2>/dev/null; wait $rpid 2>/dev/null

field() { sed -n "s/.*\"case\":\"$2\".*\"$3\":\([-0-9.e+]*\).*/\1/p" "$1" | head -n 1; }
printf '%-16s %14s %14s %10s\n' "case" "obs.h" "OTel JS" "JS/obs.h"
for c in sampled_span unsampled_span parent_child log_filtered log_emitted e2e; do
    o=$(field "$obsj" $c median); j=$(field "$jsj" $c median)
    [ -z "$o" ] && continue
    unit=$(sed -n "s/.*\"case\":\"$c\".*\"unit\":\"\([^\"]*\)\".*/\1/p" "$obsj" | head -n 1)
    if [ -n "$j" ]; then
        # time per op: JS/obs.h is how many times slower JS is; rates: obs.h/JS
        r=$(awk -v o="$o" -v j="$j" -v u="$unit" 'BEGIN { if (u == "spans/s") printf "%.1fx", o / j; else printf "%.1fx", j / o }')
    else
        j="-"; r="-"
    fi
    printf '%-16s %14s %14s %10s  %s\n' "$c" "$o" "$j" "$r" "$unit"
done
lost=$(sed -n 's/.*"case":"e2e_lost","lost":\([0-9]*\).*/\1/p' "$obsj")
if [ "$quick" = "--quick" ]; then
    if [ "$lost" = "0" ]; then echo "bench-smoke: 1 passed, 0 failed"; else echo "bench-smoke: 0 passed, 1 failed (lost $lost spans end to end)"; exit 1; fi
fi
