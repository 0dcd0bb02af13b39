// People (admins): invitation links, accounts added directly, and everyone's
// access: disable, enable, reset a password.

import { getJson, sendJson } from './api.js';
import { $, h, replace } from './dom.js';
import { ago, fullDate } from './format.js';

const status = $('#people-status');
let myLogin = '';

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function when(iso) {
  return h('time', { datetime: iso, title: fullDate(iso) }, ago(iso));
}

function showSecret(box, value, label) {
  $(`${box} code`).textContent = value;
  if (label) $(`${box} p`).textContent = label;
  $(box).hidden = false;
}

async function loadInvitations() {
  const { invitations } = await getJson('/api/invitations');
  const rows = invitations.map((i) =>
    h('tr', { dataset: { id: i.id } },
      h('td', {}, `Joins as ${i.role}`),
      h('td', {}, i.created_by),
      h('td', {}, h('time', { datetime: i.expires_at, title: fullDate(i.expires_at) }, fullDate(i.expires_at))),
      h('td', {}, h('button', { class: 'btn', type: 'button', onclick: () => withdraw(i) }, 'Withdraw'))));
  replace($('#invitations tbody'), ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No open invitations.'))]));
}

async function withdraw(invitation) {
  try {
    await sendJson('DELETE', `/api/invitations/${invitation.id}`);
    say('Invitation withdrawn: its link no longer works.');
    await loadInvitations();
  } catch (e) {
    say(e.message, true);
  }
}

async function loadUsers() {
  const { users } = await getJson('/api/users');
  replace($('#users tbody'), ...users.map((u) => {
    const self = u.login === myLogin;
    return h('tr', { dataset: { login: u.login } },
      h('td', {}, u.display_name, u.disabled ? h('span', { class: 'tag' }, 'disabled') : null),
      h('td', {}, u.login),
      h('td', {}, u.role),
      h('td', {},
        h('button', { class: 'btn', type: 'button', onclick: () => resetPassword(u) }, 'Reset password'),
        ' ',
        self ? null : h('button', {
          class: 'btn', type: 'button', onclick: () => setDisabled(u, !u.disabled),
        }, u.disabled ? 'Enable' : 'Disable')));
  }));
}

async function setDisabled(user, disabled) {
  try {
    await sendJson('PATCH', `/api/users/${encodeURIComponent(user.login)}`, { disabled });
    say(disabled ? `${user.display_name} is disabled: signed out everywhere, tokens stopped.` : `${user.display_name} can sign in again.`);
    await loadUsers();
  } catch (e) {
    say(e.message, true);
  }
}

async function resetPassword(user) {
  if (!window.confirm(`Reset the password of ${user.display_name}? They are signed out everywhere.`)) return;
  try {
    const { password } = await sendJson('POST', `/api/users/${encodeURIComponent(user.login)}/password`, {});
    showSecret('#new-password', password, `New password for ${user.login}: hand it over, it is shown only this once.`);
    say(`Password of ${user.display_name} reset.`);
  } catch (e) {
    say(e.message, true);
  }
}

$('#invite-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const invitation = await sendJson('POST', '/api/invitations', { role: $('#invite-role').value });
    showSecret('#new-invitation', invitation.url);
    say('Invitation link created.');
    await loadInvitations();
  } catch (e) {
    say(e.message, true);
  }
});

$('#add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const login = $('#add-login');
  const name = $('#add-name');
  try {
    const created = await sendJson('POST', '/api/users', {
      login: login.value, display_name: name.value.trim() || null, role: $('#add-role').value,
    });
    showSecret('#new-password', created.password, `Password for ${created.user.login}: hand it over, it is shown only this once.`);
    login.value = '';
    name.value = '';
    say(`${created.user.display_name} added.`);
    await loadUsers();
  } catch (e) {
    say(e.message, true);
  }
});

async function start() {
  try {
    const me = await getJson('/api/me');
    myLogin = me.login;
    if (me.role !== 'admin') {
      say('Only an admin manages people.', true);
      for (const section of document.querySelectorAll('.panel')) section.hidden = true;
      return;
    }
    await Promise.all([loadInvitations(), loadUsers()]);
  } catch (e) {
    say(e.message, true);
  }
}

start();
