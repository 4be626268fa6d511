/* global document, window, sessionStorage, fetch, btoa, setTimeout, clearTimeout, AbortController, TextDecoder, URL, URLSearchParams, Option, console */
// Roster's live dashboard: no build step, no dependencies. It talks to the public /v1 API
// with the account's credentials, and follows RealTimeStatistics as Server-Sent Events read
// with fetch() (EventSource cannot send an Authorization header).

const $ = (id) => document.getElementById(id);
const AUTH_KEY = 'roster.auth';
const PAGE_SIZE = 20;
const COLORS = ['#2f6fed', '#1f9d55', '#d97706', '#8b5cf6', '#d33a3a', '#0891b2', '#db2777', '#65a30d'];

const state = {
  auth: null, // { sid, header }
  workspace: null,
  activities: [],
  streams: [],
  page: { url: null, number: 0, next: null, previous: null },
  refreshTimer: null,
};

// ---------- API ----------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, { method = 'GET', form } = {}) {
  const headers = { Authorization: state.auth.header, Accept: 'application/json' };
  let body;
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(path.startsWith('http') ? path : `/v1${path}`, { method, headers, body });
  const json = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401) signOut('Your credentials were refused.');
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

/** Same-origin path of an absolute URL from the API (its public URL may name another host). */
function localPath(url) {
  const u = new URL(url);
  return u.pathname.replace(/^\/v1/, '') + u.search;
}

// ---------- Server-Sent Events over fetch ----------

/**
 * Follows a stream; reconnects with backoff, sending Last-Event-ID so that an unchanged
 * state is not sent again. `onStatus` gets 'connecting' | 'live' | 'reconnecting' | 'disconnected'.
 */
function follow(path, onData, onStatus) {
  const ctl = new AbortController();
  let lastId = null;
  let attempt = 0;
  let retryTimer = null;
  const run = async () => {
    onStatus(attempt === 0 ? 'connecting' : 'reconnecting');
    try {
      const headers = { Authorization: state.auth.header, Accept: 'text/event-stream' };
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch(`/v1${path}`, { headers, signal: ctl.signal, cache: 'no-store' });
      if (res.status === 401) return signOut('Your credentials were refused.');
      if (res.status === 404) return onStatus('disconnected', 'This workspace no longer exists.');
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      attempt = 0;
      onStatus('live');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let data = null;
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) lastId = line.slice(3).trim();
            else if (line.startsWith('data:'))
              data = (data === null ? '' : data + '\n') + line.slice(5).trimStart();
          }
          if (data !== null) onData(JSON.parse(data));
        }
      }
    } catch (err) {
      if (ctl.signal.aborted) return;
      console.warn('stream', path, err);
    }
    if (ctl.signal.aborted) return;
    attempt++;
    onStatus(attempt > 5 ? 'disconnected' : 'reconnecting');
    retryTimer = setTimeout(run, Math.min(10_000, 500 * 2 ** attempt));
  };
  void run();
  return () => {
    ctl.abort();
    clearTimeout(retryTimer);
  };
}

// ---------- Rendering ----------

function renderBars(el, stats) {
  el.removeAttribute('aria-busy');
  const rows = stats.activity_statistics;
  if (rows.length === 0) {
    el.innerHTML = '<p class="placeholder">No activities.</p>';
    return;
  }
  const max = Math.max(1, ...rows.map((r) => r.workers));
  // Keep the elements (and so the CSS transition) when only the numbers change.
  const existing = new Map([...el.querySelectorAll('.bar')].map((b) => [b.dataset.sid, b]));
  el.querySelector('.placeholder')?.remove();
  rows.forEach((r, i) => {
    let bar = existing.get(r.sid);
    if (!bar) {
      bar = document.createElement('div');
      bar.className = 'bar';
      bar.dataset.sid = r.sid;
      bar.innerHTML =
        '<span class="name"></span><div class="track"><div class="fill"></div></div><span class="count"></span>';
    }
    existing.delete(r.sid);
    bar.dataset.activity = r.friendly_name;
    bar.dataset.workers = String(r.workers);
    bar.querySelector('.name').textContent = r.friendly_name;
    bar.querySelector('.name').title = r.friendly_name;
    bar.querySelector('.count').textContent = String(r.workers);
    const fill = bar.querySelector('.fill');
    fill.style.width = `${(100 * r.workers) / max}%`;
    fill.style.background = COLORS[i % COLORS.length];
    el.appendChild(bar); // appends in order (moves existing ones)
  });
  for (const stale of existing.values()) stale.remove();
}

function setConnection(status, detail) {
  const badge = $('connection');
  badge.dataset.state = status;
  badge.textContent =
    { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', disconnected: 'Disconnected' }[
      status
    ] ?? '';
  const banner = $('banner');
  banner.dataset.state = status;
  if (status === 'reconnecting') {
    banner.textContent = 'Connection lost — reconnecting. The numbers shown may be out of date.';
    banner.hidden = false;
  } else if (status === 'disconnected') {
    banner.textContent =
      detail ?? 'Disconnected from Roster. Still retrying now and then; reload to try at once.';
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

// ---------- Workers table ----------

async function loadWorkers(path) {
  const tbody = $('workers').querySelector('tbody');
  const status = $('workers-state');
  if (!path) {
    const q = new URLSearchParams({ PageSize: String(PAGE_SIZE) });
    const name = $('search-name').value.trim();
    const activity = $('search-activity').value;
    if (name) q.set('FriendlyName', name);
    if (activity) q.set('ActivitySid', activity);
    path = `/Workspaces/${state.workspace}/Workers?${q}`;
    state.page.number = 0;
  }
  status.textContent = 'Loading…';
  status.hidden = false;
  let page;
  try {
    page = await api(path);
  } catch (err) {
    status.textContent = `Could not load workers: ${err.message}`;
    return;
  }
  state.page.url = path;
  state.page.number = page.meta.page;
  state.page.next = page.meta.next_page_url;
  state.page.previous = page.meta.previous_page_url;
  tbody.replaceChildren(...page.workers.map(workerRow));
  status.hidden = page.workers.length > 0;
  status.textContent = page.workers.length > 0 ? '' : 'No workers match.';
  $('prev').disabled = !state.page.previous;
  $('next').disabled = !state.page.next;
  $('page-label').textContent = `Page ${page.meta.page + 1}`;
}

function workerRow(w) {
  const tr = document.createElement('tr');
  tr.dataset.sid = w.sid;
  const name = document.createElement('td');
  name.textContent = w.friendly_name;
  const activity = document.createElement('td');
  const select = document.createElement('select');
  select.setAttribute('aria-label', `Activity of ${w.friendly_name}`);
  for (const a of state.activities)
    select.add(new Option(a.friendly_name, a.sid, false, a.sid === w.activity_sid));
  select.addEventListener('change', async () => {
    tr.classList.add('saving');
    try {
      const updated = await api(`/Workspaces/${state.workspace}/Workers/${w.sid}`, {
        method: 'POST',
        form: { ActivitySid: select.value },
      });
      tr.replaceWith(workerRow(updated));
    } catch (err) {
      tr.classList.remove('saving');
      select.value = w.activity_sid;
      window.alert(`Could not change the activity: ${err.message}`);
    }
  });
  activity.appendChild(select);
  const available = document.createElement('td');
  available.textContent = w.available ? 'yes' : 'no';
  const since = document.createElement('td');
  since.textContent = new Date(w.date_status_changed ?? w.date_updated).toLocaleTimeString();
  tr.append(name, activity, available, since);
  return tr;
}

/** The table follows the stream too, at most once a second, and never under the user's hand. */
function scheduleTableRefresh() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    const active = document.activeElement;
    if (active && active.closest && active.closest('#workers')) return scheduleTableRefresh();
    if (state.page.url) void loadWorkers(state.page.url);
  }, 1000);
}

// ---------- Workspace ----------

function stopStreams() {
  for (const stop of state.streams) stop();
  state.streams = [];
}

function followChannel() {
  if (state.streams[1]) state.streams.pop()();
  const channel = $('channel').value;
  const chart = $('channel-chart');
  chart.setAttribute('aria-busy', 'true');
  chart.innerHTML = '<p class="placeholder">Loading…</p>';
  if (!channel) return;
  const path = `/Workspaces/${state.workspace}/Workers/RealTimeStatistics?TaskChannel=${encodeURIComponent(channel)}`;
  state.streams[1] = follow(
    path,
    (stats) => {
      renderBars(chart, stats);
      $('channel-total').textContent = `${stats.total_workers} workers`;
    },
    () => undefined,
  );
}

async function openWorkspace(sid) {
  stopStreams();
  state.workspace = sid;
  sessionStorage.setItem('roster.workspace', sid);
  $('activity-chart').innerHTML = '<p class="placeholder">Loading…</p>';
  const [activities, channels] = await Promise.all([
    api(`/Workspaces/${sid}/Activities?PageSize=1000`),
    api(`/Workspaces/${sid}/TaskChannels?PageSize=1000`),
  ]);
  state.activities = activities.activities;
  const filter = $('search-activity');
  filter.replaceChildren(
    new Option('Any activity', ''),
    ...state.activities.map((a) => new Option(a.friendly_name, a.sid)),
  );
  const channel = $('channel');
  channel.replaceChildren(...channels.channels.map((c) => new Option(c.friendly_name, c.unique_name)));
  if (channels.channels.some((c) => c.unique_name === 'voice')) channel.value = 'voice';

  state.streams[0] = follow(
    `/Workspaces/${sid}/Workers/RealTimeStatistics`,
    (stats) => {
      renderBars($('activity-chart'), stats);
      $('total').textContent = `${stats.total_workers} workers`;
      scheduleTableRefresh();
    },
    setConnection,
  );
  followChannel();
  await loadWorkers();
}

// ---------- Session ----------

function signOut(message) {
  stopStreams();
  state.auth = null;
  sessionStorage.removeItem(AUTH_KEY);
  $('session').hidden = true;
  $('dashboard').hidden = true;
  $('no-workspaces').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message ?? '';
}

async function start(auth) {
  state.auth = auth;
  let list;
  try {
    list = await api('/Workspaces?PageSize=1000');
  } catch (err) {
    if (state.auth)
      signOut(
        err.status === 401 ? 'Your credentials were refused.' : `Roster did not answer: ${err.message}`,
      );
    return;
  }
  sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth));
  $('sign-in').hidden = true;
  $('session').hidden = false;
  const select = $('workspace');
  select.replaceChildren(...list.workspaces.map((w) => new Option(w.friendly_name, w.sid)));
  if (list.workspaces.length === 0) {
    $('no-workspaces').hidden = false;
    setConnection('idle');
    return;
  }
  $('dashboard').hidden = false;
  const remembered = sessionStorage.getItem('roster.workspace');
  if (list.workspaces.some((w) => w.sid === remembered)) select.value = remembered;
  await openWorkspace(select.value);
}

$('sign-in').addEventListener('submit', (e) => {
  e.preventDefault();
  const sid = $('account-sid').value.trim();
  const token = $('auth-token').value;
  void start({ sid, header: 'Basic ' + btoa(`${sid}:${token}`) });
});
$('sign-out').addEventListener('click', () => signOut());
$('workspace').addEventListener('change', (e) => void openWorkspace(e.target.value));
$('channel').addEventListener('change', followChannel);
$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  void loadWorkers();
});
$('search-activity').addEventListener('change', () => void loadWorkers());
$('next').addEventListener('click', () => state.page.next && void loadWorkers(localPath(state.page.next)));
$('prev').addEventListener(
  'click',
  () => state.page.previous && void loadWorkers(localPath(state.page.previous)),
);

const saved = sessionStorage.getItem(AUTH_KEY);
if (saved) void start(JSON.parse(saved));
else signOut();
