// The discussion under an update: comments at a moment (or on the whole of
// it) with their answers, reactions, and where they show: markers on the
// timeline and beside the transcript line of their moment. Every time seeks.

import { getJson, sendJson } from './api.js';
import { $, announce, h, linkified, replace } from './dom.js';
import { ago, clock, fullDate } from './format.js';

const REFRESH_MS = 15000;

const MENTION = /@([A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9_]|[A-Za-z0-9])/g;

/** Text nodes of a comment, with the `@names` the server resolved marked (others stay text). */
function withMentions(nodes, mentions) {
  const known = new Map(mentions.map((m) => [m.login, m.display_name]));
  if (!known.size) return nodes;
  return nodes.flatMap((node) => {
    if (node.nodeType !== Node.TEXT_NODE) return [node];
    const text = node.textContent;
    const parts = [];
    let last = 0;
    for (const match of text.matchAll(MENTION)) {
      const login = match[1].toLowerCase();
      const before = match.index > 0 ? text[match.index - 1] : ' ';
      if (!known.has(login) || /[\w.]/.test(before)) continue;
      if (match.index > last) parts.push(text.slice(last, match.index));
      parts.push(h('span', { class: 'mention', title: known.get(login) }, match[0]));
      last = match.index + match[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  });
}

/**
 * `id`: the update; `player` (seek, video, setCommentMarks); `transcript`
 * (setCommentCounts); `status`: the live region for announcements.
 */
export function createThread({ id, player, transcript, status }) {
  const url = `/api/updates/${encodeURIComponent(id)}/comments`;
  const list = $('#comments');
  const form = $('#comment-form');
  const input = $('#comment-text');
  const atNow = $('#comment-at-now');
  const atLabel = $('#comment-at-label');
  const error = $('#comment-error');
  let data = { comments: [], reactions: [], video_replies: [], reaction_set: [] };
  let replyingTo = null; // a comment, while answering it

  const seekTo = (ms) => {
    player.seek(ms / 1000);
    player.video.focus?.();
  };

  function timeButton(ms) {
    return h('button', { type: 'button', class: 'ts-button', 'aria-label': `Play from ${clock(ms)}`, onclick: () => seekTo(ms) },
      h('span', { class: 'ts' }, clock(ms)));
  }

  function commentItem(comment, answers) {
    const item = h('li', { class: 'comment', id: `comment-${comment.id}`, dataset: { id: comment.id } });
    const head = h('p', { class: 'comment-head' },
      comment.at_ms !== null && !comment.parent_id ? timeButton(comment.at_ms) : null,
      h('strong', {}, comment.author.display_name), ' ',
      h('time', { datetime: comment.created_at, title: fullDate(comment.created_at) }, ago(comment.created_at)),
      comment.edited_at ? h('span', { class: 'hint' }, ' · edited') : null);
    const body = comment.deleted
      ? h('p', { class: 'comment-body hint' }, 'This comment was deleted.')
      : h('p', { class: 'comment-body' }, ...withMentions(linkified(comment.body), comment.mentions));
    const actions = comment.deleted ? null : h('p', { class: 'comment-actions' },
      h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick: () => startReply(comment) }, 'Reply'),
      comment.can_edit ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick: () => startEdit(comment, item) }, 'Edit') : null,
      comment.can_delete ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', onclick: () => remove(comment) }, 'Delete') : null);
    replace(item, head, body, actions,
      answers.length ? h('ol', { class: 'answers' }, answers.map((a) => commentItem(a, childrenOf(a.id)))) : null);
    return item;
  }

  const childrenOf = (parent) => data.comments.filter((c) => c.parent_id === parent);

  /** A video reply in the thread: an update of its own, opened on its page. */
  function videoReplyItem(update) {
    const at = update.reply_to?.at_ms ?? null;
    const ready = update.status === 'ready';
    return h('li', { class: 'comment video-reply', id: `comment-v${update.id}`, dataset: { replyId: update.id } },
      h('p', { class: 'comment-head' },
        at !== null ? timeButton(at) : null,
        h('strong', {}, update.author?.display_name ?? 'Someone'), ' ',
        h('span', { class: 'chip' }, 'Video reply'), ' ',
        h('time', { datetime: update.created_at, title: fullDate(update.created_at) }, ago(update.created_at))),
      h('a', { class: 'video-reply-link', href: update.links.watch },
        ready ? h('img', { src: update.links.poster, alt: '', loading: 'lazy' }) : null,
        h('span', {}, update.title, ready ? ` · ${clock(update.duration_ms)}` : ' · processing…')));
  }

  /** Comments and video replies by moment (the whole update's first), answers under comments. */
  function render() {
    const top = [
      ...data.comments.filter((c) => !c.parent_id).map((c) => ({ at: c.at_ms, order: c.created_at, item: () => commentItem(c, childrenOf(c.id)) })),
      ...data.video_replies.map((u) => ({ at: u.reply_to?.at_ms ?? null, order: u.created_at, item: () => videoReplyItem(u) })),
    ].sort((a, b) => (a.at ?? -1) - (b.at ?? -1) || a.order.localeCompare(b.order));
    const standing = data.comments.filter((c) => !c.deleted).length + data.video_replies.length;
    $('#comments-heading').textContent = standing ? `Discussion (${standing})` : 'Discussion';
    replace(list, top.length
      ? top.map((entry) => entry.item())
      : [h('li', { class: 'hint empty-thread' }, 'No comments yet. Ask about a moment, or say thanks.')]);
    renderReactions();
    const moments = [
      ...data.comments.filter((c) => !c.parent_id && !c.deleted && c.at_ms !== null)
        .map((c) => ({ at_ms: c.at_ms, id: c.id, label: `Comment by ${c.author.display_name} at ${clock(c.at_ms)}: ${c.body}` })),
      ...data.video_replies.filter((u) => u.reply_to?.at_ms != null)
        .map((u) => ({ at_ms: u.reply_to.at_ms, id: `v${u.id}`, label: `Video reply by ${u.author?.display_name ?? 'someone'} at ${clock(u.reply_to.at_ms)}: ${u.title}` })),
    ];
    player.setCommentMarks(moments.map((m) => ({
      at_ms: m.at_ms,
      label: m.label,
      onClick: () => {
        seekTo(m.at_ms);
        focusComment(m.id);
      },
    })));
    transcript.setCommentMoments?.(moments, focusComment);
  }

  function focusComment(commentId) {
    const item = document.getElementById(`comment-${commentId}`);
    if (!item) return;
    item.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    item.classList.add('is-flashed');
    setTimeout(() => item.classList.remove('is-flashed'), 1500);
  }

  function renderReactions() {
    const whole = new Map(data.reactions.filter((r) => r.at_ms === null).map((r) => [r.emoji, r]));
    replace($('#reactions'), data.reaction_set.map((emoji) => {
      const r = whole.get(emoji);
      return h('button', {
        type: 'button', class: `reaction${r?.mine ? ' is-mine' : ''}`, 'aria-pressed': r?.mine ? 'true' : 'false',
        'aria-label': `${emoji} ${r ? r.count : 0}`, onclick: () => react(emoji, r?.mine),
      }, emoji, r ? h('span', { class: 'count' }, String(r.count)) : null);
    }));
  }

  async function react(emoji, mine) {
    try {
      const reactionsUrl = `/api/updates/${encodeURIComponent(id)}/reactions`;
      data.reactions = mine
        ? await sendJson('DELETE', `${reactionsUrl}?${new URLSearchParams({ emoji })}`)
        : await sendJson('POST', reactionsUrl, { emoji });
      renderReactions();
    } catch (e) {
      announce(status, e.message);
    }
  }

  function paintAt() {
    const ms = Math.round(player.video.currentTime * 1000);
    atLabel.textContent = `At ${clock(ms)}`;
    $('#video-reply').href = `/record?${new URLSearchParams({ reply_to: id, at: String(ms) })}`;
    $('#comment-at').hidden = Boolean(replyingTo);
    const replying = $('#comment-replying');
    replying.hidden = !replyingTo;
    replying.textContent = replyingTo ? `Answering ${replyingTo.author.display_name}` : '';
  }

  function startReply(comment) {
    replyingTo = comment;
    $('#comment-cancel').hidden = false;
    paintAt();
    input.focus();
  }

  function stopReply() {
    replyingTo = null;
    $('#comment-cancel').hidden = true;
    paintAt();
  }

  function startEdit(comment, item) {
    const area = h('textarea', { class: 'edit-input', rows: 3, maxlength: 10000, 'aria-label': 'Comment text' });
    area.value = comment.body;
    const problem = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const editor = h('form', { class: 'comment-edit', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await sendJson('PATCH', `${url}/${comment.id}`, { body: area.value });
        await refresh();
        announce(status, 'Comment saved.');
      } catch (err) {
        problem.textContent = err.message;
        problem.hidden = false;
      }
    } }, area,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save'),
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => render() }, 'Cancel')),
    problem);
    item.querySelector('.comment-body').replaceWith(editor);
    item.querySelector('.comment-actions')?.remove();
    area.focus();
  }

  async function remove(comment) {
    if (!window.confirm('Delete this comment?')) return;
    try {
      await sendJson('DELETE', `${url}/${comment.id}`);
      await refresh();
      announce(status, 'Comment deleted.');
    } catch (e) {
      announce(status, e.message);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const body = { body: input.value };
    if (replyingTo) body.parent_id = replyingTo.id;
    else if (atNow.checked) body.at_ms = Math.round(player.video.currentTime * 1000);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const posted = await sendJson('POST', url, body);
      input.value = '';
      stopReply();
      await refresh();
      focusComment(posted.id);
      announce(status, 'Comment posted.');
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  $('#comment-cancel').addEventListener('click', stopReply);
  player.onTime(() => {
    if (!replyingTo) paintAt();
  });

  async function refresh() {
    data = await getJson(url);
    render();
  }

  return {
    /** Paint again (the transcript's lines arrived: their badges). */
    repaint: () => render(),
    async start() {
      await refresh();
      $('#thread-section').hidden = false;
      paintAt();
      setInterval(() => {
        // Not while someone is writing or editing: a repaint would lose their text.
        const busy = document.activeElement && list.contains(document.activeElement) && document.activeElement.tagName === 'TEXTAREA';
        if (document.visibilityState === 'visible' && !busy) refresh().catch(() => {});
      }, REFRESH_MS);
    },
  };
}
