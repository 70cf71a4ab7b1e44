// The client against a scripted WebSocket server: requests and their rids,
// errors, events, reconnect with backoff and resume. The client uses Node's
// own WebSocket (run with --experimental-websocket on Node 20), the same
// API a browser has.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchdClient, MatchdError, PROTOCOL } from '../matchd.js';
import { startFakeServer } from './fake_server.js';

const T = { timeout: 10000 };

// next resolves with the next event of this type whose payload satisfies
// pred (the test's own timeout bounds the wait).
function next(client, type, pred = () => true) {
  return new Promise((resolve) => {
    const off = client.on(type, (p) => {
      if (pred(p)) {
        off();
        resolve(p);
      }
    });
  });
}

async function server(t, opts) {
  const s = await startFakeServer(opts);
  t.after(() => s.close());
  return s;
}

function client(t, opts) {
  const c = new MatchdClient({ playerId: 'alice', rating: 1500, reconnect: { initialDelayMs: 5, maxDelayMs: 50 }, ...opts });
  t.after(() => c.close());
  return c;
}

// connected opens c against srv and returns the server side of the connection.
async function connected(c, srv, state) {
  const [conn] = await Promise.all([srv.nextConnection().then((conn) => { conn.welcome(state); return conn; }), c.connect()]);
  return conn;
}

test('insecure auth goes in the query, matchd.v1 is offered, connect resolves with the welcome', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url], deviceId: 'dev-1' });
  const welcomes = [];
  c.on('welcome', (w) => welcomes.push(w));
  const state = { name: 'queued', mode: 'duel', ticket_id: 't1', since_ms: 5 };
  const [conn, w] = await Promise.all([
    srv.nextConnection().then((conn) => { conn.welcome(state); return conn; }),
    c.connect(),
  ]);
  assert.equal(conn.path, '/ws');
  assert.equal(conn.query.get('player_id'), 'alice');
  assert.equal(conn.query.get('rating'), '1500');
  assert.equal(conn.query.get('device_id'), 'dev-1');
  assert.equal(conn.query.get('token'), null);
  assert.equal(conn.protocol, PROTOCOL);
  assert.equal(w.type, 'welcome');
  assert.deepEqual(c.state, state);
  assert.equal(c.welcome, w);
  assert.equal(c.connected, true);
  assert.equal(welcomes.length, 1);
  assert.equal(await c.connect(), w, 'connect on a live session resolves with its welcome');
});

test('a JWT goes in the token query parameter, fetched anew for every connection', T, async (t) => {
  const srv = await server(t);
  let n = 0;
  const c = client(t, { urls: [srv.url], playerId: undefined, token: async () => `jwt-${++n}` });
  const first = await connected(c, srv);
  assert.equal(first.query.get('token'), 'jwt-1');
  assert.equal(first.query.get('player_id'), null);
  first.destroy();
  const second = await srv.nextConnection();
  assert.equal(second.query.get('token'), 'jwt-2');
});

test('each request sends its frame with a fresh rid and resolves with the reply carrying it', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  const cases = [
    [() => c.enqueue('duel'), { type: 'enqueue', mode: 'duel' }, 'queued'],
    [() => c.enqueue('duel', { latencies: { eu: 20, us: 90 } }), { type: 'enqueue', mode: 'duel', latencies: { eu: 20, us: 90 } }, 'queued'],
    [() => c.cancel(), { type: 'cancel' }, 'dequeued'],
    [() => c.loadingComplete('m1'), { type: 'loading_complete', match_id: 'm1' }, 'loading_status'],
    [() => c.sync(), { type: 'sync' }, 'state'],
    [() => c.ping(), { type: 'ping' }, 'pong'],
    [() => c.partyCreate(), { type: 'party_create', open: false }, 'party'],
    [() => c.partyCreate({ open: true }), { type: 'party_create', open: true }, 'party'],
    [() => c.partyInvite('bob'), { type: 'party_invite', player_id: 'bob' }, 'party'],
    [() => c.partyJoin('p1'), { type: 'party_join', party_id: 'p1' }, 'party'],
    [() => c.partyLeave(), { type: 'party_leave' }, 'party_left'],
    [() => c.partyKick('bob'), { type: 'party_kick', player_id: 'bob' }, 'party'],
    [() => c.partyPromote('bob'), { type: 'party_promote', player_id: 'bob' }, 'party'],
  ];
  const rids = new Set();
  for (const [call, want, replyType] of cases) {
    const p = call();
    const got = await conn.next();
    const { rid, ...rest } = got;
    assert.equal(typeof rid, 'string', `${want.type}: rid`);
    assert.ok(rid.length > 0 && rid.length <= 64, `${want.type}: rid ${rid}`);
    assert.ok(!rids.has(rid), `${want.type}: rid ${rid} reused`);
    rids.add(rid);
    assert.deepEqual(rest, want);
    conn.send({ type: replyType, rid, marker: want.type });
    const reply = await p;
    assert.equal(reply.type, replyType);
    assert.equal(reply.rid, rid);
    assert.equal(reply.marker, want.type);
  }
});

test('replies resolve their own request whatever their order', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  const a = c.ping();
  const b = c.sync();
  const fa = await conn.next();
  const fb = await conn.next();
  conn.send({ type: 'state', rid: fb.rid, state: { name: 'idle', since_ms: 9 } });
  conn.send({ type: 'pong', rid: fa.rid, server_time_ms: 42 });
  assert.equal((await a).server_time_ms, 42);
  assert.equal((await b).state.since_ms, 9);
  assert.deepEqual(c.state, { name: 'idle', since_ms: 9 }, 'a state reply updates client.state');
});

test('an error reply rejects with a typed error carrying every field', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  const p = c.loadingComplete('m9');
  const f = await conn.next();
  const state = { name: 'queued', mode: 'duel', ticket_id: 't7', since_ms: 3 };
  conn.send({ type: 'error', rid: f.rid, code: 'INVALID_STATE', message: 'Not loading that match.', state,
    retry_after_ms: 1500, incident_id: 'inc-1', players: ['bob'] });
  const err = await p.then(() => assert.fail('resolved'), (e) => e);
  assert.ok(err instanceof MatchdError);
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'INVALID_STATE');
  assert.equal(err.message, 'Not loading that match.');
  assert.equal(err.retryAfterMs, 1500);
  assert.deepEqual(err.state, state);
  assert.equal(err.incidentId, 'inc-1');
  assert.deepEqual(err.players, ['bob']);
  assert.equal(err.rid, f.rid);
  assert.equal(err.fromServer, true);
  assert.equal(err.retryable, false);
  assert.deepEqual(c.state, state, 'INVALID_STATE carries the server view, the client adopts it');

  const q = c.enqueue('duel');
  const g = await conn.next();
  conn.send({ type: 'error', rid: g.rid, code: 'UNAVAILABLE', message: 'Try again.', retry_after_ms: 1000 });
  const unavailable = await q.then(() => assert.fail('resolved'), (e) => e);
  assert.equal(unavailable.retryable, true);
});

test('every server frame is emitted under its type and as frame', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  const types = ['queued', 'dequeued', 'match_found', 'loading_status', 'match_ready', 'match_cancelled', 'state',
    'pong', 'error', 'server_draining', 'party', 'party_invite', 'party_left', 'some_future_type'];
  const byType = [];
  const all = [];
  for (const ty of types) c.on(ty, (f) => byType.push(f));
  c.on('frame', (f) => all.push(f.type));
  const done = next(c, 'frame', (f) => f.type === 'some_future_type');
  conn.send('not json');
  conn.send({ no: 'type' });
  for (const ty of types) conn.send({ type: ty, n: ty, reconnect_after_ms: 0 });
  await done;
  assert.deepEqual(byType.map((f) => f.n), types);
  assert.deepEqual(all, types);
});

test('a listener that throws does not stop the others or later frames', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  const origError = console.error;
  const origReport = globalThis.reportError;
  const reported = [];
  globalThis.reportError = (e) => reported.push(e);
  console.error = (...a) => reported.push(a);
  t.after(() => { console.error = origError; globalThis.reportError = origReport; });
  c.on('queued', () => { throw new Error('listener bug'); });
  const seen = [];
  c.on('queued', (f) => seen.push(f.ticket_id));
  const second = next(c, 'queued', (f) => f.ticket_id === 't2');
  conn.send({ type: 'queued', ticket_id: 't1' });
  conn.send({ type: 'queued', ticket_id: 't2' });
  await second;
  assert.deepEqual(seen, ['t1', 't2']);
  assert.equal(reported.length, 2);
});

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

test('requests without a session reject at once with DISCONNECTED', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const err = await c.ping().then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'DISCONNECTED');
  assert.equal(c.raw({ type: 'ping' }), false);
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
  const srv = await server(t, { handshake: () => 503 });
  const c = client(t, { urls: [srv.url], reconnect: false });
  const err = await c.connect().then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'DISCONNECTED');
  assert.equal(srv.handshakes, 1);
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

test('a request with no reply rejects with TIMEOUT; a late reply is still emitted', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url], requestTimeoutMs: 30 });
  const conn = await connected(c, srv);
  const p = c.ping();
  const f = await conn.next();
  const err = await p.then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.retryable, true);
  const late = next(c, 'pong');
  conn.send({ type: 'pong', rid: f.rid, server_time_ms: 1 });
  assert.equal((await late).rid, f.rid);
});

test('raw sends a string verbatim and an object as JSON, adding no rid', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv);
  assert.equal(c.raw('{"type":"bogus"'), true);
  assert.equal(c.raw({ type: 'enqueue', mode: 'x', extra: 1 }), true);
  assert.deepEqual(await conn.next(), { raw: '{"type":"bogus"' });
  assert.deepEqual(await conn.next(), { type: 'enqueue', mode: 'x', extra: 1 });
});

test('an injected WebSocket constructor is used, http URLs become ws', T, async (t) => {
  const srv = await server(t);
  const made = [];
  class Recording extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      made.push([url, protocols]);
    }
  }
  const c = client(t, { urls: [srv.url.replace('ws:', 'http:')], WebSocket: Recording });
  await connected(c, srv);
  assert.equal(made.length, 1);
  assert.match(made[0][0], /^ws:\/\/127\.0\.0\.1:\d+\/ws\?player_id=alice&rating=1500$/);
  assert.deepEqual(made[0][1], [PROTOCOL]);
});

test('bad options are refused with a clear TypeError', () => {
  assert.throws(() => new MatchdClient({ playerId: 'a' }), /node URL/);
  assert.throws(() => new MatchdClient({ urls: ['ws://x/ws'] }), /token|playerId/);
  const saved = globalThis.WebSocket;
  try {
    globalThis.WebSocket = undefined;
    assert.throws(() => new MatchdClient({ urls: ['ws://x/ws'], playerId: 'a' }), /--experimental-websocket/);
  } finally {
    globalThis.WebSocket = saved;
  }
});
