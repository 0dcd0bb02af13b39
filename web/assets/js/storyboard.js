// The storyboard: a WebVTT "thumbnails" track whose cues point into one sprite
// image with a media fragment, e.g. `/api/updates/ID/storyboard.jpg#xywh=160,0,160,90`.

function seconds(stamp) {
  // "HH:MM:SS.mmm" or "MM:SS.mmm"
  const parts = stamp.trim().split(':').map(Number);
  if (parts.some(Number.isNaN)) return null;
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** Parse the track; `base` resolves relative image URLs. Unknown lines are skipped. */
export function parseThumbnails(text, base) {
  const cues = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const timing = /^\s*([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]);
    if (!timing) continue;
    const target = (lines[i + 1] || '').trim();
    const [path, fragment = ''] = target.split('#');
    const xywh = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(fragment);
    const start = seconds(timing[1]);
    const end = seconds(timing[2]);
    if (!path || !xywh || start === null || end === null) continue;
    const [x, y, w, h] = xywh.slice(1).map(Number);
    cues.push({ start, end, url: new URL(path, base).href, x, y, w, h });
  }
  return cues;
}

/** The cue showing at `time` seconds (the last one past the end). */
export function cueAt(cues, time) {
  let lo = 0;
  let hi = cues.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].start <= time) {
      found = cues[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found ?? cues[0] ?? null;
}

export async function loadStoryboard(url) {
  const response = await fetch(url);
  if (!response.ok) return [];
  const cues = parseThumbnails(await response.text(), location.href);
  // Warm the sprite so the first hover shows a picture, not a blank frame.
  if (cues.length) new Image().src = cues[0].url;
  return cues;
}
