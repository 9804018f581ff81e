// What the order screens share: their work lists, and the code a parcel
// label carries (`WJO:<order id>`, also typed by hand as the bare number).
import { api } from './session.js';

export async function workList(stage, params = '') {
  return (await api.get(`/api/staff/orders?stage=${stage}${params}`)).orders;
}

export function step(orderId, name) {
  return api.post(`/api/staff/orders/${orderId}/${name}`);
}

/** The order id a scanned label (or a typed number) names, or null. */
export function orderFromLabel(text) {
  const match = /^(?:WJO:)?(\d{1,18})$/i.exec(text.trim());
  return match ? Number(match[1]) : null;
}

export function labelCode(orderId) {
  return `WJO:${orderId}`;
}

/** The copies of an order that travel in its parcel. */
export function parcelCopies(order) {
  return order.lines.filter((l) => l.state === 'picked').map((l) => l.copy_barcode);
}
