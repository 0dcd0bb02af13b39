// The feed's upload panel: a video file the person already has (picked, or
// dropped anywhere on the page) goes up through tus to the chosen channel,
// with progress, pause/resume and automatic resumption after a cut connection.
// The server's early refusal (too long, not a video) is shown while the rest
// of the file would still be on its way.

import { getChannels, getUpdate, offerLanguages, whomToAsk } from './api.js';
import { $, announce, h, replace } from './dom.js';
import { bytes } from './format.js';
import { showUploadProgress } from './stages.js';
import { ResumableUpload } from './tus.js';

const panel = $('#upload-panel');
const opener = $('#upload-open');
const picker = $('#upload-file');
const dropZone = $('#upload-drop');
const overlay = $('#drop-overlay');
const form = $('#upload-form');
const titleInput = $('#upload-title');
const channelSelect = $('#upload-channel');
const progress = $('#upload-progress');
const message = $('#upload-message');
const status = $('#feed-status');

let file = null;
let upload = null;
let channelsLoaded = false;
let onPosted = () => {};
let currentChannel = () => '';

/** States: choose → details → uploading ⇄ paused → done; refused/failed go back to details. */
function setState(state) {
  panel.dataset.state = state;
  dropZone.hidden = !['choose', 'done'].includes(state);
  form.hidden = !['details', 'failed'].includes(state);
  progress.hidden = !['uploading', 'paused'].includes(state);
  $('#upload-pause').hidden = state !== 'uploading';
  $('#upload-resume').hidden = state !== 'paused';
  $('#upload-done').hidden = state !== 'done';
  if (state !== 'failed' && state !== 'paused') showMessage('');
}

function showMessage(text) {
  message.hidden = !text;
  message.textContent = text;
}

function open(state = 'choose') {
  panel.hidden = false;
  opener.setAttribute('aria-expanded', 'true');
  loadChannels();
  offerLanguages($('#upload-language'), $('#upload-language-field'));
  setState(state);
}

function close() {
  if (panel.dataset.state === 'uploading') return;
  panel.hidden = true;
  opener.setAttribute('aria-expanded', 'false');
  file = null;
  picker.value = '';
  opener.focus();
}

/** What the server would call it anyway: the file name without its extension. */
function titleFrom(name) {
  const stem = name.replace(/\.[^.]+$/, '');
  return (stem || name).replace(/[_]+/g, ' ').trim().slice(0, 200);
}

function choose(chosen) {
  if (!chosen || panel.dataset.state === 'uploading') return;
  file = chosen;
  upload = null;
  open('details');
  $('#upload-name').textContent = file.name;
  $('#upload-size').textContent = bytes(file.size);
  titleInput.value = titleFrom(file.name);
  if (!file.type.startsWith('video/') && file.type !== '') {
    showMessage(`“${file.name}” does not look like a video (${file.type}). You can still try: the server checks it.`);
  }
  titleInput.focus();
  titleInput.select();
}

async function loadChannels() {
  if (channelsLoaded) return;
  try {
    const { channels } = await getChannels();
    const postable = channels.filter((c) => c.can_post);
    if (!postable.length) return;
    const wanted = currentChannel();
    const chosen = postable.some((c) => c.slug === wanted) ? wanted : postable[0].slug;
    replace(channelSelect, ...postable.map((c) => h('option', { value: c.slug, selected: c.slug === chosen }, c.name)));
    channelsLoaded = true;
    channelSelect.dataset.loaded = 'true';
  } catch {
    // General stays; the server says so if it cannot be posted to.
  }
}

async function start(e) {
  e.preventDefault();
  const title = titleInput.value.trim();
  if (!title) {
    showMessage('Give your update a title first.');
    titleInput.focus();
    return;
  }
  if (!file) return;
  upload = new ResumableUpload(file, {
    title,
    channel: channelSelect.value,
    description: $('#upload-description').value.trim(),
    language: $('#upload-language').value,
    acknowledge: whomToAsk($('#upload-ask-everyone').checked, $('#upload-ask-people').value),
  }, {
    onProgress: showUploadProgress,
    onRetry: (ms) => {
      $('#upload-label').textContent = `Connection lost. Trying again in ${Math.round(ms / 1000)} s…`;
    },
  });
  showUploadProgress(0, file.size);
  await send();
}

async function send() {
  setState('uploading');
  announce(status, 'Uploading.');
  try {
    const id = await upload.run();
    upload = null;
    setState('done');
    $('#upload-watch').href = `/updates/${encodeURIComponent(id)}`;
    announce(status, 'Uploaded. Your update is processing.');
    file = null;
    picker.value = '';
    try {
      onPosted(await getUpdate(id));
    } catch {
      // The feed picks it up on its next load.
    }
  } catch (error) {
    if (error.code === 'paused') {
      setState('paused');
      $('#upload-label').textContent = `Paused at ${$('#upload-percent').textContent}`;
      return;
    }
    if (error.status === 0) {
      // Still transient after every retry: keep what was sent, let the person resume.
      setState('paused');
      showMessage(`${error.message} Press Resume to continue from where it stopped.`);
      return;
    }
    upload = null;
    setState('failed');
    showMessage(`This file was not posted: ${error.message}`);
    $('#upload-other').focus();
  }
}

opener.addEventListener('click', () => (panel.hidden ? open() : close()));
$('#upload-close').addEventListener('click', close);
picker.addEventListener('change', () => choose(picker.files[0]));
$('#upload-other').addEventListener('click', () => { setState('choose'); picker.click(); });
form.addEventListener('submit', start);
$('#upload-pause').addEventListener('click', () => upload?.pause());
$('#upload-resume').addEventListener('click', () => { if (upload) send(); });
$('#upload-cancel').addEventListener('click', async () => {
  await upload?.cancel();
  upload = null;
  setState('details');
  showMessage('Upload cancelled. Nothing was posted.');
});
window.addEventListener('beforeunload', (e) => {
  if (panel.dataset.state === 'uploading') e.preventDefault();
});

// Dropping a file anywhere on the page starts the flow with it.
let dragDepth = 0;
const carriesFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
document.addEventListener('dragenter', (e) => {
  if (!carriesFiles(e)) return;
  dragDepth += 1;
  overlay.hidden = false;
});
document.addEventListener('dragleave', (e) => {
  if (!carriesFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) overlay.hidden = true;
});
document.addEventListener('dragover', (e) => {
  if (carriesFiles(e)) e.preventDefault();
});
document.addEventListener('drop', (e) => {
  if (!carriesFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  overlay.hidden = true;
  choose(e.dataTransfer.files[0]);
});

/**
 * Wire the panel to the feed: `posted(update)` shows a new update, `channel()`
 * is the feed's current channel (the default destination).
 */
export function setupUploads({ posted, channel }) {
  onPosted = posted;
  currentChannel = channel;
  // `/?upload` (the record page's "upload a file instead") opens the panel.
  if (new URLSearchParams(location.search).has('upload')) open();
}
