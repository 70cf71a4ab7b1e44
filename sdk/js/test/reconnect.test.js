// The client's life across dropped connections: backoff with jitter,
// rotation over the URLs, the server's hints (server_draining,
// retry_after_ms), resume from the new welcome, and the ends that are
// final (4001, close(), no reconnect).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T, client, connected, next, server } from './helpers.js';

test('a dropped connection rejects pending requests as retryable, reconnects to the next URL and resumes', T, async (t) => {
  const a = await server(t);
  const b = await server(t);
  const c = client(t, { urls: [a.url, b.url] });
  const connA = await connected(c, a, { name: 'idle', since_ms: 1 });
  const events = [];
  for (const ty of ['close', 'reconnecting', 'open', 'welcome']) c.on(ty, (p) => events.push(ty));
  const pending = c.enqueue('duel');
  await connA.next();
  const resumed = next(c, 'resumed');
  connA.destroy();
  const err = await pending.then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'DISCONNECTED');
  assert.equal(err.retryable, true);
  assert.equal(err.fromServer, false);
  const connB = await b.nextConnection();
  assert.equal(connB.query.get('player_id'), 'alice');
  const state = { name: 'queued', mode: 'duel', ticket_id: 't1', since_ms: 1 };
  connB.welcome(state);
  const r = await resumed;
  assert.deepEqual(r.state, state);
  assert.deepEqual(r.previousState, { name: 'idle', since_ms: 1 });
  assert.equal(r.welcome.type, 'welcome');
  assert.deepEqual(c.state, state);
  assert.equal(c.url, b.url);
  assert.deepEqual(events, ['close', 'reconnecting', 'open', 'welcome']);
  // The new connection serves requests.
  const p = c.ping();
  const f = await connB.next();
  connB.send({ type: 'pong', rid: f.rid, server_time_ms: 1 });
  assert.equal((await p).type, 'pong');
});

test('server_draining.reconnect_after_ms sets the least delay before the reconnect, to another node', T, async (t) => {
  const a = await server(t);
  const b = await server(t);
  const c = client(t, { urls: [a.url, b.url], random: () => 0, reconnect: { initialDelayMs: 5, maxDelayMs: 50, jitter: 0.5 } });
  const conn = await connected(c, a);
  const reconnecting = next(c, 'reconnecting');
  const closed = next(c, 'close');
  conn.send({ type: 'server_draining', reconnect_after_ms: 120 });
  conn.close(1012, 'node draining');
  const cl = await closed;
  assert.equal(cl.code, 1012);
  assert.equal(cl.wasConnected, true);
  assert.equal(cl.willReconnect, true);
  const r = await reconnecting;
  assert.equal(r.delayMs, 120, 'the hint, not the 5 ms backoff');
  assert.equal(r.url, b.url);
  (await b.nextConnection()).welcome();
  await next(c, 'resumed');
  // The hint was for that reconnect only.
  const again = next(c, 'reconnecting');
  b.conns[0].destroy();
  assert.equal((await again).delayMs, 5);
});

test('a herd told the same reconnect_after_ms is spread over half of it', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url], random: () => 1, reconnect: { initialDelayMs: 5, jitter: 0.5 } });
  const conn = await connected(c, srv);
  const reconnecting = next(c, 'reconnecting');
  conn.send({ type: 'server_draining', reconnect_after_ms: 200 });
  conn.close(1012, 'node draining');
  assert.equal((await reconnecting).delayMs, 300);
});

test('an unsolicited UNAVAILABLE before a close delays the reconnect by its retry_after_ms; a BANNED reply does not', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url], random: () => 0 });
  const conn = await connected(c, srv);
  const p = c.enqueue('duel');
  const f = await conn.next();
  conn.send({ type: 'error', rid: f.rid, code: 'BANNED', message: 'Banned.', retry_after_ms: 60000 });
  await p.catch(() => {});
  const r1 = next(c, 'reconnecting');
  conn.destroy();
  assert.equal((await r1).delayMs, 5, 'BANNED is about queueing, not the connection: the plain backoff');

  const conn2 = await srv.nextConnection();
  const errs = [];
  c.on('error', (e) => errs.push(e.code));
  const r2 = next(c, 'reconnecting');
  conn2.send({ type: 'error', code: 'UNAVAILABLE', message: 'Matchmaking is temporarily unavailable.', retry_after_ms: 150 });
  conn2.close(1011, 'unavailable');
  assert.equal((await r2).delayMs, 150);
  assert.deepEqual(errs, ['UNAVAILABLE']);
});

test('refused handshakes back off exponentially up to the cap, rotating over the URLs; a welcome resets the backoff', T, async (t) => {
  let refuse = 4;
  const a = await server(t, { handshake: () => (refuse-- > 0 ? 503 : 0) });
  const b = await server(t, { handshake: () => (refuse-- > 0 ? 503 : 0) });
  const c = client(t, { urls: [a.url, b.url], random: () => 0, reconnect: { initialDelayMs: 4, factor: 3, maxDelayMs: 40, jitter: 0.5 } });
  const seen = [];
  c.on('reconnecting', (r) => seen.push([r.attempt, r.delayMs, r.url]));
  const closes = [];
  c.on('close', (cl) => closes.push(cl.wasConnected));
  const w = c.connect();
  const conn = await a.nextConnection();
  conn.welcome();
  await w;
  assert.deepEqual(seen, [[1, 4, b.url], [2, 12, a.url], [3, 36, b.url], [4, 40, a.url]]);
  assert.deepEqual(closes, [false, false, false, false]);
  assert.equal(a.handshakes + b.handshakes, 5);
  const after = next(c, 'reconnecting');
  conn.destroy();
  assert.deepEqual(await after, { attempt: 1, delayMs: 4, url: b.url });
});

test('reconnect.maxAttempts bounds the tries and rejects connect', T, async (t) => {
  const srv = await server(t, { handshake: () => 503 });
  const c = client(t, { urls: [srv.url], reconnect: { initialDelayMs: 1, maxAttempts: 2 } });
  const err = await c.connect().then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'DISCONNECTED');
  assert.equal(srv.handshakes, 3, 'the first try and two reconnects');
});

test('without reconnect, a failed connect rejects and a drop stays dropped', T, async (t) => {
  const refusing = await server(t, { handshake: () => 503 });
  const c = client(t, { urls: [refusing.url], reconnect: false });
  const err = await c.connect().then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'DISCONNECTED');
  assert.equal(refusing.handshakes, 1);

  const srv = await server(t);
  const d = client(t, { urls: [srv.url], reconnect: false });
  let reconnects = 0;
  d.on('reconnecting', () => reconnects++);
  const conn = await connected(d, srv);
  const closed = next(d, 'close');
  conn.destroy();
  const cl = await closed;
  assert.equal(cl.wasConnected, true);
  assert.equal(cl.willReconnect, false);
  assert.equal(d.connected, false);
  assert.equal(reconnects, 0);
  // connect() starts again on demand.
  const again = d.connect();
  (await srv.nextConnection()).welcome();
  assert.equal((await again).type, 'welcome');
});

test('SESSION_REPLACED (close 4001) is final: no reconnect', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  let reconnects = 0;
  c.on('reconnecting', () => reconnects++);
  const errFrame = next(c, 'error');
  const closed = next(c, 'close');
  conn.send({ type: 'error', code: 'SESSION_REPLACED', message: 'Another connection took over.' });
  conn.close(4001, 'session replaced');
  assert.equal((await errFrame).code, 'SESSION_REPLACED');
  const cl = await closed;
  assert.equal(cl.code, 4001);
  assert.equal(cl.willReconnect, false);
  assert.equal(c.connected, false);
  const p = c.ping().catch((e) => e.code);
  assert.equal(await p, 'DISCONNECTED');
  assert.equal(reconnects, 0);
  assert.equal(srv.handshakes, 1);
});

test('close() rejects pending requests with CLOSED, closes 1000 and stops reconnecting', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  const p = c.sync();
  await conn.next();
  const closed = next(c, 'close');
  c.close();
  const err = await p.then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'CLOSED');
  assert.equal(err.retryable, false);
  const cl = await closed;
  assert.equal(cl.willReconnect, false);
  await conn.waitClosed();
  assert.equal(conn.closeCode, 1000);
  assert.equal((await c.connect().catch((e) => e)).code, 'CLOSED');
  assert.equal(srv.handshakes, 1);
});

test('a token function that fails is a failed attempt, retried with backoff', T, async (t) => {
  const srv = await server(t);
  let calls = 0;
  const c = client(t, {
    urls: [srv.url], playerId: undefined,
    token: async () => {
      if (++calls === 1) throw new Error('token service down');
      return 'jwt-ok';
    },
  });
  const seen = [];
  c.on('close', (e) => seen.push(e.reason));
  const w = c.connect();
  const conn = await srv.nextConnection();
  assert.equal(conn.query.get('token'), 'jwt-ok');
  conn.welcome();
  await w;
  assert.deepEqual(seen, ['token: token service down']);
  assert.equal(srv.handshakes, 1);
});
