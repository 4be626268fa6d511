import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../src/services/ports/store.js';
import { eventCallbackParams, eventData, toEventJson } from '../../src/twilio/events.js';

/**
 * Event data in Twilio's names for the events routing records (a task's fields, a
 * reservation's with its task's and worker's), as the Events resource and callbacks show them.
 */
const base = {
  id: 1,
  sid: 'EV' + '1'.repeat(32),
  accountSid: 'AC' + '1'.repeat(32),
  workspaceSid: 'WS' + '1'.repeat(32),
  actor: 'system',
  timeMs: Date.parse('2026-01-01T00:00:00Z'),
  sourceIp: null,
};
const task = {
  task_sid: 'WT' + '1'.repeat(32),
  attributes: '{"type":"support"}',
  assignment_status: 'canceled',
  age: 30,
  priority: 5,
  reason: 'hangup',
  timeout: 86400,
  task_queue_sid: 'WQ' + '1'.repeat(32),
  task_queue_friendly_name: 'Support',
  workflow_sid: 'WW' + '1'.repeat(32),
  workflow_friendly_name: 'Main',
  task_channel_sid: 'TC' + '1'.repeat(32),
  task_channel_unique_name: 'voice',
  version: 3,
};

describe('event data', () => {
  it("names a task's fields as Twilio does, in task and routing events", () => {
    const canceled: DomainEvent = {
      ...base,
      type: 'task.canceled',
      resourceType: 'Task',
      resourceSid: task.task_sid,
      data: task,
    };
    expect(eventData(canceled, 'WS name')).toEqual({
      task_sid: task.task_sid,
      task_attributes: '{"type":"support"}',
      task_assignment_status: 'canceled',
      task_age: '30',
      task_priority: '5',
      task_canceled_reason: 'hangup',
      task_timeout: '86400',
      task_queue_sid: task.task_queue_sid,
      task_queue_name: 'Support',
      workflow_sid: task.workflow_sid,
      workflow_name: 'Main',
      task_channel_sid: task.task_channel_sid,
      task_channel_unique_name: 'voice',
      workspace_sid: base.workspaceSid,
      workspace_name: 'WS name',
    });
    const entered: DomainEvent = {
      ...base,
      type: 'workflow.entered',
      resourceType: 'Workflow',
      resourceSid: task.workflow_sid,
      data: task,
    };
    expect(eventData(entered, 'WS name')).toMatchObject({
      workflow_sid: task.workflow_sid,
      task_attributes: task.attributes,
      task_age: '30',
    });
    const json = toEventJson(entered, 'WS name', { v1: 'http://roster.test/v1' });
    expect(json).toMatchObject({
      actor_type: 'workspace',
      actor_sid: base.workspaceSid,
      source: 'twilio',
      resource_type: 'workflow',
    });
  });

  it("names a reservation's fields, and posts them in PascalCase", () => {
    const created: DomainEvent = {
      ...base,
      type: 'reservation.created',
      resourceType: 'Reservation',
      resourceSid: 'WR' + '1'.repeat(32),
      data: {
        reservation_sid: 'WR' + '1'.repeat(32),
        reservation_status: 'pending',
        task_sid: task.task_sid,
        worker_sid: 'WK' + '1'.repeat(32),
        worker_name: 'Alice',
        task_attributes: '{}',
        task_age: 3,
        task_priority: 0,
        task_assignment_status: 'reserved',
        instruction: null,
        version: 0,
      },
    };
    const params = eventCallbackParams(created, 'WS name');
    expect(params).toMatchObject({
      EventType: 'reservation.created',
      ResourceType: 'Reservation',
      ReservationSid: 'WR' + '1'.repeat(32),
      ReservationStatus: 'pending',
      TaskSid: task.task_sid,
      WorkerSid: 'WK' + '1'.repeat(32),
      WorkerName: 'Alice',
      TaskAge: '3',
      TaskAssignmentStatus: 'reserved',
      WorkspaceName: 'WS name',
    });
    expect(params).not.toHaveProperty('Version');
    expect(toEventJson(created, 'x', { v1: 'http://r/v1' }).resource_url).toBe(
      `http://r/v1/Workspaces/${base.workspaceSid}/Tasks/${task.task_sid}/Reservations/${'WR' + '1'.repeat(32)}`,
    );
  });
});
