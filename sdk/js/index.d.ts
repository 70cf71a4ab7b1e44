// Type declarations for matchd.js, the matchd.v1 client. Written by hand
// alongside the module; the frame shapes follow docs/protocol.md. Servers
// may add fields in later versions, so every frame type allows more.

/** The WebSocket subprotocol the client offers. */
export const PROTOCOL: 'matchd.v1';

/** WebSocket close code of a session taken over by another connection. */
export const CLOSE_SESSION_REPLACED: 4001;

/** Error codes the server sends (protocol section 4). */
export type ServerErrorCode =
  | 'BAD_REQUEST'
  | 'UNKNOWN_TYPE'
  | 'UNKNOWN_MODE'
  | 'INVALID_STATE'
  | 'BANNED'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'SESSION_REPLACED'
  | 'INTERNAL'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'PARTY_FULL'
  | 'PARTY_TOO_LARGE'
  | 'PARTY_NOT_READY';

/** Codes the client makes itself for requests the server did not answer. */
export type ClientErrorCode = 'DISCONNECTED' | 'TIMEOUT' | 'CLOSED';

export type ErrorCode = ServerErrorCode | ClientErrorCode;

/** The server's view of a player's session. */
export interface SessionState {
  name: 'idle' | 'queued' | 'loading';
  mode?: string;
  ticket_id?: string;
  match_id?: string;
  party_id?: string;
  since_ms: number;
  [extra: string]: unknown;
}

interface FrameBase {
  type: string;
  rid?: string;
  [extra: string]: unknown;
}

export interface WelcomeFrame extends FrameBase {
  type: 'welcome';
  protocol: 'matchd.v1';
  session_id: string;
  player_id: string;
  node_id: string;
  server_time_ms: number;
  state: SessionState;
}

export interface QueuedFrame extends FrameBase {
  type: 'queued';
  mode: string;
  ticket_id: string;
  queued_at_ms: number;
  requeued: boolean;
}

export interface DequeuedFrame extends FrameBase {
  type: 'dequeued';
  mode: string;
  ticket_id: string;
  reason: 'cancelled' | 'timeout' | 'banned' | 'draining' | 'disconnected' | 'party_changed';
}

export interface MatchFoundFrame extends FrameBase {
  type: 'match_found';
  match_id: string;
  mode: string;
  teams: string[][];
  loading_deadline_ms: number;
  region?: string | null;
}

export interface LoadingStatusFrame extends FrameBase {
  type: 'loading_status';
  match_id: string;
  ready: string[];
  waiting: string[];
}

export interface GameServer {
  addr: string;
  session_id?: string;
  [extra: string]: unknown;
}

export interface MatchReadyFrame extends FrameBase {
  type: 'match_ready';
  match_id: string;
  server: GameServer | null;
}

export interface MatchCancelledFrame extends FrameBase {
  type: 'match_cancelled';
  match_id: string;
  reason: 'loading_timeout' | 'player_left' | 'allocation_failed' | 'room_lost';
  requeued: boolean;
  no_shows: string[];
}

export interface StateFrame extends FrameBase {
  type: 'state';
  state: SessionState;
}

export interface PongFrame extends FrameBase {
  type: 'pong';
  server_time_ms: number;
}

export interface ErrorFrame extends FrameBase {
  type: 'error';
  code: ServerErrorCode;
  message: string;
  retry_after_ms?: number;
  state?: SessionState;
  incident_id?: string;
  players?: string[];
}

export interface ServerDrainingFrame extends FrameBase {
  type: 'server_draining';
  reconnect_after_ms: number;
}

export interface PartyFrame extends FrameBase {
  type: 'party';
  party_id: string;
  leader: string;
  members: string[];
  invited: string[];
  open: boolean;
  max_size: number;
}

export interface PartyInviteFrame extends FrameBase {
  type: 'party_invite';
  party_id: string;
  from: string;
  expires_ms: number;
}

export interface PartyLeftFrame extends FrameBase {
  type: 'party_left';
  party_id: string;
  reason: 'left' | 'kicked' | 'disconnected' | 'disbanded';
}

/** Any frame the server sends. */
export type ServerFrame =
  | WelcomeFrame
  | QueuedFrame
  | DequeuedFrame
  | MatchFoundFrame
  | LoadingStatusFrame
  | MatchReadyFrame
  | MatchCancelledFrame
  | StateFrame
  | PongFrame
  | ErrorFrame
  | ServerDrainingFrame
  | PartyFrame
  | PartyInviteFrame
  | PartyLeftFrame;

/** A refused or unanswered request. */
export class MatchdError extends Error {
  constructor(init: {
    code: ErrorCode;
    message?: string;
    retryAfterMs?: number;
    state?: SessionState;
    incidentId?: string;
    players?: string[];
    rid?: string;
    frame?: ErrorFrame;
  });
  readonly name: 'MatchdError';
  readonly code: ErrorCode;
  /** When to retry (BANNED: when the ban lifts; RATE_LIMITED, UNAVAILABLE: when to try again). */
  readonly retryAfterMs?: number;
  /** The server's view of the session (INVALID_STATE). */
  readonly state?: SessionState;
  /** Matches the server log line that holds the detail (INTERNAL). */
  readonly incidentId?: string;
  /** The players concerned (PARTY_NOT_READY, a party's BANNED). */
  readonly players?: string[];
  readonly rid?: string;
  /** The error frame, when the server sent one. */
  readonly frame?: ErrorFrame;
  /** True when the same request may succeed later: DISCONNECTED, TIMEOUT, UNAVAILABLE, RATE_LIMITED. */
  readonly retryable: boolean;
  /** False for the client's own codes (DISCONNECTED, TIMEOUT, CLOSED). */
  readonly fromServer: boolean;
  static fromFrame(frame: ErrorFrame): MatchdError;
}

export interface ReconnectOptions {
  /** Delay before the first reconnect. Default 250. */
  initialDelayMs?: number;
  /** Cap of the exponential backoff. Default 15000. */
  maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of each delay left to chance (0..1). Default 0.5. */
  jitter?: number;
  /** Failed attempts in a row before giving up. Default Infinity. */
  maxAttempts?: number;
}

/** The constructor the client opens sockets with (the browser's WebSocket by default). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onerror: ((ev: any) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}

export interface ClientOptions {
  /** Node URLs (ws:, wss:, http: or https:, path /ws), tried in order and rotated over on failure. */
  urls?: string | string[];
  /** One node URL (when urls is not given). */
  url?: string;
  /** auth.mode insecure: the player id (query parameter player_id). */
  playerId?: string;
  /** auth.mode insecure: the player's rating. */
  rating?: number;
  /** auth.mode insecure: the device id, for sanctions. */
  deviceId?: string;
  /** auth.mode hmac or jwks: the JWT, or a function that returns a fresh one for every connection. */
  token?: string | (() => string | Promise<string>);
  /** A WebSocket constructor, for Node without a global one (the ws package, undici). */
  WebSocket?: WebSocketConstructor;
  /** Subprotocols to offer. Default ['matchd.v1']. */
  protocols?: string[];
  /** How long a request waits for its reply before TIMEOUT. Default 10000; 0 waits forever. */
  requestTimeoutMs?: number;
  /** Backoff settings, or false to never reconnect. */
  reconnect?: ReconnectOptions | false;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface OpenEvent {
  url: string;
}

export interface CloseEvent {
  url: string | null;
  /** WebSocket close code (1006 for a failed handshake or a cut connection). */
  code: number;
  reason: string;
  /** Whether this connection had been welcomed. */
  wasConnected: boolean;
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  /** Failed attempts since the last welcome, this one included. */
  attempt: number;
  delayMs: number;
  /** The URL the next attempt will use. */
  url: string;
}

export interface ResumedEvent {
  welcome: WelcomeFrame;
  state: SessionState;
  /** The state known before the connection dropped. */
  previousState: SessionState | null;
}

export interface ClientEvents {
  welcome: WelcomeFrame;
  queued: QueuedFrame;
  dequeued: DequeuedFrame;
  match_found: MatchFoundFrame;
  loading_status: LoadingStatusFrame;
  match_ready: MatchReadyFrame;
  match_cancelled: MatchCancelledFrame;
  state: StateFrame;
  pong: PongFrame;
  error: ErrorFrame;
  server_draining: ServerDrainingFrame;
  party: PartyFrame;
  party_invite: PartyInviteFrame;
  party_left: PartyLeftFrame;
  /** Every frame, known types or not. */
  frame: ServerFrame | FrameBase;
  open: OpenEvent;
  close: CloseEvent;
  reconnecting: ReconnectingEvent;
  /** A welcome after a reconnect: the session goes on from its state. */
  resumed: ResumedEvent;
}

export class MatchdClient {
  constructor(options: ClientOptions);

  /** The last welcome, or null before the first. */
  readonly welcome: WelcomeFrame | null;
  /** The server's latest word on the session: last welcome, state reply or INVALID_STATE error; party_id also follows party and party_left frames. */
  readonly state: SessionState | null;
  /** True between a welcome and the end of its connection. */
  readonly connected: boolean;
  /** The node URL of the current or last tried connection. */
  readonly url: string | null;

  /** Adds a listener; returns a function that removes it. Replies are emitted too. */
  on<K extends keyof ClientEvents>(type: K, fn: (payload: ClientEvents[K]) => void): () => void;
  on(type: string, fn: (payload: FrameBase) => void): () => void;
  off<K extends keyof ClientEvents>(type: K, fn: (payload: ClientEvents[K]) => void): void;
  off(type: string, fn: (payload: FrameBase) => void): void;
  once<K extends keyof ClientEvents>(type: K, fn: (payload: ClientEvents[K]) => void): () => void;
  once(type: string, fn: (payload: FrameBase) => void): () => void;

  /** Opens the session if needed and resolves with the next welcome. */
  connect(): Promise<WelcomeFrame>;
  /** Ends the session for good: no reconnect, pending requests reject with CLOSED. */
  close(code?: number, reason?: string): void;

  /** Sends a request with a fresh rid and resolves with the reply carrying it. */
  request<R extends FrameBase = FrameBase>(type: string, fields?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<R>;
  /** Sends a frame as is, no rid, no reply awaited; false when not connected. */
  raw(frame: string | object): boolean;

  enqueue(mode: string, options?: { latencies?: Record<string, number> }): Promise<QueuedFrame>;
  /** Leaves the queue (dequeued) or, while loading, the match (a dodge: match_cancelled). */
  cancel(): Promise<DequeuedFrame | MatchCancelledFrame>;
  loadingComplete(matchId: string): Promise<LoadingStatusFrame>;
  sync(): Promise<StateFrame>;
  ping(): Promise<PongFrame>;
  /** Creates a party led by this player; open lets anyone join without an invitation. */
  partyCreate(options?: { open?: boolean }): Promise<PartyFrame>;
  /** Invites a player (the leader's request); the invitee gets a party_invite event. */
  partyInvite(playerId: string): Promise<PartyFrame>;
  /** Joins a party this player was invited to, or an open one. */
  partyJoin(partyId: string): Promise<PartyFrame>;
  /** Leaves the party; resolves with party_left (reason left). */
  partyLeave(): Promise<PartyLeftFrame>;
  /** Removes a member (the leader's request); that member gets party_left (kicked). */
  partyKick(playerId: string): Promise<PartyFrame>;
  /** Hands the lead to another member (the leader's request). */
  partyPromote(playerId: string): Promise<PartyFrame>;
}
