#!/bin/sh
# Runs test programs from directory $1, adds up their "N passed, N failed" lines.
# Failed tests and their failed checks are repeated at the end, so a log cut in the middle
# still shows them.
dir=$1; shift
passed=0; failed=0; broken=""; summary=""
for t in "$@"; do
    echo "== $t"
    out=$("./$dir/$t" 2>"$dir/$t.stderr"); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ] || [ $rc -ne 0 ]; then
        sed 's/^/   stderr: /' "$dir/$t.stderr" | tail -n 30
        summary="$summary
$t (exit $rc):
$(printf '%s\n' "$out" | grep FAILED)
$(grep -E 'failed$|ERROR|runtime error|Sanitizer' "$dir/$t.stderr" | head -n 10 | sed 's/^/   /')"
    fi
    if [ -z "$line" ]; then broken="$broken $t"; failed=$((failed + 1)); continue; fi
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    [ $rc -ne 0 ] && [ "$f" = 0 ] && { broken="$broken $t"; failed=$((failed + 1)); }
done
[ -n "$summary" ] && printf 'failures in %s:%s\n' "$dir" "$summary"
[ -n "$broken" ] && echo "crashed or no result:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
