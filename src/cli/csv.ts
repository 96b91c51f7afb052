import { spreadsheetSafe } from '../csv-cell.ts';

/**
 * RFC 4180 CSV: a streaming reader (quoted fields may hold commas, quotes and newlines) and a line writer whose
 * cells a spreadsheet will not run as formulas.
 */

export async function* csvRows(chunks: AsyncIterable<string>): AsyncGenerator<string[]> {
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false;
  let pendingCr = false;
  let any = false;
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (c === '\n') continue;
      }
      if (quoted) {
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else cell += c;
        continue;
      }
      if (c === '"') {
        // A doubled quote inside a quoted field is one quote.
        if (afterQuote) cell += '"';
        quoted = true;
        afterQuote = false;
        any = true;
        continue;
      }
      afterQuote = false;
      if (c === ',') {
        row.push(cell);
        cell = '';
        any = true;
      } else if (c === '\n' || c === '\r') {
        pendingCr = c === '\r';
        row.push(cell);
        if (any || row.length > 1 || row[0] !== '') yield row;
        row = [];
        cell = '';
        any = false;
      } else {
        cell += c;
        any = true;
      }
    }
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (any || cell !== '') {
    row.push(cell);
    yield row;
  }
}

/** RFC 4180 quoting (also of edge whitespace, which readers trim), after spreadsheetSafe. */
function csvCell(raw: string): string {
  const value = spreadsheetSafe(raw);
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(cells: string[]): string {
  return cells.map(csvCell).join(',') + '\n';
}
