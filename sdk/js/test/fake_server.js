// A minimal WebSocket server (RFC 6455) on node:http for the client's tests:
// enough of the protocol to speak to a real WebSocket client (text frames,
// close, ping), and hooks to script a matchd node: refuse handshakes, send
// frames, close with a code, or cut the TCP connection as a killed node
// would.

import { createServer } from 'node:http';
import { createHash } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One accepted client connection. */
export class FakeConn {
  constructor(socket, req) {
    this.socket = socket;
    this.req = req;
    const u = new URL(req.url, 'http://x');
    this.path = u.pathname;
    this.query = u.searchParams;
    this.protocol = null;
    this.frames = []; // client frames, parsed JSON (or {raw} when not JSON)
    this.closed = false;
    this.closeCode = null;
    this._buf = Buffer.alloc(0);
    this._read = 0;
    this._waiters = [];
    this._closeWaiters = [];
    socket.on('data', (d) => this._onData(d));
    socket.on('close', () => this._onSocketClose());
    socket.on('error', () => {});
  }

  /** Sends a text frame holding obj as JSON (a string verbatim). */
  send(obj) {
    this._write(0x1, Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)));
  }

  /** Sends the matchd welcome for this connection's player. */
  welcome(state = { name: 'idle', since_ms: 1 }, extra = {}) {
    this.send({
      type: 'welcome', protocol: 'matchd.v1', session_id: 's-' + Math.random().toString(16).slice(2),
      player_id: this.query.get('player_id') ?? 'jwt-player', node_id: 'fake', server_time_ms: Date.now(), state, ...extra,
    });
  }

  /** Sends a close frame with code and reason, then ends the TCP connection. */
  close(code = 1000, reason = '') {
    if (this.closed) return;
    const r = Buffer.from(reason);
    const p = Buffer.alloc(2 + r.length);
    p.writeUInt16BE(code, 0);
    r.copy(p, 2);
    this._write(0x8, p);
    this.socket.end();
  }

  /** Cuts the connection with no close frame, as a killed process would. */
  destroy() {
    this.socket.destroy();
  }

  /** Resolves with the next client frame (already received or not). */
  next() {
    if (this._read < this.frames.length) return Promise.resolve(this.frames[this._read++]);
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  /** Resolves when the TCP connection is gone. */
  waitClosed() {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this._closeWaiters.push(resolve));
  }

  _write(opcode, payload) {
    if (this.socket.destroyed) return;
    let head;
    if (payload.length < 126) {
      head = Buffer.from([0x80 | opcode, payload.length]);
    } else if (payload.length < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(payload.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  _onData(d) {
    this._buf = Buffer.concat([this._buf, d]);
    for (;;) {
      const b = this._buf;
      if (b.length < 2) return;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskOff + (i % 4)];
      this._buf = b.subarray(off + len);
      this._onFrame(opcode, payload);
    }
  }

  _onFrame(opcode, payload) {
    switch (opcode) {
      case 0x1: {
        const text = payload.toString('utf8');
        let f;
        try { f = JSON.parse(text); } catch { f = { raw: text }; }
        this.frames.push(f);
        const w = this._waiters.shift();
        if (w) w(this.frames[this._read++]);
        return;
      }
      case 0x8:
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (!this.closed) this._write(0x8, payload.subarray(0, 2));
        this.socket.end();
        return;
      case 0x9:
        this._write(0xa, payload);
    }
  }

  _onSocketClose() {
    this.closed = true;
    for (const w of this._closeWaiters.splice(0)) w();
  }
}

/**
 * Starts a server on a free loopback port. handshake(req) may return an
 * HTTP status to refuse the upgrade with; by default every upgrade to /ws
 * is accepted and offered matchd.v1 when the client asks for it.
 */
export async function startFakeServer({ handshake } = {}) {
  const server = createServer((_req, res) => { res.writeHead(404); res.end(); });
  const conns = [];
  const connWaiters = [];
  const unclaimed = [];
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  let handshakes = 0;
  server.on('upgrade', (req, socket) => {
    handshakes++;
    const status = handshake?.(req);
    if (status) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"code":"UNAVAILABLE","message":"refused"}`);
      return;
    }
    const key = req.headers['sec-websocket-key'];
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    const offered = (req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
    const conn = new FakeConn(socket, req);
    let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
    if (offered.includes('matchd.v1')) {
      conn.protocol = 'matchd.v1';
      head += 'Sec-WebSocket-Protocol: matchd.v1\r\n';
    }
    socket.write(head + '\r\n');
    conns.push(conn);
    const w = connWaiters.shift();
    if (w) w(conn);
    else unclaimed.push(conn);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    conns,
    get handshakes() { return handshakes; },
    /** Resolves with the next accepted connection. */
    nextConnection() {
      if (unclaimed.length > 0) return Promise.resolve(unclaimed.shift());
      return new Promise((resolve) => connWaiters.push(resolve));
    },
    /** Stops listening and cuts every connection. */
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
