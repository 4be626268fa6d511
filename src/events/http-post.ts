/** What one POST to a callback URL came to: a status and a body, or an error before any. */
export type PostResult = { ok: true; status: number; body: string } | { ok: false; error: string };

/**
 * POSTs with a deadline. Never throws: a refused connection, a timeout or an abort is an
 * outcome like a 500, and the caller decides what follows.
 */
export async function postForm(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  stop?: AbortSignal,
): Promise<PostResult> {
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (stop) signals.push(stop);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any(signals),
    });
    // Read at most what an instruction needs; the rest is dropped.
    const text = (await res.text()).slice(0, 64 * 1024);
    return { ok: true, status: res.status, body: text };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { ok: false, error: `no answer within ${timeoutMs} ms` };
    if (e.name === 'AbortError') return { ok: false, error: 'stopped' };
    return { ok: false, error: e.cause?.code ?? e.message };
  }
}
