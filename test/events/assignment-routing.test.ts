import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssignmentCallbacks } from '../../src/events/assignment-callbacks.js';
import { routingAssignmentPort } from '../../src/events/assignment-port.js';
import { testBackend } from '../helpers/postgres.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/domain/clock.js';
import { createServices } from '../../src/services/index.js';
import type { Store } from '../../src/services/ports/store.js';
import { createTestApp, openTestStore } from '../helpers/app.js';
import { routingHelpers, type RoutingSetup } from '../helpers/routing.js';
import { Receiver } from './receiver.js';

/**
 * Assignment callbacks wired to routing: a task reserves a worker, the workflow's
 * AssignmentCallbackUrl gets Twilio's parameters, and its answer is applied as the Reservation
 * update would apply it.
 */
let h: ReturnType<typeof routingHelpers> & {
  t: Awaited<ReturnType<typeof createTestApp>>;
  clock: ManualClock;
};
/** The services' store (whose commits the callbacks hear). */
let store: Store;
let receiver: Receiver;
let assignments: AssignmentCallbacks;
let s: RoutingSetup;

beforeAll(async () => {
  // As createRoutingApp, keeping the services' own store (the app's is another handle on it).
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  const dir = mkdtempSync(join(tmpdir(), 'roster-assign-routing-'));
  store = openTestStore(dir);
  const services = createServices(store, { clock });
  const t = await createTestApp({ dir, services });
  h = { t, clock, ...routingHelpers(t) };
  receiver = await new Receiver().start('/assignment');
  assignments = new AssignmentCallbacks(
    { store, port: routingAssignmentPort(store, h.t.services, h.clock) },
    { timeoutMs: 5_000 },
  );
  assignments.start();
  s = await h.workspace();
  await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, { AssignmentCallbackUrl: receiver.url });
});
afterAll(async () => {
  await assignments.stop();
  await receiver.close();
  await h.t.close();
  await store.close();
});

/** A task for a worker who is free now; resolves once its callback is over. */
async function taskFor(name: string): Promise<{ task: string; worker: string }> {
  const worker = await h.worker(s, name, s.idle, '{"name":"' + name + '"}');
  const before = receiver.received.length;
  const task = (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"for":"' + name + '"}' }))
    .sid as string;
  await receiver.until(before + 1);
  await assignments.idle();
  return { task, worker };
}

describe(`assignment callbacks with routing (${testBackend()})`, () => {
  it('POSTs the reservation with Twilio parameters, signed, and accepts it when told to', async () => {
    receiver.respond = () => ({ status: 200, body: '{"instruction":"accept"}' });
    const { task, worker } = await taskFor('Ann');
    const r = receiver.received.at(-1)!;
    expect(r.params).toMatchObject({
      AccountSid: h.t.account.sid,
      WorkspaceSid: s.ws,
      WorkflowSid: s.workflow,
      TaskQueueSid: s.queue,
      TaskSid: task,
      TaskAttributes: '{"for":"Ann"}',
      TaskPriority: '0',
      TaskAge: '0',
      WorkerSid: worker,
      WorkerAttributes: '{"name":"Ann"}',
    });
    expect(r.params.ReservationSid).toMatch(/^WR/);
    expect(
      twilio.validateRequest(
        h.t.account.token,
        r.headers['x-twilio-signature'] as string,
        receiver.url,
        r.params,
      ),
    ).toBe(true);
    expect(await h.offers(s, task)).toEqual([[worker, 'accepted']]);
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${task}`)).assignment_status).toBe('assigned');
  });

  it('leaves the reservation pending on an empty answer', async () => {
    receiver.respond = () => ({ status: 200, body: '' });
    const { task, worker } = await taskFor('Bob');
    expect(await h.offers(s, task)).toEqual([[worker, 'pending']]);
  });

  it('rejects with the activity the answer names, as the Reservation update does', async () => {
    receiver.respond = () => ({
      status: 200,
      body: JSON.stringify({ instruction: 'reject', activity_sid: s.busy }),
    });
    const { task, worker } = await taskFor('Cy');
    expect((await h.offers(s, task))[0]).toEqual([worker, 'rejected']);
    expect((await h.get(`/v1/Workspaces/${s.ws}/Workers/${worker}`)).activity_sid).toBe(s.busy);
    // Otherwise the rejected task waits, and is offered to the next worker created available.
    await h.post(`/v1/Workspaces/${s.ws}/Tasks/${task}`, {
      AssignmentStatus: 'canceled',
      Reason: 'test over',
    });
  });

  it('records a dequeue instruction with its parameters and accepts', async () => {
    receiver.respond = () => ({
      status: 200,
      body: JSON.stringify({ instruction: 'dequeue', from: '+15550100', post_work_activity_sid: s.idle }),
    });
    const { task, worker } = await taskFor('Dee');
    expect(await h.offers(s, task)).toEqual([[worker, 'accepted']]);
  });
});
