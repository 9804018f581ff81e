// Screens by location hash (#/pick, #/label/12): a reload or a bookmark
// keeps the screen, and the server needs to know only index.html.
import { ref } from 'vue';

function current() {
  const [name = 'pick', ...args] = location.hash.replace(/^#\/?/, '').split('/');
  return { name: name || 'pick', args };
}

export const route = ref(current());
window.addEventListener('hashchange', () => {
  route.value = current();
});

export function go(name, ...args) {
  location.hash = `#/${[name, ...args].join('/')}`;
}
