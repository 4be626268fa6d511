import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SidPrefix } from '../../../domain/sid.js';
import { versionEtag } from '../../../domain/tasks.js';
import type { Reservation, ReservationStatus } from '../../../domain/types.js';
import type { ReservationView, UpdateReservationInput } from '../../../services/tasks.js';
import { listResponse } from '../../../twilio/pagination.js';
import { optionalEnum, optionalSid, parsePageQuery, type Params } from '../../../twilio/params.js';
import { toTaskReservationJson, toWorkerReservationJson } from '../../../twilio/serialize-routing.js';
import {
  bodyParams,
  echoFilters,
  listRequest,
  pathParams,
  pathSid,
  queryParams,
  type RouteDeps,
  workspaceOf,
} from '../../context.js';
import { ifMatchHeader } from './tasks.js';

const RESERVATION_STATUSES: readonly ReservationStatus[] = [
  'pending',
  'accepted',
  'rejected',
  'timeout',
  'canceled',
  'rescinded',
  'wrapping',
  'completed',
];
const INSTRUCTIONS = ['accept', 'reject', 'dequeue', 'call', 'redirect', 'conference'] as const;
/** The update's own parameters; every other one belongs to the instruction and is recorded with it. */
const OWN_PARAMETERS = new Set(['ReservationStatus', 'WorkerActivitySid', 'Instruction']);

function updateInput(b: Params): UpdateReservationInput {
  const instruction = optionalEnum(b, 'Instruction', INSTRUCTIONS);
  const instructionParameters: Record<string, string> = {};
  for (const [k, v] of Object.entries(b)) {
    if (OWN_PARAMETERS.has(k)) continue;
    instructionParameters[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return {
    status: optionalEnum(b, 'ReservationStatus', RESERVATION_STATUSES),
    workerActivitySid: optionalSid(b, 'WorkerActivitySid', SidPrefix.activity),
    ...(instruction === undefined ? {} : { instruction, instructionParameters }),
  };
}

/** Both views of reservations: a task's (/Tasks/{WT}/Reservations) and a worker's (/Workers/{WK}/Reservations). */
export function reservationRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { reservations } = deps.services;
  const views = [
    {
      base: '/v1/Workspaces/:WorkspaceSid/Tasks/:TaskSid/Reservations',
      view: (req: FastifyRequest): ReservationView => ({
        taskSid: pathSid(pathParams(req).TaskSid, SidPrefix.task, 'Task'),
      }),
      json: (r: Reservation) => toTaskReservationJson(r, deps.urls),
      filters: ['ReservationStatus', 'WorkerSid'] as const,
      workerFilter: true,
    },
    {
      base: '/v1/Workspaces/:WorkspaceSid/Workers/:WorkerSid/Reservations',
      view: (req: FastifyRequest): ReservationView => ({
        workerSid: pathSid(pathParams(req).WorkerSid, SidPrefix.worker, 'Worker'),
      }),
      json: (r: Reservation) => toWorkerReservationJson(r, deps.urls),
      filters: ['ReservationStatus'] as const,
      workerFilter: false,
    },
  ];
  for (const { base, view, json, filters, workerFilter } of views) {
    const sidOf = (req: FastifyRequest) => pathSid(pathParams(req).Sid, SidPrefix.reservation, 'Reservation');
    const send = (reply: FastifyReply, r: Reservation) => reply.header('ETag', versionEtag(r)).send(json(r));

    app.get(base, async (req) => {
      const ws = workspaceOf(req);
      const q = queryParams(req);
      const page = parsePageQuery(q);
      const status = optionalEnum(q, 'ReservationStatus', RESERVATION_STATUSES);
      const worker = workerFilter ? optionalSid(q, 'WorkerSid', SidPrefix.worker) : undefined;
      const v = view(req);
      const result = await reservations.list(
        req.accountSid,
        ws,
        worker === undefined ? v : { ...v, workerSid: worker },
        status,
        page,
      );
      return listResponse(
        'reservations',
        result,
        listRequest(req, deps, echoFilters(q, filters), page),
        json,
      );
    });

    app.get(`${base}/:Sid`, async (req, reply) =>
      send(reply, await reservations.fetch(req.accountSid, workspaceOf(req), view(req), sidOf(req))),
    );

    app.post(`${base}/:Sid`, async (req, reply) => {
      const ws = workspaceOf(req);
      const input = updateInput(bodyParams(req));
      const updated = await reservations.update(
        req.accountSid,
        ws,
        view(req),
        sidOf(req),
        input,
        ifMatchHeader(req),
      );
      return send(reply, updated);
    });
  }
}
