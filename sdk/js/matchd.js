// matchd JavaScript client: one ES module, no dependencies, for browsers and
// for Node (20 with `--experimental-websocket`, 22+, or any WebSocket
// constructor passed in). The wire contract is matchd.v1 (docs/protocol.md);
// this file maps it onto promises (requests, matched to replies by `rid`)
// and events (every frame the server sends), and keeps the session alive
// across dropped connections and draining nodes. It is one file on purpose:
// a game vendors it as is, and a page loads it as one asset (a relative
// import inside it would lose the query that /debug/play's assets need).

/** The WebSocket subprotocol the client offers. */
export const PROTOCOL = 'matchd.v1';

/** WebSocket close code of a session taken over by another connection. */
export const CLOSE_SESSION_REPLACED = 4001;

// Codes the client makes itself, for requests that got no reply from the
// server. They never appear on the wire.
const CLIENT_CODES = new Set(['DISCONNECTED', 'TIMEOUT', 'CLOSED']);

// Errors after which the same request may succeed if sent again later.
const RETRYABLE = new Set(['DISCONNECTED', 'TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED']);

// Only these unsolicited errors speak about the connection itself (a node
// that cannot serve right now), so only their retry_after_ms delays the
// next reconnect. A BANNED reply's retry_after_ms is about queueing.
const CONNECTION_HINT_CODES = new Set(['UNAVAILABLE', 'RATE_LIMITED']);

/**
 * A refused or unanswered request. `code` is a server error code (see the
 * protocol's error table) or one of the client's own: DISCONNECTED (no
 * connection, or it dropped before the reply), TIMEOUT (no reply in time),
 * CLOSED (close() was called).
 */
export class MatchdError extends Error {
  constructor({ code, message, retryAfterMs, state, incidentId, players, rid, frame }) {
    super(message || code);
    this.name = 'MatchdError';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
    this.state = state;
    this.incidentId = incidentId;
    this.players = players;
    this.rid = rid;
    this.frame = frame;
    this.retryable = RETRYABLE.has(code);
    this.fromServer = !CLIENT_CODES.has(code);
  }

  /** Builds the error an `error` frame describes. */
  static fromFrame(f) {
    return new MatchdError({
      code: f.code,
      message: f.message,
      retryAfterMs: f.retry_after_ms,
      state: f.state,
      incidentId: f.incident_id,
      players: f.players,
      rid: f.rid,
      frame: f,
    });
  }
}

const DEFAULT_RECONNECT = {
  initialDelayMs: 250,
  maxDelayMs: 15000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
};

/**
 * A matchd session over a WebSocket, reconnecting by itself.
 *
 *   const c = new MatchdClient({ urls: ['wss://mm.example/ws'], token: getJwt });
 *   c.on('match_found', (m) => startLoading(m));
 *   await c.connect();
 *   await c.enqueue('duel');
 */
export class MatchdClient {
  #opts;
  #urls;
  #urlIndex = 0;
  #WS;
  #listeners = new Map();
  #socket = null;
  #socketUrl = null;
  #welcome = null;
  #welcomedSocket = null;
  #state = null;
  #everWelcomed = false;
  #pending = new Map();
  #ridSeq = 0;
  #attempt = 0;
  #hintMs = 0;
  #timer = null;
  #running = false;
  #closed = false;
  #connectWaiters = [];

  constructor(options = {}) {
    const urls = options.urls ?? (options.url ? [options.url] : []);
    this.#urls = (Array.isArray(urls) ? urls : [urls]).map(String).filter((u) => u !== '');
    if (this.#urls.length === 0) throw new TypeError('matchd: at least one node URL is required (options.urls)');
    for (const u of this.#urls) {
      let p;
      try {
        p = new URL(u, globalThis.location?.href).protocol;
      } catch {
        throw new TypeError(`matchd: ${u} is not a URL`);
      }
      if (!['ws:', 'wss:', 'http:', 'https:'].includes(p)) throw new TypeError(`matchd: ${u}: want a ws:, wss:, http: or https: URL`);
    }
    if (options.token == null && options.playerId == null) {
      throw new TypeError('matchd: options.token (a JWT) or options.playerId (insecure mode) is required');
    }
    this.#WS = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WS !== 'function') {
      throw new TypeError('matchd: no WebSocket implementation: pass options.WebSocket, or run Node 20 with --experimental-websocket');
    }
    const reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...(options.reconnect || {}) };
    this.#opts = {
      playerId: options.playerId,
      rating: options.rating,
      deviceId: options.deviceId,
      token: options.token,
      protocols: options.protocols ?? [PROTOCOL],
      requestTimeoutMs: options.requestTimeoutMs ?? 10000,
      reconnect,
      random: options.random ?? Math.random,
    };
  }

  // ----- state -----

  /** The last welcome frame, or null before the first one. */
  get welcome() { return this.#welcome; }

  /**
   * The server's latest word on this player's session state ({name, mode?,
   * ticket_id?, match_id?, party_id?, since_ms}), from the last welcome,
   * `state` reply or INVALID_STATE error, with party_id also following
   * `party` and `party_left` frames; null before the first welcome. A new
   * object replaces it at each change.
   */
  get state() { return this.#state; }

  /** True between a welcome and the end of its connection. */
  get connected() { return this.#socket !== null && this.#welcomedSocket === this.#socket; }

  /** The URL of the current (or last tried) connection, without its query. */
  get url() { return this.#socketUrl; }

  // ----- events -----

  /**
   * Calls fn(payload) for each event of this type; returns a function that
   * removes it. Frame events are named after the frame's type and carry the
   * frame; `frame` carries every frame. Connection events: `open`,
   * `close`, `reconnecting`, `resumed`.
   */
  on(type, fn) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  /** Removes a listener added with on(). */
  off(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  /** Like on(), for the next event only. */
  once(type, fn) {
    const off = this.on(type, (p) => { off(); fn(p); });
    return off;
  }

  #emit(type, payload) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        // A listener's bug must not stop the frames after it.
        if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
        else console.error('matchd: listener for', type, 'threw', err);
      }
    }
  }

  // ----- connection -----

  /**
   * Opens the session (if not already) and resolves with the next welcome.
   * With reconnect on, it keeps trying the URLs until one answers (or
   * reconnect.maxAttempts is spent); without, the first failure rejects.
   */
  connect() {
    if (this.#closed) return Promise.reject(this.#err('CLOSED', 'the client was closed'));
    if (this.connected) return Promise.resolve(this.#welcome);
    const p = new Promise((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (!this.#running) {
      this.#running = true;
      this.#attempt = 0;
      this.#open();
    }
    return p;
  }

  /**
   * Closes the session for good: no reconnect, pending requests reject
   * with CLOSED. The server keeps the player's ticket for its reconnect
   * grace, as after any disconnect.
   */
  close(code = 1000, reason = '') {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#failPending('CLOSED', 'the client was closed');
    this.#failConnect('CLOSED', 'the client was closed');
    const s = this.#socket;
    if (s) {
      try { s.close(code, reason); } catch { s.close(); }
    }
  }

  async #open() {
    if (!this.#running) return;
    const base = this.#urls[this.#urlIndex % this.#urls.length];
    this.#socketUrl = base;
    let target;
    try {
      target = await this.#buildURL(base);
    } catch (err) {
      // The token function failed (its endpoint may be down for a
      // moment): a failed attempt like any other, retried with backoff.
      if (this.#running) this.#dropped(null, 0, `token: ${err?.message || err}`);
      return;
    }
    if (!this.#running) return;
    let sock;
    try {
      sock = new this.#WS(target, this.#opts.protocols);
    } catch (err) {
      this.#dropped(null, 0, String(err?.message || err));
      return;
    }
    this.#socket = sock;
    sock.onopen = () => {
      if (sock === this.#socket) this.#emit('open', { url: base });
    };
    sock.onmessage = (ev) => {
      if (sock === this.#socket) this.#onMessage(sock, ev.data);
    };
    sock.onerror = () => {
      // Browsers follow an error with a close event; Node 20's WebSocket
      // does not when the handshake fails (a refused or non-101 upgrade),
      // so a failure before open counts as the drop itself.
      if (sock === this.#socket && sock.readyState === 0) {
        this.#dropped(sock, 1006, 'handshake failed');
        try { sock.close(); } catch { /* already failed */ }
      }
    };
    sock.onclose = (ev) => {
      if (sock === this.#socket) this.#dropped(sock, ev.code, ev.reason);
    };
  }

  async #buildURL(base) {
    const u = new URL(base, globalThis.location?.href);
    if (u.protocol === 'http:') u.protocol = 'ws:';
    if (u.protocol === 'https:') u.protocol = 'wss:';
    const o = this.#opts;
    if (o.token != null) {
      const token = typeof o.token === 'function' ? await o.token() : o.token;
      u.searchParams.set('token', String(token));
    }
    if (o.playerId != null) u.searchParams.set('player_id', String(o.playerId));
    if (o.rating != null) u.searchParams.set('rating', String(o.rating));
    if (o.deviceId != null) u.searchParams.set('device_id', String(o.deviceId));
    return u.toString();
  }

  #onMessage(sock, data) {
    let f;
    try {
      f = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch {
      return; // not JSON: nothing a listener could use
    }
    if (f === null || typeof f !== 'object' || typeof f.type !== 'string') return;
    switch (f.type) {
      case 'welcome':
        this.#onWelcome(sock, f);
        return;
      case 'state':
        if (f.state) this.#state = f.state;
        break;
      case 'server_draining':
        this.#hintMs = Math.max(this.#hintMs, Number(f.reconnect_after_ms) || 0);
        break;
      case 'party':
        // The player is in this party (a reply, another member's change,
        // or its party after a welcome): state.party_id follows.
        if (this.#state && typeof f.party_id === 'string' && this.#state.party_id !== f.party_id) {
          this.#state = { ...this.#state, party_id: f.party_id };
        }
        break;
      case 'party_left':
        if (this.#state && this.#state.party_id === f.party_id) {
          const { party_id: _left, ...rest } = this.#state;
          this.#state = rest;
        }
        break;
      case 'error':
        if (f.state) this.#state = f.state;
        if (!f.rid && CONNECTION_HINT_CODES.has(f.code) && f.retry_after_ms > 0) {
          this.#hintMs = Math.max(this.#hintMs, f.retry_after_ms);
        }
        break;
    }
    if (f.rid != null) {
      const p = this.#pending.get(f.rid);
      if (p) {
        this.#pending.delete(f.rid);
        clearTimeout(p.timer);
        if (f.type === 'error') p.reject(MatchdError.fromFrame(f));
        else p.resolve(f);
      }
    }
    this.#emit(f.type, f);
    this.#emit('frame', f);
  }

  #onWelcome(sock, f) {
    const resumed = this.#everWelcomed;
    const previous = this.#state;
    this.#welcome = f;
    this.#welcomedSocket = sock;
    this.#state = f.state ?? null;
    this.#everWelcomed = true;
    this.#attempt = 0;
    this.#hintMs = 0;
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) w.resolve(f);
    this.#emit('welcome', f);
    this.#emit('frame', f);
    if (resumed) this.#emit('resumed', { welcome: f, state: this.#state, previousState: previous });
  }

  #dropped(sock, code, reason) {
    const wasConnected = sock !== null && this.#welcomedSocket === sock;
    const url = this.#socketUrl;
    this.#socket = null;
    this.#failPending('DISCONNECTED', 'the connection dropped before the reply; the request may or may not have been applied');
    const r = this.#opts.reconnect;
    const stop = !this.#running || code === CLOSE_SESSION_REPLACED || r === false || this.#attempt + 1 > r.maxAttempts;
    if (stop) {
      this.#emit('close', { url, code, reason, wasConnected, willReconnect: false });
      if (code === CLOSE_SESSION_REPLACED) this.#giveUp('SESSION_REPLACED', 'another connection took over this player');
      else if (this.#running) this.#giveUp('DISCONNECTED', `cannot connect to ${url} (close code ${code})`);
      return;
    }
    const delayMs = this.#nextDelay();
    this.#attempt++;
    this.#urlIndex = (this.#urlIndex + 1) % this.#urls.length;
    const next = this.#urls[this.#urlIndex];
    this.#emit('close', { url, code, reason, wasConnected, willReconnect: true });
    this.#emit('reconnecting', { attempt: this.#attempt, delayMs, url: next });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#open();
    }, delayMs);
  }

  // Exponential backoff with jitter, never sooner than the server asked
  // (server_draining.reconnect_after_ms, or an unsolicited UNAVAILABLE's
  // retry_after_ms); a herd told the same hint is spread over half of it.
  #nextDelay() {
    const r = this.#opts.reconnect;
    const base = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** this.#attempt);
    let d = base * (1 - r.jitter * this.#opts.random());
    if (this.#hintMs > 0) {
      d = Math.max(d, this.#hintMs * (1 + r.jitter * this.#opts.random()));
      this.#hintMs = 0;
    }
    return Math.round(d);
  }

  #giveUp(code, message) {
    this.#running = false;
    this.#failConnect(code, message);
  }

  #failConnect(code, message) {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) w.reject(this.#err(code, message));
  }

  #failPending(code, message) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(this.#err(code, message, p.rid));
    }
  }

  #err(code, message, rid) {
    return new MatchdError({ code, message, rid });
  }

  // ----- requests -----

  /**
   * Sends a request of this type with these fields and a fresh `rid`, and
   * resolves with the reply frame (the one carrying the same `rid`); an
   * `error` reply rejects with a MatchdError. Rejects at once with
   * DISCONNECTED while there is no session.
   */
  request(type, fields = {}, { timeoutMs } = {}) {
    if (this.#closed) return Promise.reject(this.#err('CLOSED', 'the client was closed'));
    if (!this.connected) return Promise.reject(this.#err('DISCONNECTED', 'not connected'));
    const rid = String(++this.#ridSeq);
    const frame = { ...fields, type, rid };
    return new Promise((resolve, reject) => {
      const ms = timeoutMs ?? this.#opts.requestTimeoutMs;
      const timer = ms > 0 && ms < Infinity
        ? setTimeout(() => {
          if (this.#pending.delete(rid)) reject(this.#err('TIMEOUT', `no reply to ${type} within ${ms} ms`, rid));
        }, ms)
        : null;
      this.#pending.set(rid, { resolve, reject, timer, rid });
      try {
        this.#socket.send(JSON.stringify(frame));
      } catch (err) {
        this.#pending.delete(rid);
        clearTimeout(timer);
        reject(this.#err('DISCONNECTED', `send failed: ${err?.message || err}`, rid));
      }
    });
  }

  /**
   * Sends a frame as is (a string verbatim, anything else as JSON), with no
   * `rid` added and no reply awaited: the escape hatch for frames this
   * client does not know and for hostile-input tests. Returns false when
   * there is no open connection.
   */
  raw(frame) {
    const s = this.#socket;
    if (!s || s.readyState !== 1) return false;
    s.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    return true;
  }

  /** Joins the queue of a mode; `latencies` (region -> ms) for a mode with regions. Resolves with `queued`. */
  enqueue(mode, { latencies } = {}) {
    const f = { mode };
    if (latencies !== undefined) f.latencies = latencies;
    return this.request('enqueue', f);
  }

  /** Leaves the queue (`dequeued`), or the match while loading (a dodge: `match_cancelled`). */
  cancel() { return this.request('cancel'); }

  /** Reports this client finished loading the match; resolves with `loading_status`. */
  loadingComplete(matchId) { return this.request('loading_complete', { match_id: matchId }); }

  /** Asks for the server's view of the session; resolves with `state` (and updates client.state). */
  sync() { return this.request('sync'); }

  /** Resolves with `pong` (which carries server_time_ms). */
  ping() { return this.request('ping'); }

  // Parties (docs/protocol.md section 9.6). What the other members are
  // sent, and what is pushed to this player (another member's change, an
  // invitation, a kick, its party after each welcome), arrives as the
  // events 'party', 'party_invite' and 'party_left'.

  /** Creates a party led by this player (open: anyone may join it); resolves with `party`. */
  partyCreate({ open = false } = {}) { return this.request('party_create', { open }); }

  /** Invites a player (leader only); resolves with `party`. */
  partyInvite(playerId) { return this.request('party_invite', { player_id: playerId }); }

  /** Joins a party this player was invited to, or an open one (joining its own party again changes nothing); resolves with `party`. */
  partyJoin(partyId) { return this.request('party_join', { party_id: partyId }); }

  /** Leaves the party; resolves with `party_left`. */
  partyLeave() { return this.request('party_leave'); }

  /** Removes a member (leader only); resolves with `party`. */
  partyKick(playerId) { return this.request('party_kick', { player_id: playerId }); }

  /** Hands the lead to another member (leader only); resolves with `party`. */
  partyPromote(playerId) { return this.request('party_promote', { player_id: playerId }); }
}
