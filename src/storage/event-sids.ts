import { isSid, SidPrefix } from '../domain/sid.js';

/**
 * An event's SID is derived from its id in the log and its workspace's SID, so the log stores no
 * SID column and keeps no unique index on one (a random SID per event cost a column and an index
 * insert at a random place on every append). EV, then 32 hex digits: the id (under 2^53) through
 * a 4-round Feistel network keyed by the workspace's SID, then a 64-bit check of both. Distinct
 * per event of a database (the network is a bijection), unlike another workspace's SIDs, and
 * read back to the id by `eventIdOfSid`, which refuses any SID this function did not make for
 * that workspace. Events logged before migration 015 keep the random SID stored with them.
 */
export function eventSid(id: number, workspaceSid: string): string {
  const k = keys(workspaceSid);
  let l = Math.floor(id / 2 ** 32) >>> 0;
  let r = id >>> 0;
  for (let i = 0; i < 4; i++) [l, r] = [r, (l ^ fmix32(r ^ k[i]!)) >>> 0];
  const c1 = fmix32(l ^ k[2]! ^ 0x9e3779b9);
  const c2 = fmix32(r ^ k[3]! ^ c1);
  return SidPrefix.event + hex8(l) + hex8(r) + hex8(c1) + hex8(c2);
}

/** The log id an event SID stands for in this workspace; null for a SID `eventSid` did not make. */
export function eventIdOfSid(sid: string, workspaceSid: string): number | null {
  if (!isSid(sid, SidPrefix.event)) return null;
  const k = keys(workspaceSid);
  let l = parseInt(sid.slice(2, 10), 16);
  let r = parseInt(sid.slice(10, 18), 16);
  for (let i = 3; i >= 0; i--) [l, r] = [(r ^ fmix32(l ^ k[i]!)) >>> 0, l];
  if (l >= 2 ** 21) return null;
  const id = l * 2 ** 32 + r;
  return id > 0 && eventSid(id, workspaceSid) === sid ? id : null;
}

/** The workspace SID's four 32-bit words (zeros for a malformed one). */
function keys(workspaceSid: string): number[] {
  const k = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) k[i] = parseInt(workspaceSid.slice(2 + 8 * i, 10 + 8 * i), 16) >>> 0 || 0;
  return k;
}

/** MurmurHash3's 32-bit finalizer: the Feistel rounds' function. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
