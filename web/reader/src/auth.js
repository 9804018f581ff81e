// Sign-in and credit authorisation through the providers' web pages.
//
// 1. `startAuthorize(provider, purpose)` makes a random `state`, keeps it
//    (with the provider, the purpose and the screen to come back to) in
//    sessionStorage, asks the API for the provider's authorize link with
//    redirect_uri = this app's /m/, and sends the browser there.
// 2. The provider sends the browser back to /m/?auth_code=… (Alipay,
//    Osmanthus) or /m/?code=… (WeChat) with the same `state`.
// 3. `finishAuthorize()` runs at start: it refuses a return whose `state`
//    is not the one kept (a link forged by someone else: CSRF), removes the
//    code from the address bar, and exchanges the code for a session
//    (sign-in) or a credit decision.
import { api, session } from './api.js';
import { here, sync } from './router.js';

const PENDING = 'wangjie.reader.authorize';

function randomState() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function returnUri() {
  return `${location.origin}/m/`;
}

/** The providers offered on this site, for a return to this app. */
export async function providerLinks(state = randomState()) {
  const query = new URLSearchParams({ redirect_uri: returnUri(), state });
  const answer = await api.get(`/api/session/providers?${query}`);
  return { state, providers: answer.providers };
}

/**
 * Sends the reader to `provider`'s page; `purpose` is sign_in or credit;
 * `back` is the screen to show on return (this one by default).
 */
export async function startAuthorize(provider, purpose, back = here()) {
  const { state, providers } = await providerLinks();
  const link = providers.find((p) => p.provider === provider);
  if (!link) throw new Error(`${provider} is not offered`);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, provider, purpose, back }));
  location.assign(link.authorize_url);
}

/**
 * Finishes a provider's return, if this page load is one. Answers null
 * (no return), or { purpose, back, result } once exchanged; throws an
 * error with `.code` 'state' when the state does not match.
 */
export async function finishAuthorize() {
  const params = new URLSearchParams(location.search);
  const code = params.get('auth_code') || params.get('code');
  if (!code && !params.has('state')) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  // The code is one-use and must not stay in the address bar or history.
  history.replaceState(null, '', `${location.pathname}${pending?.back || location.hash || '#/search'}`);
  sync();
  if (!code || !pending || params.get('state') !== pending.state) {
    const error = new Error('state');
    error.code = 'state';
    throw error;
  }
  const { provider, purpose, back } = pending;
  if (purpose === 'sign_in') {
    // WeChat's web page authorises for the official account: its code is
    // exchanged as a web code, not as a mini-program wx.login code.
    const body = provider === 'wechat' ? { code, via: 'web' } : { auth_code: code };
    const signedIn = await api.post(`/api/session/${provider}`, body);
    api.setToken(signedIn.token);
    session.reader = signedIn.reader;
    session.checked = true;
    return { purpose, back, result: signedIn };
  }
  const source = provider === 'alipay' ? 'sesame' : 'osmanthus';
  const result = await api.post('/api/me/credit', { source, auth_code: code, refresh: true });
  session.reader = result.reader;
  return { purpose, back, result };
}
