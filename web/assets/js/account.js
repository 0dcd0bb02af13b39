// Your account: API tokens (create, shown once; revoke), signed-in browsers
// (sign one out), and changing the password.

import { getJson, sendJson } from './api.js';
import { $, h, replace } from './dom.js';
import { ago, fullDate } from './format.js';

const status = $('#account-status');

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function when(iso) {
  return iso ? h('time', { datetime: iso, title: fullDate(iso) }, ago(iso)) : h('span', { class: 'muted' }, 'never');
}

async function loadTokens() {
  const { tokens } = await getJson('/api/me/tokens');
  const rows = tokens.map((t) =>
    h('tr', { dataset: { id: t.id } },
      h('td', {}, t.name, t.revoked ? h('span', { class: 'tag' }, ' revoked') : null),
      h('td', {}, when(t.created_at)),
      h('td', {}, when(t.last_used_at)),
      h('td', {}, t.revoked ? null : h('button', {
        class: 'btn', type: 'button', 'aria-label': `Revoke the token ${t.name}`,
        onclick: () => revokeToken(t),
      }, 'Revoke'))));
  replace($('#tokens tbody'), ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No tokens yet.'))]));
}

async function revokeToken(token) {
  try {
    await sendJson('DELETE', `/api/me/tokens/${token.id}`);
    say(`The token “${token.name}” is revoked.`);
    await loadTokens();
  } catch (e) {
    say(e.message, true);
  }
}

async function loadSessions() {
  const { sessions } = await getJson('/api/me/sessions');
  replace($('#sessions tbody'), ...sessions.map((s) =>
    h('tr', { dataset: { id: s.id } },
      h('td', {}, s.user_agent || 'Unknown browser', s.current ? h('span', { class: 'tag' }, 'this browser') : null),
      h('td', {}, when(s.created_at)),
      h('td', {}, when(s.last_seen_at)),
      h('td', {}, s.current ? null : h('button', {
        class: 'btn', type: 'button', onclick: () => endSession(s),
      }, 'Sign out')))));
}

async function endSession(session) {
  try {
    await sendJson('DELETE', `/api/me/sessions/${session.id}`);
    say('That browser is signed out.');
    await loadSessions();
  } catch (e) {
    say(e.message, true);
  }
}

$('#token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('#token-name');
  try {
    const created = await sendJson('POST', '/api/me/tokens', { name: name.value });
    $('#new-token-value').textContent = created.token;
    $('#new-token').hidden = false;
    name.value = '';
    say(`Token “${created.name}” created. Copy it now.`);
    await loadTokens();
  } catch (e) {
    say(e.message, true);
  }
});

$('#password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const current = $('#current-password');
  const next = $('#new-password');
  try {
    await sendJson('PUT', '/api/me/password', { current_password: current.value, new_password: next.value });
    current.value = '';
    next.value = '';
    say('Password changed. Your other browsers are signed out.');
    await loadSessions();
  } catch (e) {
    say(e.message, true);
  }
});

async function start() {
  try {
    const me = await getJson('/api/me');
    $('#account-who').textContent = `${me.display_name} · signed in as ${me.login} (${me.role})`;
    await Promise.all([loadTokens(), loadSessions()]);
  } catch (e) {
    say(e.message, true);
  }
}

start();
