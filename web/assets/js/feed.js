// The feed: what is new to this person first (per channel, with "mark all as
// seen"), then every update newest first, "load more" pages, and live status
// of updates still processing.

import { getChannels, getJson, getUpdate, sendJson } from './api.js';
import { $, announce, h, icon, replace } from './dom.js';
import { ago, clock, fullDate, readingTime, spokenDuration } from './format.js';
import { overallProgress, renderStages } from './stages.js';
import { setupUploads } from './uploader.js';

const PAGE_SIZE = 12;
/** New updates shown on top; the rest are marked in the full list. */
const UNSEEN_SHOWN = 12;
const POLL_MS = 2000;

const list = $('#feed');
const more = $('#load-more');
const errorBox = $('#feed-error');
const loading = $('#feed-loading');
const status = $('#feed-status');
const channelFilter = $('#feed-channel');

/** The channel shown (`?channel=slug`), or '' for all. */
let channel = new URLSearchParams(location.search).get('channel') ?? '';

let next = null;
const cards = new Map(); // id → <li> in the full list
const newCards = new Map(); // id → <li> in "New for you"
let polling = null;

function thumbnail(update) {
  const ready = update.stages?.transcode?.state === 'done';
  const thumb = h('div', { class: 'thumb' });
  if (ready) {
    const img = h('img', { src: update.links.poster, alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.replaceWith(icon('video')), { once: true });
    thumb.append(img);
  } else {
    const placeholder = icon(update.status === 'failed' ? 'alert' : 'video');
    placeholder.classList.add('placeholder-icon');
    thumb.append(placeholder);
  }
  if (update.duration_ms > 0) {
    thumb.append(h('span', { class: 'badge', 'aria-label': `Duration ${spokenDuration(update.duration_ms)}` }, clock(update.duration_ms)));
  }
  return thumb;
}

function statusLine(update) {
  if (update.status === 'processing') {
    const stages = h('ol', { class: 'stages', 'aria-label': 'Processing progress' });
    renderStages(stages, update);
    return [h('span', { class: 'chip' }, `Processing · ${overallProgress(update)}%`), stages];
  }
  if (update.status === 'failed') {
    return [h('span', { class: 'chip failed' }, 'Failed'), update.error ? h('p', { class: 'hint' }, update.error) : null];
  }
  return [];
}

/** Not seen yet, or asked to acknowledge: what the person should catch up on. */
function youChips(update) {
  const you = update.you;
  if (!you || you.author) return [];
  const chips = [];
  if (you.asked_to_acknowledge && !you.acknowledged) chips.push(h('span', { class: 'chip ack' }, 'Please acknowledge'));
  if (!you.seen && update.status !== 'failed') chips.push(h('span', { class: 'chip new' }, 'New'));
  return chips.length ? [h('p', { class: 'you-chips' }, ...chips)] : [];
}

function cardContent(update) {
  const reading = readingTime(update.reading_minutes, update.word_count);
  return [
    thumbnail(update),
    h('div', { class: 'body' },
      h('h2', {}, h('a', { href: update.links.watch }, update.title)),
      h('p', { class: 'meta' },
        update.author ? h('span', { class: 'author' }, update.author.display_name) : null,
        update.channel ? h('span', { class: 'channel' }, `#${update.channel.name}`) : null,
        h('time', { datetime: update.created_at, title: fullDate(update.created_at) }, ago(update.created_at)),
        reading ? h('span', {}, reading) : null,
        update.comment_count ? h('span', { class: 'chip comments-count', 'aria-label': `${update.comment_count} comments` }, `💬 ${update.comment_count}`) : null,
      ),
      update.reply_to ? h('p', { class: 'hint reply-of' }, '↩ Reply to ', h('a', { href: `/updates/${encodeURIComponent(update.reply_to.id)}` }, update.reply_to.title)) : null,
      ...youChips(update),
      ...statusLine(update),
    ),
  ];
}

function renderCard(update, into = cards) {
  let card = into.get(update.id);
  if (!card) {
    card = h('li', { class: 'card' });
    into.set(update.id, card);
  }
  const hadFocus = card.contains(document.activeElement);
  card.dataset.id = update.id;
  card.dataset.status = update.status;
  card.classList.toggle('is-new', Boolean(update.you && !update.you.author && !update.you.seen && update.status !== 'failed'));
  replace(card, cardContent(update));
  // A status refresh must not throw keyboard focus back to the page start.
  if (hadFocus) card.querySelector('h2 a')?.focus();
  return card;
}

async function loadPage() {
  more.disabled = true;
  const params = new URLSearchParams({ limit: PAGE_SIZE });
  if (next) params.set('before', next);
  if (channel) params.set('channel', channel);
  const url = `/api/updates?${params}`;
  try {
    const page = await getJson(url);
    errorBox.hidden = true;
    const fresh = page.updates.filter((u) => !cards.has(u.id)).map((u) => renderCard(u));
    list.append(...fresh);
    next = page.next;
    more.hidden = !next;
    if (cards.size === 0) showEmpty();
    if (fresh.length && document.activeElement === more) {
      // Keep keyboard users where the new items start.
      fresh[0].querySelector('h2 a')?.focus();
    }
    announce(status, `${cards.size} update${cards.size === 1 ? '' : 's'} shown${next ? ', more available' : ''}.`);
    schedulePoll();
  } catch (e) {
    errorBox.hidden = false;
    replace(errorBox, h('strong', {}, 'The feed could not be loaded.'), e.message, ' ',
      h('button', { class: 'btn', type: 'button', onclick: () => loadPage() }, 'Try again'));
  } finally {
    loading.hidden = true;
    more.disabled = false;
  }
}

function showEmpty() {
  replace(list, h('li', { class: 'empty' },
    icon('video'),
    h('h2', {}, 'No updates yet'),
    h('p', { class: 'lede' }, 'Record a short update and it will appear here, transcribed and searchable.'),
    h('a', { class: 'btn btn-primary', href: channel ? `/record?channel=${encodeURIComponent(channel)}` : '/record' }, 'Record the first update'),
  ));
}

/** Refresh cards that are still processing, until none are. */
function schedulePoll() {
  if (polling) return;
  const processing = new Set([...cards.values(), ...newCards.values()]
    .filter((c) => c.dataset.status === 'processing')
    .map((c) => c.dataset.id));
  if (!processing.size) return;
  polling = setTimeout(async () => {
    polling = null;
    for (const id of processing) {
      try {
        const update = await getUpdate(id);
        if (cards.has(id)) renderCard(update);
        if (newCards.has(id)) renderCard(update, newCards);
        if (update.status === 'ready') announce(status, `“${update.title}” is ready to watch.`);
      } catch {
        // A transient failure: try again on the next round.
      }
    }
    schedulePoll();
  }, document.hidden ? POLL_MS * 3 : POLL_MS);
}

/** Fill the channel filter; the current one stays chosen. */
async function loadChannels() {
  try {
    const { channels } = await getChannels();
    channelFilter.append(...channels.map((c) =>
      h('option', { value: c.slug, selected: c.slug === channel }, c.archived ? `${c.name} (archived)` : c.name)));
  } catch {
    // Without the list, the feed still shows every channel.
  }
}

/** "New for you": the unseen updates (of the channel shown), and counts per channel. */
async function loadUnseen() {
  const section = $('#unseen');
  try {
    const counts = await getJson('/api/unseen');
    const params = new URLSearchParams({ unseen: 'true', limit: UNSEEN_SHOWN });
    if (channel) params.set('channel', channel);
    const page = await getJson(`/api/updates?${params}`);
    newCards.clear();
    replace($('#unseen-list'), page.updates.map((u) => renderCard(u, newCards)));
    replace($('#unseen-channels'), counts.channels.map((c) =>
      h('li', {}, h('a', { class: 'chip', href: `/?channel=${encodeURIComponent(c.slug)}`, 'aria-current': c.slug === channel ? 'true' : null,
        'aria-label': `${c.unseen} new in ${c.name}` }, `#${c.name} · ${c.unseen}`))));
    const shown = page.updates.length;
    const inView = channel ? (counts.channels.find((c) => c.slug === channel)?.unseen ?? 0) : counts.total;
    $('#unseen-more').hidden = inView <= shown;
    $('#unseen-more').textContent = `${inView - shown} more below, marked New.`;
    $('#mark-seen').textContent = channel ? 'Mark this channel as seen' : 'Mark all as seen';
    section.hidden = counts.total === 0;
    $('#all-heading').classList.toggle('visually-hidden', section.hidden);
    schedulePoll();
  } catch {
    // Without it, the full list below still shows everything.
    section.hidden = true;
  }
}

$('#mark-seen').addEventListener('click', async () => {
  const button = $('#mark-seen');
  button.disabled = true;
  try {
    const left = await sendJson('POST', '/api/unseen/mark-seen', channel ? { channel } : {});
    for (const card of cards.values()) {
      card.classList.remove('is-new');
      card.querySelector('.chip.new')?.remove();
    }
    announce(status, left.total ? `Marked as seen; ${left.total} new in other channels.` : 'Everything is marked as seen.');
    await loadUnseen();
  } catch (e) {
    announce(status, e.message);
  } finally {
    button.disabled = false;
  }
});

channelFilter.addEventListener('change', () => {
  channel = channelFilter.value;
  const url = new URL(location.href);
  if (channel) url.searchParams.set('channel', channel);
  else url.searchParams.delete('channel');
  history.replaceState(null, '', url);
  next = null;
  cards.clear();
  replace(list);
  loading.hidden = false;
  loadUnseen();
  loadPage();
});

/** A newly posted update goes on top, if it belongs to what the feed shows. */
function showPosted(update) {
  if (channel && update.channel?.slug !== channel) return;
  list.querySelector('.empty')?.remove();
  list.prepend(renderCard(update));
  schedulePoll();
}

more.addEventListener('click', loadPage);
setupUploads({ posted: showPosted, channel: () => channel });
loadChannels();
loadUnseen();
loadPage();
