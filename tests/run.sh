#!/bin/sh
# Runs test programs from directory $1, adds up their "N passed, N failed" lines.
dir=$1; shift
passed=0; failed=0; broken=""
for t in "$@"; do
    echo "== $t"
    out=$("./$dir/$t" 2>"$dir/$t.stderr"); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -z "$line" ] || [ $rc -ne 0 ]; then
        sed 's/^/   stderr: /' "$dir/$t.stderr" | tail -n 30
    fi
    if [ -z "$line" ]; then broken="$broken $t"; failed=$((failed + 1)); continue; fi
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    passed=$((passed + p)); failed=$((failed + f))
    [ $rc -ne 0 ] && [ "$f" = 0 ] && { broken="$broken $t"; failed=$((failed + 1)); }
done
[ -n "$broken" ] && echo "crashed or no result:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
