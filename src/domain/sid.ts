import { randomBytes } from 'node:crypto';

export const SidPrefix = {
  account: 'AC',
  workspace: 'WS',
  activity: 'WA',
  taskChannel: 'TC',
  worker: 'WK',
  workerChannel: 'WC',
  taskQueue: 'WQ',
  workflow: 'WW',
  task: 'WT',
  reservation: 'WR',
  event: 'EV',
} as const;

export type SidPrefix = (typeof SidPrefix)[keyof typeof SidPrefix];

const SID_BODY = /^[0-9a-fA-F]{32}$/;

export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString('hex');
}

export function isSid(value: string, prefix: SidPrefix): boolean {
  return value.length === 34 && value.startsWith(prefix) && SID_BODY.test(value.slice(2));
}

export function newAuthToken(): string {
  return randomBytes(16).toString('hex');
}
