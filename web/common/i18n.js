// Chinese first, English on request: one reactive locale per app, kept in
// localStorage, and `t(key, values)` looking the key up in the app's own
// messages ({name} placeholders filled from `values`).
import { ref } from 'vue';

export function makeI18n(messages, storageKey) {
  const saved = localStorage.getItem(storageKey);
  const locale = ref(saved && messages[saved] ? saved : 'zh');
  const setLocale = (value) => {
    locale.value = value;
    localStorage.setItem(storageKey, value);
    document.documentElement.lang = value === 'zh' ? 'zh-CN' : 'en';
  };
  setLocale(locale.value);
  const t = (key, values = {}) => {
    const text = messages[locale.value][key] ?? messages.zh[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
  };
  return { locale, setLocale, t };
}
