import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, formBody, type TestApp } from '../helpers/app.js';
import { expectTwilioError } from '../helpers/spec.js';

/** What matters on a real socket: body limits, timeouts, the connection cap. */
let t: TestApp;
let base: string;
let port: number;
let ws: string;
let worker: string;

const LIMITS = {
  requestTimeoutMs: 1000,
  headersTimeoutMs: 1000,
  keepAliveTimeoutMs: 1000,
  maxConnections: 20,
};

beforeAll(async () => {
  t = await createTestApp({ bodyLimitBytes: 1024, http: LIMITS });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Sockets' } })).json()
    .sid;
  worker = (
    await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: 'Ada' } })
  ).json().sid;
});
afterAll(() => t.close());

const form = { authorization: '', 'content-type': 'application/x-www-form-urlencoded' };

/** Resolves when the socket closes, whatever error came first (`once` would reject on one). */
function closeOf(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** A connection that sends a request head and the start of a body, then trickles a byte now and then. */
function trickler(): { socket: Socket; received: () => string; closed: Promise<unknown> } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1').on('data', (d: string) => (received += d));
  socket.on('error', () => undefined);
  socket.write(
    `POST /v1/Workspaces HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${t.account.auth}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nFriendlyName=',
  );
  const drip = setInterval(() => socket.write('a'), 200);
  const closed = closeOf(socket).finally(() => clearInterval(drip));
  return { socket, received: () => received, closed };
}

/** A GET on a connection of its own (no keep-alive pool), resolving to its status or the error code. */
function getAlone(path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, agent: false, headers: { authorization: t.account.auth } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

describe('a listening server', () => {
  it('holds ROSTER_BODY_LIMIT on a worker update: the client sees the 413, nothing is stored', async () => {
    const url = `${base}/v1/Workspaces/${ws}/Workers/${worker}`;
    const before = await (await fetch(url, { headers: { authorization: t.account.auth } })).text();
    for (const size of [3 * 1024, 4 * 1024 * 1024]) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...form, authorization: t.account.auth },
        body: formBody({ FriendlyName: 'x'.repeat(size) }),
      });
      expect(res.status, String(size)).toBe(413);
      expectTwilioError(await res.json(), 413, 20001);
    }
    // Streamed, with no Content-Length: refused once the limit is crossed.
    const chunk = new TextEncoder().encode('Attributes=' + '%7B'.repeat(2000));
    const streamed = await fetch(url, {
      method: 'POST',
      headers: { ...form, authorization: t.account.auth },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await (await fetch(url, { headers: { authorization: t.account.auth } })).text()).toBe(before);
    // A body within the limit still goes through.
    const ok = await fetch(url, {
      method: 'POST',
      headers: { ...form, authorization: t.account.auth },
      body: 'FriendlyName=Ada%20L',
    });
    expect(ok.status).toBe(200);
  });

  it('reads and drops the rest of a body after a 413, up to a bound, then closes', async () => {
    // Default timeouts: the body must not be cut short by the request timeout of the others.
    const roomy = await createTestApp({ bodyLimitBytes: 1024 });
    await roomy.app.listen({ host: '127.0.0.1', port: 0 });
    const roomyPort = (roomy.app.server.address() as AddressInfo).port;
    /** Sends a request head claiming `total` body bytes, then writes them while the server reads. */
    const post = async (socket: Socket, total: number, closed: Promise<void>) => {
      let open = true;
      void closed.then(() => (open = false));
      socket.write(
        `POST /v1/Workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: ${roomy.account.auth}\r\n` +
          `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${total}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      while (open && sent < total) {
        sent += chunk.length;
        // Once the server closes, writing fails (EPIPE, ECONNRESET): that is the end of it.
        if (!socket.write(chunk)) await Promise.race([once(socket, 'drain').catch(() => undefined), closed]);
      }
      return sent;
    };
    const open = () => {
      const socket = connect(roomyPort, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1').on('data', (d: string) => (received += d));
      socket.on('error', () => undefined);
      return { socket, received: () => received, closed: closeOf(socket) };
    };

    // Within the bound: the whole body is taken, and the connection serves the next request.
    const within = open();
    expect(await post(within.socket, 4 * 1024 * 1024, within.closed)).toBe(4 * 1024 * 1024);
    // Not ended by the client (Node drops a request whose connection the client half-closes).
    within.socket.write(
      `GET /v1/Workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: ${roomy.account.auth}\r\nConnection: close\r\n\r\n`,
    );
    await within.closed;
    expect(within.received()).toMatch(/^HTTP\/1\.1 413 [\s\S]*HTTP\/1\.1 200 /);

    // Past it: the 413 is sent, and the connection closed long before the body ends.
    const past = open();
    const total = 64 * 1024 * 1024;
    expect(await post(past.socket, total, past.closed)).toBeLessThan(total);
    await past.closed;
    expect(past.received()).toMatch(/^HTTP\/1\.1 413 /);
    await roomy.close();
  });

  it('times out trickling bodies, and serves a normal request meanwhile', async () => {
    const slow = Array.from({ length: 8 }, trickler);
    expect(await getAlone('/v1/Workspaces')).toBe(200);
    await Promise.all(slow.map((s) => s.closed));
    for (const s of slow) {
      expect(s.received()).toMatch(/^HTTP\/1\.1 408 /);
      expectTwilioError(JSON.parse(s.received().split('\r\n\r\n')[1]!), 408, 20408);
    }
    const names = (await t.request({ url: '/v1/Workspaces' }))
      .json()
      .workspaces.map((w: { friendly_name: string }) => w.friendly_name);
    expect(names).toEqual(['Sockets']);
  });

  it('caps connections, and the timeouts give every slot back', async () => {
    const slow = Array.from({ length: LIMITS.maxConnections }, trickler);
    await Promise.all(slow.map((s) => once(s.socket, 'connect')));
    // The server may not have counted the last one yet: wait until a newcomer is turned away.
    let refused: number | string = 200;
    while (refused === 200) refused = await getAlone('/v1/Workspaces');
    expect(refused).toMatch(/^(ECONNRESET|EPIPE|socket hang up)$/);
    await Promise.all(slow.map((s) => s.closed));
    expect(await getAlone('/v1/Workspaces')).toBe(200);
  });

  it("answers a request head over Node's 16 KB with a 431 in Twilio's shape, which the client reads", async () => {
    for (const [method, body] of [
      ['GET', ''],
      ['POST', 'FriendlyName=' + 'x'.repeat(200_000)],
      ['HEAD', ''],
    ] as const) {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          `${base}/v1/Workspaces`,
          {
            method,
            agent: false,
            headers: { ...form, authorization: t.account.auth, 'x-padding': 'p'.repeat(20 * 1024) },
          },
          (r) => {
            let text = '';
            r.setEncoding('utf8').on('data', (d: string) => (text += d));
            r.on('end', () => resolve({ status: r.statusCode!, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(res.status).toBe(431);
      if (method === 'HEAD') expect(res.body).toBe('');
      else expectTwilioError(JSON.parse(res.body), 431, 20431);
    }
  });
});
