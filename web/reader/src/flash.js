// One message at a time at the top of the screen, gone after a while.
import { ref } from 'vue';

export const notice = ref(null);
let timer = null;

export function flash(kind, text, ms = 6000) {
  notice.value = { kind, text };
  clearTimeout(timer);
  timer = setTimeout(() => { notice.value = null; }, ms);
}
