/** How often the page polls `/api/fleet`, in milliseconds. */
const POLL_MS = 2_000;

const STYLE = `
:root{--bg:#0f1419;--panel:#161c23;--line:#2a323c;--text:#d7dde4;--dim:#8591a0;--ok:#4cc38a;--warn:#e5b454;--bad:#ef6b6b;--accent:#5aa9e6}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;align-items:baseline;gap:16px;padding:12px 20px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--dim);margin:20px 0 8px}
#meta{color:var(--dim)}#notice{margin-left:auto;color:var(--warn)}main,form{padding:0 20px 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin-top:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px}
.card b{display:block;font-size:20px;font-weight:600}.card span{color:var(--dim);font-size:12px}
table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line)}
th,td{padding:6px 8px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--dim);font-weight:500;font-size:12px}td.num{text-align:right;font-variant-numeric:tabular-nums}
.state{font-weight:600}.RUNNING{color:var(--ok)}.STARTING,.STOPPING,.BACKOFF,.IDLE{color:var(--warn)}
.FATAL,.EXITED,.STOPPED{color:var(--bad)}svg{vertical-align:middle}.chart{display:flex;gap:6px;align-items:center}
button{background:#222b35;color:var(--text);border:1px solid var(--line);border-radius:4px;padding:3px 8px;cursor:pointer}
button:hover{border-color:var(--accent)}button:disabled{opacity:.5;cursor:wait}
input,select{background:#0b0f13;color:var(--text);border:1px solid var(--line);border-radius:4px;padding:5px 8px}
pre{background:#0b0f13;border:1px solid var(--line);padding:10px;max-height:320px;overflow:auto;font-size:12px;margin:8px 0 0}
#login{max-width:420px;margin-top:40px}#login input{width:100%;margin:8px 0}.error{color:var(--bad)}
`;

const SCRIPT = `
const TOKEN_KEY = 'omnimind.token';
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (id) => document.getElementById(id);
let logChild = '';
let timer;

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: 'Bearer ' + token } : {};
}

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...authHeaders(), ...(init.headers || {}) } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || 'HTTP ' + response.status);
    error.status = response.status;
    throw error;
  }
  return body;
}

function showLogin(message) {
  clearTimeout(timer);
  $('board').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').focus();
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function spark(series, color, max) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '120');
  svg.setAttribute('height', '24');
  svg.setAttribute('class', 'spark');
  const values = series.map((v) => (v === null || v === undefined ? 0 : v));
  const top = Math.max(max || 0, ...values, 1e-9);
  const step = values.length > 1 ? 118 / (values.length - 1) : 0;
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', color);
  line.setAttribute('stroke-width', '1.5');
  line.setAttribute('points', values.map((v, i) => (1 + i * step).toFixed(1) + ',' + (23 - (v / top) * 21).toFixed(1)).join(' '));
  svg.append(line);
  svg.dataset.points = String(values.length);
  return svg;
}

function chart(cell, series, color, label) {
  cell.replaceChildren();
  const box = el('div', { class: 'chart' });
  box.append(spark(series, color), el('span', {}, label));
  cell.append(box);
}

const fmt = {
  n: (v) => (v === null || v === undefined ? '–' : String(Math.round(v * 100) / 100)),
  ms: (v) => (v === null || v === undefined ? '–' : (v < 10 ? v.toFixed(2) : Math.round(v)) + ' ms'),
  bytes: (v) => (v === null || v === undefined ? '–' : (v / 1048576).toFixed(1) + ' MiB'),
  pct: (v) => (v === null || v === undefined ? '–' : Math.round(v * 100) + '%'),
  age(iso) {
    if (!iso) return '–';
    let s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    s %= 60;
    return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m ? m + 'm ' + s + 's' : s + 's';
  },
};

const COLUMNS = ['name', 'state', 'pid', 'uptime', 'restarts', 'clients', 'requests', 'rate', 'latency', 'errors', 'rss', 'cpu', 'actions'];

function childRow(name) {
  let row = document.querySelector('#children tbody tr[data-child="' + CSS.escape(name) + '"]');
  if (row) return row;
  row = el('tr', { 'data-child': name });
  for (const column of COLUMNS) row.append(el('td', { class: column }));
  row.querySelector('.name').textContent = name;
  for (const action of ['start', 'stop', 'restart']) {
    const button = el('button', { 'data-action': action, type: 'button' }, action);
    button.addEventListener('click', () => act(name, action, button));
    row.querySelector('.actions').append(button, document.createTextNode(' '));
  }
  $('children').tBodies[0].append(row);
  return row;
}

function render({ status, history }) {
  const points = history.points;
  const s = status.supervisor;
  $('meta').textContent = 'v' + s.version + ' · pid ' + s.pid + ' · up ' + fmt.age(s.startedAt) + ' · ' + fmt.bytes(s.rssBytes);
  const names = status.children.map((c) => c.name);
  for (const row of document.querySelectorAll('#children tbody tr')) if (!names.includes(row.dataset.child)) row.remove();
  const fleetRate = points.map((p) => Object.values(p.children).reduce((sum, c) => sum + c.rate, 0));
  const fleetP99 = points.map((p) => {
    const values = Object.values(p.children).flatMap((c) => (c.p99 === null ? [] : [c.p99]));
    return values.length === 0 ? null : Math.max(...values);
  });
  for (const child of status.children) {
    const row = childRow(child.name);
    const cell = (name) => row.querySelector('.' + name);
    const state = cell('state');
    state.textContent = child.state;
    state.className = 'state ' + child.state;
    cell('pid').textContent = child.pid === null ? '–' : String(child.pid);
    cell('uptime').textContent = child.state === 'RUNNING' ? fmt.age(child.startedAt) : '–';
    cell('restarts').textContent = String(child.restarts);
    cell('clients').textContent = String(child.clients);
    cell('requests').textContent = String(child.requests);
    cell('errors').textContent = String(child.errors);
    cell('rss').textContent = fmt.bytes(child.rssBytes);
    for (const name of ['pid', 'restarts', 'clients', 'requests', 'errors', 'rss']) cell(name).classList.add('num');
    const own = points.map((p) => p.children[child.name] || {});
    const last = own[own.length - 1] || {};
    chart(cell('rate'), own.map((p) => p.rate), '#5aa9e6', fmt.n(last.rate) + '/s');
    chart(cell('latency'), own.map((p) => p.p99), '#e5b454', fmt.ms(child.latencyMs.p50) + ' / ' + fmt.ms(child.latencyMs.p99));
    cell('cpu').textContent = last.cpu === null || last.cpu === undefined ? '–' : Math.round(last.cpu * 100) + '%';
    for (const button of row.querySelectorAll('button')) button.disabled = button.dataset.busy === '1';
  }
  const endpoints = $('endpoints').tBodies[0];
  endpoints.replaceChildren();
  for (const profile of status.profiles) {
    const row = el('tr', { 'data-endpoint': profile.name });
    row.append(el('td', {}, profile.name), el('td', {}, 'profile'), el('td', { class: 'num' }, String(profile.clients)), el('td', {}, profile.children.join(', ')));
    endpoints.append(row);
  }
  for (const child of status.children) {
    const row = el('tr', { 'data-endpoint': child.name });
    row.append(el('td', {}, child.name), el('td', {}, 'child'), el('td', { class: 'num' }, String(child.clients)), el('td', {}, child.name));
    endpoints.append(row);
  }
  const cards = $('cards');
  cards.replaceChildren();
  const card = (id, label, value, series, color, max) => {
    const box = el('div', { class: 'card', id });
    box.append(el('span', {}, label), el('b', {}, value));
    if (series) box.append(spark(series, color, max));
    cards.append(box);
  };
  const total = status.children.reduce((sum, c) => sum + c.requests, 0);
  const errors = status.children.reduce((sum, c) => sum + c.errors, 0);
  card('card-requests', 'requests (rate, 15 min)', String(total), fleetRate, '#5aa9e6');
  card('card-p99', 'p99 latency (15 min)', fmt.ms(fleetP99[fleetP99.length - 1] ?? null), fleetP99, '#e5b454');
  card('card-errors', 'errors', String(errors), points.map((p) => Object.values(p.children).reduce((sum, c) => sum + c.errorRate, 0)), '#ef6b6b');
  card('card-cache', 'cache hit rate', fmt.pct(status.cache.hitRate) + ' (' + status.cache.hits + ' hits)', points.map((p) => p.cacheHitRate), '#4cc38a', 1);
  card('card-limiter', 'limiter queued · running', status.limiter.queued + ' · ' + status.limiter.running, points.map((p) => p.queued), '#e5b454');
  card('card-rps', 'limiter rate', Math.round(status.limiter.rps) + ' rps');
  card('card-shed', 'shed · timed out', status.limiter.shed + ' · ' + status.limiter.timedOut, points.map((p) => p.shed), '#ef6b6b');
  if (status.http) card('card-http', 'HTTP sessions', String(status.http.sessions));
  const select = $('log-child');
  const options = [...select.options].map((o) => o.value);
  if (options.join() !== names.join()) {
    select.replaceChildren(...names.map((n) => el('option', { value: n }, n)));
    if (!names.includes(logChild)) logChild = names[0] || '';
    select.value = logChild;
  }
}

async function refreshLog() {
  if (!logChild) return;
  const { lines } = await api('/api/logs/' + encodeURIComponent(logChild) + '?lines=200');
  const pre = $('log');
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = lines.join('\\n');
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

async function poll() {
  clearTimeout(timer);
  const started = Date.now();
  try {
    render(await api('/api/fleet'));
    $('login').hidden = true;
    $('board').hidden = false;
    $('logout').hidden = !sessionStorage.getItem(TOKEN_KEY);
    await refreshLog();
  } catch (error) {
    if (error.status === 401) return showLogin(sessionStorage.getItem(TOKEN_KEY) ? 'The token was refused.' : '');
    if (error.status === 403) return showLogin(error.message);
    $('notice').textContent = 'update failed: ' + error.message;
  }
  timer = setTimeout(poll, Math.max(0, ${POLL_MS} - (Date.now() - started)));
}

async function act(name, action, button) {
  button.dataset.busy = '1';
  button.disabled = true;
  $('notice').textContent = action + ' ' + name + '…';
  try {
    await api('/api/children/' + encodeURIComponent(name) + '/' + action, { method: 'POST', headers: { 'X-Omnimind-CSRF': csrf } });
    $('notice').textContent = action + ' ' + name + ': done';
  } catch (error) {
    $('notice').textContent = action + ' ' + name + ' failed: ' + error.message;
  }
  delete button.dataset.busy;
  poll();
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  poll();
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin('');
});
$('log-child').addEventListener('change', (event) => {
  logChild = event.target.value;
  refreshLog().catch(() => {});
});
poll();
`;

/** The dashboard: one static page that polls `/api/fleet`; `nonce` admits its script and style, `csrf` its POSTs. */
export function dashboardPage(nonce: string, csrf: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrf}">
<title>omnimind</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header><h1>omnimind</h1><span id="meta"></span><span id="notice"></span><button id="logout" type="button" hidden>log out</button></header>
<form id="login" hidden>
<h2>Log in</h2>
<p>Paste a token from <code>omnimind token create &lt;name&gt;</code> (one for every endpoint, or made with <code>--metrics</code> to watch only). It is kept in this tab only.</p>
<input id="token" type="password" autocomplete="off" placeholder="omm_…" aria-label="token">
<button type="submit">Log in</button>
<p id="login-error" class="error"></p>
</form>
<main id="board" hidden>
<section id="cards" class="cards"></section>
<h2>Children</h2>
<table id="children"><thead><tr><th>child</th><th>state</th><th>pid</th><th>uptime</th><th>restarts</th><th>clients</th><th>requests</th><th>rate</th><th>p50 / p99</th><th>errors</th><th>RSS</th><th>CPU</th><th></th></tr></thead><tbody></tbody></table>
<h2>Endpoints</h2>
<table id="endpoints"><thead><tr><th>endpoint</th><th>kind</th><th>clients</th><th>children</th></tr></thead><tbody></tbody></table>
<h2>Log <select id="log-child" aria-label="child"></select></h2>
<pre id="log"></pre>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
