#!/usr/bin/env bash
# selftest.sh -- proves check.js: the fixtures pass, and copies broken on the fly each fail with
# the expected reason. Ends with "interop-selftest: N passed, N failed"; exit 1 on a failure.
set -uo pipefail
src="${BASH_SOURCE[0]}"; [[ "$src" == */* ]] || src="./$src"
here="$(cd "${src%/*}" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "interop-selftest: skipped (node not found)"; exit 0
fi
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { bash "$here/run.sh" "$@" 2>&1; }
expect_ok() {                       # ARGS...: check.js must accept
  local out; if out="$(check "$@")"; then pass=$((pass + 1)); else bad "rejected $*: $out"; fi
}
expect_error() {                    # NAME WANT ARGS...: check.js must reject, naming WANT
  local name="$1" want="$2" out; shift 2
  if out="$(check "$@")"; then bad "$name: accepted"
  elif [[ "$out" == *"$want"* ]]; then pass=$((pass + 1))
  else bad "$name: wanted '$want' in: $out"; fi
}
mutate() {                          # NAME FIXTURE SED WANT: a broken copy must fail with WANT
  local f="$tmp/$1.${2##*.}"
  sed -e "$3" "$here/fixtures/$2" > "$f"
  if cmp -s "$f" "$here/fixtures/$2"; then bad "$1: the sed expression changed nothing"; return; fi
  expect_error "$1" "$4" "$f"
}

T=traces.json L=logs.jsonl
expect_ok "$here/fixtures/$T" "$here/fixtures/$L"
expect_ok --kind logs - < "$here/fixtures/$L"

mutate base64-trace-id   $T 's|"5b8efff798038103d269b633813fc60c"|"W47/95gDgQPSabYzgT/GDA=="|' 'traceId looks like base64'
mutate short-trace-id    $T 's|"0af7651916cd43dd8448eb211c80319c"|"0af7651916cd43dd"|' 'traceId must be 32 hex digits'
mutate zero-span-id      $T 's|"eee19b7ec3c1b174","parentSpanId":""|"0000000000000000","parentSpanId":""|' 'spanId is all zeros'
mutate link-no-span-id   $T 's|"spanId":"b7ad6b7169203331",||' 'links[0].spanId: required'
mutate snake-case        $T 's|"startTimeUnixNano"|"start_time_unix_nano"|' 'OTLP/JSON spells it "startTimeUnixNano"'
mutate snake-case-top    $T 's|"resourceSpans"|"resource_spans"|' 'OTLP/JSON spells it "resourceSpans"'
mutate wrong-case        $T 's|"traceId"|"TraceId"|' 'OTLP/JSON spells it "traceId"'
mutate unknown-field     $T 's|"kind":3,|"kind":3,"foo":1,|' 'unknown field "foo"'
mutate enum-as-string    $T 's|"kind":2|"kind":"SPAN_KIND_SERVER"|' 'enum as a string "SPAN_KIND_SERVER": OTLP/JSON wants the integer 2'
mutate status-as-string  $T 's|"code":2|"code":"STATUS_CODE_ERROR"|' 'status.code: enum as a string'
mutate enum-out-of-range $T 's|"kind":3|"kind":9|' 'expected one of the integers 0, 1, 2, 3, 4, 5'
mutate untyped-value     $T 's|{"stringValue":"/cart"}|"/cart"|' 'expected an object (AnyValue), got "/cart"'
mutate empty-value       $T 's|{"stringValue":"/cart"}|{}|' 'empty AnyValue'
mutate missing-value     $T 's|,"value":{"stringValue":"/cart"}||' 'value: required'
mutate two-values        $T 's|{"stringValue":"/cart"}|{"stringValue":"/cart","intValue":"1"}|' 'oneof holds stringValue and intValue'
mutate int64-as-number   $T 's|"startTimeUnixNano":"1700000000000000000"|"startTimeUnixNano":1700000000000000000|' '64-bit integer as a JSON number'
mutate int64-exponent    $T 's|"intValue":"200"|"intValue":"2e2"|' 'intValue: expected a decimal string'
mutate int32-as-string   $T 's|"droppedAttributesCount":0|"droppedAttributesCount":"0"|' '32-bit integer as a string'
mutate double-as-string  $T 's|"doubleValue":0.25|"doubleValue":"0.25"|' 'doubleValue: expected a JSON number'
mutate bool-as-string    $T 's|"boolValue":false|"boolValue":"false"|' 'expected true or false'
mutate bad-base64        $T 's|"AQID"|"AQI"|' 'bytesValue must be base64'
mutate null-field        $T 's|"status":{}|"status":null|' 'status: null'
mutate duplicate-key     $T 's|"name":"db"|"name":"db","name":"db2"|' 'duplicate key "name"'
mutate duplicate-attr    $T 's|"key":"ratio"|"key":"http.route"|' 'attributes[2].key: duplicate key "http.route"'
mutate end-before-start  $T 's|"endTimeUnixNano":"1700000000002000000"|"endTimeUnixNano":"1600000000000000000"|' 'before startTimeUnixNano'
mutate not-json          $T '$ s|}$||' 'not JSON'
mutate not-utf8          $T 's|"GET /cart"|"GET \xffcart"|' 'not valid UTF-8'
mutate log-severity-text $L 's|"severityNumber":9|"severityNumber":"SEVERITY_NUMBER_INFO"|' 'enum as a string "SEVERITY_NUMBER_INFO": OTLP/JSON wants the integer 9'
mutate log-span-no-trace $L 's|"traceId":"5b8efff798038103d269b633813fc60c",|"traceId":"",|' 'traceId: required when spanId is set'
mutate log-untyped-body  $L 's|"body":{"stringValue":"disk full"}|"body":"disk full"|' 'body: expected an object (AnyValue)'
mutate log-snake-case    $L 's|"observedTimeUnixNano"|"observed_time_unix_nano"|' 'OTLP/JSON spells it "observedTimeUnixNano"'

# protobuf mode: the reference encoding of a fixture matches it; changed copies do not
cp "$here/fixtures/$T" "$tmp/one.$T"; head -n 1 "$here/fixtures/$L" > "$tmp/one.$L"   # one request each
for f in $T $L; do
  node "$here/check.js" --to-protobuf "$tmp/one.$f" > "$tmp/$f.bin"
  expect_ok --protobuf "$tmp/$f.bin" --json "$tmp/one.$f"
done
sed 's|"GET /cart"|"GET /basket"|' "$here/fixtures/$T" > "$tmp/renamed.json"
expect_error pb-differs '.name: "GET /basket" in the JSON, "GET /cart" in the protobuf' --protobuf "$tmp/$T.bin" --json "$tmp/renamed.json"
{ cat "$tmp/$T.bin"; printf '\230\006\001'; } > "$tmp/extra.bin"          # field 99, varint 1
expect_error pb-unknown-field 'unknown field number 99 (wire type 0)' --protobuf "$tmp/extra.bin" --json "$tmp/one.$T"
edit() { node -e 'const fs = require("fs"), b = fs.readFileSync(process.argv[1]); fs.writeFileSync(process.argv[2], ('"$1"')(b))' "$tmp/$T.bin" "$tmp/$2"; }
edit 'b => { const i = b.indexOf("GET /cart"); b[i + 4] = 0xff; return b; }' badutf8.bin
expect_error pb-bad-utf8 'spans[0].name: string is not valid UTF-8' --protobuf "$tmp/badutf8.bin" --json "$tmp/one.$T"
edit 'b => { let n = 0, s = 0, i = 1; do n |= (b[i] & 127) << s, s += 7; while (b[i++] & 128);
  return Buffer.concat([b.subarray(0, 1), Buffer.from([n & 127 | 128, n >> 7 & 127 | 128, n >> 14 & 127 | 128, 128, 0]), b.subarray(i)]); }' padded.bin
expect_ok --protobuf "$tmp/padded.bin" --json "$tmp/one.$T"                # 5-byte length prefix: valid
head -c 100 "$tmp/$T.bin" > "$tmp/short.bin"
expect_error pb-truncated 'protobuf decode failed' --protobuf "$tmp/short.bin" --json "$tmp/one.$T"

echo "interop-selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
