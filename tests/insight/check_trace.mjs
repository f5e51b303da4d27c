// tests/insight/check_trace.mjs FILE SPANS -- loads an obs.h trace file with Chrome DevTools'
// own trace importer (the Performance panel's engine, npm @paulirish/trace_engine) and checks
// that it sees every span, on its named thread, under its parent. Exit 0: loadable.
import fs from 'node:fs';
import {analyzeEvents} from '@paulirish/trace_engine/analyze-trace.mjs';

const [file, spans] = [process.argv[2], Number(process.argv[3])];
const events = JSON.parse(fs.readFileSync(file, 'utf8'));
const fail = (msg) => { console.error('check_trace: ' + msg); process.exit(1); };
const complete = events.filter((e) => e.ph === 'X');
const async = events.filter((e) => e.ph === 'b');
if (complete.length + async.length !== spans) fail(`${complete.length} X + ${async.length} b, not ${spans}`);

const {parsedTrace} = await analyzeEvents(events);
const renderer = parsedTrace.data.Renderer;
if (renderer.entryToNode.size !== complete.length) fail(`DevTools made ${renderer.entryToNode.size} slices of ${complete.length}`);
const tidOf = new Map(complete.map((e) => [e.args.span_id, e.tid]));
let threads = 0, nested = 0;
for (const [, proc] of renderer.processes) {
  for (const [tid, thread] of proc.threads) {
    threads++;
    if (thread.name !== `thread ${tid}`) fail(`thread ${tid} is named ${thread.name}`);
  }
}
for (const [entry, node] of renderer.entryToNode) {
  const parent = entry.args.parent_span_id;
  const expected = parent && tidOf.get(parent) === entry.tid ? parent : undefined;
  const got = node.parent ? node.parent.entry.args.span_id : undefined;
  if (got !== expected) fail(`${entry.name} ${entry.args.span_id}: DevTools parent ${got}, span parent ${expected}`);
  if (got) nested++;
}
console.log(`check_trace: DevTools loaded ${complete.length} slices on ${threads} threads, ${nested} nested under their parent span`);
