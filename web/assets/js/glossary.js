// The glossary: everyone reads it; admins edit it as a list and decide on
// what members suggest; members suggest terms and see what became of them.

import { getChannels, getJson, sendJson } from './api.js';
import { $, h, replace } from './dom.js';

const status = $('#glossary-status');
const STATE_TEXT = { pending: 'waiting for an admin', approved: 'added', declined: 'declined' };
const linesOf = (text) => text.split('\n').map((t) => t.trim()).filter(Boolean);
const channelGlossary = (slug) => `/api/channels/${encodeURIComponent(slug)}/glossary`;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

async function loadTerms(isAdmin) {
  const { terms } = await getJson('/api/glossary');
  $('#terms-summary').textContent = terms.length
    ? `${terms.length} ${terms.length === 1 ? 'term' : 'terms'}.`
    : 'No terms yet.';
  replace($('#terms'), ...terms.map((term) => h('li', { class: 'tag' }, term)));
  $('#terms').hidden = isAdmin; // admins see the list in the editor instead
  if (isAdmin) $('#terms-text').value = terms.join('\n');
}

async function loadSuggestions(isAdmin) {
  const { suggestions } = await getJson('/api/glossary/suggestions');
  if (isAdmin) {
    $('#review-empty').hidden = suggestions.length > 0;
    $('#review').hidden = suggestions.length === 0;
    replace($('#review tbody'), ...suggestions.map((s) =>
      h('tr', { dataset: { id: String(s.id) } },
        h('td', {}, s.term),
        h('td', {}, s.suggested_by.display_name),
        h('td', {},
          h('button', { class: 'btn btn-primary', type: 'button', onclick: () => decide(s, 'approve') }, 'Add'),
          ' ',
          h('button', { class: 'btn', type: 'button', onclick: () => decide(s, 'decline') }, 'Decline')))));
  } else {
    replace($('#mine'), ...suggestions.map((s) =>
      h('li', { dataset: { state: s.state } }, h('strong', {}, s.term), ` · ${STATE_TEXT[s.state] ?? s.state}`)));
  }
}

async function decide(suggestion, verdict) {
  try {
    await sendJson('POST', `/api/glossary/suggestions/${suggestion.id}/${verdict}`, {});
    say(verdict === 'approve' ? `“${suggestion.term}” added to the glossary.` : `“${suggestion.term}” declined.`);
    await Promise.all([loadTerms(true), loadSuggestions(true)]);
  } catch (e) {
    say(e.message, true);
  }
}

$('#terms-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const terms = linesOf($('#terms-text').value);
  try {
    const saved = await sendJson('PUT', '/api/glossary', { terms });
    say(`Glossary saved: ${saved.terms.length} ${saved.terms.length === 1 ? 'term' : 'terms'}.`);
    await loadTerms(true);
  } catch (e) {
    say(e.message, true);
  }
});

$('#suggest-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#suggest-term');
  try {
    await sendJson('POST', '/api/glossary/suggestions', { term: input.value.trim() });
    say(`Thanks: “${input.value.trim()}” is suggested.`);
    input.value = '';
    await loadSuggestions(false);
  } catch (e) {
    say(e.message, true);
  }
});

/** The channels this person manages, each with its own terms. */
async function loadChannelTerms() {
  const { channels } = await getChannels();
  const managed = channels.filter((c) => c.can_manage && !c.archived);
  $('#channel-panel').hidden = managed.length === 0;
  if (!managed.length) return;
  const pick = $('#channel-pick');
  replace(pick, ...managed.map((c) => h('option', { value: c.slug }, `#${c.name}`)));
  const show = async () => {
    const slug = pick.value;
    delete pick.dataset.loaded;
    const { terms } = await getJson(channelGlossary(slug));
    $('#channel-terms').value = terms.join('\n');
    pick.dataset.loaded = slug; // whose terms the box holds
  };
  pick.addEventListener('change', () => show().catch((e) => say(e.message, true)));
  await show();
}

$('#channel-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const slug = $('#channel-pick').value;
  try {
    const saved = await sendJson('PUT', channelGlossary(slug), { terms: linesOf($('#channel-terms').value) });
    $('#channel-terms').value = saved.terms.join('\n');
    say(`Saved: ${saved.terms.length} ${saved.terms.length === 1 ? 'term' : 'terms'} for this channel.`);
  } catch (e) {
    say(e.message, true);
  }
});

async function start() {
  try {
    const me = await getJson('/api/me');
    const isAdmin = me.role === 'admin';
    $('#terms-form').hidden = !isAdmin;
    $('#review-panel').hidden = !isAdmin;
    $('#suggest-panel').hidden = isAdmin;
    await Promise.all([loadTerms(isAdmin), loadSuggestions(isAdmin), loadChannelTerms()]);
  } catch (e) {
    say(e.message, true);
  }
}

start();
