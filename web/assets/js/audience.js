// "Who has seen it", for an update's author and admins: who acknowledged, saw,
// started or is outstanding, with times; and asking people to acknowledge.

import { getJson, sendJson } from './api.js';
import { $, h, replace } from './dom.js';
import { ago, fullDate } from './format.js';

const REFRESH_MS = 30000;

const when = (label, iso) => [label, ' ', h('time', { datetime: iso, title: fullDate(iso) }, ago(iso))];

function standing(person) {
  if (person.acknowledged_at) return { rank: 3, text: when('Acknowledged', person.acknowledged_at) };
  if (person.seen_at) return { rank: 2, text: when('Seen', person.seen_at) };
  if (person.started_at) return { rank: 1, text: when('Started', person.started_at) };
  return { rank: 0, text: ['Not started'] };
}

function render(view) {
  const people = view.people
    .map((person) => ({ person, standing: standing(person) }))
    // Outstanding first, then those furthest behind.
    .sort((a, b) => (b.person.outstanding - a.person.outstanding) || (a.standing.rank - b.standing.rank)
      || a.person.display_name.localeCompare(b.person.display_name));
  replace($('#audience'), people.length
    ? people.map(({ person, standing: s }) => h('li', { dataset: { login: person.login, outstanding: String(person.outstanding) } },
      h('span', { class: 'who' }, person.display_name, ' ', h('span', { class: 'hint' }, `@${person.login}`)),
      h('span', { class: 'standing' }, ...s.text),
      person.outstanding ? h('span', { class: 'chip ack' }, 'Outstanding') : null))
    : [h('li', { class: 'hint' }, 'Nobody has started it yet, and nobody was asked to acknowledge it.')]);
  const parts = [`${view.seen} seen`];
  if (view.asked) parts.unshift(`${view.acknowledged} of ${view.asked} acknowledged`);
  if (view.outstanding) parts.push(`${view.outstanding} outstanding`);
  $('#audience-summary').textContent = parts.join(' · ');
}

/** Show the panel for update `id`, posted in `channel`, and keep it fresh. */
export async function showAudience(id, channel) {
  const url = `/api/updates/${encodeURIComponent(id)}/acknowledgements`;
  render(await getJson(url));
  $('#audience-section').hidden = false;
  if (channel) $('#ask-everyone').textContent = `Ask everyone in #${channel.name}`;

  const error = $('#ask-error');
  async function ask(body) {
    error.hidden = true;
    try {
      render(await sendJson('POST', url, body));
      $('#ask-people').value = '';
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  }
  $('#ask-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const people = $('#ask-people').value.split(/[\s,]+/).map((w) => w.replace(/^@/, '')).filter(Boolean);
    if (!people.length) {
      error.textContent = 'Name at least one person, or ask everyone in the channel.';
      error.hidden = false;
      return;
    }
    ask({ people });
  });
  $('#ask-everyone').addEventListener('click', () => ask({ everyone: true }));
  setInterval(() => {
    if (document.visibilityState === 'visible') getJson(url).then(render).catch(() => {});
  }, REFRESH_MS);
}
