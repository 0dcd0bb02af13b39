// Search as you type: debounced, stale requests aborted, the query kept in the URL.

import { getJson } from './api.js';
import { $, h, linkified, replace, trustedSnippet } from './dom.js';
import { clock } from './format.js';

const DEBOUNCE_MS = 150;

const form = $('#search-form');
const input = $('#q');
const status = $('#search-status');
const hits = $('#hits');

let timer = 0;
let inFlight = null;
let shown = null; // the query whose results are on screen

function watchUrl(id, ms) {
  const seconds = Math.floor(ms / 1000);
  return `/updates/${encodeURIComponent(id)}${seconds > 0 ? `?t=${seconds}` : ''}`;
}

function renderHit(hit) {
  const poster = h('img', { src: `/api/updates/${encodeURIComponent(hit.update_id)}/poster.jpg`, alt: '', loading: 'lazy' });
  poster.addEventListener('error', () => poster.remove(), { once: true });
  const matches = (hit.matches || []).map((m) =>
    h('li', {},
      h('a', { class: 'match', href: watchUrl(hit.update_id, m.word_ms ?? m.start_ms), dataset: { startMs: m.word_ms ?? m.start_ms } },
        h('span', { class: 'ts' }, clock(m.word_ms ?? m.start_ms)),
        m.kind === 'comment' ? h('span', { class: 'chip comments-count' }, 'Comment') : null,
        trustedSnippet('span', 'snippet', m.snippet))));
  const title = trustedSnippet('a', 'hit-link', hit.title_snippet || '');
  if (!title.textContent.trim()) title.textContent = hit.title;
  title.href = `/updates/${encodeURIComponent(hit.update_id)}`;
  return h('li', { class: 'hit card-surface', dataset: { id: hit.update_id } },
    h('div', { class: 'thumb', 'aria-hidden': 'true' }, poster),
    h('div', { class: 'hit-body' },
      h('h2', {}, title),
      hit.description ? h('p', { class: 'hit-description' }, ...linkified(hit.description)) : null,
      matches.length
        ? h('ol', { class: 'matches', 'aria-label': `Moments in ${hit.title}` }, matches)
        : h('p', { class: 'hint' }, 'Matched the title.'),
    ),
  );
}

function reflectInUrl(query) {
  const url = query ? `/search?q=${encodeURIComponent(query)}` : '/search';
  if (location.pathname + location.search !== url) history.replaceState(null, '', url);
  document.title = query ? `${query} · Search · Bulletin` : 'Search · Bulletin';
}

async function run(raw) {
  const query = raw.trim();
  reflectInUrl(query);
  inFlight?.abort();
  inFlight = null;
  if (!query) {
    shown = '';
    replace(hits);
    status.textContent = '';
    return;
  }
  if (query === shown) return;
  const controller = new AbortController();
  inFlight = controller;
  hits.setAttribute('aria-busy', 'true');
  try {
    const result = await getJson(`/api/search?q=${encodeURIComponent(query)}&limit=20`, { signal: controller.signal });
    shown = query;
    replace(hits, result.hits.map(renderHit));
    const moments = result.hits.reduce((n, hit) => n + (hit.matches?.length || 0), 0);
    status.textContent = result.hits.length
      ? `${result.hits.length} update${result.hits.length === 1 ? '' : 's'}, ${moments} moment${moments === 1 ? '' : 's'} for “${query}”`
      : `Nothing matches “${query}”. Try fewer or shorter words.`;
  } catch (e) {
    if (e.name === 'AbortError') return; // a newer query replaced this one
    shown = null;
    replace(hits);
    status.textContent = `Search failed: ${e.message}`;
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      hits.removeAttribute('aria-busy');
    }
  }
}

input.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => run(input.value), DEBOUNCE_MS);
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  clearTimeout(timer);
  shown = null;
  run(input.value);
});

const initial = new URLSearchParams(location.search).get('q') || '';
if (initial) {
  input.value = initial;
  run(initial);
}
