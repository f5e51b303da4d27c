#!/usr/bin/env node
// bench.js -- the OpenTelemetry JS SDK measured on the cases of obs.h's C benchmark.
//
//   node bench.js [--reps N] [--quick] [--only CASE,CASE] [--spans N]
//
// Prints one JSON object a line on stdout:
//   {"case":ID,"unit":"ns/op"|"spans/s","median":X,"min":X,"max":X,"n":REPS,"ops":PER_REP,"lost":K}
// median/min/max are over the N repetitions; "ops" is the operations timed in one repetition;
// "lost" (cases that export) = items handed to the SDK but never acknowledged by the exporter,
// over all repetitions (queue drops plus failed exports).
//
// What is measured (keep in step with the C benchmark):
//   sampled_span    startSpan + setAttribute(string) + setAttribute(int) + end, AlwaysOn sampler,
//                   BatchSpanProcessor (queue 8192, batch 512) -> exporter that discards; ns/span.
//   unsampled_span  the same calls with the AlwaysOff sampler; ns per span.
//   parent_child    startActiveSpan(parent, 2 attributes) { child = startSpan() inside it, 1 attribute,
//                   child.end() } parent.end() (AsyncLocalStorage context manager); ns per pair.
//   log_filtered    `if (logger.enabled({severityNumber: DEBUG})) logger.emit(...)` with the SDK's
//                   LoggerConfig.minimumSeverity = INFO: the guard fails, nothing is formatted.
//   log_emitted     logger.emit({severityNumber: INFO, body: util.format('%s ... %d', a, b)})
//                   through BatchLogRecordProcessor -> exporter that discards; ns per record.
//   e2e             --spans N spans (default 1,000,000; --quick 20,000) through BatchSpanProcessor
//                   (queue 16384, batch 512, delay 20 ms) and OTLPTraceExporter (http/json) to
//                   $OBS_BENCH_ENDPOINT; spans/s from the first start to forceFlush resolving. Like
//                   bench.c, the producer waits while the queue is 3/4 full, so this is the
//                   pipeline's throughput, not a count of drops.
// Node runs the batch processor on the caller's thread, so every loop yields to the event loop
// after CHUNK operations (as a server does between requests) and the time measured includes
// the processor's own work; there is no background thread to hand it to.
'use strict';
const util = require('node:util');
const api = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { ExportResultCode, setGlobalErrorHandler } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor, AlwaysOnSampler, AlwaysOffSampler } =
  require('@opentelemetry/sdk-trace-base');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');

const CASES = ['sampled_span', 'unsampled_span', 'parent_child', 'log_filtered', 'log_emitted', 'e2e'];
const opt = { reps: 5, quick: false, only: CASES, spans: 0 };
for (let a = process.argv.slice(2); a.length;) {
  const k = a.shift();
  if (k === '--quick') opt.quick = true;
  else if (k === '--reps') opt.reps = Math.max(1, parseInt(a.shift(), 10) || 0);
  else if (k === '--only' && a[0]?.split(',').every((c) => CASES.includes(c))) opt.only = a.shift().split(',');
  else if (k === '--spans') opt.spans = parseInt(a.shift(), 10) || 0;
  else {
    console.error('usage: bench.js [--reps N] [--quick] [--only ' + CASES.join(',') + '] [--spans N]');
    process.exit(2);
  }
}
if (!opt.spans) opt.spans = opt.quick ? 20000 : 1000000;
const WARM_NS = opt.quick ? 20e6 : 300e6;    // warm-up, also used to size a repetition
const REP_NS = opt.quick ? 30e6 : 500e6;     // target time of one repetition
const CHUNK = 1024;                          // operations between two yields to the event loop
const QUEUE = 16384;                         // e2e queue, as in bench/bench.c

const now = process.hrtime.bigint;
const yieldLoop = () => new Promise(setImmediate);
const resource = resourceFromAttributes({ 'service.name': 'peer-js-bench' });
api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// An exporter that counts and discards (spans or log records: the interface is the same).
function discardExporter() {
  return {
    count: 0,
    export(items, done) { this.count += items.length; done({ code: ExportResultCode.SUCCESS }); },
    forceFlush() { return Promise.resolve(); },
    shutdown() { return Promise.resolve(); },
  };
}

async function loop(op, iters, full) {      // ns for `iters` calls of op, yielding every CHUNK
  const t0 = now();
  for (let done = 0; done < iters; done += CHUNK) {
    for (let i = 0, m = Math.min(CHUNK, iters - done); i < m; i++) op(i);
    do await yieldLoop(); while (full && full());   // e2e: wait while the queue is nearly full
  }
  return Number(now() - t0);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  const r = (x) => Math.round(x * 10) / 10;
  return { median: r(median), min: r(s[0]), max: r(s[s.length - 1]) };
};
const report = (id, unit, xs, ops, lost) =>
  console.log(JSON.stringify({ case: id, unit, ...stats(xs), n: xs.length, ops,
    ...(lost === undefined ? {} : { lost }) }));

// Warm up, size a repetition to about REP_NS, run opt.reps of them; items = exported per op.
async function measure(id, op, { flush, exporter, items = 1 } = {}) {
  for (let t = 0, ops = 0; t < WARM_NS || ops < 16 * CHUNK; ops += CHUNK) t += await loop(op, CHUNK);
  const t = await loop(op, 8 * CHUNK);     // warm now: size a repetition from this pass
  const iters = Math.max(CHUNK, Math.ceil((REP_NS * 8) / t) * CHUNK);
  if (flush) await flush();
  const before = exporter ? exporter.count : 0, xs = [];
  for (let r = 0; r < opt.reps; r++) xs.push((await loop(op, iters)) / iters);
  if (flush) await flush();
  report(id, 'ns/op', xs, iters, exporter ? iters * opt.reps * items - (exporter.count - before) : undefined);
}

function tracing(sampler) {
  const exporter = discardExporter();
  const provider = new BasicTracerProvider({
    resource, sampler,
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 8192, maxExportBatchSize: 512 })],
  });
  return { exporter, provider, tracer: provider.getTracer('bench', '1.0.0') };
}
const NAME = 'GET /api/activities/home', ROUTE = '/api/activities/home';  // as in bench/bench.c
const spanOp = (tracer) => () => {
  const s = tracer.startSpan(NAME);
  s.setAttribute('http.route', ROUTE);
  s.setAttribute('http.response.status_code', 200);
  s.end();
};

async function spanCases() {
  if (opt.only.includes('sampled_span')) {
    const { exporter, provider, tracer } = tracing(new AlwaysOnSampler());
    await measure('sampled_span', spanOp(tracer), { exporter, flush: () => provider.forceFlush() });
    await provider.shutdown();
  }
  if (opt.only.includes('unsampled_span')) {
    const { exporter, provider, tracer } = tracing(new AlwaysOffSampler());
    await measure('unsampled_span', spanOp(tracer), { exporter, flush: () => provider.forceFlush(), items: 0 });
    await provider.shutdown();
  }
  if (opt.only.includes('parent_child')) {
    const { exporter, provider, tracer } = tracing(new AlwaysOnSampler());
    const op = () => tracer.startActiveSpan(NAME, (parent) => {
      parent.setAttribute('http.route', ROUTE);
      parent.setAttribute('http.response.status_code', 200);
      const child = tracer.startSpan('home-activities-mock-data');
      child.setAttribute('app.result_length', 3);
      child.end();
      parent.end();
    });
    await measure('parent_child', op, { exporter, flush: () => provider.forceFlush(), items: 2 });
    await provider.shutdown();
  }
}

async function logCases() {
  const exporter = discardExporter();
  const provider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter, maxQueueSize: 8192, maxExportBatchSize: 512 })],
    loggerConfigurator: () => ({ disabled: false, minimumSeverity: SeverityNumber.INFO, traceBased: false }),
  });
  const logger = provider.getLogger('bench', '1.0.0');
  const flush = () => provider.forceFlush();
  if (opt.only.includes('log_filtered')) {
    await measure('log_filtered', (i) => {
      if (logger.enabled({ severityNumber: SeverityNumber.DEBUG })) {
        logger.emit({ severityNumber: SeverityNumber.DEBUG, severityText: 'DEBUG',
          body: util.format('served %s in %d ms', ROUTE, i) });
      }
    }, { exporter, flush, items: 0 });
  }
  if (opt.only.includes('log_emitted')) {
    await measure('log_emitted', (i) => {
      logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO',
        body: util.format('served %s in %d ms', ROUTE, i) });
    }, { exporter, flush });
  }
  await provider.shutdown();
}

async function e2e() {
  const url = process.env.OBS_BENCH_ENDPOINT;
  if (!url) { console.error('peer-js: e2e skipped (OBS_BENCH_ENDPOINT not set)'); return; }
  const probe = await new Promise((done) => {   // an empty request first: is anyone listening?
    const req = require('node:http').request(url, { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => { res.resume(); done(res.statusCode === 200 ? '' : `HTTP ${res.statusCode}`); });
    req.on('error', (e) => done(e.message));
    req.setTimeout(5000, () => req.destroy(new Error('no reply in 5 s')));
    req.end('{}');
  });
  if (probe) { console.error(`peer-js: e2e skipped: ${url}: ${probe}`); process.exitCode = 1; return; }
  async function run(n) {                // one provider per run: a fresh queue and connection pool
    const otlp = new OTLPTraceExporter({ url, timeoutMillis: 30000, concurrencyLimit: QUEUE / 512 + 8 });
    const counter = { acked: 0,          // counts what the receiver acknowledged
      export(spans, done) {
        otlp.export(spans, (r) => { if (r.code === ExportResultCode.SUCCESS) this.acked += spans.length; done(r); });
      },
      forceFlush: () => otlp.forceFlush(), shutdown: () => otlp.shutdown() };
    const bsp = new BatchSpanProcessor(counter,
      { maxQueueSize: QUEUE, maxExportBatchSize: 512, scheduledDelayMillis: 20, exportTimeoutMillis: 30000 });
    const provider = new BasicTracerProvider({ resource, spanProcessors: [bsp] });
    const full = () => (bsp._finishedSpans?.length ?? 0) > QUEUE * 3 / 4;  // private, as bench.c peeks at its ring
    const t0 = now();
    await loop(spanOp(provider.getTracer('bench', '1.0.0')), n, full);
    await provider.forceFlush().catch((e) => console.error(`peer-js: e2e forceFlush: ${e?.message ?? e}`));
    const ns = Number(now() - t0);
    await provider.shutdown().catch(() => {});
    return { rate: n / (ns / 1e9), lost: n - counter.acked };
  }
  const warm = await run(Math.min(opt.spans, 20480));   // warm-up (JIT, connection)
  if (warm.lost) {
    console.error(`peer-js: e2e: ${url} did not acknowledge ${warm.lost} spans (${errors.first || 'no reply'}); e2e skipped`);
    process.exitCode = 1;
    return;
  }
  const xs = []; let lost = 0;
  for (let r = 0; r < opt.reps; r++) { const x = await run(opt.spans); xs.push(x.rate); lost += x.lost; }
  report('e2e', 'spans/s', xs, opt.spans, lost);
  if (errors.n) console.error(`peer-js: e2e: ${errors.n} export errors, the first: ${errors.first}`);
}

const errors = { n: 0, first: '' };        // export errors: counted, the first one shown
setGlobalErrorHandler((e) => { if (!errors.n++) errors.first = String(e?.message ?? e); });

(async () => {
  api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.WARN);  // drops etc. on stderr
  await spanCases();
  await logCases();
  if (opt.only.includes('e2e')) await e2e();
})().catch((e) => { console.error('peer-js: ' + (e && e.stack || e)); process.exit(1); });
