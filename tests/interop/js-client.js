#!/usr/bin/env node
// js-client.js -- interop: a small Node service instrumented with the OpenTelemetry JS SDK calls
// the C back end (examples/backend.c); the back end's server span must be the child of the JS
// client span, in the JS trace.
//
//   node tests/interop/js-client.js build/backend
//
// Starts an OTLP/HTTP JSON receiver here (node:http), the back end exporting to it, then:
//  1. a JS CLIENT span (sampled) -> GET /api/activities/home with the traceparent and tracestate
//     that the JS SDK's W3CTraceContextPropagator injects: the back end's server span has the JS
//     trace id, the JS client span as its remote parent, the tracestate, and the mock-data span
//     under it;
//  2. a JS span the JS SDK did not sample (AlwaysOffSampler) -> traceparent ...-00: the back end
//     exports no span of that trace (its parent-based default follows the caller).
// Prints one line per check and "js-client: N passed, N failed"; exit 0 when all pass, 1 when a
// check fails, 2 on a usage error.
'use strict';
const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter, AlwaysOffSampler } =
  require('@opentelemetry/sdk-trace-base');
const { W3CTraceContextPropagator, TraceState } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const backendPath = process.argv[2];
if (!backendPath) {
  console.error('usage: js-client.js path/to/backend');
  process.exit(2);
}

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) passed++; else failed++;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail !== undefined ? ': ' + JSON.stringify(detail) : ''}`);
}

// ---- an OTLP/HTTP JSON receiver ----
const bodies = [];
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
});

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

// The back end, exporting OTLP/JSON here; resolves with its port once it listens.
function startBackend(otlpPort, requests) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(OTEL_|AWS_XRAY_|BACKEND_)/.test(k)) env[k] = v;
  }
  Object.assign(env, {
    OTEL_TRACES_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  const child = spawn(path.resolve(backendPath), ['0', String(requests)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve(sig ? 128 : code)));
  const port = new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    setTimeout(() => reject(new Error('the back end did not start')), 10000);
  });
  return { child, port, exited };
}

function get(port, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/activities/home', headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
  });
}

// Every span the receiver got: resourceSpans[].scopeSpans[].spans[], with its service.name.
function receivedSpans() {
  const spans = [];
  for (const b of bodies) {
    for (const rs of JSON.parse(b).resourceSpans || []) {
      const svc = ((rs.resource && rs.resource.attributes) || []).find((a) => a.key === 'service.name');
      for (const ss of rs.scopeSpans || []) {
        for (const s of ss.spans || []) spans.push({ ...s, service: svc && svc.value.stringValue });
      }
    }
  }
  return spans;
}

async function main() {
  const propagator = new W3CTraceContextPropagator();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'js-frontend' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('obs-interop-js-client', '1.0.0');
  const offTracer = new BasicTracerProvider({ sampler: new AlwaysOffSampler() }).getTracer('off');

  const otlpPort = await listen(receiver);
  const backend = startBackend(otlpPort, 2);
  const port = await backend.port;

  // 1. a sampled JS client span, under a JS root that carries a tracestate entry
  const root = tracer.startSpan('js-frontend: load home', { kind: api.SpanKind.INTERNAL }, api.trace.setSpanContext(
    api.ROOT_CONTEXT, { traceId: 'b1a2c3d4e5f60718293a4b5c6d7e8f90', spanId: '1122334455667788',
      traceFlags: api.TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('js=interop') }));
  const rootCtx = api.trace.setSpan(api.ROOT_CONTEXT, root);
  const client = tracer.startSpan('GET', {
    kind: api.SpanKind.CLIENT,
    attributes: { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': port },
  }, rootCtx);
  const headers = {};
  propagator.inject(api.trace.setSpan(rootCtx, client), headers, api.defaultTextMapSetter);
  const r1 = await get(port, headers);
  client.setAttribute('http.response.status_code', r1.status);
  client.end();
  root.end();
  const jsc = client.spanContext();
  check(r1.status === 200, 'GET /api/activities/home answered 200', r1.status);
  let items = [];
  try { items = JSON.parse(r1.body); } catch (e) { /* checked below */ }
  check(Array.isArray(items) && items.length === 3 && items[0].handle === 'Andrew Brown', 'the three mock activities', r1.body.slice(0, 80));

  // 2. a span the JS SDK did not sample: traceparent ...-00
  const off = offTracer.startSpan('GET', { kind: api.SpanKind.CLIENT });
  const offHeaders = {};
  propagator.inject(api.trace.setSpan(api.ROOT_CONTEXT, off), offHeaders, api.defaultTextMapSetter);
  check(/-00$/.test(offHeaders.traceparent || ''), 'the JS SDK sends -00 for its unsampled span', offHeaders.traceparent);
  const r2 = await get(port, offHeaders);
  off.end();
  check(r2.status === 200, 'the unsampled request is still served', r2.status);

  const code = await Promise.race([backend.exited, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
  if (code === 'timeout') backend.child.kill('SIGKILL');
  check(code === 0, 'the back end flushed and exited 0 after two requests', code);
  receiver.close();

  const spans = receivedSpans();
  const server = spans.find((s) => s.name === 'GET /api/activities/home' && s.traceId === jsc.traceId);
  check(!!server, 'the back end exported its server span in the JS trace', spans.map((s) => [s.name, s.traceId]));
  if (server) {
    check(server.parentSpanId === jsc.spanId, 'its parent is the JS client span', { parent: server.parentSpanId, js: jsc.spanId });
    check(server.kind === 2, 'kind SERVER', server.kind);
    check((server.flags & 0x301) === 0x301, 'flags: sampled, parent remote', server.flags);
    check(server.traceState === 'js=interop', 'the tracestate came through', server.traceState);
    check(server.service === 'backend-flask', 'service.name backend-flask', server.service);
    const mock = spans.find((s) => s.name === 'home-activities-mock-data' && s.traceId === jsc.traceId);
    check(mock && mock.parentSpanId === server.spanId, 'home-activities-mock-data is its child', mock);
  }
  const offTrace = off.spanContext().traceId;
  check(!spans.some((s) => s.traceId === offTrace), 'nothing exported for the unsampled JS trace');
  const jsSpans = exporter.getFinishedSpans();
  check(jsSpans.some((s) => s.spanContext().spanId === jsc.spanId && s.kind === api.SpanKind.CLIENT),
    'the JS SDK recorded its client span');

  console.log(`js-client: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`js-client: ${e.stack || e}`);
  console.log(`js-client: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
