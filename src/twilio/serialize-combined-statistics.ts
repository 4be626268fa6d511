/** What names the resource in a statistics body; the combined body carries it once, outside. */
const IDENTITY = new Set([
  'account_sid',
  'workspace_sid',
  'task_queue_sid',
  'workflow_sid',
  'worker_sid',
  'url',
]);

function figures(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!IDENTITY.has(key)) out[key] = value;
  return out;
}

/**
 * A combined `Statistics` body: the resource's CumulativeStatistics and RealTimeStatistics
 * answers under `cumulative` and `realtime`, as Twilio nests them, with the identity fields once
 * at the top (and the URL, where the resource has one: list items have none).
 */
export function combinedStatisticsJson(
  cumulative: Record<string, unknown>,
  realtime: Record<string, unknown>,
  identity: Record<string, string>,
  url?: string,
) {
  return {
    ...identity,
    cumulative: figures(cumulative),
    realtime: figures(realtime),
    ...(url === undefined ? {} : { url }),
  };
}
