// The dashboard's figures from the daily roll-up (GET /admin/stats): the
// period's totals and one series per chart. Pure functions, no fetching.

const sum = (days, field) => days.reduce((total, d) => total + (d[field] ?? 0), 0);
const minutes = (ms) => (ms === null || ms === undefined ? null : Math.round(ms / 60000));
const ratio = (part, whole) => (whole ? part / whole : 0);

/** Minutes as a reader of a dashboard takes them in: hours past two. */
export function duration(min) {
  if (min === null || min === undefined) return '—';
  return min >= 120 ? `${(min / 60).toFixed(1)} h` : `${min} min`;
}

export function totals(days) {
  const last = days[days.length - 1] ?? {};
  const orders = days.reduce(
    (total, d) => total + Object.values(d.orders_by_channel ?? {}).reduce((a, b) => a + b, 0), 0);
  const activeDays = days.filter((d) => d.active_readers > 0);
  return {
    loans: sum(days, 'loans'),
    returns: sum(days, 'returns'),
    orders,
    loansPerDay: days.length ? Math.round(sum(days, 'loans') / days.length) : 0,
    activeReaders: activeDays.length ? Math.round(sum(activeDays, 'active_readers') / activeDays.length) : 0,
    overdueRate: ratio(last.overdue_loans ?? 0, last.open_loans ?? 0),
    readyP50: minutes(last.ready_p50_ms),
    readyP90: minutes(last.ready_p90_ms),
  };
}

function keyed(days, field) {
  const keys = new Set();
  days.forEach((d) => Object.keys(d[field] ?? {}).forEach((k) => keys.add(k)));
  return [...keys].sort();
}

export function charts(days, t) {
  const x = days.map((d) => d.day.slice(5));
  const axis = { type: 'category', data: x };
  const line = (name, data) => ({ name, type: 'line', smooth: true, data });
  const base = { tooltip: { trigger: 'axis' }, grid: { left: 52, right: 16, top: 16, bottom: 56 }, xAxis: axis, yAxis: { type: 'value' } };
  const legend = { bottom: 0 };
  const channels = keyed(days, 'orders_by_channel');
  const kinds = keyed(days, 'orders_by_point_kind');
  const table = (head, rows) => ({ head: [t('dash.day'), ...head], rows: days.map((d, i) => [d.day, ...rows(d, i)]) });
  return [
    {
      name: 'loans', title: t('dash.loans'),
      option: { ...base, legend, series: [line(t('dash.loans'), days.map((d) => d.loans)), line(t('dash.returns'), days.map((d) => d.returns))] },
      table: table([t('dash.loans'), t('dash.returns')], (d) => [d.loans, d.returns]),
    },
    {
      name: 'active', title: t('dash.active'),
      option: { ...base, series: [line(t('dash.active'), days.map((d) => d.active_readers))] },
      table: table([t('dash.active')], (d) => [d.active_readers]),
    },
    {
      name: 'channels', title: t('dash.channels'),
      option: { ...base, legend, series: channels.map((c) => ({ name: t(`channel.${c}`), type: 'bar', stack: 'c', data: days.map((d) => d.orders_by_channel?.[c] ?? 0) })) },
      table: table(channels.map((c) => t(`channel.${c}`)), (d) => channels.map((c) => d.orders_by_channel?.[c] ?? 0)),
    },
    {
      name: 'kinds', title: t('dash.kinds'),
      option: { ...base, legend, series: kinds.map((k) => ({ name: t(`kind.${k}`), type: 'bar', stack: 'k', data: days.map((d) => d.orders_by_point_kind?.[k] ?? 0) })) },
      table: table(kinds.map((k) => t(`kind.${k}`)), (d) => kinds.map((k) => d.orders_by_point_kind?.[k] ?? 0)),
    },
    {
      name: 'ready', title: t('dash.ready'),
      option: { ...base, legend, yAxis: { type: 'value', name: 'min' }, series: [line('p50', days.map((d) => minutes(d.ready_p50_ms))), line('p90', days.map((d) => minutes(d.ready_p90_ms)))] },
      table: table(['p50 (min)', 'p90 (min)'], (d) => [minutes(d.ready_p50_ms) ?? '—', minutes(d.ready_p90_ms) ?? '—']),
    },
    {
      name: 'lockers', title: t('dash.lockers'),
      option: { ...base, yAxis: { type: 'value', max: 100 }, series: [line('%', days.map((d) => Math.round(100 * ratio(d.locker_cells_used, d.locker_cells_total))))] },
      table: table([t('dash.used'), t('dash.total'), t('dash.faulty')], (d) => [d.locker_cells_used, d.locker_cells_total, d.locker_cells_faulty]),
    },
    {
      name: 'overdue', title: t('dash.overdue'),
      option: { ...base, series: [line('%', days.map((d) => +(100 * ratio(d.overdue_loans, d.open_loans)).toFixed(1)))] },
      table: table([t('dash.overdue_loans'), t('dash.open_loans')], (d) => [d.overdue_loans, d.open_loans]),
    },
    {
      name: 'standing', title: t('dash.standing'),
      option: { ...base, legend, series: [
        { name: t('dash.credit'), type: 'bar', stack: 's', data: days.map((d) => d.readers_credit) },
        { name: t('dash.deposit'), type: 'bar', stack: 's', data: days.map((d) => d.readers_deposit) },
      ] },
      table: table([t('dash.credit'), t('dash.deposit')], (d) => [d.readers_credit, d.readers_deposit]),
    },
  ];
}
