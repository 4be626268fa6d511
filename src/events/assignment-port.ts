import type { Clock } from '../domain/clock.js';
import { taskAgeSeconds } from '../domain/tasks.js';
import type { Services } from '../services/index.js';
import type { Store } from '../services/ports/store.js';
import type { AssignmentPort } from './assignment-callbacks.js';

/**
 * Assignment callbacks over routing: a pending reservation's task, worker and workflow from
 * the store, and an answer applied through the Reservation update (the same service call, so
 * exactly what `POST …/Reservations/{WR}` with those parameters does).
 */
export function routingAssignmentPort(
  store: Store,
  services: Pick<Services, 'reservations'>,
  clock: Clock,
): AssignmentPort {
  return {
    async contextOf(e) {
      const reservation = await store.getReservation(e.workspaceSid, e.resourceSid);
      // Answered, timed out or gone already: there is nothing to ask about.
      if (!reservation || reservation.reservationStatus !== 'pending') return null;
      const task = await store.getTask(e.workspaceSid, reservation.taskSid);
      if (!task || task.workflowSid === null) return null;
      const workflow = await store.getWorkflow(e.workspaceSid, task.workflowSid);
      if (!workflow?.assignmentCallbackUrl) return null;
      const worker = await store.getWorker(e.workspaceSid, reservation.workerSid);
      return {
        accountSid: reservation.accountSid,
        workspaceSid: reservation.workspaceSid,
        workflowSid: workflow.sid,
        taskQueueSid: task.taskQueueSid,
        taskSid: task.sid,
        taskAgeSeconds: taskAgeSeconds(task, clock.now()),
        taskPriority: task.priority,
        taskAttributes: task.attributes,
        workerSid: reservation.workerSid,
        workerAttributes: worker?.attributes ?? '{}',
        reservationSid: reservation.sid,
        assignmentCallbackUrl: workflow.assignmentCallbackUrl,
        fallbackAssignmentCallbackUrl: workflow.fallbackAssignmentCallbackUrl,
      };
    },
    async apply(c, instruction) {
      await services.reservations.update(
        c.accountSid,
        c.workspaceSid,
        { taskSid: c.taskSid },
        c.reservationSid,
        {
          instruction: instruction.instruction,
          instructionParameters: instruction.parameters,
          ...(instruction.workerActivitySid === undefined
            ? {}
            : { workerActivitySid: instruction.workerActivitySid }),
        },
        undefined,
      );
    },
  };
}
