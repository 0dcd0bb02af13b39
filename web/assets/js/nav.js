// The header on every signed-in page: who is signed in, and People for admins.

import { getJson } from './api.js';

async function start() {
  try {
    const me = await getJson('/api/me');
    const account = document.querySelector('#nav-account');
    if (account) account.textContent = me.display_name;
    if (me.role === 'admin') {
      for (const el of document.querySelectorAll('[data-admin-only]')) el.hidden = false;
    }
  } catch {
    // Signed out meanwhile: api.js sends the page to the login page.
  }
}

start();
