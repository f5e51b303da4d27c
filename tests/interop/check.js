#!/usr/bin/env node
// check.js -- checks OTLP/HTTP requests written by obs.h against the official OTLP protobuf schema.
//
//   check.js [--kind traces|logs] FILE...                      OTLP/JSON: one request or JSON Lines
//   check.js [--kind traces|logs] --protobuf F.bin --json F.json [--protobuf ... --json ...]
//   check.js [--kind traces|logs] --to-protobuf F.json > F.bin   (reference encoding, for tests)
// --int64-numbers accepts 64-bit integers written as JSON integers up to 2^53, as proto3 JSON
// and the OpenTelemetry JS SDK do; by default they must be decimal strings, as obs.h writes them.
//
// The schema is the protobufjs static module generated from the opentelemetry-proto .proto files
// that @opentelemetry/otlp-transformer ships (build/src/generated/root.js); field names, types,
// enums and oneofs are read from its classes by probing them (verify/fromObject/encode).
// For each JSON request: (1) strict OTLP/JSON checks (field names lowerCamelCase, hex ids, enums
// as integers, 64-bit integers as decimal strings, a few rules of the .proto comments), then
// (2) JSON -> protobuf message -> binary -> message -> JSON, compared field by field with the
// input (defaults and number spellings normalised). With --protobuf, the binary request is
// decoded and compared field by field with the JSON request. Every error names its JSON path.
// Prints "FILE: N requests, S spans, L logs OK", or the errors; exit 0 ok, 1 errors, 2 usage.
'use strict';
const fs = require('node:fs');
const { Reader } = require('protobufjs/minimal');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const P = root.opentelemetry.proto;
const REQUEST = { traces: P.collector.trace.v1.ExportTraceServiceRequest,
  logs: P.collector.logs.v1.ExportLogsServiceRequest };
const ID_BYTES = { traceId: 16, spanId: 8, parentSpanId: 8 };   // bytes fields written as hex

// ---- the schema, probed from the generated classes ---------------------------------------
const names = new Map(), enums = [];
(function walk(o, name) {
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'function' && v.encode && v.decode) { names.set(v, `${name}.${k}`); walk(v, `${name}.${k}`); }
    else if (v && typeof v === 'object') {
      if (Object.values(v).every((x) => typeof x === 'number')) enums.push(v); else walk(v, `${name}.${k}`);
    }
  }
})(root, '');
const schemas = new Map();
function schemaOf(C) {
  if (schemas.has(C)) return schemas.get(C);
  const S = { name: names.get(C).slice(1), fields: {} };
  S.short = S.name.replace(/^opentelemetry\.proto\.[a-z.]*v1\./, '');
  schemas.set(C, S);
  const pick = (m, f, rep) => (rep ? m[f][0] : m[f]);
  for (const f of Object.keys(C.prototype)) {
    if (typeof C.prototype[f] === 'function') continue;
    const rep = Array.isArray(C.prototype[f]), wrap = (x) => ({ [f]: rep ? [x] : x });
    const err = C.verify(wrap(1.5)) || '', F = { repeated: rep };
    if (!err) F.kind = 'double';
    else if (/object expected/.test(err)) { F.kind = 'message'; F.type = pick(C.fromObject(wrap({})), f, rep).constructor; }
    else if (/enum value/.test(err)) {
      F.kind = 'enum';
      F.values = enums.find((E) => {
        const [n, v] = Object.entries(E).find(([, x]) => x !== 0);
        return pick(C.fromObject(wrap(n)), f, rep) === v;
      });
    } else if (/integer/.test(err)) {
      F.kind = 'int'; F.bits = /Long/.test(err) ? 64 : 32;
      const back = C.toObject(C.decode(C.encode(C.fromObject(wrap(F.bits === 64 ? '-1' : -1))).finish()), { longs: String });
      F.signed = String(pick(back, f, rep)) === '-1';
    } else F.kind = /buffer/.test(err) ? 'bytes' : /string/.test(err) ? 'string' : 'bool';
    const sample = { message: {}, string: 'x', bool: true, double: 1.5, enum: 1, int: 1, bytes: 'AQ==' }[F.kind];
    const tag = Reader.create(C.encode(C.fromObject(wrap(sample))).finish()).uint32();
    [F.no, F.wire] = [tag >>> 3, tag & 7];
    S.fields[f] = F;
  }
  for (const [o, d] of Object.entries(Object.getOwnPropertyDescriptors(C.prototype))) {
    if (!d.get) continue;
    for (const f of Object.keys(S.fields)) { const m = new C(); m[f] = 1; if (m[o] === f) S.fields[f].oneof = o; }
  }
  return S;
}

// ---- (1) strict OTLP/JSON checks -----------------------------------------------------------
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v) => (v === undefined ? 'absent' : JSON.stringify(v));
const RULES = {
  'trace.v1.Span'(o, p, E) {
    for (const f of ['traceId', 'spanId', 'name', 'startTimeUnixNano', 'endTimeUnixNano']) if (!o[f]) E(`${p}.${f}`, 'required');
    const t = [o.startTimeUnixNano, o.endTimeUnixNano];
    if (t.every((x) => /^[0-9]+$/.test(x)) && BigInt(t[1]) < BigInt(t[0])) E(`${p}.endTimeUnixNano`, 'before startTimeUnixNano');
  },
  'trace.v1.Span.Link'(o, p, E) { for (const f of ['traceId', 'spanId']) if (!o[f]) E(`${p}.${f}`, 'required'); },
  'trace.v1.Span.Event'(o, p, E) { for (const f of ['name', 'timeUnixNano']) if (!o[f]) E(`${p}.${f}`, 'required'); },
  'logs.v1.LogRecord'(o, p, E) { if (o.spanId && !o.traceId) E(`${p}.traceId`, 'required when spanId is set'); },
  'common.v1.KeyValue'(o, p, E) {
    if (!o.key) E(`${p}.key`, 'required (non-empty)');
    if (!('value' in o)) E(`${p}.value`, 'required: an AnyValue such as {"stringValue": "..."}');
  },
  'common.v1.AnyValue'(o, p, E) {
    if (!Object.keys(o).length) E(p, 'empty AnyValue: give one of stringValue, boolValue, intValue, doubleValue, arrayValue, kvlistValue, bytesValue');
  },
};
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkMsg(S, o, p, E) {
  if (!isObj(o)) return E(p, `expected an object (${S.short}), got ${show(o)}`);
  const oneofs = {};
  for (const [k, v] of Object.entries(o)) {
    const F = S.fields[k], q = `${p}.${k}`;
    if (!F) { E(q, unknownField(S, k)); continue; }
    if (v === null) { E(q, 'null: leave the field out instead'); continue; }
    if (F.oneof) (oneofs[F.oneof] ||= []).push(k);
    if (!F.repeated) { checkValue(S, F, k, v, q, E); continue; }
    if (!Array.isArray(v)) { E(q, `expected an array, got ${show(v)}`); continue; }
    v.forEach((x, i) => checkValue(S, F, k, x, `${q}[${i}]`, E));
    if (k === 'attributes' || S.short === 'KeyValueList') {
      const seen = new Set();
      v.forEach((x, i) => { if (isObj(x) && seen.has(x.key)) E(`${q}[${i}].key`, `duplicate key ${show(x.key)}`); seen.add(x?.key); });
    }
  }
  for (const ks of Object.values(oneofs)) if (ks.length > 1) E(p, `oneof holds ${ks.join(' and ')}: at most one may be set`);
  RULES[S.name.replace('opentelemetry.proto.', '')]?.(o, p, E);
}
function unknownField(S, k) {
  const camel = k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
  const m = Object.keys(S.fields).find((f) => f.toLowerCase() === camel.toLowerCase());
  return m ? `unknown field ${show(k)}: OTLP/JSON spells it ${show(m)}`
    : `unknown field ${show(k)} (${S.short} has ${Object.keys(S.fields).join(', ')})`;
}
function checkValue(S, F, name, v, p, E) {
  const t = typeof v;
  switch (F.kind) {
    case 'message': return checkMsg(schemaOf(F.type), v, p, E);
    case 'string':
      if (t !== 'string') return E(p, `expected a string, got ${show(v)}`);
      if (LONE_SURROGATE.test(v)) E(p, 'string holds a lone surrogate (not valid UTF-8)');
      return;
    case 'bool': if (t !== 'boolean') E(p, `expected true or false, got ${show(v)}`); return;
    case 'double':
      if (t !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(v)) E(p, `expected a JSON number, got ${show(v)}`);
      return;
    case 'enum': {
      const vals = Object.values(F.values);
      if (t === 'string') return E(p, `enum as a string ${show(v)}: OTLP/JSON wants the integer${v in F.values ? ' ' + F.values[v] : ''}`);
      if (!Number.isInteger(v) || !vals.includes(v)) E(p, `expected one of the integers ${vals.join(', ')}, got ${show(v)}`);
      return;
    }
    case 'int': {
      const lo = F.signed ? -(2n ** BigInt(F.bits - 1)) : 0n, hi = (F.signed ? 2n ** BigInt(F.bits - 1) : 2n ** BigInt(F.bits)) - 1n;
      if (F.bits === 64 && t === 'number' && !(opt.int64Numbers && Number.isSafeInteger(v))) return E(p, `64-bit integer as a JSON number: write the decimal string "${v}"`);
      if (F.bits === 32 && t === 'string') return E(p, `32-bit integer as a string: write the JSON number ${v}`);
      if (F.bits === 64 ? !(t === 'number' || t === 'string' && /^-?(0|[1-9][0-9]*)$/.test(v) && v !== '-0') : !Number.isInteger(v)) return E(p, `expected a ${F.bits === 64 ? 'decimal string' : 'JSON integer'}, got ${show(v)}`);
      if (BigInt(v) < lo || BigInt(v) > hi) E(p, `${v} is out of range for a ${F.signed ? '' : 'u'}int${F.bits}`);
      return;
    }
    case 'bytes': {
      if (t !== 'string') return E(p, `expected a string, got ${show(v)}`);
      const n = ID_BYTES[name];
      if (!n) { if (!B64.test(v)) E(p, 'bytesValue must be base64'); return; }
      if (v === '' && (name === 'parentSpanId' || /LogRecord|Exemplar/.test(S.name))) return;
      if (v.length !== 2 * n && v.length === Math.ceil(n / 3) * 4 && B64.test(v)) return E(p, `${name} looks like base64: OTLP/JSON wants ${2 * n} hex digits`);
      if (!/^[0-9a-fA-F]*$/.test(v) || v.length !== 2 * n) return E(p, `${name} must be ${2 * n} hex digits, got ${show(v)}`);
      if (/^0+$/.test(v)) E(p, `${name} is all zeros (invalid)`);
    }
  }
}

// ---- (2) and (3): to protobuf and back, normalised, compared ---------------------------------
function mapBytes(S, o, fn) {       // copy of o with every bytes field passed through fn
  const r = {};
  for (const [k, v] of Object.entries(o)) {
    const F = S.fields[k], one = (x) => (F.kind === 'message' ? mapBytes(schemaOf(F.type), x, fn) : F.kind === 'bytes' ? fn(k, x) : x);
    r[k] = F.repeated ? v.map(one) : one(v);
  }
  return r;
}
const toPb = (S, o) => mapBytes(S, o, (k, v) => Buffer.from(v, ID_BYTES[k] ? 'hex' : 'base64'));
const fromPb = (C, m) => mapBytes(schemaOf(C), C.toObject(m, { longs: String, enums: Number, bytes: String, json: true }),
  (k, v) => (ID_BYTES[k] ? Buffer.from(v, 'base64').toString('hex') : v));
function norm(S, o) {               // proto3 defaults dropped, numbers in one spelling
  const r = {};
  for (const [k, v] of Object.entries(o)) {
    const F = S.fields[k];
    const one = (x) => {
      if (F.kind === 'message') return norm(schemaOf(F.type), x);
      if (F.kind === 'int') { try { return BigInt(x).toString(); } catch { return String(x); } }
      if (F.kind === 'double') return String(Number(x));
      if (F.kind === 'bytes') return ID_BYTES[k] ? x.toLowerCase() : Buffer.from(x, 'base64').toString('base64');
      return x;
    };
    if (F.repeated) { if (v.length) r[k] = v.map(one); continue; }
    const x = one(v);
    if (F.oneof || F.kind === 'message' || !['', '0', 0, false].includes(x)) r[k] = x;
  }
  return r;
}
function diff(S, a, b, p, E, la, lb) {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const F = S.fields[k], q = `${p}.${k}`;
    if (!(k in a) || !(k in b)) { E(q, `${show(a[k])} in ${la}, ${show(b[k])} in ${lb}`); continue; }
    const xs = F.repeated ? a[k] : [a[k]], ys = F.repeated ? b[k] : [b[k]];
    if (xs.length !== ys.length) { E(q, `${xs.length} items in ${la}, ${ys.length} in ${lb}`); continue; }
    xs.forEach((x, i) => {
      const r = F.repeated ? `${q}[${i}]` : q;
      if (F.kind === 'message') diff(schemaOf(F.type), x, ys[i], r, E, la, lb);
      else if (x !== ys[i]) E(r, `${show(x)} in ${la}, ${show(ys[i])} in ${lb}`);
    });
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
function wireCheck(S, buf, p, E) {  // what decode() passes over: unknown fields, wrong wire types, bad UTF-8
  const r = Reader.create(buf), seen = {};
  while (r.pos < r.len) {
    const tag = r.uint32(), no = tag >>> 3, wire = tag & 7;
    const [k, F] = Object.entries(S.fields).find(([, x]) => x.no === no) || [];
    if (!F) { E(p, `unknown field number ${no} (wire type ${wire}) in ${S.short}`); r.skipType(wire); continue; }
    const q = F.repeated ? `${p}.${k}[${(seen[k] = (seen[k] ?? -1) + 1)}]` : `${p}.${k}`;
    if (wire !== F.wire && !(F.repeated && wire === 2)) { E(q, `wire type ${wire}, the schema says ${F.wire}`); r.skipType(wire); continue; }
    if (wire !== 2) { r.skipType(wire); continue; }
    const len = r.uint32(), data = buf.subarray(r.pos, r.pos + len);
    r.skip(len);
    if (F.kind === 'message') wireCheck(schemaOf(F.type), data, q, E);
    else if (F.kind === 'string') try { UTF8.decode(data); } catch { E(q, 'string is not valid UTF-8'); }
  }
}

// ---- input, counting, driver ---------------------------------------------------------------
function duplicateKeys(text, E) {   // JSON.parse keeps the last of two equal keys: find them
  const st = [];
  const path = () => '$' + st.map((f) => (f.arr ? `[${f.n}]` : f.key === undefined ? '' : `.${f.key}`)).join('');
  for (let i = 0; i < text.length; i++) {
    const c = text[i], top = st[st.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      i = j;
      while (/\s/.test(text[j + 1])) j++;
      if (top && !top.arr && text[j + 1] === ':') {
        top.key = undefined;
        if (top.keys.has(s)) E(`${path()}.${s}`, `duplicate key ${show(s)}`);
        top.keys.add(s); top.key = s;
      }
    } else if (c === '{') st.push({ keys: new Set() });
    else if (c === '[') st.push({ arr: true, n: 0 });
    else if (c === '}' || c === ']') st.pop();
    else if (c === ',' && top?.arr) top.n++;
  }
}
function readRequests(file, E) {    // [{line, value, text}] from one request or JSON Lines
  const data = fs.readFileSync(file === '-' ? 0 : file);
  let text, whole;
  try { text = UTF8.decode(data); } catch { throw new Error('not valid UTF-8'); }
  try { return [{ line: 1, text, value: JSON.parse(text) }]; } catch (e) { whole = e; }
  const out = [], lines = text.split('\n'), first = lines.findIndex((t) => t.trim());
  try { JSON.parse(lines[first]); } catch {       // not JSON Lines either: one broken document
    const at = /position (\d+)/.exec(whole.message), line = at ? text.slice(0, +at[1]).split('\n').length : 1;
    E(line, '$', `not JSON: ${whole.message}`);
    return out;
  }
  lines.forEach((t, i) => {
    if (!t.trim()) return;
    try { out.push({ line: i + 1, text: t, value: JSON.parse(t) }); } catch (e) { E(i + 1, '$', `not JSON: ${e.message}`); }
  });
  return out;
}
const kindOf = (v) => opt.kind || (isObj(v) && ('resourceLogs' in v || 'resource_logs' in v) ? 'logs' : 'traces');
function count(v) {
  let spans = 0, logs = 0;
  for (const r of v.resourceSpans || []) for (const s of r?.scopeSpans || []) spans += s?.spans?.length || 0;
  for (const r of v.resourceLogs || []) for (const s of r?.scopeLogs || []) logs += s?.logRecords?.length || 0;
  return { spans, logs };
}
function checkRequest(req, E) {     // (1) then, when that found nothing, (2)
  const C = REQUEST[kindOf(req.value)], S = schemaOf(C);
  let bad = 0;
  const e = (p, m) => { bad++; E(p, m); };
  duplicateKeys(req.text, e);
  checkMsg(S, req.value, '$', e);
  if (bad) return;
  let back;
  try { back = fromPb(C, C.decode(C.encode(C.fromObject(toPb(S, req.value))).finish())); } catch (x) { return E('$', `protobuf round trip failed: ${x.message}`); }
  diff(S, norm(S, req.value), norm(S, back), '$', E, 'the JSON', 'its protobuf round trip');
}

const opt = { kind: '', files: [], pb: [], json: [] };
for (let a = process.argv.slice(2); a.length;) {
  const k = a.shift();
  if (k === '--kind' && ['traces', 'logs'].includes(a[0])) opt.kind = a.shift();
  else if (k === '--protobuf' && a.length) opt.pb.push(a.shift());
  else if (k === '--json' && a.length) opt.json.push(a.shift());
  else if (k === '--to-protobuf' && a.length) opt.encode = a.shift();
  else if (k === '--int64-numbers') opt.int64Numbers = true;
  else if (k === '-' || !k.startsWith('-')) opt.files.push(k);
  else opt.usage = true;
}
if (opt.usage || opt.pb.length !== opt.json.length || !(opt.files.length || opt.pb.length || opt.encode)) {
  console.error('usage: check.js [--kind traces|logs] [--int64-numbers] FILE...\n       check.js [--kind traces|logs] --protobuf FILE.bin --json FILE.json\n' +
    '       check.js [--kind traces|logs] --to-protobuf FILE.json > FILE.bin');
  process.exit(2);
}
if (opt.encode) {                   // one valid JSON request -> protobuf binary on stdout
  const req = readRequests(opt.encode, (l, p, m) => { throw new Error(m); })[0], C = REQUEST[kindOf(req.value)];
  process.stdout.write(C.encode(C.fromObject(toPb(schemaOf(C), req.value))).finish());
  process.exit(0);
}
let failed = false;
function run(label, body) {         // one file: prints its errors, then its summary line
  let n = 0, printed = 0;
  const tally = { requests: 0, spans: 0, logs: 0 };
  const E = (line, p, m) => { n++; if (++printed <= 50) console.log(`${label}:${line}: ${p}: ${m}`); };
  try { body(E, tally); } catch (x) { E(1, '$', x.code === 'ENOENT' ? 'no such file' : x.message); }
  if (printed > 50) console.log(`${label}: ... ${printed - 50} more errors`);
  const sum = `${label}: ${tally.requests} requests, ${tally.spans} spans, ${tally.logs} logs`;
  console.log(n ? `${sum}, ${n} errors` : `${sum} OK`);
  if (n) failed = true;
}
for (const file of opt.files) {
  run(file, (E, tally) => {
    for (const req of readRequests(file, E)) {
      tally.requests++;
      if (isObj(req.value)) { const c = count(req.value); tally.spans += c.spans; tally.logs += c.logs; }
      checkRequest(req, (p, m) => E(req.line, p, m));
    }
  });
}
opt.pb.forEach((bin, i) => {
  run(`${bin} vs ${opt.json[i]}`, (E, tally) => {
    const reqs = readRequests(opt.json[i], E);
    if (reqs.length !== 1) return E(1, '$', `${opt.json[i]} must hold exactly one request`);
    const req = reqs[0], C = REQUEST[kindOf(req.value)], S = schemaOf(C), buf = fs.readFileSync(bin);
    Object.assign(tally, { requests: 1 }, isObj(req.value) ? count(req.value) : {});
    checkRequest(req, (p, m) => E(req.line, p, `${opt.json[i]}: ${m}`));
    let msg;
    try { wireCheck(S, buf, '$', (p, m) => E(1, p, m)); msg = C.decode(buf); } catch (x) { return E(1, '$', `protobuf decode failed: ${x.message}`); }
    if (isObj(req.value)) diff(S, norm(S, req.value), norm(S, fromPb(C, msg)), '$', (p, m) => E(1, p, m), 'the JSON', 'the protobuf');
  });
});
process.exit(failed ? 1 : 0);
