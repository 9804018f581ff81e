// Cutting a catalogue file chosen in the browser into import batches, as
// wangjie-import does: a CSV record's rows never split across batches (a
// batch starting with title-less rows would reject them), MARC cut at
// record terminators. Each batch says where it starts in the whole file,
// so rejections name the file's own record, line and byte.
import Papa from 'papaparse';

const RECORD_TERMINATOR = 0x1d;

export function formatOf(name) {
  if (/\.csv$/i.test(name)) return 'csv';
  if (/\.xml$/i.test(name)) return 'marcxml';
  return 'marc';
}

/** [{ body: Blob, params: {...}, records }] for a CSV text. */
export function csvBatches(text, perBatch) {
  const { data, errors } = Papa.parse(text, { skipEmptyLines: true });
  if (errors.length && !data.length) throw new Error(errors[0].message);
  const [header, ...rows] = data;
  const keyAt = ['record_id', 'isbn'].map((name) => header.indexOf(name)).filter((i) => i >= 0);
  const keyOf = (row) => keyAt.map((i) => row[i] ?? '').find((k) => k.trim() !== '') ?? '';
  const records = [];
  for (const row of rows) {
    const key = keyOf(row);
    const last = records[records.length - 1];
    if (last && (key === '' || key === last.key)) last.rows.push(row);
    else records.push({ key, rows: [row] });
  }
  const batches = [];
  let recordOffset = 0;
  let lineOffset = 0;
  for (let i = 0; i < records.length; i += perBatch) {
    const slice = records.slice(i, i + perBatch);
    const batchRows = slice.flatMap((r) => r.rows);
    batches.push({
      body: new Blob([Papa.unparse([header, ...batchRows])], { type: 'text/csv' }),
      params: { format: 'csv', record_offset: recordOffset, line_offset: lineOffset },
      records: slice.length,
    });
    recordOffset += slice.length;
    lineOffset += batchRows.length;
  }
  return batches;
}

/** Batches of ISO 2709 records from the file's bytes. */
export function marcBatches(bytes, perBatch) {
  const batches = [];
  let start = 0;
  let count = 0;
  let recordOffset = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== RECORD_TERMINATOR) continue;
    count++;
    if (count === perBatch || i === bytes.length - 1) {
      batches.push({
        body: new Blob([bytes.subarray(start, i + 1)], { type: 'application/marc' }),
        params: { format: 'marc', record_offset: recordOffset, byte_offset: start },
        records: count,
      });
      recordOffset += count;
      start = i + 1;
      count = 0;
    }
  }
  if (start < bytes.length) {
    batches.push({
      body: new Blob([bytes.subarray(start)], { type: 'application/marc' }),
      params: { format: 'marc', record_offset: recordOffset, byte_offset: start },
      records: count + 1,
    });
  }
  return batches;
}
