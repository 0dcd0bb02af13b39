// The watch page: player, transcript, skim aids, and live processing status
// (poll about once a second; load the video and transcript as they appear).

import { correctLine, getChannels, getJson, getUpdate, sendJson } from './api.js';
import { $, announce, h, linkified, replace } from './dom.js';
import { ago, clock, fullDate, parseTime, readingTime } from './format.js';
import { createPlayer } from './player.js';
import { acknowledge, getProgress, trackProgress, trackReading } from './progress.js';
import { showAudience } from './audience.js';
import { createThread } from './thread.js';
import { overallProgress, renderStages, summary } from './stages.js';
import { loadStoryboard } from './storyboard.js';
import { createTranscript } from './transcript.js';

const POLL_MS = 1000;

const id = decodeURIComponent(location.pathname.split('/')[2] || '');
const startAt = parseTime(new URLSearchParams(location.search).get('t'));
const statusRegion = $('#watch-status');

const player = createPlayer($('#player'));
const transcript = createTranscript({
  lines: $('#transcript'),
  empty: $('#transcript-empty'),
  follow: $('#follow'),
  paragraphs: $('#paragraphs'),
  chapters: $('#chapters'),
  onSeek: (seconds) => {
    player.seek(seconds);
    transcript.highlight(seconds);
  },
  onCorrect: async (index, text) => {
    const saved = await correctLine(id, index, text);
    offerTerms(saved.glossary_candidates || []);
    // A new URL: the old captions may be cached.
    if (captionsUrl) player.reloadCaptions(`${captionsUrl}?corrected=${Date.now()}`);
    announce(statusRegion, 'The corrected line is saved.');
    return saved;
  },
});
let captionsUrl = null;
player.onTime((t) => transcript.highlight(t));

/** After a correction: its new names, offered as glossary terms (an admin approves them). */
function offerTerms(terms) {
  const box = $('#glossary-offer');
  box.hidden = !terms.length;
  if (!terms.length) return;
  const suggest = async (term, button) => {
    button.disabled = true;
    try {
      await sendJson('POST', '/api/glossary/suggestions', { term });
      button.textContent = `${term} suggested`;
    } catch (e) {
      button.textContent = `${term}: ${e.message}`;
    }
  };
  replace(box, h('p', {}, 'Should future transcripts spell these your way? Suggest them for the glossary:'),
    h('p', { class: 'row' }, ...terms.map((term) => h('button', { type: 'button', class: 'btn btn-small', onclick: (e) => suggest(term, e.currentTarget) }, term))),
    h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick: () => { box.hidden = true; } }, 'Not now'));
}
// The discussion, once the update is known to exist (and be visible).
const thread = createThread({ id, player, transcript, status: statusRegion });
let threadStarted = false;

// This person's progress: where to resume, and whether they were asked to acknowledge.
const progressReady = getProgress(id).catch(() => null);
progressReady.then(showAcknowledgement);
// Reading the transcript (panel or reading view) counts as catching up too.
const reading = trackReading();
progressReady.then((progress) => {
  if (progress?.seen) reading.stop();
});

function showAcknowledgement(progress) {
  if (!progress || !progress.asked_to_acknowledge) return;
  const done = Boolean(progress.acknowledged_at);
  $('#ack').hidden = false;
  $('#ack').classList.toggle('done', done);
  $('#ack-text').textContent = done ? 'You acknowledged this update.' : 'Please acknowledge this update.';
  $('#ack-button').hidden = done;
}

$('#ack-button').addEventListener('click', async () => {
  $('#ack-button').disabled = true;
  try {
    const answer = await acknowledge(id);
    showAcknowledgement({ asked_to_acknowledge: true, acknowledged_at: answer.acknowledged_at });
    announce(statusRegion, 'Acknowledged.');
  } catch (error) {
    $('#ack-text').textContent = error.message;
  } finally {
    $('#ack-button').disabled = false;
  }
});

let videoLoaded = false;
// Playing the upload as sent while its MP4 is made; a browser that cannot play it waits for the MP4.
let playingOriginal = false;
let originalRefused = false;
let storyboardLoaded = false;
let progressTracked = false;
let transcriptState = 'none'; // none → loading → loaded
let lastStatus = null;
let failures = 0;
let settleRounds = 0;

/** Whether the update was new to this person when the page opened (decided once). */
let isNew = null;

function renderHead(update) {
  if (isNew === null && update.you) {
    const you = update.you;
    isNew = !you.author && !you.started && !you.seen && update.status !== 'failed';
  }
  document.title = `${update.title} · Bulletin`;
  $('#title').textContent = update.title;
  const description = $('#description');
  replace(description, ...linkified(update.description || ''));
  description.hidden = !update.description;
  const reading = readingTime(update.reading_minutes, update.word_count);
  replace($('#meta'),
    update.author ? h('span', { class: 'author' }, update.author.display_name) : null,
    update.channel ? h('a', { class: 'channel', href: `/?channel=${encodeURIComponent(update.channel.slug)}` }, `#${update.channel.name}`) : null,
    h('time', { datetime: update.created_at, title: fullDate(update.created_at) }, ago(update.created_at)),
    update.duration_ms ? h('span', {}, clock(update.duration_ms)) : null,
    reading ? h('span', {}, reading) : null,
    isNew ? h('span', { class: 'chip new' }, 'New since your last visit') : null,
  );
  $('#reading-time').textContent = reading ?? '';
  const replyOf = $('#reply-of');
  replyOf.hidden = !update.reply_to;
  if (update.reply_to) {
    const at = update.reply_to.at_ms;
    const href = `/updates/${encodeURIComponent(update.reply_to.id)}${at ? `?t=${Math.floor(at / 1000)}` : ''}`;
    replace(replyOf, '↩ A video reply to ', h('a', { href }, update.reply_to.title), at !== null ? ` at ${clock(at)}` : '');
  }
}

function renderProcessing(update) {
  const processing = update.status === 'processing';
  const placeholder = $('#player-placeholder');
  if (!videoLoaded) {
    placeholder.hidden = false;
    if (update.status === 'failed') {
      $('#placeholder-text').textContent = 'This update could not be processed.';
    } else {
      $('#placeholder-text').textContent = `Preparing the video… ${overallProgress(update)}%`;
    }
    renderStages($('#placeholder-stages'), update);
  }
  $('#processing').hidden = !(processing && videoLoaded);
  if (processing && videoLoaded) {
    renderStages($('#processing-stages'), update);
    $('#processing-summary').textContent = `${overallProgress(update)}%`;
  }
  const failed = $('#failed');
  failed.hidden = update.status !== 'failed';
  if (update.status === 'failed') {
    replace(failed, h('strong', {}, 'Processing failed.'), update.error || 'An unknown error stopped processing.');
  }
}

function loadVideo(update) {
  videoLoaded = true;
  playingOriginal = update.playable === 'original';
  $('#player-placeholder').hidden = true;
  $('#player').hidden = false;
  const video = $('#video');
  if (playingOriginal) {
    video.addEventListener('error', () => {
      if (!playingOriginal) return;
      // This browser does not play the file as it was sent: wait for the MP4.
      originalRefused = true;
      playingOriginal = false;
      videoLoaded = false;
      $('#player').hidden = true;
      renderProcessing(update);
    }, { once: true });
  }
  player.load(update, startAt, playingOriginal ? update.links.original : update.links.video);
  if (!progressTracked) {
    progressTracked = true;
    trackProgress(video, id, showAcknowledgement, reading);
  }
  // Back where this person left off, unless the link names a moment.
  if (startAt === null) {
    progressReady.then((progress) => {
      const resume = progress ? progress.resume_ms / 1000 : 0;
      if (resume <= 0) return;
      const seek = () => {
        if (video.paused && video.currentTime === 0) player.seek(resume);
      };
      if (video.readyState >= 1) seek();
      else video.addEventListener('loadedmetadata', seek, { once: true });
    });
  }
  $('#copy-link').disabled = false;
  if (!playingOriginal) showStoryboard(update);
}

/** Thumbnails for scrubbing, once the transcode has made them. */
function showStoryboard(update) {
  if (storyboardLoaded) return;
  storyboardLoaded = true;
  loadStoryboard(update.links.storyboard).then(player.setStoryboard).catch(() => {});
}

async function loadTranscript(update) {
  transcriptState = 'loading';
  try {
    const data = await getJson(update.links.transcript);
    if (!data.available) {
      transcriptState = 'none';
      return;
    }
    const counts = transcript.render(data);
    showKeptCorrections(data.suggestions || []);
    const used = update.glossary_terms_used || [];
    $('#glossary-used').hidden = used.length === 0;
    $('#glossary-used').textContent = `Transcribed with ${used.length} glossary ${used.length === 1 ? 'term' : 'terms'}: ${used.join(', ')}.`;
    reading.observe(transcript.readable(), counts.lines);
    thread.repaint();
    player.setChapters(data.chapters || []);
    $('#chapters-section').hidden = counts.chapters < 2;
    $('#read-section').hidden = counts.paragraphs === 0;
    if (counts.lines) {
      player.enableCaptions(update.links.vtt);
      captionsUrl = update.links.vtt;
      const download = $('#download-vtt');
      download.href = update.links.vtt;
      download.setAttribute('download', `${update.title}.vtt`);
      download.hidden = false;
    }
    transcript.highlight(player.video.currentTime);
    transcriptState = 'loaded';
    if (lastStatus === 'processing') announce(statusRegion, 'The transcript is ready.');
  } catch {
    transcriptState = 'none'; // try again on the next poll
  }
}

/** Hand corrections a re-transcription could not place: each at its moment, to reuse by hand. */
function showKeptCorrections(suggestions) {
  $('#kept-corrections').hidden = suggestions.length === 0;
  replace($('#kept-list'), ...suggestions.map((s) =>
    h('li', {},
      h('button', { class: 'ts', type: 'button', onclick: () => player.seek(s.start_ms / 1000) }, clock(s.start_ms)),
      ' ', s.text,
      s.by ? h('span', { class: 'muted' }, ` · ${s.by}`) : null)));
}

/** Move and delete, for the update's author and for admins. */
async function setUpManage(update) {
  try {
    const me = await getJson('/api/me');
    if (update.author?.login !== me.login && me.role !== 'admin') {
      $('#audience-private').hidden = false;
      return;
    }
    transcript.setEditable(true);
    showAudience(id, update.channel);
    const { channels } = await getChannels();
    const here = update.channel?.slug;
    replace($('#move-channel'), ...channels
      .filter((c) => c.can_post || c.slug === here)
      .map((c) => h('option', { value: c.slug, selected: c.slug === here }, `#${c.name}`)));
    $('#manage').hidden = false;
  } catch {
    // Without them, the page still plays and reads.
  }
}

$('#move').addEventListener('click', async () => {
  try {
    const moved = await sendJson('PATCH', `/api/updates/${encodeURIComponent(id)}`, { channel: $('#move-channel').value });
    current = moved;
    renderHead(moved);
    announce(statusRegion, `Moved to #${moved.channel.name}.`);
  } catch (e) {
    announce(statusRegion, e.message);
    showError('Could not move this update.', e.message);
  }
});

$('#edit-description').addEventListener('click', () => {
  $('#description-text').value = current?.description ?? '';
  $('#description-form').hidden = false;
  $('#description-text').focus();
});

$('#description-cancel').addEventListener('click', () => {
  $('#description-form').hidden = true;
});

$('#description-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const edited = await sendJson('PATCH', `/api/updates/${encodeURIComponent(id)}`, { description: $('#description-text').value });
    renderHead(edited);
    $('#description-form').hidden = true;
    announce(statusRegion, 'Description saved.');
  } catch (e) {
    showError('Could not save the description.', e.message);
  }
});

// Transcribe again (after a glossary change): the page swaps in the new
// transcript once it is complete; until then the old one stays.
$('#retranscribe').addEventListener('click', async () => {
  const button = $('#retranscribe');
  button.disabled = true;
  try {
    await sendJson('POST', `/api/updates/${encodeURIComponent(id)}/retranscribe`, {});
    announce(statusRegion, 'Transcribing again. The new transcript replaces this one when it is ready.');
    const wait = async () => {
      const update = await getUpdate(id).catch(() => null);
      const stages = update?.stages ?? {};
      if (update && stages.transcribe?.state === 'done' && stages.index?.state === 'done') {
        transcriptState = 'none';
        await loadTranscript(update);
        if (captionsUrl) player.reloadCaptions(`${captionsUrl}?transcribed=${Date.now()}`);
        announce(statusRegion, 'The new transcript is here.');
        button.disabled = false;
        return;
      }
      if (stages.transcribe?.state === 'failed') {
        showError('Transcribing again failed.', stages.transcribe.error || '');
        button.disabled = false;
        return;
      }
      setTimeout(wait, 2000);
    };
    setTimeout(wait, 2000);
  } catch (e) {
    showError('Could not transcribe this update again.', e.message);
    button.disabled = false;
  }
});

$('#delete').addEventListener('click', async () => {
  if (!window.confirm('Delete this update for everyone? Its video and transcript go too.')) return;
  try {
    await sendJson('DELETE', `/api/updates/${encodeURIComponent(id)}`);
    location.assign('/');
  } catch (e) {
    showError('Could not delete this update.', e.message);
  }
});

let managing = false;
let current = null; // the update as last shown

function apply(update) {
  current = update;
  if (!threadStarted) {
    threadStarted = true;
    thread.start().catch(() => { threadStarted = false; });
  }
  if (!managing) {
    managing = true;
    setUpManage(update);
  }
  renderHead(update);
  const stages = update.stages || {};
  const transcoded = stages.transcode?.state === 'done' || update.status === 'ready';
  const playable = update.playable === 'video' || (update.playable === 'original' && !originalRefused);
  if (!videoLoaded && playable) loadVideo(update);
  else if (videoLoaded && transcoded) showStoryboard(update);
  // After the player is (or is not) there: the progress shows beside it or in its place.
  renderProcessing(update);
  if (transcriptState === 'none' && (stages.transcribe?.state === 'done' || update.language)) loadTranscript(update);
  if (lastStatus && lastStatus !== update.status) announce(statusRegion, summary(update));
  lastStatus = update.status;
  document.body.dataset.status = update.status;
}

function showError(title, message) {
  const box = $('#watch-error');
  box.hidden = false;
  replace(box, h('strong', {}, title), message, ' ', h('a', { href: '/' }, 'Back to the feed'));
}

async function refresh() {
  let update;
  try {
    update = await getUpdate(id);
    failures = 0;
  } catch (e) {
    if (e.status === 404) {
      $('#watch-grid').hidden = true;
      showError('This update does not exist.', 'It may have been removed, or the link is incomplete.');
      return;
    }
    failures += 1;
    if (failures === 3 || !lastStatus) showError('Could not load this update.', e.message);
    setTimeout(refresh, Math.min(10_000, POLL_MS * 2 ** failures));
    return;
  }
  $('#watch-error').hidden = true;
  apply(update);
  // Once ready, a few more rounds cover a transcript that lands just after the status.
  const settling = update.status === 'ready' && transcriptState !== 'loaded' && settleRounds++ < 5;
  if (update.status === 'processing' || settling) {
    setTimeout(refresh, document.hidden ? POLL_MS * 3 : POLL_MS);
  }
}

// "Copy link to this moment", with a text field when the clipboard is unavailable.
$('#copy-link').addEventListener('click', async () => {
  const url = new URL(location.pathname, location.origin);
  const t = Math.floor(player.video.currentTime);
  if (t > 0) url.searchParams.set('t', String(t));
  const button = $('#copy-link');
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error('no clipboard');
    await navigator.clipboard.writeText(url.href);
    $('#copy-fallback').hidden = true;
    button.textContent = `Copied link to ${clock(t * 1000)}`;
    announce(statusRegion, `Link to ${clock(t * 1000)} copied.`);
    setTimeout(() => { button.textContent = 'Copy link to this moment'; }, 2500);
  } catch {
    const input = $('#copy-fallback-input');
    input.value = url.href;
    $('#copy-fallback').hidden = false;
    input.focus();
    input.select();
    announce(statusRegion, 'Copy the selected link from the text field.');
  }
});

if (!id) showError('No update given.', 'Open an update from the feed.');
else refresh();
