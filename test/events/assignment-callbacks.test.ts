import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { AssignmentCallbacks, type AssignmentOutcome } from '../../src/events/assignment-callbacks.js';
import type { DomainEvent, Store } from '../../src/services/ports/store.js';
import {
  parseAssignmentAnswer,
  type AssignmentContext,
  type AssignmentInstruction,
} from '../../src/twilio/assignment.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { Receiver } from './receiver.js';

/**
 * Assignment callbacks against a real receiver and a stand-in for routing (AssignmentPort):
 * what is POSTed and how it is signed, the fallback URL, and every kind of answer.
 */
let dir: string;
let store: Store;
let primary: Receiver;
let fallback: Receiver;
const account = { sid: newSid(SidPrefix.account), token: newAuthToken() };
const workspaceSid = newSid(SidPrefix.workspace);
const workflowSid = newSid(SidPrefix.workflow);
const applied: { context: AssignmentContext; instruction: AssignmentInstruction }[] = [];
const outcomes: AssignmentOutcome[] = [];
let urls: { primary: string | null; fallback: string | null };
let callbacks: AssignmentCallbacks;

const context = (e: DomainEvent): AssignmentContext => ({
  accountSid: e.accountSid,
  workspaceSid: e.workspaceSid,
  workflowSid: 'WW' + 'a'.repeat(32),
  taskQueueSid: 'WQ' + 'b'.repeat(32),
  taskSid: e.data.task_sid as string,
  taskAgeSeconds: 12,
  taskPriority: 5,
  taskAttributes: '{"type":"support"}',
  workerSid: e.data.worker_sid as string,
  workerAttributes: '{"skills":["en"]}',
  reservationSid: e.resourceSid,
  assignmentCallbackUrl: urls.primary,
  fallbackAssignmentCallbackUrl: urls.fallback,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-assign-'));
  store = openTestStore(dir);
  await store.transaction((tx) =>
    tx.upsertAccount({ sid: account.sid, authToken: account.token }, new Date()),
  );
  // A workflow with an AssignmentCallbackUrl: its reservations are queued for a callback.
  await store.transaction((tx) =>
    tx.insertWorkflow({
      sid: workflowSid,
      accountSid: account.sid,
      workspaceSid,
      friendlyName: 'Called back',
      configuration: '{"task_routing":{"filters":[]}}',
      assignmentCallbackUrl: 'http://127.0.0.1:9/stands-in',
      fallbackAssignmentCallbackUrl: null,
      taskReservationTimeout: 120,
      now: new Date(),
    }),
  );
  primary = await new Receiver().start('/assign');
  fallback = await new Receiver().start('/assign-fallback');
  urls = { primary: primary.url, fallback: fallback.url };
  callbacks = new AssignmentCallbacks(
    {
      store,
      port: {
        contextOf: async (e) => context(e),
        apply: async (c, instruction) => {
          if (c.taskSid === 'WT' + 'f'.repeat(32)) throw new Error('Reservation is no longer pending');
          applied.push({ context: c, instruction });
        },
      },
      onOutcome: (_e, o) => outcomes.push(o),
    },
    { timeoutMs: 5_000 },
  );
  callbacks.start();
});
afterAll(async () => {
  await callbacks.stop();
  await primary.close();
  await fallback.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Commits a reservation.created (as routing would) and waits for its callback to be over. */
async function reserve(taskSid = newSid(SidPrefix.task)): Promise<AssignmentOutcome> {
  const before = outcomes.length;
  await store.transaction((tx) =>
    tx.appendEvent({
      type: 'reservation.created',
      accountSid: account.sid,
      workspaceSid,
      resourceType: 'Reservation',
      resourceSid: newSid(SidPrefix.reservation),
      actor: 'system',
      timeMs: Date.parse('2026-03-01T00:00:00Z'),
      data: {
        task_sid: taskSid,
        worker_sid: newSid(SidPrefix.worker),
        workflow_sid: workflowSid,
        reservation_status: 'pending',
      },
    }),
  );
  await callbacks.idle();
  expect(outcomes.length).toBe(before + 1);
  return outcomes.at(-1)!;
}

describe(`assignment callbacks (${testBackend()})`, () => {
  it("POSTs Twilio's parameters, signed, and applies an accept", async () => {
    primary.respond = () => ({ status: 200, body: '{"instruction":"accept"}' });
    const outcome = await reserve();
    expect(outcome).toMatchObject({
      kind: 'applied',
      instruction: { instruction: 'accept', parameters: {} },
    });
    const r = primary.received.at(-1)!;
    expect(Object.keys(r.params).sort()).toEqual(
      [
        'AccountSid',
        'ReservationSid',
        'TaskAge',
        'TaskAttributes',
        'TaskPriority',
        'TaskQueueSid',
        'TaskSid',
        'WorkerAttributes',
        'WorkerSid',
        'WorkflowSid',
        'WorkspaceSid',
      ].sort(),
    );
    expect(r.params).toMatchObject({
      TaskAge: '12',
      TaskPriority: '5',
      TaskAttributes: '{"type":"support"}',
    });
    expect(
      twilio.validateRequest(account.token, r.headers['x-twilio-signature'] as string, primary.url, r.params),
    ).toBe(true);
    expect(applied.at(-1)!.context.reservationSid).toBe(r.params.ReservationSid);
  });

  it('applies reject with its activity, and the voice instructions with their parameters', async () => {
    primary.respond = () => ({
      status: 200,
      body: '{"instruction":"reject","activity_sid":"WA' + '1'.repeat(32) + '"}',
    });
    expect(await reserve()).toMatchObject({
      kind: 'applied',
      instruction: { instruction: 'reject', workerActivitySid: 'WA' + '1'.repeat(32), parameters: {} },
    });
    primary.respond = () => ({
      status: 200,
      body: JSON.stringify({
        instruction: 'dequeue',
        from: '+15550100',
        post_work_activity_sid: 'WA' + '2'.repeat(32),
      }),
    });
    expect((await reserve()) as { instruction: AssignmentInstruction }).toMatchObject({
      instruction: {
        instruction: 'dequeue',
        parameters: { DequeueFrom: '+15550100', DequeuePostWorkActivitySid: 'WA' + '2'.repeat(32) },
      },
    });
    primary.respond = () => ({
      status: 200,
      body: JSON.stringify({
        instruction: 'call',
        url: 'https://x.test/twiml',
        to: '+15550101',
        from: '+15550100',
        accept: true,
      }),
    });
    expect(await reserve()).toMatchObject({
      instruction: {
        instruction: 'call',
        parameters: {
          CallUrl: 'https://x.test/twiml',
          CallTo: '+15550101',
          CallFrom: '+15550100',
          CallAccept: 'true',
        },
      },
    });
  });

  it('leaves the reservation pending on an empty 200, and says so of an answer it cannot read', async () => {
    const before = applied.length;
    primary.respond = () => ({ status: 200, body: '' });
    expect(await reserve()).toMatchObject({ kind: 'pending' });
    primary.respond = () => ({ status: 200, body: 'not json' });
    expect(await reserve()).toMatchObject({ kind: 'invalid', why: 'the answer is not JSON' });
    primary.respond = () => ({ status: 200, body: '{"instruction":"teleport"}' });
    expect(await reserve()).toMatchObject({ kind: 'invalid' });
    expect(applied.length).toBe(before);
  });

  it('falls back to FallbackAssignmentCallbackUrl when the first fails, and gives up when both do', async () => {
    primary.respond = () => ({ status: 500 });
    fallback.respond = () => ({ status: 200, body: '{"instruction":"accept"}' });
    const fallbackBefore = fallback.received.length;
    expect(await reserve()).toMatchObject({ kind: 'applied', url: fallback.url });
    expect(fallback.received.length).toBe(fallbackBefore + 1);
    const r = fallback.received.at(-1)!;
    expect(
      twilio.validateRequest(
        account.token,
        r.headers['x-twilio-signature'] as string,
        fallback.url,
        r.params,
      ),
    ).toBe(true);
    fallback.respond = () => ({ status: 503 });
    expect(await reserve()).toEqual({ kind: 'failed', error: 'HTTP 503' });
    urls.fallback = null;
    urls.primary = 'http://127.0.0.1:1/closed';
    expect(await reserve()).toMatchObject({ kind: 'failed' });
    urls = { primary: primary.url, fallback: fallback.url };
  });

  it('reports an answer routing refuses (the reservation moved on meanwhile)', async () => {
    primary.respond = () => ({ status: 200, body: '{"instruction":"accept"}' });
    expect(await reserve('WT' + 'f'.repeat(32))).toMatchObject({
      kind: 'rejected-by-routing',
      error: 'Reservation is no longer pending',
    });
  });
});

describe('parseAssignmentAnswer', () => {
  it.each([
    ['', { kind: 'none' }],
    ['   ', { kind: 'none' }],
    ['{}', { kind: 'none' }],
    ['[1]', { kind: 'invalid', why: 'the answer is not a JSON object' }],
    [
      '{"instruction":"ACCEPT"}',
      { kind: 'instruction', instruction: { instruction: 'accept', parameters: {} } },
    ],
    [
      '{"instruction":"redirect","call_sid":"CA1","url":"https://x.test","accept":true}',
      {
        kind: 'instruction',
        instruction: {
          instruction: 'redirect',
          parameters: { RedirectCallSid: 'CA1', RedirectUrl: 'https://x.test', RedirectAccept: 'true' },
        },
      },
    ],
    [
      '{"instruction":"conference","from":"+1","post_work_activity_sid":"WA1","timeout":30}',
      {
        kind: 'instruction',
        instruction: {
          instruction: 'conference',
          parameters: { From: '+1', PostWorkActivitySid: 'WA1', Timeout: '30' },
        },
      },
    ],
  ])('%s', (body, expected) => {
    expect(parseAssignmentAnswer(body)).toEqual(expected);
  });
});
