// Sums a .cpuprofile's self time by package over its last N seconds (the load window):
//   node bench/profile-summary.js CPU.….cpuprofile 12 [category prefix, for its top functions]
// How bench/results/profile.md was made; see docs/benchmarks.md (Per-request cost).
const fs = require('fs');
const file = process.argv[2];
const p = JSON.parse(fs.readFileSync(file));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
const ts=[];let acc=p.startTime;for(let i=0;i<dt.length;i++){acc+=dt[i];ts.push(acc);} const from = p.endTime - Number(process.argv[3]||12)*1e6 - 1e6; const to = p.endTime - 1e6;
for (let i = 0; i < p.samples.length; i++) { if (ts[i] < from || ts[i] > to) continue; const d = dt[i] || 0; self.set(p.samples[i], (self.get(p.samples[i]) || 0) + d); total += d; }
function cat(n) {
  const u = n.callFrame.url || ''; const f = n.callFrame.functionName;
  if (f === '(idle)') return 'idle'; if (f === '(garbage collector)') return 'GC'; if (f === '(program)') return 'program (native/VM)';
  const m = u.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (m) {
    const pk = m[1];
    if (/pino|nestjs-pino/.test(pk)) return 'logging (pino, pino-http, nestjs-pino)';
    if (/class-validator|class-transformer/.test(pk)) return 'validation (class-validator/transformer)';
    if (/jsonwebtoken|jws|jwa/.test(pk)) return 'JWT verify';
    if (/lru-cache/.test(pk)) return 'session cache (lru-cache)';
    if (/fastify|find-my-way|light-my-request|avvio|middie|@fastify/.test(pk)) return 'Fastify (routing, reply, middie)';
    if (/@nestjs\/core|@nestjs\/common|rxjs|reflect-metadata/.test(pk)) return 'Nest core (guards, pipes, interceptors, filters, rxjs)';
    if (/mongo|bson|mongoose/.test(pk)) return 'database driver';
    return 'other packages: ' + pk;
  }
  if (u.includes('/dist/src/sessions/guards')) return 'our guards (SessionGuard, roles, groups)';
  if (u.includes('/dist/src/')) return 'our code: ' + u.split('/dist/src/')[1].split('/')[0];
  if (u.startsWith('node:') || u === '' ) return 'Node core (http, net, streams, timers)';
  return 'other: ' + u;
}
const agg = new Map();
for (const [id, t] of self) { const c = cat(byId.get(id)); agg.set(c, (agg.get(c) || 0) + t); }
const busy = total - (agg.get('idle') || 0);
const rows = [...agg].filter(([c]) => c !== 'idle').sort((a, b) => b[1] - a[1]);
console.log(`busy ${ (busy/1e6).toFixed(2)} s of ${(total/1e6).toFixed(2)} s sampled`);
for (const [c, t] of rows.slice(0, 18)) console.log(`${(100*t/busy).toFixed(1).padStart(5)}%  ${c}`);
if (process.argv[4]) {
  const want = process.argv[4];
  const fn = new Map();
  for (const [id, t] of self) { const n = byId.get(id); if (!cat(n).startsWith(want)) continue; const k = `${n.callFrame.functionName || '(anon)'} ${ (n.callFrame.url||'').split('/').slice(-2).join('/')}`; fn.set(k, (fn.get(k)||0)+t); }
  for (const [k, t] of [...fn].sort((a,b)=>b[1]-a[1]).slice(0,8)) console.log(`   ${(100*t/busy).toFixed(1)}% ${k}`);
}
