// Processing progress of an update: transcode, transcribe, index.

import { $, h, replace } from './dom.js';
import { bytes } from './format.js';

const STAGES = [
  ['transcode', 'Preparing the video'],
  ['transcribe', 'Transcribing'],
  ['index', 'Indexing for search'],
];

function stateText(stage) {
  switch (stage.state) {
    case 'done': return 'Done';
    case 'failed': return 'Failed';
    case 'running': return `${Math.round(stage.progress)}%`;
    case 'queued': return stage.attempts > 0 ? 'Retrying soon' : 'Queued';
    default: return 'Waiting';
  }
}

/** Overall progress, 0–100, counting each stage equally. */
export function overallProgress(update) {
  const values = STAGES.map(([key]) => {
    const stage = update.stages?.[key];
    if (!stage) return 0;
    return stage.state === 'done' ? 100 : Math.max(0, Math.min(100, stage.progress || 0));
  });
  return Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

/** Fill an <ol class="stages"> with one row per stage (label, state, bar). */
export function renderStages(list, update) {
  const rows = STAGES.map(([key, label]) => {
    const stage = update.stages?.[key] ?? { state: 'pending', progress: 0 };
    const width = stage.state === 'done' ? 100 : Math.max(0, Math.min(100, stage.progress || 0));
    const bar = h('span');
    bar.style.width = `${width}%`;
    return h('li', { class: 'stage', dataset: { stage: key, state: stage.state } },
      h('span', { class: 'stage-label' }, label),
      h('span', { class: 'stage-state' }, stateText(stage)),
      h('div', { class: 'bar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': width }, bar),
      stage.state === 'failed' && stage.error ? h('span', { class: 'stage-error' }, stage.error) : null,
    );
  });
  replace(list, rows);
}

/** A one-line summary for live regions: "Processing: 40%". */
export function summary(update) {
  if (update.status === 'ready') return 'Ready';
  if (update.status === 'failed') return 'Processing failed';
  return `Processing, ${overallProgress(update)}% done`;
}

/** Fill the `#upload-progress` block (bar, percent, label) that the record and feed pages share. */
export function showUploadProgress(sent, total) {
  const percent = total ? Math.floor((sent / total) * 100) : 0;
  $('#upload-bar').style.width = `${percent}%`;
  $('#upload-percent').textContent = `${percent}%`;
  $('#upload-progress [role=progressbar]')?.setAttribute('aria-valuenow', percent);
  $('#upload-label').textContent = `Uploading ${bytes(sent)} of ${bytes(total)}`;
}
