// What this person watched of an update, reported to the server so it can
// tell when the update counts as seen and where to resume.
//
// Watched stretches grow while the video plays on by itself; a seek (or a jump
// of more than two seconds between time updates) closes the stretch, so
// jumping ahead is not watching. Reports go every few seconds, on pause, and
// when the page is hidden or closed (fetch with `keepalive` outlives the page,
// like sendBeacon, and can carry the CSRF header, which sendBeacon cannot).
// Reading the transcript instead counts too: which of its lines have been on
// screen, and for how long the page showed any of them.

import { csrfToken, getJson, sendJson } from './api.js';

const REPORT_EVERY_MS = 5000;
/** Time updates come every quarter second or so; a bigger step is a jump (or a throttled tab at high speed). */
const LARGEST_NATURAL_STEP_S = 3;
/** A line counts as on screen when this much of it shows. */
const LINE_VISIBLE_RATIO = 0.6;
/** Reading time alone is worth a report this often; a new line read, at the next report. */
const READING_TIME_REPORT_MS = 15000;

/** Where to resume and whether the person was asked to acknowledge. */
export const getProgress = (id) => getJson(`/api/updates/${encodeURIComponent(id)}/progress`);

export const acknowledge = (id) => sendJson('POST', `/api/updates/${encodeURIComponent(id)}/acknowledge`, {});

/**
 * Follow reading: `observe(elements, lineCount)` takes the transcript's elements,
 * each with `data-line` (a line may show in more than one place); `take()` gives
 * what to report (`{ fraction, visible_ms }`) or null when there is no news.
 */
export function trackReading() {
  let lineCount = 0;
  const read = new Set(); // line numbers that have been on screen
  const showing = new Set(); // elements on screen now
  let since = null; // when lines started showing on a visible page
  let unsentMs = 0;
  let sentLines = 0;
  let stopped = false;

  const showingNow = () => showing.size > 0 && document.visibilityState === 'visible';
  function tick() {
    const now = performance.now();
    if (since !== null) unsentMs += now - since;
    since = !stopped && showingNow() ? now : null;
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting && entry.intersectionRatio >= LINE_VISIBLE_RATIO) {
        showing.add(entry.target);
        read.add(entry.target.dataset.line);
      } else {
        showing.delete(entry.target);
      }
    }
    tick();
  }, { threshold: [0, LINE_VISIBLE_RATIO] });
  document.addEventListener('visibilitychange', tick);

  return {
    observe(elements, count) {
      observer.disconnect();
      showing.clear();
      lineCount = count;
      for (const element of elements) observer.observe(element);
      tick();
    },
    /** Something worth a report without anything watched. */
    hasNews() {
      tick();
      return !stopped && lineCount > 0 && (read.size > sentLines || unsentMs >= READING_TIME_REPORT_MS);
    },
    take() {
      tick();
      if (stopped || lineCount === 0 || (read.size <= sentLines && unsentMs < 1)) return null;
      const report = { fraction: Math.min(1, read.size / lineCount), visible_ms: Math.round(unsentMs) };
      sentLines = read.size;
      unsentMs = 0;
      return report;
    },
    /** A report that did not arrive: its time goes into the next one. */
    giveBack(report) {
      unsentMs += report.visible_ms;
      sentLines = 0;
    },
    /** Seen already: reading needs no more reports. */
    stop() {
      stopped = true;
      observer.disconnect();
      tick();
    },
  };
}

/**
 * Follow `video` for update `id` (and `reading`, from trackReading, if given);
 * `onReport(view)` gets each answer.
 */
export function trackProgress(video, id, onReport = () => {}, reading = null) {
  const url = `/api/updates/${encodeURIComponent(id)}/progress`;
  let pending = [];
  let open = null; // [start_ms, end_ms] of the stretch being watched
  let lastTime = null;
  let sentPosition = null;
  // Opening the page is not starting: no position is sent before playing or seeking.
  let moved = false;
  video.addEventListener('playing', () => { moved = true; });
  video.addEventListener('seeked', () => { moved = true; });

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
    const read = reading ? reading.take() : null;
    const newPosition = moved && position !== sentPosition;
    if (!pending.length && !newPosition && !read) return;
    const body = { watched: pending };
    if (moved) body.position_ms = position;
    if (read) body.read = read;
    const sent = pending;
    pending = [];
    if (moved) sentPosition = position;
    fetch(url, {
      method: 'POST',
      keepalive: leaving,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body: JSON.stringify(body),
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((view) => {
        if (view.seen) reading?.stop();
        onReport(view);
      })
      .catch(() => {
        // Not reported: send it again with the next report.
        pending = sent.concat(pending);
        sentPosition = null;
        if (read) reading.giveBack(read);
      });
  }

  const timer = setInterval(() => {
    if (!video.paused || reading?.hasNews()) report();
  }, REPORT_EVERY_MS);
  video.addEventListener('pause', () => report());
  video.addEventListener('ended', () => report());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') report({ leaving: true });
  });
  window.addEventListener('pagehide', () => report({ leaving: true }));
  return { report, stop: () => clearInterval(timer) };
}
