import { describe, expect, it } from 'vitest';
import { testBackend } from '../helpers/postgres.js';
import { freePort, runRoster } from '../helpers/process.js';

/**
 * `roster demo`: the simulated contact centre's calls are Tasks that Roster routes, and its
 * agents accept and complete them through the API (what the dashboard then shows).
 */
// The demo always runs on SQLite, whichever project runs this file; once is enough.
describe.skipIf(testBackend() === 'postgres')('roster demo', () => {
  it('routes the simulated calls to agents who answer and complete them', async () => {
    const port = await freePort();
    const demo = runRoster(['demo', '--workers', '30', '--pace', '900'], { PORT: String(port) });
    await demo.waitFor(/Dashboard:/, 60_000);
    // The report line every 10 s counts calls in, answered (reservations accepted) and completed.
    const [, answered, completed] = await demo.waitFor(
      /calls: \d+ in, ([1-9]\d*) answered, ([1-9]\d*) completed/,
      60_000,
    );
    expect(Number(answered)).toBeGreaterThanOrEqual(Number(completed));
    expect(demo.stdout()).not.toMatch(/^demo: /m);
    demo.child.kill('SIGTERM');
    expect((await demo.exited).code).toBe(0);
  }, 90_000);
});
