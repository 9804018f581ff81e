// The signed-in member of staff: their token (for the API) and who they
// are (for the screens), kept in localStorage so a reload keeps the shift.
import { reactive } from 'vue';
import { makeClient } from '@common/api.js';

const TOKEN = 'wangjie.console.token';
const WHO = 'wangjie.console.staff';

export const session = reactive({
  staff: JSON.parse(localStorage.getItem(WHO) || 'null'),
});

export const api = makeClient({
  key: TOKEN,
  onUnauthenticated: () => forget(),
});

function forget() {
  api.setToken(null);
  localStorage.removeItem(WHO);
  session.staff = null;
}

export async function signIn(staffNo, secret, kind) {
  const body = { staff_no: staffNo.trim(), [kind]: secret };
  const signed = await api.post('/api/staff/session', body);
  api.setToken(signed.token);
  const me = await api.get('/api/staff/me');
  localStorage.setItem(WHO, JSON.stringify(me));
  session.staff = me;
}

export async function signOut() {
  try {
    await api.del('/api/staff/session');
  } finally {
    forget();
  }
}

/** Operators run the service; supervisors may look at its figures. */
export function canOperate() {
  return session.staff?.role === 'operator';
}
export function canSeeOperations() {
  return ['operator', 'supervisor'].includes(session.staff?.role);
}
