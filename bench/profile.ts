import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives, coarsely: what the time is spent on. */
function area(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : 'native / V8 builtins';
  if (url.includes('/better-sqlite3/')) return 'better-sqlite3 (SQLite)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  if (url.startsWith('node:')) return 'Node.js core (' + url.slice(5).split('/')[0] + ')';
  const src = /\/dist\/(.+)$/.exec(url) ?? /\/src\/(.+)$/.exec(url);
  if (src) return 'roster ' + src[1]!.replace(/\.js$/, '');
  return url;
}

/**
 * Self time from a .cpuprofile: by area and by function, excluding idle time and the first
 * `skipMs` of the profile (start-up and warm-up, which are not what is being profiled).
 */
export function summarizeProfile(file: string, top = 12, skipMs = 0): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = 0;
  p.samples.forEach((id, i) => {
    const delta = p.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= skipMs * 1000) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    busy += us;
    const a = area(f.url, f.functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const where = f.url ? `${a}:${f.lineNumber + 1}` : a;
    const key = `${f.functionName || '(anonymous)'}  ${where}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  const pct = (us: number) => ((100 * us) / busy).toFixed(1).padStart(5) + '%';
  const lines = [`busy ${(busy / 1e6).toFixed(2)} s of CPU`, '', 'by area:'];
  for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, top))
    lines.push(`  ${pct(us)}  ${a}`);
  lines.push('', 'by function:');
  for (const [k, us] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${k}`);
  return lines.join('\n');
}
