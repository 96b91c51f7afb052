/**
 * Server-sent event streams: a stream re-checks its caller's access (a removed member's
 * or a revoked token's stream ends), a token may hold only so many streams at once, and a client that does not
 * read is dropped instead of having the server buffer for it without bound. The service listens on a real port
 * here: backpressure exists only on a real socket.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/types.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, TEST_AUTH_FAILURE_LIMIT, type TestService } from '../helpers/service.ts';
import { until } from '../helpers/wait.ts';

/** A batch scheduled an hour ahead: its stream would stay open for that hour. */
async function scheduledBatch(
  s: TestService,
  ws: string,
  token: string,
  vendor = 'v',
  comment?: string,
): Promise<string> {
  const api = s.client(token);
  const items = await api.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, { items: [{ title: 'a' }] });
  assert.equal(items.status, 201, JSON.stringify(items.body));
  const b = await api.post(`/api/v1/workspaces/${ws}/batches`, {
    operation: 'update',
    fields: { vendor },
    ...(comment !== undefined ? { comment } : {}),
    target: { ids: items.body.ids },
    start_at: new Date(Date.now() + 3_600_000).toISOString(),
  });
  assert.equal(b.status, 202, JSON.stringify(b.body));
  return b.body.id;
}

interface Stream {
  status: Promise<number>;
  /** Resolves with everything received once the server ends the stream. */
  ended: Promise<string>;
  socket: Socket;
}

/** A raw HTTP/1.1 request for an event stream, read (or not) as the test says. */
function openStream(base: URL, path: string, token: string, { read = true } = {}): Stream {
  const socket = connect(Number(base.port), base.hostname);
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${base.host}\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  let text = '';
  let resolveStatus: (n: number) => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const ended = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });
  const onData = (chunk: Buffer) => {
    text += chunk.toString('latin1');
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (m) resolveStatus(Number(m[1]));
    if (!read) {
      // Stop reading after the headers: the kernel buffers fill, then the server's.
      socket.off('data', onData);
      socket.pause();
    }
  };
  socket.on('data', onData);
  return { status, ended, socket };
}

/** `p`, or a failure after a bound far above what it should take (a failing test ends; a passing one never waits for it). */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000)),
  );
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}

describeEachDialect('event streams', (dialect) => {
  let s: TestService;
  let app: App;
  let base: URL;
  let ws: string;
  const serverSockets = new Set<Socket>();

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    // Streams re-check access every 20 ms, a stalled one is dropped after 200 ms, and progress is written as
    // fast as the loop goes, so a client that does not read fills its buffers at once.
    app = await buildApp({
      ctx: s.db.ctx,
      engine: s.engine,
      authFailureLimit: TEST_AUTH_FAILURE_LIMIT,
      sse: { maxPerToken: 3, recheckMs: 20, stallMs: 200, progressMs: 0, minGapMs: 0 },
    });
    app.server.on('connection', (c: Socket) => {
      serverSockets.add(c);
      c.on('close', () => serverSockets.delete(c));
    });
    base = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
    ws = (await s.root.post('/api/v1/workspaces', { name: 'Streams' })).body.id;
    assert.equal((await s.root.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS)).status, 201);
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  it("ends a removed member's stream, and a revoked token's", async () => {
    const { user, api } = await s.user('watcher', ws, 'member');
    const id = await scheduledBatch(s, ws, api.token);
    const removed = openStream(base, `/api/v1/workspaces/${ws}/batches/${id}/events`, api.token);
    assert.equal(await removed.status, 200);
    assert.equal((await s.root.delete(`/api/v1/workspaces/${ws}/members/${user.id}`)).status, 204);
    const text = await within(removed.ended, "the removed member's stream to end");
    assert.match(text, /event: error\ndata: .*WORKSPACE_NOT_FOUND/);

    const other = await s.user('other', ws, 'member');
    const revoked = openStream(base, `/api/v1/workspaces/${ws}/batches/${id}/events`, other.api.token);
    assert.equal(await revoked.status, 200);
    const tokenId = (await other.api.get(`/api/v1/users/${other.user.id}/tokens`)).body.tokens[0].id;
    assert.equal((await other.api.delete(`/api/v1/users/${other.user.id}/tokens/${tokenId}`)).status, 204);
    assert.match(
      await within(revoked.ended, "the revoked token's stream to end"),
      /event: error\ndata: .*UNAUTHENTICATED/,
    );
  });

  it('caps the streams one token holds open: TOO_MANY_STREAMS past it, and a closed one frees its place', async () => {
    const { api } = await s.user('greedy', ws, 'member');
    const id = await scheduledBatch(s, ws, api.token);
    const path = `/api/v1/workspaces/${ws}/batches/${id}/events`;
    const open = [
      openStream(base, path, api.token),
      openStream(base, path, api.token),
      openStream(base, path, api.token),
    ];
    for (const o of open) assert.equal(await o.status, 200);
    const refused = await fetch(new URL(path, base), { headers: { authorization: `Bearer ${api.token}` } });
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as any).error.code, 'TOO_MANY_STREAMS');
    // Another token of another user is not affected.
    const { api: someone } = await s.user('someone', ws, 'member');
    const theirs = openStream(base, path, someone.token);
    assert.equal(await theirs.status, 200);
    theirs.socket.destroy();
    open[0]!.socket.destroy();
    await within(open[0]!.ended, 'the closed stream');
    // The server notices the close on its next write; then a new stream is taken.
    const status = await until(
      'a new stream taken',
      async () => {
        const next = openStream(base, path, api.token);
        const answer = await within(next.status, 'an answer');
        if (answer === 200) next.socket.destroy();
        return answer;
      },
      (answer) => answer === 200,
      { timeoutMs: 30_000, pollMs: 20 },
    );
    assert.equal(status, 200);
    for (const o of open) o.socket.destroy();
  });

  it('drops a client that does not read, with the server buffering a bounded amount', async () => {
    const { api } = await s.user('slow', ws, 'member');
    // Events of ~20 KB (the batch carries its fields and comment), so the socket's buffers fill in few of them.
    const id = await scheduledBatch(s, ws, api.token, 'v'.repeat(16_000), 'c'.repeat(4000));
    const before = new Set(serverSockets);
    const slow = openStream(base, `/api/v1/workspaces/${ws}/batches/${id}/events`, api.token, { read: false });
    assert.equal(await slow.status, 200);
    const mine = [...serverSockets].find((c) => !before.has(c));
    assert.ok(mine, 'the server side of the connection');
    let most = 0;
    let closed = false;
    mine.on('close', () => (closed = true));
    // Either the server drops the stream, or its buffer for this client grows past 1 MB: the old behaviour.
    await until(
      'the stream dropped or its buffer past 1 MB',
      () => {
        most = Math.max(most, mine.writableLength);
        return closed || most > 1024 * 1024;
      },
      Boolean,
      { timeoutMs: 30_000, pollMs: 10 },
    );
    assert.ok(closed, `the server kept buffering for a client that does not read (${most} bytes)`);
    assert.ok(most < 64 * 1024, `buffered at most ${most} bytes`);
    slow.socket.destroy();
  });
});
