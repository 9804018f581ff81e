// Times and money as a reader or librarian in Beijing reads them.
const zone = { timeZone: 'Asia/Shanghai' };

export function dateTime(ms, locale = 'zh') {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    ...zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  });
}

export function date(ms, locale = 'zh') {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleDateString(locale === 'zh' ? 'zh-CN' : 'en-GB', {
    ...zone, year: 'numeric', month: '2-digit', day: '2-digit',
  });
}

export function yuan(fen) {
  return `¥${(fen / 100).toFixed(2)}`;
}
