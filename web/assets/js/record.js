// Record an update in the browser: camera, screen or both, plus microphone;
// a 3-2-1 countdown, a timer that stops at the 3-minute limit, a preview,
// retake, then upload with progress and follow processing until it is ready.

import { getChannels, getUpdate, offerLanguages, uploadUpdate, whomToAsk } from './api.js';
import { $, announce, h, replace } from './dom.js';
import { clock } from './format.js';
import { composeScreenAndCamera } from './compose.js';
import { renderStages, showUploadProgress, summary } from './stages.js';

const LIMIT_MS = 180_000;
// The server measures the file itself and refuses anything over 180.0 s;
// stopping a little early keeps container overhead from tipping us over.
const STOP_AT_MS = LIMIT_MS - 500;
const MIME_TYPES = [
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=vp9',
  'video/webm;codecs=vp8',
  'video/webm',
  'video/mp4;codecs=avc1.42E01E,mp4a.40.2',
  'video/mp4',
];

const root = $('#recorder');
const live = $('#live');
const playback = $('#playback');
const countdownEl = $('#countdown');
const badge = $('#rec-badge');
const badgeTime = $('#rec-badge-time');
const bar = $('#rec-bar');
const timer = $('#rec-timer');
const message = $('#record-message');
const status = $('#record-status');
const buttons = { enable: $('#enable'), start: $('#start'), stop: $('#stop'), retake: $('#retake') };
const form = $('#upload-form');
const titleInput = $('#title');
const channelSelect = $('#channel');
const cameraSelect = $('#camera-select');
const micSelect = $('#mic-select');
const useMic = $('#use-mic');

let state = 'idle';
let stream = null; // what we record
let cleanups = []; // stop functions for every source we opened
let recorder = null;
let chunks = [];
let recording = null; // {blob, url, type}
let startedAt = 0;
let tick = 0;
let cancelCountdown = null;
let upload = null;

const mode = () => document.querySelector('input[name="mode"]:checked').value;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setState(next) {
  state = next;
  root.dataset.state = next;
  const show = (el, on) => { el.hidden = !on; };
  show(buttons.enable, next === 'idle');
  show(buttons.start, next === 'live');
  show(buttons.stop, next === 'countdown' || next === 'recording');
  buttons.stop.textContent = next === 'countdown' ? 'Cancel' : 'Stop recording';
  show(buttons.retake, next === 'recorded');
  show(form, ['recorded', 'uploading'].includes(next));
  show($('#after'), ['processing', 'ready', 'failed'].includes(next));
  show(live, ['live', 'countdown', 'recording'].includes(next));
  // The recording stays on screen while it uploads and processes.
  show(playback, ['recorded', 'uploading', 'processing', 'ready', 'failed'].includes(next) && !!recording);
  show($('#stage-empty'), next === 'idle' || (['processing', 'ready', 'failed'].includes(next) && !recording));
  show(badge, next === 'recording');
  show(bar, next === 'recording');
  show(timer, next === 'recording' || next === 'recorded');
  show($('#file-pick'), next === 'idle' || next === 'live');
  $('#setup').querySelectorAll('input, select').forEach((el) => { el.disabled = !['idle', 'live'].includes(next); });
  $('#post').disabled = next === 'uploading';
  titleInput.disabled = next === 'uploading';
  channelSelect.disabled = next === 'uploading';
}

function showMessage(text, kind = 'error') {
  message.className = `notice ${kind}`;
  message.hidden = !text;
  message.textContent = text || '';
}

function syncSetup() {
  const m = mode();
  $('#camera-field').hidden = m === 'screen';
  $('#mic-field').hidden = !useMic.checked;
  buttons.enable.textContent = { camera: 'Turn on camera', screen: 'Choose a screen', both: 'Choose a screen and turn on camera' }[m];
  $('#stage-empty-text').textContent = m === 'camera'
    ? 'Turn on your camera to see a preview before you record.'
    : 'Choose the screen or window to share; your browser will ask.';
}

function stopSources() {
  cleanups.forEach((stop) => stop());
  cleanups = [];
  stream = null;
  live.srcObject = null;
}

const trackStopper = (s) => () => s.getTracks().forEach((t) => t.stop());

async function explainMediaError(e, m) {
  const name = e && e.name;
  if (name === 'InsecureError') return 'Recording needs a secure connection: open Bulletin over https, or on localhost.';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    if (m !== 'camera' && e.fromScreen) return 'Screen sharing was cancelled or blocked. Try again and choose a screen, window or tab to share — or record your camera instead.';
    return 'Bulletin is not allowed to use your camera or microphone. Allow access from the camera icon in your browser’s address bar (or in your system’s privacy settings), then try again.';
  }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    const hasCamera = devices.some((d) => d.kind === 'videoinput');
    const hasMic = devices.some((d) => d.kind === 'audioinput');
    if (!hasCamera && m !== 'screen') return 'No camera was found. Connect a camera and try again, or choose “Screen” to record your screen.';
    if (!hasMic && useMic.checked) return 'No microphone was found. Connect one, or untick “Record my microphone” to record without sound.';
    return 'The chosen camera or microphone is not available any more. Pick another one and try again.';
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return 'Your camera or microphone could not start — another app (a video call?) may be using it. Close it and try again.';
  }
  return `Could not start: ${e && e.message ? e.message : 'an unknown error'}.`;
}

async function fillDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const fill = (select, kind, fallback) => {
    const chosen = select.value;
    const options = devices.filter((d) => d.kind === kind).map((d, i) =>
      h('option', { value: d.deviceId }, d.label || `${fallback} ${i + 1}`));
    if (!options.length) return;
    replace(select, options);
    if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
  };
  fill(cameraSelect, 'videoinput', 'Camera');
  fill(micSelect, 'audioinput', 'Microphone');
}

async function enable() {
  showMessage('');
  stopSources();
  const m = mode();
  const withMic = useMic.checked;
  try {
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error(), { name: 'InsecureError' });
    if (typeof MediaRecorder === 'undefined') throw new Error('this browser cannot record video; try a recent Chrome, Edge or Firefox');
    const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
    if (cameraSelect.value) video.deviceId = { exact: cameraSelect.value };
    const audio = withMic ? { echoCancellation: true, noiseSuppression: true, ...(micSelect.value ? { deviceId: { exact: micSelect.value } } : {}) } : false;
    if (m === 'camera') {
      const camera = await navigator.mediaDevices.getUserMedia({ video, audio });
      cleanups.push(trackStopper(camera));
      stream = camera;
    } else {
      let screen;
      try {
        screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: false });
      } catch (e) {
        e.fromScreen = true;
        throw e;
      }
      cleanups.push(trackStopper(screen));
      // The browser's own "Stop sharing" button ends the recording too.
      screen.getVideoTracks()[0].addEventListener('ended', () => {
        if (state === 'recording') stopRecording();
        else if (state === 'live' || state === 'countdown') { stopSources(); setState('idle'); }
      });
      const extra = m === 'both' || withMic
        ? await navigator.mediaDevices.getUserMedia({ video: m === 'both' ? video : false, audio })
        : null;
      if (extra) cleanups.push(trackStopper(extra));
      let videoTrack = screen.getVideoTracks()[0];
      if (m === 'both') {
        const composed = composeScreenAndCamera(screen, extra);
        cleanups.push(composed.stop);
        videoTrack = composed.track;
      }
      stream = new MediaStream([videoTrack, ...(extra ? extra.getAudioTracks() : [])]);
    }
    live.srcObject = stream;
    live.classList.toggle('mirror', m === 'camera');
    setState('live');
    await live.play().catch(() => {});
    await fillDevices();
    announce(status, 'Preview on. Press “Start recording” when you are ready.');
    buttons.start.focus();
  } catch (e) {
    stopSources();
    setState('idle');
    showMessage(await explainMediaError(e, m));
  }
}

function pickMimeType() {
  if (typeof MediaRecorder.isTypeSupported !== 'function') return '';
  return MIME_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || '';
}

async function start() {
  showMessage('');
  setState('countdown');
  let cancelled = false;
  cancelCountdown = () => { cancelled = true; };
  countdownEl.hidden = false;
  announce(status, 'Recording starts in 3 seconds.');
  for (const n of [3, 2, 1]) {
    countdownEl.textContent = String(n);
    await sleep(1000);
    if (cancelled) break;
  }
  countdownEl.hidden = true;
  cancelCountdown = null;
  if (cancelled || !stream) {
    if (state === 'countdown') setState('live');
    return;
  }
  const mimeType = pickMimeType();
  try {
    recorder = new MediaRecorder(stream, mimeType ? { mimeType, videoBitsPerSecond: 2_500_000 } : undefined);
  } catch (e) {
    setState('live');
    showMessage(`This browser cannot record this kind of video (${e.message}).`);
    return;
  }
  chunks = [];
  recorder.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
  recorder.addEventListener('stop', finishRecording, { once: true });
  recorder.addEventListener('error', (e) => showMessage(`Recording failed: ${e.error?.message || 'unknown error'}.`));
  recorder.start(1000);
  startedAt = performance.now();
  setState('recording');
  announce(status, 'Recording.');
  updateTimer();
  tick = setInterval(updateTimer, 200);
}

function updateTimer() {
  const elapsed = Math.min(LIMIT_MS, performance.now() - startedAt);
  badgeTime.textContent = `${clock(elapsed)} / ${clock(LIMIT_MS)}`;
  timer.textContent = `${clock(LIMIT_MS - elapsed)} left`;
  bar.firstElementChild.style.width = `${(elapsed / LIMIT_MS) * 100}%`;
  if (elapsed >= STOP_AT_MS) {
    stopRecording();
    showMessage('Recording stopped at the 3-minute limit.', 'ok');
  }
}

function stopRecording() {
  if (state === 'countdown') {
    cancelCountdown?.();
    return;
  }
  if (state !== 'recording' || !recorder) return;
  clearInterval(tick);
  const elapsed = performance.now() - startedAt;
  timer.textContent = `${clock(elapsed)} recorded`;
  if (recorder.state !== 'inactive') recorder.stop();
}

function finishRecording() {
  const type = recorder.mimeType || chunks[0]?.type || 'video/webm';
  const blob = new Blob(chunks, { type });
  chunks = [];
  if (!blob.size) {
    setState('live');
    showMessage('Nothing was recorded. Check that your camera or screen is still shared, then try again.');
    return;
  }
  recording = { blob, url: URL.createObjectURL(blob), type };
  playback.src = recording.url;
  setState('recorded');
  announce(status, `Recorded ${timer.textContent}. Watch the preview, add a title and post it.`);
  titleInput.focus();
}

/** A file instead of a recording: previewed and posted the same way (the server checks it). */
$('#record-file').addEventListener('change', (event) => {
  const file = event.target.files[0];
  event.target.value = '';
  if (!file) return;
  if (recording) URL.revokeObjectURL(recording.url);
  stopSources();
  recording = { blob: file, url: URL.createObjectURL(file), type: file.type || 'video/mp4', name: file.name };
  playback.src = recording.url;
  timer.textContent = '';
  setState('recorded');
  announce(status, `${file.name} chosen. Watch the preview, add a title and post it.`);
  titleInput.focus();
});

function retake() {
  if (recording) URL.revokeObjectURL(recording.url);
  recording = null;
  playback.removeAttribute('src');
  playback.load();
  showMessage('');
  const stillLive = stream && stream.getVideoTracks().some((t) => t.readyState === 'live');
  if (stillLive) {
    setState('live');
    buttons.start.focus();
  } else {
    stopSources();
    setState('idle');
    buttons.enable.focus();
  }
}

// MediaRecorder's WebM has no duration in its header, so the preview's
// timeline would be empty; seeking far ahead once makes the browser find the end.
playback.addEventListener('loadedmetadata', () => {
  if (playback.duration !== Infinity) return;
  playback.addEventListener('timeupdate', () => { playback.currentTime = 0; }, { once: true });
  playback.currentTime = Number.MAX_SAFE_INTEGER;
});

async function post(e) {
  e.preventDefault();
  const title = titleInput.value.trim();
  if (!title) {
    showMessage('Give your update a title first.');
    titleInput.focus();
    return;
  }
  if (!recording) return;
  showMessage('');
  setState('uploading');
  $('#upload-progress').hidden = false;
  showUploadProgress(0, recording.blob.size);
  const extension = recording.type.includes('mp4') ? 'mp4' : 'webm';
  const filename = recording.name ?? `recording.${extension}`;
  const fields = reply
    ? { title, description: $('#description').value, language: $('#language').value, reply_to: reply.id, reply_at_ms: reply.atMs ?? '' }
    : {
      title,
      channel: channelSelect.value,
      description: $('#description').value,
      language: $('#language').value,
      acknowledge: whomToAsk($('#ask-everyone').checked, $('#ask-people').value),
    };
  upload = uploadUpdate(fields, recording.blob, filename, showUploadProgress);
  try {
    const update = await upload.promise;
    stopSources(); // the camera light goes off once the recording is safely uploaded
    $('#upload-progress').hidden = true;
    setState('processing');
    $('#watch-link').href = update.links.watch;
    announce(status, 'Uploaded. Processing your update.');
    follow(update);
  } catch (err) {
    setState('recorded');
    $('#upload-progress').hidden = true;
    showMessage(`The upload failed: ${err.message}`);
  } finally {
    upload = null;
  }
}

async function follow(update) {
  renderStages($('#after-stages'), update);
  if (update.status === 'ready') {
    $('#after-heading').textContent = 'Ready';
    setState('ready');
    $('#after-done').hidden = false;
    $('#record-another').hidden = false;
    announce(status, 'Your update is ready.');
    $('#watch-link').focus();
    return;
  }
  if (update.status === 'failed') {
    $('#after-heading').textContent = 'Processing failed';
    setState('failed');
    $('#record-another').hidden = false;
    showMessage(`Processing failed: ${update.error || 'unknown error'}`);
    return;
  }
  $('#after-heading').textContent = summary(update);
  await sleep(1000);
  try {
    follow(await getUpdate(update.id));
  } catch {
    await sleep(2000);
    follow(update);
  }
}

document.querySelectorAll('input[name="mode"]').forEach((radio) => radio.addEventListener('change', () => {
  if (state === 'live') { stopSources(); setState('idle'); }
  syncSetup();
}));
useMic.addEventListener('change', () => {
  syncSetup();
  if (state === 'live') enable();
});
cameraSelect.addEventListener('change', () => { if (state === 'live') enable(); });
micSelect.addEventListener('change', () => { if (state === 'live') enable(); });
buttons.enable.addEventListener('click', enable);
buttons.start.addEventListener('click', start);
buttons.stop.addEventListener('click', stopRecording);
buttons.retake.addEventListener('click', retake);
form.addEventListener('submit', post);
window.addEventListener('beforeunload', (e) => {
  if (['recording', 'recorded', 'uploading'].includes(state)) e.preventDefault();
});

syncSetup();
setState('idle');

/** The channels this person may post in; `?channel=` (from a channel's feed) is chosen first. */
async function loadChannels() {
  try {
    const { channels } = await getChannels();
    const open = channels.filter((c) => c.can_post);
    if (!open.length) return;
    const wanted = new URLSearchParams(location.search).get('channel');
    replace(channelSelect, ...open.map((c) => h('option', { value: c.slug, selected: c.slug === wanted }, c.name)));
  } catch {
    // The default (General) stays; the server says so if it cannot be posted to.
  }
}

/**
 * `?reply_to=ID&at=MS`: a video reply to that update at that moment. It goes
 * to that update's channel, so there is no channel to choose.
 */
const replyParams = new URLSearchParams(location.search);
const reply = replyParams.get('reply_to')
  ? { id: replyParams.get('reply_to'), atMs: replyParams.get('at') ? Number(replyParams.get('at')) : null }
  : null;

async function setUpReply() {
  $('#channel-field').hidden = true;
  $('#ask-field').hidden = true;
  document.querySelector('.page-head h1').textContent = 'Reply with a video';
  const note = $('#reply-note');
  note.hidden = false;
  try {
    const parent = await getUpdate(reply.id);
    const at = reply.atMs !== null ? ` at ${clock(reply.atMs)}` : '';
    const link = h('a', { href: `${parent.links.watch}${reply.atMs ? `?t=${Math.floor(reply.atMs / 1000)}` : ''}` }, parent.title);
    replace(note, 'Replying to ', link, at, '. Your reply goes to the same channel.');
    if (!titleInput.value) titleInput.value = `Re: ${parent.title}`.slice(0, 200);
  } catch (e) {
    replace(note, `The update to reply to could not be loaded: ${e.message}`);
    note.classList.add('error');
  }
}

if (reply) setUpReply();
else loadChannels();
offerLanguages($('#language'), $('#language-field'));
