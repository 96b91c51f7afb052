/**
 * CSV cells a spreadsheet will not run. Excel, LibreOffice and Google Sheets read a cell starting with =, +, -
 * or @ (also after a tab or carriage return) as a formula, which can fetch URLs or start programs, so such text
 * gets a leading ' — the spreadsheets' own mark for "this is text". A plain number (-5, +1.5e3) is not a
 * formula and is left as it is. Shared by every CSV batchgate writes: the web's downloads (src/web) and
 * `batchgate items export` (src/cli).
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function spreadsheetSafe(text: string): string {
  return FORMULA_START.test(text) && !NUMBER.test(text) ? `'${text}` : text;
}
