// The borrowing bag: titles the reader means to borrow together, placed as
// one order (a multi-volume set, or several books for one trip). Kept in
// localStorage so it survives a sign-in round trip through a provider.
import { reactive, watch } from 'vue';

const KEY = 'wangjie.reader.bag';
const saved = (() => {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || [];
  } catch {
    return [];
  }
})();

export const bag = reactive({ items: saved });

watch(() => bag.items, (items) => localStorage.setItem(KEY, JSON.stringify(items)), { deep: true });

export function inBag(id) {
  return bag.items.some((item) => item.id === id);
}

export function addToBag(record) {
  if (!inBag(record.id)) {
    bag.items.push({ id: record.id, title: record.title, responsibility: record.responsibility || '' });
  }
}

export function removeFromBag(id) {
  bag.items = bag.items.filter((item) => item.id !== id);
}

export function emptyBag() {
  bag.items = [];
}
