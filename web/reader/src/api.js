// The reader's session and the one API client every screen uses.
import { reactive } from 'vue';
import { makeClient } from '@common/api.js';

const TOKEN_KEY = 'wangjie.reader.token';

export const session = reactive({ reader: null, checked: false });

export const api = makeClient({
  key: TOKEN_KEY,
  onUnauthenticated() {
    api.setToken(null);
    session.reader = null;
  },
});

/** Loads the signed-in reader, if a token is kept. */
export async function loadReader() {
  if (!api.token()) {
    session.checked = true;
    return null;
  }
  try {
    session.reader = await api.get('/api/me');
  } catch {
    session.reader = null;
  }
  session.checked = true;
  return session.reader;
}

export async function signOut() {
  try {
    await api.del('/api/session');
  } finally {
    api.setToken(null);
    session.reader = null;
  }
}
