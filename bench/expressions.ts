/**
 * Evaluations per second of compiled TaskRouter expressions against a hand-written JavaScript
 * function doing the same test, over the same workers, measured in the same run in alternating
 * slices (so that both see the same machine load). Target: compiled ≥ 0.3× hand-written.
 *
 *   npx tsx bench/expressions.ts [--workers 10000] [--rounds 7] [--slice-ms 200]
 *   npm run bench:expressions
 */
import { performance } from 'node:perf_hooks';
import {
  compileExpression,
  WORKER_SCOPE,
  type Fields,
  type Predicate,
} from '../src/domain/expressions/index.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const WORKERS = option('workers', 10_000);
const ROUNDS = option('rounds', 7);
const SLICE_MS = option('slice-ms', 200);

// A deterministic population of workers, as JSON.parse gives their attributes.
let seed = 42;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const SKILLS = ['support', 'sales', 'billing', 'legal', 'retention', 'technical'];
const LANGUAGES = ['english', 'spanish', 'french', 'german', 'portuguese'];
const CITIES = ['Lisbon', 'Porto', 'Madrid', 'Paris', 'Berlin'];
const ACTIVITIES = ['Available', 'Idle', 'Offline', 'Break'];
interface Worker {
  attributes: unknown;
  fields: Fields;
}
const workers: Worker[] = Array.from({ length: WORKERS }, (_, i) => {
  const attributes: Record<string, unknown> = {
    skills: SKILLS.filter(() => random() < 0.35),
    languages: LANGUAGES.filter(() => random() < 0.4),
    language: pick(['en', 'es', 'fr', 'de', 'pt', 'it']),
    skill_rating: Math.round(random() * 100) / 10,
    level: Math.floor(random() * 6),
    location: { city: pick(CITIES), country: pick(['PT', 'ES', 'FR', 'DE']) },
    department: pick(['care', 'sales', 'ops']),
  };
  if (random() < 0.2) attributes.vip = random() < 0.5;
  if (random() < 0.1) delete attributes.languages;
  return {
    attributes: JSON.parse(JSON.stringify(attributes)) as unknown,
    fields: { sid: `WK${i}`, friendly_name: `worker ${i}`, activity_name: pick(ACTIVITIES) },
  };
});

type Attributes = Record<string, unknown> | null | undefined;
const has = (value: unknown, item: unknown) => Array.isArray(value) && value.includes(item);

interface Scenario {
  name: string;
  expression: string;
  /** What an engineer would write by hand for the same test on these attributes. */
  handWritten: (attributes: unknown, fields: Fields) => boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: "Twilio's TargetWorkers example",
    expression: "(skills HAS 'support') AND (languages HAS 'english')",
    handWritten: (a) =>
      has((a as Attributes)?.skills, 'support') && has((a as Attributes)?.languages, 'english'),
  },
  {
    name: 'IN a list, AND a number',
    expression: "language IN ['en', 'es', 'fr', 'de'] AND skill_rating >= 5.1",
    handWritten: (a) => {
      const w = a as Attributes;
      const language = w?.language;
      const rating = w?.skill_rating;
      return (
        (language === 'en' || language === 'es' || language === 'fr' || language === 'de') &&
        typeof rating === 'number' &&
        rating >= 5.1
      );
    },
  },
  {
    name: 'nested key, OR',
    expression: "location.city == 'Lisbon' AND level > 2 OR vip == true",
    handWritten: (a) => {
      const w = a as Attributes;
      const location = w?.location as Attributes;
      const level = w?.level;
      return (location?.city === 'Lisbon' && typeof level === 'number' && level > 2) || w?.vip === true;
    },
  },
  {
    name: 'worker fields and attributes',
    expression:
      "worker.activity_name IN ['Available', 'Idle'] AND skills HAS 'sales' AND department != 'ops'",
    handWritten: (a, f) => {
      const w = a as Attributes;
      const activity = f.activity_name;
      const department = w?.department;
      return (
        (activity === 'Available' || activity === 'Idle') &&
        has(w?.skills, 'sales') &&
        typeof department === 'string' &&
        department !== 'ops'
      );
    },
  },
];

/** Runs `evaluate` over every worker until the slice is over; returns evaluations per second. */
function measure(evaluate: (worker: Worker) => boolean): { rate: number; matches: number } {
  let evaluations = 0;
  let matches = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < workers.length; i++) if (evaluate(workers[i]!)) matches++;
    evaluations += workers.length;
    elapsed = performance.now() - start;
  } while (elapsed < SLICE_MS);
  return { rate: (evaluations / elapsed) * 1000, matches };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const format = (rate: number) => `${(rate / 1e6).toFixed(1)} M/s`;

console.log(
  `Expressions: ${WORKERS} workers, ${ROUNDS} rounds of ${SLICE_MS} ms slices, Node ${process.version}`,
);
console.log('| expression | matches | compile once | compiled | hand-written | ratio |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
let worst = Infinity;
for (const scenario of SCENARIOS) {
  const options = { parameter: 'TargetWorkers', scope: WORKER_SCOPE };
  const compiled = compileExpression(scenario.expression, options);
  // What compiling costs (parse, print, generate): paid once per queue or list request.
  const compileStart = performance.now();
  let compiles = 0;
  while (performance.now() - compileStart < SLICE_MS) {
    compileExpression(scenario.expression, options);
    compiles++;
  }
  const compileMicros = ((performance.now() - compileStart) * 1000) / compiles;
  const test: Predicate = compiled.test;
  const viaCompiled = (w: Worker) => test(w.attributes, w.fields);
  const viaHand = (w: Worker) => scenario.handWritten(w.attributes, w.fields);
  // Both must give the same answer for every worker, or the comparison means nothing.
  let matches = 0;
  for (const w of workers) {
    const expected = viaHand(w);
    if (viaCompiled(w) !== expected)
      throw new Error(`${scenario.expression} disagrees for ${String(w.fields.sid)}`);
    if (expected) matches++;
  }
  measure(viaCompiled);
  measure(viaHand);
  const ratios: number[] = [];
  const compiledRates: number[] = [];
  const handRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so that neither always runs on a warmer or cooler machine.
    let c, h;
    if (round % 2 === 0) {
      c = measure(viaCompiled);
      h = measure(viaHand);
    } else {
      h = measure(viaHand);
      c = measure(viaCompiled);
    }
    compiledRates.push(c.rate);
    handRates.push(h.rate);
    ratios.push(c.rate / h.rate);
  }
  const ratio = median(ratios);
  worst = Math.min(worst, ratio);
  console.log(
    `| \`${scenario.expression}\` | ${((matches / WORKERS) * 100).toFixed(0)}% | ${compileMicros.toFixed(0)} µs | ${format(median(compiledRates))} | ${format(median(handRates))} | ${ratio.toFixed(2)}× |`,
  );
}
console.log(`Lowest ratio: ${worst.toFixed(2)}× (target ≥ 0.3×)`);
if (worst < 0.3) process.exitCode = 1;
