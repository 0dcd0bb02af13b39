// Formatting times and durations, and parsing `?t=` deep links.

/** 73_000 → "1:13"; 3_723_000 → "1:02:03". */
export function clock(ms) {
  const total = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Spoken form for screen readers: 73_000 → "1 minute 13 seconds". */
export function spokenDuration(ms) {
  const total = Math.max(0, Math.round((Number(ms) || 0) / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  const parts = [];
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  if (s || !m) parts.push(`${s} second${s === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/**
 * A `t` query value in seconds: "73", "73.5", "1m13s", "1h2m", "45s", "1:13",
 * "1:02:03". Null when it is not a time.
 */
export function parseTime(value) {
  if (value === null || value === undefined) return null;
  const text = String(value).trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const units = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (units && text !== '') {
    const [, h = 0, m = 0, s = 0] = units;
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  const colons = /^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$/.exec(text);
  if (colons) {
    const [, h = 0, m, s] = colons;
    return Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  return null;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** "5 minutes ago", "yesterday", or a date for anything older than a week. */
export function ago(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86400) return relative.format(Math.round(seconds / 86400), 'day');
  return dateFormat.format(then);
}

export function fullDate(iso) {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? '' : fullFormat.format(then);
}

/** "3 min read", or null when there is nothing to read. */
export function readingTime(minutes, wordCount) {
  if (!wordCount && !minutes) return null;
  return `${Math.max(1, minutes)} min read`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
