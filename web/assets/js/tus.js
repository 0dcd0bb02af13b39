// Resumable uploads through the server's tus 1.0.0 endpoint (/api/uploads).
//
// The file goes up in chunks (one PATCH each). A dropped connection, a server
// restart or a 5xx is retried with backoff from the offset the server reports
// (HEAD), so no byte is sent twice and none is lost. The upload's URL is
// remembered in localStorage under the file's fingerprint, so choosing the
// same file again after closing the tab resumes instead of starting over.
//
// The server looks at the bytes while they arrive: a file it can already tell
// is too long (or not a video) is refused mid-upload with a 4xx, which ends
// the upload and is shown as is.

import { ApiError, NETWORK_MESSAGE, csrfToken, fromBody } from './api.js';

const ENDPOINT = '/api/uploads';
const TUS_VERSION = '1.0.0';
/** Chunks start small (an early refusal comes back at once) and double up to the cap. */
const FIRST_CHUNK = 1 << 20;
const MAX_CHUNK = 32 << 20;
/** Waits between attempts after a transient failure; then the person decides. */
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const REMEMBERED_PREFIX = 'bulletin-upload:';
/** The server keeps an unfinished upload for a day; forget ours a little sooner. */
const REMEMBER_MS = 20 * 60 * 60 * 1000;

const PAUSED = 'paused';

/** base64 of UTF-8 text, as Upload-Metadata wants it. */
function base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function metadataHeader(metadata) {
  return Object.entries(metadata)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${key} ${base64(String(value))}`)
    .join(',');
}

/** Transient: worth trying again from where the server is. */
function isTransient(error) {
  return error.status === 0 || error.status === 423 || error.status === 429 || error.status >= 500;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

function remembered(key) {
  try {
    const entry = JSON.parse(localStorage.getItem(REMEMBERED_PREFIX + key) || 'null');
    if (entry && Date.now() - entry.at < REMEMBER_MS) return entry.url;
  } catch {
    // Storage unavailable or garbled: start a new upload.
  }
  return null;
}

function remember(key, url) {
  try {
    localStorage.setItem(REMEMBERED_PREFIX + key, JSON.stringify({ url, at: Date.now() }));
  } catch {
    // Private browsing: resuming works within this page only.
  }
}

function forget(key) {
  try {
    localStorage.removeItem(REMEMBERED_PREFIX + key);
  } catch {
    // Nothing to forget.
  }
}

/** Old entries of uploads that expired on the server anyway. */
function forgetExpired() {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key?.startsWith(REMEMBERED_PREFIX)) continue;
      const entry = JSON.parse(localStorage.getItem(key) || 'null');
      if (!entry || Date.now() - entry.at >= REMEMBER_MS) localStorage.removeItem(key);
    }
  } catch {
    // Nothing to tidy.
  }
}

async function tusFetch(url, method, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      cache: 'no-store',
      headers: { 'Tus-Resumable': TUS_VERSION, 'X-CSRF-Token': csrfToken(), Accept: 'application/json', ...headers },
    });
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  if (!response.ok) {
    let body = null;
    if (method !== 'HEAD') body = await response.json().catch(() => null);
    throw fromBody(response.status, body);
  }
  return response;
}

/**
 * One file on its way to becoming an update. `metadata`: {title, channel, description, acknowledge}.
 * `onProgress(sent, total)` follows the bytes; `onRetry(ms)` says a retry is coming.
 */
export class ResumableUpload {
  constructor(file, metadata, { onProgress = () => {}, onRetry = () => {} } = {}) {
    this.file = file;
    this.metadata = { ...metadata, filename: file.name, filetype: file.type };
    this.onProgress = onProgress;
    this.onRetry = onRetry;
    // Same file, same destination: the same upload.
    this.key = [file.name, file.size, file.lastModified, metadata.title, metadata.channel, metadata.description ?? '', metadata.acknowledge ?? ''].join('|');
    this.url = null;
    /** Whether this page created or wrote to the upload (so its disappearing is news). */
    this.startedHere = false;
    this.offset = 0;
    this.chunk = FIRST_CHUNK;
    this.xhr = null;
    this.stopper = null;
    forgetExpired();
  }

  /**
   * Send what the server does not have yet. Resolves to the new update's id;
   * rejects with an ApiError (code `paused` after `pause()`).
   */
  async run() {
    this.stopper = new AbortController();
    const { signal } = this.stopper;
    let failures = 0;
    for (;;) {
      try {
        if (signal.aborted) throw new ApiError(0, PAUSED, 'Upload paused.');
        const updateId = await this.sendRest(signal);
        forget(this.key);
        return updateId;
      } catch (error) {
        if (signal.aborted || error.code === PAUSED) throw new ApiError(0, PAUSED, 'Upload paused.');
        if (!isTransient(error)) {
          // The server has decided (too long, not a video, not allowed…): nothing to resume.
          forget(this.key);
          throw error;
        }
        if (failures >= RETRY_DELAYS_MS.length) throw error;
        const wait = RETRY_DELAYS_MS[failures++];
        this.onRetry(wait, error);
        await sleep(wait, signal);
      }
    }
  }

  /** Stop sending; `run()` again resumes where the server is. */
  pause() {
    this.stopper?.abort();
    this.xhr?.abort();
  }

  /** Stop, and have the server throw away what it has. */
  async cancel() {
    this.pause();
    forget(this.key);
    for (let attempt = 0; this.url && attempt < 3; attempt++) {
      try {
        await tusFetch(this.url, 'DELETE');
        break;
      } catch (error) {
        // 423: the aborted PATCH still holds it for a moment. Otherwise it expires on its own.
        if (error.status !== 423) break;
        await sleep(500);
      }
    }
    this.url = null;
  }

  async sendRest(signal) {
    const updateId = await this.locate();
    if (updateId) return updateId;
    while (this.offset < this.file.size) {
      if (signal.aborted) throw new ApiError(0, PAUSED, 'Upload paused.');
      const end = Math.min(this.file.size, this.offset + this.chunk);
      const answer = await this.patch(this.file.slice(this.offset, end));
      if (answer.offset <= this.offset) throw new ApiError(0, 'no_progress', 'The server did not take the chunk.');
      this.offset = answer.offset;
      this.startedHere = true;
      this.onProgress(this.offset, this.file.size);
      this.chunk = Math.min(MAX_CHUNK, this.chunk * 2);
      if (answer.updateId) return answer.updateId;
    }
    // Every byte is there but no update came back: the last answer was lost, or
    // the server could not finish just then and kept the bytes. An empty PATCH
    // at the end asks it to finish (or tells the update it made meanwhile).
    const answer = await this.patch(new Blob([]));
    if (answer.updateId) return answer.updateId;
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }

  /**
   * Find out where the upload stands, creating it if the server has none.
   * Returns the update id if it is already complete.
   */
  async locate() {
    this.url ??= remembered(this.key);
    if (this.url) {
      try {
        const response = await tusFetch(this.url, 'HEAD');
        this.offset = Number(response.headers.get('Upload-Offset')) || 0;
        this.onProgress(this.offset, this.file.size);
        return response.headers.get('Bulletin-Update-Id');
      } catch (error) {
        if (error.status !== 404 && error.status !== 410) throw error;
        forget(this.key);
        if (this.startedHere) {
          // It vanished under us: refused while its answer was lost to the connection.
          throw new ApiError(422, 'upload_dropped', 'The server stopped taking this file. If it is a video of up to 3 minutes, try again.');
        }
        // Remembered from an earlier visit, and expired since: a new upload.
        this.url = null;
      }
    }
    const created = await tusFetch(ENDPOINT, 'POST', {
      'Upload-Length': String(this.file.size),
      'Upload-Metadata': metadataHeader(this.metadata),
    });
    this.url = new URL(created.headers.get('Location'), location.href).pathname;
    this.startedHere = true;
    this.offset = Number(created.headers.get('Upload-Offset')) || 0;
    remember(this.key, this.url);
    return null;
  }

  /** One PATCH of `blob` at the current offset. XMLHttpRequest, for its upload progress. */
  patch(blob) {
    const start = this.offset;
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open('PATCH', this.url);
      xhr.responseType = 'json';
      xhr.setRequestHeader('Tus-Resumable', TUS_VERSION);
      xhr.setRequestHeader('Upload-Offset', String(start));
      xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
      xhr.setRequestHeader('X-CSRF-Token', csrfToken());
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => this.onProgress(start + e.loaded, this.file.size));
      xhr.addEventListener('load', () => {
        this.xhr = null;
        if (xhr.status === 204) {
          resolve({ offset: Number(xhr.getResponseHeader('Upload-Offset')), updateId: xhr.getResponseHeader('Bulletin-Update-Id') });
        } else if (xhr.status === 409) {
          // We were behind or ahead of the server: retry from what HEAD says.
          reject(new ApiError(503, 'offset_mismatch', 'Resuming from where the server is.'));
        } else {
          reject(fromBody(xhr.status, xhr.response));
        }
      });
      xhr.addEventListener('error', () => { this.xhr = null; reject(new ApiError(0, 'network', NETWORK_MESSAGE)); });
      xhr.addEventListener('abort', () => { this.xhr = null; reject(new ApiError(0, PAUSED, 'Upload paused.')); });
      xhr.send(blob);
    });
  }
}
