// Service points: names for codes (search facets name branches by code),
// the reader's position (asked for only on a tap), and how a point's
// opening hours and locker read.
import { reactive } from 'vue';
import { api } from './api.js';

export const places = reactive({ byCode: {}, loaded: false, position: null });

let loading = null;
export function loadPointNames() {
  if (!loading) {
    loading = api.get('/api/points?limit=1000').then((answer) => {
      for (const point of answer.points) places.byCode[point.code] = point;
      places.loaded = true;
    }).catch(() => { loading = null; });
  }
  return loading;
}

export function pointName(code) {
  return places.byCode[code]?.name || code;
}

/** Asks the browser where the reader is; null when refused or unknown. */
export function locate() {
  return new Promise((done) => {
    if (!navigator.geolocation) return done(null);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        places.position = { lat: position.coords.latitude.toFixed(5), lon: position.coords.longitude.toFixed(5) };
        done(places.position);
      },
      () => done(null),
      { enableHighAccuracy: false, timeout: 8000, maximumAge: 600000 },
    );
  });
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Today's hours in Beijing: "09:00–21:00", 'always', or null (closed today). */
export function hoursToday(opening, now = new Date()) {
  if (!opening) return null;
  if (opening.always_open) return 'always';
  const day = DAYS[new Date(now.getTime() + 8 * 3600000).getUTCDay()];
  const hours = (opening.hours || []).find((h) => h.day === day);
  return hours ? `${hours.open}–${hours.close}` : null;
}

/** A distance as people say it. */
export function distance(metres) {
  if (metres === undefined || metres === null) return '';
  return metres < 1000 ? `${metres} m` : `${(metres / 1000).toFixed(1)} km`;
}
