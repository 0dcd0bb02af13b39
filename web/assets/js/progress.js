// What this person watched of an update, reported to the server so it can
// tell when the update counts as seen and where to resume.
//
// Watched stretches grow while the video plays on by itself; a seek (or a jump
// of more than two seconds between time updates) closes the stretch, so
// jumping ahead is not watching. Reports go every few seconds, on pause, and
// when the page is hidden or closed (fetch with `keepalive` outlives the page,
// like sendBeacon, and can carry the CSRF header, which sendBeacon cannot).

import { csrfToken, getJson, sendJson } from './api.js';

const REPORT_EVERY_MS = 5000;
/** Time updates come every quarter second or so; a bigger step is a jump (or a throttled tab at high speed). */
const LARGEST_NATURAL_STEP_S = 3;

/** Where to resume and whether the person was asked to acknowledge. */
export const getProgress = (id) => getJson(`/api/updates/${encodeURIComponent(id)}/progress`);

export const acknowledge = (id) => sendJson('POST', `/api/updates/${encodeURIComponent(id)}/acknowledge`, {});

/** Follow `video` for update `id`; `onReport(view)` gets each answer. */
export function trackProgress(video, id, onReport = () => {}) {
  const url = `/api/updates/${encodeURIComponent(id)}/progress`;
  let pending = [];
  let open = null; // [start_ms, end_ms] of the stretch being watched
  let lastTime = null;
  let sentPosition = null;

  const close = () => {
    if (open && open[1] > open[0]) pending.push(open);
    open = null;
  };

  video.addEventListener('timeupdate', () => {
    const now = video.currentTime;
    const natural = lastTime !== null && !video.seeking && now >= lastTime && now - lastTime <= LARGEST_NATURAL_STEP_S;
    if (!video.paused && natural) {
      const ms = Math.round(now * 1000);
      if (open) open[1] = ms;
      else open = [Math.round(lastTime * 1000), ms];
    } else if (!natural) {
      close();
    }
    lastTime = now;
  });
  video.addEventListener('seeking', () => {
    close();
    lastTime = null;
  });
  video.addEventListener('ended', () => close());

  function report({ leaving = false } = {}) {
    close();
    const position = Math.round((video.currentTime || 0) * 1000);
    if (!pending.length && position === sentPosition) return;
    const body = JSON.stringify({ watched: pending, position_ms: position });
    const sent = pending;
    pending = [];
    sentPosition = position;
    fetch(url, {
      method: 'POST',
      keepalive: leaving,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body,
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(onReport)
      .catch(() => {
        // Not reported: send it again with the next report.
        pending = sent.concat(pending);
        sentPosition = null;
      });
  }

  const timer = setInterval(() => {
    if (!video.paused) report();
  }, REPORT_EVERY_MS);
  video.addEventListener('pause', () => report());
  video.addEventListener('ended', () => report());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') report({ leaving: true });
  });
  window.addEventListener('pagehide', () => report({ leaving: true }));
  return { report, stop: () => clearInterval(timer) };
}
