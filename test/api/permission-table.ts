/**
 * Reads the permission tables of docs/permissions.md: one row per route (a route may be a brace pattern such as
 * `/v{1,2}/…`, and may carry a variant in parentheses), one cell per caller. The grammar is the one the document
 * describes under "How to read the tables"; anything else is an error, so the document cannot drift into prose the
 * test would silently skip.
 */

export const ROLES = ['admin', 'member', 'approver', 'viewer'] as const;
export type RoleName = (typeof ROLES)[number];

export const COLUMNS = [
  'no token',
  'system admin',
  'admin',
  'member',
  'approver',
  'viewer',
  "another workspace's member",
  "own workspace, another's ids",
] as const;
export type Column = (typeof COLUMNS)[number];

export interface Expect {
  status: number;
  /** The code the dialect answers (error responses). */
  code?: string;
  /** Every target fails with this catalog code. */
  targetsFail?: string;
  /** Accepted, and nothing changed. */
  nothingDone?: boolean;
  /** The cell text, for messages. */
  text: string;
}

/** A cell: one outcome, with per-role exceptions (only the last two columns have several roles). */
export interface Cell {
  outcome: Expect;
  byRole: Partial<Record<RoleName, Expect>>;
}

export interface TableRow {
  method: string;
  pattern: string;
  variant: string | null;
  /** The pattern with its braces expanded: each one a path as registered. */
  paths: string[];
  cells: Record<Column, Cell | null>;
  line: number;
}

const HEADER = `| route | ${COLUMNS.join(' | ')} |`;

/** `a{b,c}d{e,f}` → abde, abdf, acde, acdf. */
export function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  const head = pattern.slice(0, m.index);
  const tail = pattern.slice(m.index + m[0].length);
  return m[1]!.split(',').flatMap((alt) => expandBraces(head + alt + tail));
}

function parseOutcome(text: string, where: string): Expect {
  const m = /^(\d{3})(?: ([A-Z][A-Z0-9_.]*))?(?: \((?:targets fail ([A-Z_]+)|(nothing done))\))?$/.exec(text.trim());
  if (!m) throw new Error(`${where}: cannot read the outcome "${text}"`);
  const status = Number(m[1]);
  const e: Expect = { status, text: text.trim() };
  if (m[2]) e.code = m[2];
  if (m[3]) e.targetsFail = m[3];
  if (m[4]) e.nothingDone = true;
  if (status >= 400 && !e.code) throw new Error(`${where}: a refusal needs its code: "${text}"`);
  if (status < 400 && e.code) throw new Error(`${where}: an allowed outcome has no code: "${text}"`);
  return e;
}

function parseCell(text: string, where: string): Cell | null {
  if (text.trim() === '—') return null;
  const [first, ...rest] = text.split(';');
  const cell: Cell = { outcome: parseOutcome(first!, where), byRole: {} };
  for (const part of rest) {
    const m = /^\s*([a-z, ]+):\s*(.+)$/.exec(part);
    if (!m) throw new Error(`${where}: cannot read the exception "${part}"`);
    for (const role of m[1]!.split(',').map((r) => r.trim())) {
      if (!(ROLES as readonly string[]).includes(role)) throw new Error(`${where}: "${role}" is not a role`);
      cell.byRole[role as RoleName] = parseOutcome(m[2]!, where);
    }
  }
  return cell;
}

export function parsePermissionTable(markdown: string): TableRow[] {
  const rows: TableRow[] = [];
  const lines = markdown.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `docs/permissions.md:${i + 1}`;
    if (line.startsWith('| route |') && line !== HEADER) throw new Error(`${where}: the header must be ${HEADER}`);
    if (!line.startsWith('| `')) return;
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
    if (cells.length !== COLUMNS.length + 1)
      throw new Error(`${where}: ${cells.length - 1} cells, expected ${COLUMNS.length}`);
    const route = /^`([A-Z]+) (\S+)`(?: \(([^)]+)\))?$/.exec(cells[0]!);
    if (!route) throw new Error(`${where}: cannot read the route "${cells[0]}"`);
    rows.push({
      method: route[1]!,
      pattern: route[2]!,
      variant: route[3] ?? null,
      paths: expandBraces(route[2]!),
      cells: Object.fromEntries(COLUMNS.map((c, j) => [c, parseCell(cells[j + 1]!, `${where} (${c})`)])) as Record<
        Column,
        Cell | null
      >,
      line: i + 1,
    });
  });
  return rows;
}

/** What a caller of `column` with `role` (the last two columns) must get. */
export function expected(cell: Cell, role?: RoleName): Expect {
  return (role && cell.byRole[role]) || cell.outcome;
}
