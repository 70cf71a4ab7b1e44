// Parties as the client sees them: replies typed by the request, pushes
// from other members' changes as events, refusals naming players, the
// player's party in client.state, and the party frames that follow a
// welcome after a reconnect.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchdError } from '../matchd.js';
import { T, client, connected, next, server } from './helpers.js';

const party = (extra) => ({ type: 'party', party_id: 'pt-1', leader: 'alice', members: ['alice'], invited: [], open: false, max_size: 5, ...extra });

test('party replies resolve the request; state.party_id follows party and party_left frames', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv, { name: 'idle', since_ms: 1 });

  const created = c.partyCreate();
  const f = await conn.next();
  assert.deepEqual({ ...f, rid: undefined }, { type: 'party_create', open: false, rid: undefined });
  conn.send(party({ rid: f.rid }));
  const p = await created;
  assert.equal(p.party_id, 'pt-1');
  assert.deepEqual(p.members, ['alice']);
  assert.deepEqual(c.state, { name: 'idle', since_ms: 1, party_id: 'pt-1' });

  // Another member joined: pushed, no rid, emitted as 'party'.
  const pushed = next(c, 'party', (x) => x.rid === undefined);
  conn.send(party({ members: ['alice', 'bob'] }));
  assert.deepEqual((await pushed).members, ['alice', 'bob']);

  // A party_left for another party changes nothing; this party's clears it.
  const other = next(c, 'party_left', (x) => x.party_id === 'pt-9');
  conn.send({ type: 'party_left', party_id: 'pt-9', reason: 'kicked' });
  await other;
  assert.equal(c.state.party_id, 'pt-1');
  const left = c.partyLeave();
  const g = await conn.next();
  assert.equal(g.type, 'party_leave');
  conn.send({ type: 'party_left', rid: g.rid, party_id: 'pt-1', reason: 'left' });
  const l = await left;
  assert.equal(l.reason, 'left');
  assert.deepEqual(c.state, { name: 'idle', since_ms: 1 });
});

test('pushed invitations and kicks arrive as events', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url], playerId: 'bob' });
  const conn = await connected(c, srv, { name: 'idle', party_id: 'pt-1', since_ms: 1 });
  const invited = next(c, 'party_invite');
  const kicked = next(c, 'party_left');
  conn.send({ type: 'party_invite', party_id: 'pt-2', from: 'carol', expires_ms: 1764755060000 });
  conn.send({ type: 'party_left', party_id: 'pt-1', reason: 'kicked' });
  const inv = await invited;
  assert.equal(inv.from, 'carol');
  assert.equal(inv.expires_ms, 1764755060000);
  assert.equal((await kicked).reason, 'kicked');
  assert.equal(c.state.party_id, undefined);
});

test('a refused party enqueue rejects with the players concerned', T, async (t) => {
  const srv = await server(t);
  const c = client(t, { urls: [srv.url] });
  const conn = await connected(c, srv, { name: 'idle', party_id: 'pt-1', since_ms: 1 });
  for (const [code, players] of [['PARTY_NOT_READY', ['bob', 'carol']], ['BANNED', ['bob']], ['FORBIDDEN', undefined]]) {
    const p = c.enqueue('squad');
    const f = await conn.next();
    conn.send({ type: 'error', rid: f.rid, code, message: 'No.', players, retry_after_ms: code === 'BANNED' ? 60000 : undefined });
    const err = await p.then(() => assert.fail('resolved'), (e) => e);
    assert.ok(err instanceof MatchdError);
    assert.equal(err.code, code);
    assert.deepEqual(err.players, players);
    assert.equal(err.retryable, false);
  }
});

test('after a reconnect the welcome is followed by the party frames, which reach their events', T, async (t) => {
  const a = await server(t);
  const b = await server(t);
  const c = client(t, { urls: [a.url, b.url] });
  const connA = await connected(c, a, { name: 'idle', party_id: 'pt-1', since_ms: 1 });
  const seen = [];
  c.on('frame', (f) => seen.push(f.type));
  const got = next(c, 'party');
  connA.destroy();
  const connB = await b.nextConnection();
  connB.welcome({ name: 'queued', mode: 'squad', ticket_id: 't1', party_id: 'pt-1', since_ms: 2 });
  connB.send(party({ members: ['alice', 'bob'] }));
  const p = await got;
  assert.deepEqual(p.members, ['alice', 'bob']);
  assert.deepEqual(seen, ['welcome', 'party']);
  assert.deepEqual(c.state, { name: 'queued', mode: 'squad', ticket_id: 't1', party_id: 'pt-1', since_ms: 2 });

  // A player in no party is given its invitations after the welcome.
  const invite = next(c, 'party_invite');
  connB.destroy();
  const connA2 = await a.nextConnection();
  connA2.welcome({ name: 'idle', since_ms: 3 });
  connA2.send({ type: 'party_invite', party_id: 'pt-3', from: 'dave', expires_ms: 5 });
  assert.equal((await invite).party_id, 'pt-3');
  assert.equal(c.state.party_id, undefined);
});
