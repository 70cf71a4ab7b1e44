// Shared by the client's tests: a scripted server per test, a client per
// test (both closed when it ends), and waiting for events.

import { MatchdClient } from '../matchd.js';
import { startFakeServer } from './fake_server.js';

export const T = { timeout: 10000 };

// next resolves with the next event of this type whose payload satisfies
// pred (the test's own timeout bounds the wait).
export function next(client, type, pred = () => true) {
  return new Promise((resolve) => {
    const off = client.on(type, (p) => {
      if (pred(p)) {
        off();
        resolve(p);
      }
    });
  });
}

export async function server(t, opts) {
  const s = await startFakeServer(opts);
  t.after(() => s.close());
  return s;
}

export function client(t, opts) {
  const c = new MatchdClient({ playerId: 'alice', rating: 1500, reconnect: { initialDelayMs: 5, maxDelayMs: 50 }, ...opts });
  t.after(() => c.close());
  return c;
}

// connected opens c against srv and returns the server side of the connection.
export async function connected(c, srv, state) {
  const [conn] = await Promise.all([srv.nextConnection().then((conn) => { conn.welcome(state); return conn; }), c.connect()]);
  return conn;
}
