// The client against a scripted WebSocket server: auth, requests and their
// rids, errors, events, the escape hatch. The client uses Node's own
// WebSocket (run with --experimental-websocket on Node 20), the same API a
// browser has.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchdClient, MatchdError, PROTOCOL } from '../matchd.js';
import { T, client, connected, next, server } from './helpers.js';

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

test('requests without a session reject at once with DISCONNECTED', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const err = await c.ping().then(() => assert.fail('resolved'), (e) => e);
  assert.equal(err.code, 'DISCONNECTED');
  assert.equal(c.raw({ type: 'ping' }), false);
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
  assert.throws(() => new MatchdClient({ urls: ['not a url'], playerId: 'a' }), /not a URL/);
  assert.throws(() => new MatchdClient({ urls: ['ftp://x/ws'], playerId: 'a' }), /want a ws:/);
  const saved = globalThis.WebSocket;
  try {
    globalThis.WebSocket = undefined;
    assert.throws(() => new MatchdClient({ urls: ['ws://x/ws'], playerId: 'a' }), /--experimental-websocket/);
  } finally {
    globalThis.WebSocket = saved;
  }
});
