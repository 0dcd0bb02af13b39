// Channels: the list, joining and leaving, and for those who manage one its
// members and who posts; workspace admins create channels (open or private).

import { getChannels, getJson, sendJson } from './api.js';
import { $, h, replace } from './dom.js';

const status = $('#channels-status');
let me = null;
let managed = null; // the channel whose members are shown

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

const channelPath = (slug) => `/api/channels/${encodeURIComponent(slug)}`;

async function loadChannels() {
  const { channels } = await getChannels();
  replace($('#channels tbody'), ...channels.map((c) =>
    h('tr', { dataset: { slug: c.slug } },
      h('td', {},
        h('a', { href: `/?channel=${encodeURIComponent(c.slug)}` }, `#${c.name}`),
        c.private ? h('span', { class: 'tag' }, 'private') : null,
        c.archived ? h('span', { class: 'tag' }, 'archived') : null),
      h('td', {}, c.posting === 'listed' ? 'Listed posters' : 'Everyone'),
      h('td', {},
        c.joined
          ? h('button', { class: 'btn', type: 'button', onclick: () => leave(c) }, 'Leave')
          : h('button', { class: 'btn', type: 'button', onclick: () => join(c) }, 'Join'),
        ' ',
        c.can_manage ? h('button', { class: 'btn', type: 'button', onclick: () => showMembers(c) }, 'Members') : null))));
}

async function join(channel) {
  try {
    await sendJson('POST', `${channelPath(channel.slug)}/join`, {});
    say(`You joined #${channel.name}.`);
    await loadChannels();
  } catch (e) {
    say(e.message, true);
  }
}

async function leave(channel) {
  try {
    await sendJson('DELETE', `${channelPath(channel.slug)}/members/${encodeURIComponent(me.login)}`);
    say(`You left #${channel.name}.`);
    await loadChannels();
  } catch (e) {
    say(e.message, true);
  }
}

async function showMembers(channel) {
  managed = channel;
  $('#members-heading').textContent = `Members of #${channel.name}`;
  $('#members-panel').hidden = false;
  await loadMembers();
  $('#member-login').focus();
}

async function loadMembers() {
  const { members } = await getJson(`${channelPath(managed.slug)}/members`);
  const place = (m) => [m.is_admin ? 'manages' : null, m.can_post ? 'posts' : null].filter(Boolean).join(', ') || 'member';
  replace($('#members tbody'), ...members.map((m) =>
    h('tr', { dataset: { login: m.login } },
      h('td', {}, m.display_name, ' ', h('span', { class: 'muted' }, m.login)),
      h('td', {}, place(m)),
      h('td', {}, h('button', { class: 'btn', type: 'button', onclick: () => removeMember(m) }, 'Remove')))));
}

async function removeMember(member) {
  try {
    await sendJson('DELETE', `${channelPath(managed.slug)}/members/${encodeURIComponent(member.login)}`);
    say(`${member.display_name} is no longer in #${managed.name}.`);
    await Promise.all([loadMembers(), loadChannels()]);
  } catch (e) {
    say(e.message, true);
  }
}

$('#member-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const login = $('#member-login');
  try {
    await sendJson('PUT', `${channelPath(managed.slug)}/members/${encodeURIComponent(login.value.trim())}`, {
      can_post: $('#member-post').checked,
      is_admin: $('#member-admin').checked,
    });
    say(`${login.value.trim()} added to #${managed.name}.`);
    login.value = '';
    await Promise.all([loadMembers(), loadChannels()]);
  } catch (e) {
    say(e.message, true);
  }
});

$('#create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('#create-name');
  try {
    const created = await sendJson('POST', '/api/channels', {
      name: name.value,
      posting: $('#create-posting').value,
      private: $('#create-private').checked,
    });
    name.value = '';
    $('#create-private').checked = false;
    $('#create-posting').value = 'everyone';
    say(`#${created.name} created.`);
    await loadChannels();
    if (created.private) await showMembers(created);
  } catch (e) {
    say(e.message, true);
  }
});

async function start() {
  try {
    me = await getJson('/api/me');
    $('#create-panel').hidden = me.role !== 'admin';
    await loadChannels();
  } catch (e) {
    say(e.message, true);
  }
}

start();
