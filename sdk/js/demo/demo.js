// The matchd demo page: one player's view of matchmaking, driven only by
// the JavaScript client. Everything on screen comes from the client's
// events; the page keeps no state the server did not tell it.

import { MatchdClient } from 'matchd';

const $ = (id) => document.getElementById(id);
const config = readConfig();
const query = new URLSearchParams(location.search);

// view is what the page shows; render() draws it, tick() the clocks.
const view = {
  phase: 'offline', // offline | idle | queued | loading | ready | cancelled
  node: null,
  ticket: null,
  mode: null,
  queuedAtMs: null,
  match: null, // {id, teams, deadlineMs, ready: Set, waiting: Set, loadedSent}
  result: null, // {kind: 'ready'|'cancelled'|'dequeued', text}
  clockOffsetMs: 0, // server clock minus ours, from the welcome
};
let client = null;

const PHASE_TEXT = { offline: '–', ready: 'idle (match ready)', cancelled: 'idle (match cancelled)' };

function readConfig() {
  try {
    return JSON.parse($('matchd-config').textContent || '{}');
  } catch {
    return {};
  }
}

function init() {
  const urls = query.get('urls') || (config.urls || []).join(',') || 'ws://127.0.0.1:8080/ws';
  $('urls').value = urls;
  $('player-id').value = query.get('player_id') || 'player-' + Math.random().toString(36).slice(2, 7);
  $('rating').value = query.get('rating') || '1000';
  const modes = config.modes || [];
  for (const m of modes) {
    const o = document.createElement('option');
    o.value = m;
    $('modes').append(o);
  }
  $('mode').value = query.get('mode') || modes[0] || 'duel';
  if (config.origin_hint) {
    $('origin-hint').textContent = config.origin_hint;
    $('origin-hint').hidden = false;
  }
  $('connect').onclick = connect;
  $('disconnect').onclick = disconnect;
  $('enqueue').onclick = enqueue;
  $('cancel').onclick = cancel;
  $('loaded').onclick = loaded;
  render();
  setInterval(tick, 100);
}

function connect() {
  const urls = $('urls').value.split(',').map((s) => s.trim()).filter(Boolean);
  const playerId = $('player-id').value.trim();
  const rating = Number($('rating').value);
  showError('');
  try {
    client = new MatchdClient({ urls, playerId, rating: Number.isFinite(rating) ? rating : undefined });
  } catch (err) {
    showError(err.message);
    return;
  }
  listen(client);
  setConn('wait', 'connecting to ' + urls[0]);
  $('connect').disabled = true;
  $('disconnect').disabled = false;
  for (const id of ['player-id', 'rating', 'urls']) $(id).disabled = true;
  client.connect().catch((err) => showError(`${err.code}: ${err.message}`));
}

function disconnect() {
  client?.close();
  offline('not connected');
}

// offline returns the page to its first screen, keeping what it showed last.
function offline(text) {
  client = null;
  Object.assign(view, { phase: 'offline', queuedAtMs: null, ticket: null });
  setConn('off', text);
  $('connect').disabled = false;
  $('disconnect').disabled = true;
  for (const id of ['player-id', 'rating', 'urls']) $(id).disabled = false;
  render();
}

function listen(c) {
  c.on('frame', (f) => log('←', f));
  c.on('welcome', (w) => {
    view.node = w.node_id;
    view.clockOffsetMs = w.server_time_ms - Date.now();
    setConn('on', `connected to ${w.node_id} (${c.url})`);
    adoptState(w.state);
    render();
  });
  c.on('resumed', (r) => {
    const s = r.state;
    $('resumed').textContent = `Resumed on node ${r.welcome.node_id} as ${s.name}` +
      (s.mode ? ` in ${s.mode}` : '') + (s.ticket_id ? `, ticket ${s.ticket_id}` : '') +
      (s.match_id ? `, match ${s.match_id}` : '') + '.';
    $('resumed').hidden = false;
  });
  c.on('reconnecting', (r) => setConn('wait', `reconnecting to ${r.url} in ${r.delayMs} ms (attempt ${r.attempt})`));
  c.on('close', (e) => {
    if (c !== client) return;
    if (e.willReconnect) render();
    else offline(`disconnected (close ${e.code}${e.reason ? ': ' + e.reason : ''})`);
  });
  c.on('queued', (f) => {
    Object.assign(view, { phase: 'queued', ticket: f.ticket_id, mode: f.mode, queuedAtMs: f.queued_at_ms });
    if (!f.requeued) view.result = null;
    view.match = null;
    render();
  });
  c.on('dequeued', (f) => {
    Object.assign(view, { phase: 'idle', ticket: null, queuedAtMs: null });
    view.result = { kind: 'dequeued', text: `Left the queue (${f.reason}).` };
    render();
  });
  c.on('match_found', (f) => {
    const members = f.teams.flat();
    view.match = {
      id: f.match_id, teams: f.teams, deadlineMs: f.loading_deadline_ms,
      ready: new Set(), waiting: new Set(members), loadedSent: false,
    };
    Object.assign(view, { phase: 'loading', ticket: null, queuedAtMs: null, result: null, mode: f.mode });
    render();
  });
  c.on('loading_status', (f) => {
    if (!view.match || view.match.id !== f.match_id) return;
    view.match.ready = new Set(f.ready);
    view.match.waiting = new Set(f.waiting);
    if (view.match.ready.has(playerId())) view.match.loadedSent = true;
    render();
  });
  c.on('match_ready', (f) => {
    if (view.match && view.match.id === f.match_id) {
      for (const p of view.match.waiting) view.match.ready.add(p);
      view.match.waiting.clear();
    }
    const where = f.server && f.server.addr ? `play on ${f.server.addr}` : 'no game server allocated (allocator: none)';
    Object.assign(view, { phase: 'ready', ticket: null });
    view.result = { kind: 'ready', text: `Match ready: ${where}.` };
    render();
  });
  c.on('match_cancelled', (f) => {
    let text = `Match cancelled: ${f.reason.replaceAll('_', ' ')}`;
    if (f.no_shows && f.no_shows.length) text += `; no-shows: ${f.no_shows.join(', ')}`;
    text += f.requeued ? '; back in the queue with your place kept.' : '.';
    Object.assign(view, { phase: 'cancelled', ticket: null });
    view.result = { kind: 'cancelled', text };
    render();
  });
  c.on('error', (f) => showError(`${f.code}: ${f.message}${f.incident_id ? ` (incident ${f.incident_id})` : ''}`));
}

// adoptState sets the page from a state object (a welcome's): after a
// reconnect this is how the page learns where the session stands.
function adoptState(s) {
  if (!s) return;
  view.mode = s.mode || view.mode;
  switch (s.name) {
    case 'queued':
      Object.assign(view, { phase: 'queued', ticket: s.ticket_id, queuedAtMs: view.queuedAtMs ?? s.since_ms });
      break;
    case 'loading':
      // The server follows with this match's match_found.
      view.phase = 'loading';
      break;
    default:
      if (view.phase === 'offline' || view.phase === 'queued' || view.phase === 'loading') {
        Object.assign(view, { phase: 'idle', ticket: null, queuedAtMs: null });
      }
  }
}

function playerId() {
  return client?.welcome?.player_id ?? $('player-id').value.trim();
}

async function enqueue() {
  const mode = $('mode').value.trim();
  log('→', { type: 'enqueue', mode });
  showError('');
  try {
    await client.enqueue(mode);
  } catch (err) {
    showError(`${err.code}: ${err.message}`);
  }
}

async function cancel() {
  log('→', { type: 'cancel' });
  try {
    await client.cancel();
  } catch (err) {
    showError(`${err.code}: ${err.message}`);
  }
}

async function loaded() {
  if (!view.match) return;
  log('→', { type: 'loading_complete', match_id: view.match.id });
  view.match.loadedSent = true;
  render();
  try {
    await client.loadingComplete(view.match.id);
  } catch (err) {
    view.match && (view.match.loadedSent = false);
    showError(`${err.code}: ${err.message}`);
    render();
  }
}

function setConn(cls, text) {
  const el = $('conn');
  el.className = 'conn ' + cls;
  el.textContent = text;
}

function showError(text) {
  $('error').textContent = text;
  $('error').hidden = text === '';
}

function log(dir, f) {
  const li = document.createElement('li');
  li.className = dir === '→' ? 'out' : 'in';
  li.textContent = `${new Date().toISOString().slice(11, 23)} ${dir} ${JSON.stringify(f)}`;
  const ol = $('log');
  ol.prepend(li);
  while (ol.children.length > 50) ol.lastChild.remove();
}

function render() {
  const connected = client?.connected ?? false;
  $('node-id').textContent = view.node ?? '–';
  $('state-name').textContent = PHASE_TEXT[view.phase] ?? view.phase;
  $('state-name').dataset.phase = view.phase;
  $('ticket-id').textContent = view.ticket ?? '–';
  $('enqueue').disabled = !connected || view.phase === 'queued' || view.phase === 'loading';
  $('cancel').disabled = !connected || (view.phase !== 'queued' && view.phase !== 'loading');

  const m = view.match;
  $('match-id').textContent = m ? m.id : '–';
  $('loaded').disabled = !connected || !m || view.phase !== 'loading' || m.loadedSent;
  const teams = $('teams');
  teams.replaceChildren();
  if (m) {
    m.teams.forEach((team, i) => {
      const ul = document.createElement('ul');
      ul.className = 'team';
      const name = document.createElement('li');
      name.className = 'team-name';
      name.textContent = `Team ${i + 1}`;
      ul.append(name);
      for (const p of team) {
        const li = document.createElement('li');
        const ready = m.ready.has(p);
        li.className = `member ${ready ? 'ready' : 'waiting'}${p === playerId() ? ' you' : ''}`;
        li.dataset.player = p;
        const who = document.createElement('span');
        who.textContent = p === playerId() ? `${p} (you)` : p;
        const st = document.createElement('span');
        st.className = 'status';
        st.textContent = ready ? 'ready' : 'loading';
        li.append(who, st);
        ul.append(li);
      }
      teams.append(ul);
    });
  }
  const r = $('result');
  r.className = view.result ? view.result.kind : '';
  r.textContent = view.result ? view.result.text : '';
  tick();
}

function tick() {
  const now = Date.now() + view.clockOffsetMs;
  $('queue-time').textContent = view.phase === 'queued' && view.queuedAtMs
    ? `in queue ${((now - view.queuedAtMs) / 1000).toFixed(1)} s` : '–';
  const m = view.match;
  $('countdown').textContent = m && view.phase === 'loading'
    ? `${(Math.max(0, m.deadlineMs - now) / 1000).toFixed(1)} s left to load` : '';
}

init();
