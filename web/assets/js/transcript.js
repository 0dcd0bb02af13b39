// The transcript three ways: timed lines beside the video (follow along, click
// to seek, correct a line by hand), readable paragraphs, and key moments (chapters).

import { h, replace } from './dom.js';
import { clock, spokenDuration } from './format.js';

/** Index of the segment playing at `ms`: the last one started, or -1. */
export function segmentAt(segments, ms) {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].start_ms <= ms) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** A line's text, word by word where whisper timed them (so the word being said can be marked). */
function lineWords(seg) {
  if (!seg.words?.length) return [seg.text.trim()];
  return seg.words.flatMap((word, k) => [k ? ' ' : null, h('span', { class: 'w', dataset: { ms: word.start_ms } }, word.text)]);
}

export function createTranscript({ lines, empty, follow, paragraphs, chapters, onSeek, onCorrect }) {
  let segments = [];
  let chapterList = [];
  let lineItems = [];
  let wordSpans = [];
  let chapterItems = [];
  let currentIndex = -2;
  let currentWord = null;
  let currentChapter = -2;
  let manualScrollAt = 0;

  const seekTo = (ms) => onSeek(ms / 1000);

  // A reader scrolling the panel wins over "follow along" for a few seconds.
  for (const type of ['wheel', 'touchmove']) {
    lines.addEventListener(type, () => { manualScrollAt = performance.now(); }, { passive: true });
  }

  function lineItem(seg, i) {
    const corrected = seg.corrected ? `Corrected by ${seg.corrected.by.display_name}` : null;
    return h('li', { dataset: { index: i, line: i, startMs: seg.start_ms }, class: corrected ? 'is-corrected' : null, title: corrected },
      h('button', { type: 'button', class: 'seek-line', 'aria-label': `${clock(seg.start_ms)}: ${seg.text.trim()}`, onclick: () => seekTo(seg.start_ms) },
        h('span', { class: 'ts', 'aria-hidden': 'true' }, clock(seg.start_ms)),
        h('span', { class: 'text' }, ...lineWords(seg)),
      ),
      onCorrect && h('button', { type: 'button', class: 'edit-line', 'aria-label': `Correct the line at ${clock(seg.start_ms)}`, title: 'Correct this line', onclick: () => startEditing(i) }, 'Edit'),
    );
  }

  function renderLines() {
    lineItems = segments.map(lineItem);
    replace(lines, lineItems);
  }

  /** Swap line `i` for a small form; Enter saves, Escape puts the line back. */
  function startEditing(i) {
    const seg = segments[i];
    const item = lineItems[i];
    if (!seg || !item || item.classList.contains('is-editing')) return;
    const input = h('input', { type: 'text', class: 'edit-input', maxlength: 500, 'aria-label': `Text of the line at ${clock(seg.start_ms)}` });
    input.value = seg.text.trim();
    const error = h('p', { class: 'edit-error', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'btn btn-small' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => finish() }, 'Cancel');
    const form = h('form', { class: 'edit-form', onsubmit: (e) => { e.preventDefault(); submit(); } },
      h('span', { class: 'ts', 'aria-hidden': 'true' }, clock(seg.start_ms)), input, save, cancel, error);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') finish();
    });
    item.classList.add('is-editing');
    replace(item, form);
    input.focus();
    input.select();

    function finish() {
      const fresh = lineItem(segments[i], i);
      if (item.classList.contains('is-current')) fresh.classList.add('is-current');
      item.replaceWith(fresh);
      lineItems[i] = fresh;
      fresh.querySelector('.edit-line')?.focus();
    }

    async function submit() {
      const text = input.value.trim();
      if (!text) {
        error.textContent = 'A line cannot be empty.';
        error.hidden = false;
        return;
      }
      if (text === seg.text.trim()) return finish();
      save.disabled = true;
      input.disabled = true;
      try {
        const saved = await onCorrect(seg.index, text);
        seg.text = saved.text;
        seg.words = null; // the old timings no longer match the words
        seg.corrected = { by: { display_name: 'you' } };
        if (wordSpans[i]) wordSpans[i].textContent = saved.text;
        finish();
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
        save.disabled = false;
        input.disabled = false;
        input.focus();
      }
    }
  }

  function renderParagraphs(list) {
    wordSpans = new Array(segments.length);
    const items = list.map((para) => {
      const words = h('p', { class: 'words' });
      para.segment_indices.forEach((index, n) => {
        const seg = segments[index];
        if (!seg) return;
        if (n > 0) words.append(' ');
        // Mouse convenience: the timestamp button is the keyboard route.
        const span = h('span', { dataset: { line: index }, onclick: () => seekTo(seg.start_ms) }, seg.text.trim());
        wordSpans[index] = span;
        words.append(span);
      });
      return h('div', { class: 'para' },
        h('button', { class: 'ts-button', type: 'button', 'aria-label': `Play from ${spokenDuration(para.start_ms)}`, onclick: () => seekTo(para.start_ms) },
          h('span', { class: 'ts' }, clock(para.start_ms))),
        words,
      );
    });
    replace(paragraphs, items);
  }

  function renderChapters(list) {
    chapterList = list;
    chapterItems = list.map((chapter) =>
      h('li', { dataset: { startMs: chapter.start_ms } },
        h('button', { type: 'button', onclick: () => seekTo(chapter.start_ms) },
          h('span', { class: 'ts' }, clock(chapter.start_ms)),
          h('span', {}, chapter.title),
        )));
    replace(chapters, chapterItems);
  }

  function scrollIntoPanel(item) {
    if (!follow.checked || performance.now() - manualScrollAt < 4000) return;
    const top = item.offsetTop - lines.clientHeight / 2 + item.offsetHeight / 2;
    lines.scrollTo({ top: Math.max(0, top), behavior: 'smooth' });
  }

  return {
    render(transcript) {
      // `index`: the line's position in the API's list, which corrections address.
      const all = (transcript.segments || []).map((s, index) => ({ ...s, index }));
      segments = all.filter((s) => s.text && s.text.trim());
      // Paragraph indices refer to the unfiltered list: rebuild against it.
      const byOriginal = new Map(all.map((s, i) => [i, segments.indexOf(s)]));
      const paras = (transcript.paragraphs || []).map((p) => ({
        ...p,
        segment_indices: p.segment_indices.map((i) => byOriginal.get(i)).filter((i) => i >= 0),
      }));
      empty.hidden = segments.length > 0;
      empty.textContent = segments.length ? '' : 'No speech was detected in this update.';
      renderLines();
      renderParagraphs(paras);
      renderChapters(transcript.chapters || []);
      currentIndex = -2;
      currentChapter = -2;
      return { lines: segments.length, paragraphs: paras.length, chapters: chapterList.length };
    },
    /** Lines show their Edit button (the update's author and admins). */
    setEditable(on) {
      lines.classList.toggle('can-edit', on);
    },
    /** A badge on each line where comments are (`[{ at_ms, id }]`); `onOpen(id)` shows the first. */
    setCommentMoments(moments, onOpen) {
      for (const badge of lines.querySelectorAll('.comment-badge')) badge.remove();
      const byLine = new Map();
      for (const moment of moments) {
        const index = Math.max(0, segmentAt(segments, moment.at_ms));
        if (!byLine.has(index)) byLine.set(index, []);
        byLine.get(index).push(moment.id);
      }
      for (const [index, ids] of byLine) {
        const item = lineItems[index];
        if (!item) continue;
        const label = `${ids.length} comment${ids.length === 1 ? '' : 's'} here`;
        item.append(h('button', { type: 'button', class: 'comment-badge', 'aria-label': label, title: label, onclick: () => onOpen(ids[0]) }, `💬 ${ids.length}`));
      }
    },
    /** Every element showing a line (`data-line`), in the panel and the reading view. */
    readable() {
      return [...lines.querySelectorAll('li[data-line]'), ...paragraphs.querySelectorAll('span[data-line]')];
    },
    /** Mark what is playing at `seconds`. Cheap when nothing changed. */
    highlight(seconds) {
      const ms = seconds * 1000;
      const index = segmentAt(segments, ms);
      if (index !== currentIndex) {
        lineItems[currentIndex]?.classList.remove('is-current');
        lineItems[currentIndex]?.removeAttribute('aria-current');
        wordSpans[currentIndex]?.classList.remove('is-current');
        currentIndex = index;
        const item = lineItems[index];
        if (item) {
          item.classList.add('is-current');
          item.setAttribute('aria-current', 'true');
          wordSpans[index]?.classList.add('is-current');
          scrollIntoPanel(item);
        }
      }
      // The word being said, within the current line.
      const words = lineItems[index]?.querySelectorAll('.w') ?? [];
      let word = null;
      for (const w of words) {
        if (Number(w.dataset.ms) <= ms) word = w;
        else break;
      }
      if (word !== currentWord) {
        currentWord?.classList.remove('is-word');
        word?.classList.add('is-word');
        currentWord = word;
      }
      const chapter = segmentAt(chapterList, ms);
      if (chapter !== currentChapter) {
        chapterItems[currentChapter]?.removeAttribute('aria-current');
        currentChapter = chapter;
        chapterItems[chapter]?.setAttribute('aria-current', 'true');
      }
    },
  };
}
