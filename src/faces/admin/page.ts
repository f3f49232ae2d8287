import { createHash } from 'node:crypto';

/**
 * The admin page (SPEC §15): one HTML document with its style and script inline, no build step.
 * It reads `/admin/state` every few seconds and ends sessions with `DELETE /sessions/<id>`; every
 * value from the gateway is written with textContent, never parsed as HTML.
 */
const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f7f8fa; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
#updated { color: #667; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 2px #0001; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #e4e7ec; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok, .ready { color: #17803d; } .error, .server_exited, .timeout, .mcp_error, .start_failed, .failed { color: #b42318; }
.tool_error, .starting, .session_limit, .cancelled { color: #b54708; }
button { font: inherit; padding: .15rem .6rem; border: 1px solid #b42318; color: #b42318; background: #fff; border-radius: 4px; cursor: pointer; }
button:hover { background: #fef3f2; }
.empty { color: #667; font-style: italic; }
`;

const SCRIPT = `
const REFRESH_MS = 2000;
const cell = (row, text, className) => {
  const td = row.insertCell();
  td.textContent = text === undefined || text === null ? '' : String(text);
  if (className) td.className = className;
  return td;
};
const fill = (id, items, columns, render) => {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren();
  if (items.length === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = columns;
    td.className = 'empty';
    td.textContent = 'none';
  }
  for (const item of items) render(body.insertRow(), item);
};
const seconds = (value) => value < 10 ? value.toFixed(3) + ' s' : Math.round(value) + ' s';
async function endSession(id, button) {
  button.disabled = true;
  await fetch('/sessions/' + encodeURIComponent(id), { method: 'DELETE' });
  await refresh();
}
async function refresh() {
  let state;
  try {
    const response = await fetch('/admin/state', { cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    state = await response.json();
  } catch (error) {
    document.getElementById('updated').textContent = 'refresh failed: ' + error.message;
    return;
  }
  fill('services', state.services, 5, (row, s) => {
    cell(row, s.name);
    cell(row, s.status, s.status);
    cell(row, s.tools === null ? '?' : s.tools, 'num');
    cell(row, s.protections);
    cell(row, s.error || s.description);
  });
  fill('sessions', state.sessions, 7, (row, s) => {
    cell(row, s.id);
    cell(row, s.service);
    cell(row, s.instance || 'this instance');
    cell(row, s.pid, 'num');
    cell(row, s.calls, 'num');
    cell(row, Math.round(s.idle_seconds) + ' s', 'num');
    const button = document.createElement('button');
    button.textContent = 'end';
    button.title = 'End every service of session ' + s.id;
    button.addEventListener('click', () => endSession(s.id, button));
    row.insertCell().append(button);
  });
  fill('calls', state.recent_calls, 5, (row, c) => {
    cell(row, new Date(c.at).toLocaleTimeString());
    cell(row, c.service);
    cell(row, c.tool);
    cell(row, c.outcome, c.outcome);
    cell(row, seconds(c.seconds), 'num');
  });
  document.getElementById('updated').textContent = 'version ' + state.version + ', updated ' + new Date().toLocaleTimeString();
}
refresh();
setInterval(refresh, REFRESH_MS);
`;

export const ADMIN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcp-gateway admin</title>
<style>${STYLE}</style>
</head>
<body>
<h1>mcp-gateway</h1>
<div id="updated">loading…</div>
<h2>Services</h2>
<table id="services"><thead><tr><th>service</th><th>status</th><th>tools</th><th>protections</th><th>description</th></tr></thead><tbody></tbody></table>
<h2>Live sessions</h2>
<table id="sessions"><thead><tr><th>session</th><th>service</th><th>instance</th><th>pid</th><th>calls</th><th>idle</th><th></th></tr></thead><tbody></tbody></table>
<h2>Recent calls</h2>
<table id="calls"><thead><tr><th>time</th><th>service</th><th>tool</th><th>outcome</th><th>duration</th></tr></thead><tbody></tbody></table>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page widens the gateway's `default-src 'none'` only by its own inline code and same-origin fetches (SPEC §3.1). */
export const ADMIN_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
