// The JSON API: every error is {"error": {"code", "message"}}; we surface `message`.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const NETWORK_MESSAGE = 'Could not reach the Bulletin server. Check your connection and try again.';

/**
 * The session's CSRF token, which the server set beside the session cookie.
 * Sent as `X-CSRF-Token` with every request that changes something: another
 * site can make the browser send the cookie, but cannot read this one.
 */
export function csrfToken() {
  const found = document.cookie.split('; ').find((c) => c.startsWith('bulletin_csrf='));
  return found ? decodeURIComponent(found.slice('bulletin_csrf='.length)) : '';
}

/** A session that ended (signed out elsewhere, idle too long): sign in again, then come back. */
function signInAgainIfSignedOut(status) {
  if (status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
}

/** The ApiError for an answer that was not OK: the body's `error`, or what the status says. */
export function fromBody(status, body) {
  signInAgainIfSignedOut(status);
  const error = body && body.error;
  const message = (error && error.message) || `The server answered with an error (HTTP ${status}).`;
  return new ApiError(status, (error && error.code) || `http_${status}`, message);
}

export async function getJson(path, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, { signal, headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    if (e.name === 'AbortError') throw e;
  }
  if (!response.ok) throw fromBody(response.status, body);
  return body;
}

/** PUT/PATCH/POST a JSON body; resolves to the JSON answer. */
export async function sendJson(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    // An empty or non-JSON error body: fromBody says what it can.
  }
  if (!response.ok) throw fromBody(response.status, answer);
  return answer;
}

/** Channels the person sees, with `can_post` for each. */
export const getChannels = () => getJson('/api/channels');

/**
 * Offer this server's spoken languages in `select` ("Detect automatically"
 * first); `field` shows only where the model has a choice (English-only: none).
 */
export async function offerLanguages(select, field) {
  if (select.dataset.loaded) return;
  try {
    const { multilingual, languages } = await getJson('/api/languages');
    const options = languages.map((l) => {
      const option = document.createElement('option');
      option.value = l.code;
      option.textContent = l.name;
      return option;
    });
    select.replaceChildren(select.options[0], ...options);
    field.hidden = !multilingual;
    select.dataset.loaded = 'true';
  } catch {
    field.hidden = true; // not offered: whisper detects the language, or takes English
  }
}

/** The `acknowledge` field of a post: `everyone` and/or login names, or '' for nobody. */
export function whomToAsk(everyone, people) {
  const names = people.split(/[\s,]+/).map((w) => w.replace(/^@/, '')).filter(Boolean);
  return [everyone ? 'everyone' : null, ...names].filter(Boolean).join(',');
}

export const getUpdate = (id, options) => getJson(`/api/updates/${encodeURIComponent(id)}`, options);

/** Replace the text of transcript line `index` (its position in `segments`). */
export const correctLine = (id, index, text) =>
  sendJson('PATCH', `/api/updates/${encodeURIComponent(id)}/transcript/segments/${index}`, { text });

/**
 * POST /api/updates as multipart (`fields`: title, channel, description,
 * acknowledge; then the file) with upload progress.
 * XMLHttpRequest, because fetch() cannot report upload progress.
 * Returns {promise, abort}; `onProgress(loaded, total)`.
 */
export function uploadUpdate(fields, blob, filename, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const form = new FormData();
    // Before the file, so the server knows where it goes (and checks the rest) before the bytes arrive.
    for (const [name, value] of Object.entries(fields)) {
      if (value) form.append(name, value);
    }
    form.append('file', blob, filename);
    xhr.open('POST', '/api/updates');
    xhr.responseType = 'json';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(fromBody(xhr.status, xhr.response));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', NETWORK_MESSAGE)));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.')));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
