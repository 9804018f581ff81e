// A hash router small enough to read: `#/record/12?from=search` becomes
// { name: 'record', params: ['12'], query: {from: 'search'} }. Hash routes
// keep every screen on /m/index.html, so a provider's return to /m/?code=
// and a reload anywhere both land on the app.
import { reactive } from 'vue';

function parse(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const [path, search = ''] = text.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return {
    name: parts[0] || 'search',
    params: parts.slice(1),
    query: Object.fromEntries(new URLSearchParams(search)),
    path: `/${path}`,
  };
}

export const route = reactive(parse(location.hash));

/** Reads the address again (after history.replaceState, which fires no event). */
export function sync() {
  Object.assign(route, parse(location.hash));
}

window.addEventListener('hashchange', () => {
  sync();
  window.scrollTo(0, 0);
});

/** Goes to `path` (`/record/12`). */
export function go(path) {
  location.hash = `#${path}`;
}

/** The hash of the current screen, to come back to after a round trip. */
export function here() {
  return location.hash || '#/search';
}
