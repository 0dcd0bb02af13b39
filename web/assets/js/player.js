// The video player's own controls: play, ±10 s, mute, time, a timeline with
// chapter marks and storyboard previews, speed, captions, full screen, and
// the page's keyboard shortcuts (space, ←/→ 5 s, j/l 10 s).

import { $, h, icon, replace } from './dom.js';
import { clock, spokenDuration } from './format.js';
import { cueAt } from './storyboard.js';

const SPEED_KEY = 'bulletin.speed';

export function createPlayer(root) {
  const video = $('video', root);
  const timeline = $('#timeline', root);
  const played = $('.played', timeline);
  const buffered = $('.buffered', timeline);
  const hoverFill = $('.hover-fill', timeline);
  const marks = $('.marks', timeline);
  const commentStrip = $('.comment-strip', root);
  const knob = $('.knob', timeline);
  const preview = $('.preview', timeline);
  const previewFrame = $('.frame', preview);
  const previewChapter = $('.chapter', preview);
  const previewTime = $('.time', preview);
  const playButton = $('#play', root);
  const muteButton = $('#mute', root);
  const speed = $('#speed', root);
  const captions = $('#captions', root);
  const fullscreen = $('#fullscreen', root);
  const current = $('#time-current', root);
  const total = $('#time-total', root);

  let storyboard = [];
  let chapters = [];
  let commentMarks = [];
  let dragging = false;
  let frame = 0;
  const listeners = new Set();

  const duration = () => (Number.isFinite(video.duration) ? video.duration : 0);

  function seek(time) {
    const end = duration();
    video.currentTime = Math.max(0, end ? Math.min(time, end - 0.05) : time);
    paint();
  }

  const seekBy = (delta) => seek(video.currentTime + delta);

  function toggle() {
    if (video.paused || video.ended) video.play().catch(() => {});
    else video.pause();
  }

  function paint() {
    const end = duration();
    const t = video.currentTime;
    const fraction = end ? Math.min(1, t / end) : 0;
    played.style.width = `${fraction * 100}%`;
    knob.style.left = `${fraction * 100}%`;
    current.textContent = clock(t * 1000);
    timeline.setAttribute('aria-valuenow', String(Math.floor(t)));
    timeline.setAttribute('aria-valuetext', `${spokenDuration(t * 1000)} of ${spokenDuration(end * 1000)}`);
    for (const listener of listeners) listener(t);
  }

  function loop() {
    paint();
    frame = video.paused ? 0 : requestAnimationFrame(loop);
  }

  function paintBuffered() {
    const end = duration();
    if (!end) return;
    let reach = 0;
    for (let i = 0; i < video.buffered.length; i += 1) {
      if (video.buffered.start(i) <= video.currentTime + 0.5) reach = Math.max(reach, video.buffered.end(i));
    }
    buffered.style.width = `${(reach / end) * 100}%`;
  }

  function paintPlayState() {
    const paused = video.paused || video.ended;
    replace(playButton, icon(paused ? 'play' : 'pause'));
    playButton.setAttribute('aria-label', paused ? 'Play' : 'Pause');
  }

  function paintMute() {
    replace(muteButton, icon(video.muted || video.volume === 0 ? 'muted' : 'volume'));
    muteButton.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
  }

  function paintCommentMarks() {
    const end = duration();
    replace(commentStrip);
    if (!end) return;
    for (const mark of commentMarks) {
      const button = h('button', { type: 'button', class: 'comment-mark', 'aria-label': mark.label, title: mark.label, onclick: mark.onClick });
      // Not a scrub: the timeline under it would take the press.
      button.addEventListener('pointerdown', (e) => e.stopPropagation());
      button.style.left = `${Math.min(100, (mark.at_ms / 1000 / end) * 100)}%`;
      commentStrip.append(button);
    }
  }

  function paintChapters() {
    const end = duration();
    replace(marks);
    if (!end) return;
    for (const chapter of chapters.slice(1)) {
      const mark = document.createElement('span');
      mark.className = 'mark';
      mark.style.left = `${(chapter.start_ms / 1000 / end) * 100}%`;
      marks.append(mark);
    }
  }

  // Timeline: pointer scrubbing with previews; keyboard via the shortcuts below.
  function timeAt(clientX) {
    const rect = timeline.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (clientX - rect.left) / rect.width));
    return { time: fraction * duration(), x: fraction * rect.width, width: rect.width };
  }

  function showPreview(clientX) {
    const end = duration();
    if (!end) return;
    const { time, x, width } = timeAt(clientX);
    hoverFill.style.width = `${(x / width) * 100}%`;
    const cue = storyboard.length ? cueAt(storyboard, time) : null;
    if (cue) {
      previewFrame.hidden = false;
      previewFrame.style.width = `${cue.w}px`;
      previewFrame.style.height = `${cue.h}px`;
      previewFrame.style.backgroundImage = `url("${cue.url.split('#')[0]}")`;
      previewFrame.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    } else {
      previewFrame.hidden = true;
    }
    const chapter = chapters.filter((c) => c.start_ms / 1000 <= time).pop();
    previewChapter.textContent = chapters.length > 1 && chapter ? chapter.title : '';
    previewChapter.hidden = !previewChapter.textContent;
    previewTime.textContent = clock(time * 1000);
    preview.hidden = false;
    const half = Math.max(cue ? cue.w / 2 + 2 : 30, 30);
    preview.style.left = `${Math.min(width - half, Math.max(half, x))}px`;
  }

  function hidePreview() {
    preview.hidden = true;
    hoverFill.style.width = '0';
  }

  timeline.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || !duration()) return;
    dragging = true;
    timeline.classList.add('dragging');
    timeline.setPointerCapture(e.pointerId);
    seek(timeAt(e.clientX).time);
    showPreview(e.clientX);
  });
  timeline.addEventListener('pointermove', (e) => {
    showPreview(e.clientX);
    if (dragging) seek(timeAt(e.clientX).time);
  });
  const endDrag = () => {
    dragging = false;
    timeline.classList.remove('dragging');
  };
  timeline.addEventListener('pointerup', endDrag);
  timeline.addEventListener('pointercancel', () => { endDrag(); hidePreview(); });
  timeline.addEventListener('pointerleave', () => { if (!dragging) hidePreview(); });
  timeline.addEventListener('keydown', (e) => {
    const keys = { Home: () => seek(0), End: () => seek(duration()), PageUp: () => seekBy(10), PageDown: () => seekBy(-10), ArrowUp: () => seekBy(5), ArrowDown: () => seekBy(-5) };
    if (keys[e.key]) {
      e.preventDefault();
      keys[e.key]();
    }
  });

  video.addEventListener('click', toggle);
  video.addEventListener('dblclick', () => toggleFullscreen());
  video.addEventListener('play', () => { paintPlayState(); cancelAnimationFrame(frame); loop(); });
  video.addEventListener('pause', paintPlayState);
  video.addEventListener('ended', paintPlayState);
  video.addEventListener('timeupdate', paint);
  video.addEventListener('seeked', paint);
  video.addEventListener('progress', paintBuffered);
  video.addEventListener('volumechange', paintMute);
  video.addEventListener('loadedmetadata', () => {
    total.textContent = clock(duration() * 1000);
    timeline.setAttribute('aria-valuemax', String(Math.floor(duration())));
    paintChapters();
    paintCommentMarks();
    paint();
  });

  playButton.addEventListener('click', toggle);
  $('#back', root).addEventListener('click', () => seekBy(-10));
  $('#fwd', root).addEventListener('click', () => seekBy(10));
  replace($('#back', root), icon('back'));
  replace($('#fwd', root), icon('fwd'));
  muteButton.addEventListener('click', () => { video.muted = !video.muted; });

  const savedSpeed = localStorage.getItem(SPEED_KEY);
  if (savedSpeed && [...speed.options].some((o) => o.value === savedSpeed)) speed.value = savedSpeed;
  const applySpeed = () => {
    video.defaultPlaybackRate = Number(speed.value);
    video.playbackRate = Number(speed.value);
  };
  speed.addEventListener('change', () => {
    applySpeed();
    localStorage.setItem(SPEED_KEY, speed.value);
  });
  video.addEventListener('loadeddata', applySpeed);

  captions.addEventListener('click', () => {
    const track = video.textTracks[0];
    if (!track) return;
    const on = track.mode !== 'showing';
    track.mode = on ? 'showing' : 'hidden';
    captions.setAttribute('aria-pressed', String(on));
  });

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else root.requestFullscreen?.().catch(() => {});
  }
  fullscreen.addEventListener('click', toggleFullscreen);
  document.addEventListener('fullscreenchange', () => {
    const on = document.fullscreenElement === root;
    replace(fullscreen, icon(on ? 'shrink' : 'expand'));
    fullscreen.setAttribute('aria-label', on ? 'Exit full screen' : 'Full screen');
  });
  if (!document.fullscreenEnabled) fullscreen.hidden = true;

  // Page-wide shortcuts, except while typing or with a modifier held.
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || !video.currentSrc) return;
    const target = e.target instanceof Element ? e.target : null;
    if (target?.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])')) return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === ' ') {
      // Space on a focused button or link activates it, as everywhere else.
      if (target?.closest('button, a[href], summary')) return;
      e.preventDefault();
      toggle();
    } else if (key === 'ArrowLeft' || key === 'ArrowRight') {
      e.preventDefault();
      seekBy(key === 'ArrowLeft' ? -5 : 5);
    } else if (key === 'j' || key === 'l') {
      e.preventDefault();
      seekBy(key === 'j' ? -10 : 10);
    }
  });

  paintPlayState();
  paintMute();
  replace(fullscreen, icon('expand'));

  return {
    video,
    seek,
    /**
     * Load `src` (the MP4, or the original while the MP4 is made); `startAt` seconds
     * (from ?t=) is applied once metadata is known. The poster exists once transcoded.
     */
    load(update, startAt, src = update.links.video) {
      if (src === update.links.video) video.poster = update.links.poster;
      if (startAt !== null && startAt > 0) {
        video.addEventListener('loadedmetadata', () => seek(startAt), { once: true });
      }
      video.src = src;
      video.load();
    },
    setStoryboard(cues) {
      storyboard = cues;
    },
    setChapters(list) {
      chapters = list;
      paintChapters();
    },
    /** Comment markers above the timeline: `[{ at_ms, label, onClick }]`. */
    setCommentMarks(list) {
      commentMarks = list;
      paintCommentMarks();
    },
    enableCaptions(url) {
      if (video.querySelector('track')) return;
      const track = document.createElement('track');
      Object.assign(track, { kind: 'captions', label: 'English', srclang: 'en', src: url });
      video.append(track);
      // Off until the viewer asks for them.
      track.track.mode = 'hidden';
      captions.disabled = false;
    },
    /** Load the captions again (after a correction), keeping them on or off as they were. */
    reloadCaptions(url) {
      const old = video.querySelector('track');
      if (!old) return;
      const mode = old.track.mode;
      const track = document.createElement('track');
      Object.assign(track, { kind: 'captions', label: 'English', srclang: 'en', src: url });
      old.replaceWith(track);
      track.track.mode = mode;
    },
    onTime(listener) {
      listeners.add(listener);
    },
  };
}
