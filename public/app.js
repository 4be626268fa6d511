/* global document, window, sessionStorage, fetch, btoa, setTimeout, clearTimeout, setInterval, clearInterval, AbortController, TextDecoder, URL, URLSearchParams, Option, console */
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
  queues: [], // the first page of the workspace's TaskQueues
  queueTimer: null,
  workerStats: null, // the latest Workers/RealTimeStatistics
  taskStats: null, // the latest workspace RealTimeStatistics, with the time it arrived
  history: [], // samples of both, for the last hour's chart
  ticker: null,
};
const QUEUE_PAGE = 50;
const HOUR_MS = 3_600_000;

// ---------- API ----------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, { method = 'GET', form, json: payload } = {}) {
  const headers = { Authorization: state.auth.header, Accept: 'application/json' };
  let body;
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  } else if (payload) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(payload);
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
  const changed = Date.parse(w.date_status_changed ?? w.date_updated);
  since.dataset.since = String(changed);
  since.title = `since ${new Date(changed).toLocaleString()}`;
  since.textContent = formatDuration((Date.now() - changed) / 1000);
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

// ---------- Routing: tasks, queues, the last hour ----------

/** 45s, 3m 05s, 2h 04m. */
function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An age the server reported, grown by the time since it arrived. */
function ageNow(age, receivedAt) {
  return age + (Date.now() - receivedAt) / 1000;
}

function renderTasks() {
  const { stats, receivedAt } = state.taskStats;
  const tiles = $('task-status');
  tiles.removeAttribute('aria-busy');
  for (const tile of tiles.querySelectorAll('.tile')) {
    const n = stats.tasks_by_status[tile.dataset.status] ?? 0;
    tile.dataset.count = String(n);
    tile.querySelector('.value').textContent = String(n);
  }
  $('tasks-total').textContent = `${stats.total_tasks} tasks`;
  const longest = $('longest-wait');
  longest.dataset.sid = stats.longest_task_waiting_sid ?? '';
  longest.textContent = stats.longest_task_waiting_sid
    ? `Longest waiting: ${stats.longest_task_waiting_sid}, for ${formatDuration(ageNow(stats.longest_task_waiting_age, receivedAt))}`
    : 'No task is waiting.';
}

async function loadQueues() {
  const state_ = $('queues-state');
  try {
    const page = await api(`/Workspaces/${state.workspace}/TaskQueues?PageSize=${QUEUE_PAGE}`);
    state.queues = page.task_queues;
    $('queues-total').textContent = page.meta.next_page_url
      ? `the first ${state.queues.length}`
      : `${state.queues.length}`;
  } catch (err) {
    state_.textContent = `Could not load task queues: ${err.message}`;
    return;
  }
  const tbody = $('queues').querySelector('tbody');
  tbody.replaceChildren(
    ...state.queues.map((q) => {
      const tr = document.createElement('tr');
      tr.dataset.sid = q.sid;
      tr.innerHTML =
        '<td></td><td class="waiting">–</td><td class="reserved">–</td><td class="assigned">–</td><td class="longest">–</td><td class="workers">–</td>';
      tr.firstChild.textContent = q.friendly_name;
      return tr;
    }),
  );
  state_.hidden = state.queues.length > 0;
  state_.textContent = state.queues.length > 0 ? '' : 'This workspace has no task queues.';
  await refreshQueues();
}

/** One bulk request for every queue shown (Roster has no 50-queue cap, but a page is enough here). */
async function refreshQueues() {
  if (state.queues.length === 0) return;
  let result;
  try {
    result = await api(`/Workspaces/${state.workspace}/TaskQueues/RealTimeStatistics`, {
      method: 'POST',
      json: { TaskQueueSids: state.queues.map((q) => q.sid) },
    });
  } catch (err) {
    console.warn('queue statistics', err);
    return;
  }
  const receivedAt = Date.now();
  const tbody = $('queues').querySelector('tbody');
  for (const data of result.task_queue_data) {
    const tr = tbody.querySelector(`tr[data-sid="${data.task_queue_sid}"]`);
    if (!tr) continue;
    const byStatus = data.tasks_by_status ?? {};
    tr.dataset.waiting = String(byStatus.pending ?? 0);
    tr.dataset.available = String(data.total_available_workers);
    tr.dataset.eligible = String(data.total_eligible_workers);
    tr.querySelector('.waiting').textContent = String(byStatus.pending ?? 0);
    tr.querySelector('.reserved').textContent = String(byStatus.reserved ?? 0);
    tr.querySelector('.assigned').textContent = String(byStatus.assigned ?? 0);
    const longest = tr.querySelector('.longest');
    if (data.longest_task_waiting_sid) {
      longest.dataset.age = String(data.longest_task_waiting_age);
      longest.dataset.receivedAt = String(receivedAt);
      longest.title = data.longest_task_waiting_sid;
      longest.textContent = formatDuration(data.longest_task_waiting_age);
    } else {
      delete longest.dataset.age;
      longest.title = '';
      longest.textContent = '–';
    }
    tr.querySelector('.workers').textContent =
      `${data.total_available_workers} / ${data.total_eligible_workers}`;
  }
}

/** Queues follow both streams too, at most once a second. */
function scheduleQueueRefresh() {
  if (state.queueTimer) return;
  state.queueTimer = setTimeout(() => {
    state.queueTimer = null;
    void refreshQueues();
  }, 1000);
}

/** A sample of both streams' latest figures; the chart keeps the last hour of them. */
function sample() {
  if (!state.workerStats) return;
  const now = Date.now();
  state.history.push({
    t: now,
    workers: Object.fromEntries(state.workerStats.activity_statistics.map((a) => [a.sid, a.workers])),
    waiting: state.taskStats ? (state.taskStats.stats.tasks_by_status.pending ?? 0) : null,
  });
  // Keep one sample older than the hour, so each line starts at the chart's left edge.
  while (state.history.length > 2 && state.history[1].t < now - HOUR_MS) state.history.shift();
}

function renderHistory() {
  const el = $('history');
  if (!state.workerStats || state.history.length === 0) return;
  const now = Date.now();
  const W = 1000;
  const H = 200;
  const PAD = 24;
  const series = state.workerStats.activity_statistics.map((a, i) => ({
    key: a.sid,
    name: a.friendly_name,
    color: COLORS[i % COLORS.length],
    value: (s) => s.workers[a.sid] ?? 0,
  }));
  if (state.history.some((s) => s.waiting !== null))
    series.push({
      key: 'waiting',
      name: 'Tasks waiting',
      color: '#1d2330',
      dashed: true,
      value: (s) => s.waiting ?? 0,
    });
  let max = 1;
  for (const s of state.history) for (const line of series) max = Math.max(max, line.value(s));
  // The span grows from five minutes to the hour as the page stays open.
  const span = Math.min(HOUR_MS, Math.max(5 * 60_000, now - state.history[0].t));
  const x = (t) => (Math.max(0, t - (now - span)) / span) * (W - PAD) + PAD;
  const y = (v) => H - PAD - (v / max) * (H - 2 * PAD);
  const lines = series.map((line) => {
    const points = [];
    let last = null;
    for (const s of state.history) {
      const v = line.value(s);
      if (last !== null) points.push(`${x(s.t).toFixed(1)},${y(last).toFixed(1)}`); // a step, not a slope
      points.push(`${x(s.t).toFixed(1)},${y(v).toFixed(1)}`);
      last = v;
    }
    points.push(`${x(now).toFixed(1)},${y(last).toFixed(1)}`);
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    return `<polyline data-series="${line.key}" stroke="${line.color}"${dash} points="${points.join(' ')}"></polyline>`;
  });
  el.innerHTML =
    `<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="Workers per activity and tasks waiting, last hour">` +
    `<line class="axis" x1="${PAD}" y1="${H - PAD}" x2="${W}" y2="${H - PAD}"></line>` +
    `<line class="axis" x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}"></line>` +
    `<text x="${PAD}" y="${H - 6}">${Math.round(span / 60_000)} min ago</text><text x="${W - 30}" y="${H - 6}">now</text>` +
    `<text x="2" y="${PAD + 4}">${max}</text><text x="2" y="${H - PAD}">0</text>` +
    lines.join('') +
    '</svg>';
  el.dataset.samples = String(state.history.length);
  const legend = $('history-legend');
  legend.replaceChildren(
    ...series.map((line) => {
      const li = document.createElement('li');
      li.innerHTML = `<span class="swatch" style="background:${line.color}"></span>`;
      li.append(line.name);
      return li;
    }),
  );
}

/** Once a second: ages and durations grow, the chart moves on. */
function tick() {
  const now = Date.now();
  for (const cell of document.querySelectorAll('#workers td[data-since]'))
    cell.textContent = formatDuration((now - Number(cell.dataset.since)) / 1000);
  for (const cell of document.querySelectorAll('#queues td.longest[data-age]'))
    cell.textContent = formatDuration(ageNow(Number(cell.dataset.age), Number(cell.dataset.receivedAt)));
  if (state.taskStats) renderTasks();
  renderHistory();
}

// ---------- Workspace ----------

function stopStreams() {
  for (const stop of state.streams) stop?.();
  state.streams = [];
  clearInterval(state.ticker);
  clearTimeout(state.queueTimer);
  state.queueTimer = null;
  state.workerStats = null;
  state.taskStats = null;
  state.history = [];
}

function followChannel() {
  if (state.streams[1]) state.streams[1]();
  state.streams[1] = undefined;
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
      state.workerStats = stats;
      renderBars($('activity-chart'), stats);
      $('total').textContent = `${stats.total_workers} workers`;
      sample();
      renderHistory();
      scheduleTableRefresh();
      scheduleQueueRefresh();
    },
    setConnection,
  );
  followChannel();
  state.streams[2] = follow(
    `/Workspaces/${sid}/RealTimeStatistics`,
    (stats) => {
      state.taskStats = { stats, receivedAt: Date.now() };
      renderTasks();
      sample();
      renderHistory();
      scheduleQueueRefresh();
    },
    () => undefined,
  );
  state.ticker = setInterval(tick, 1000);
  await Promise.all([loadWorkers(), loadQueues()]);
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
