/**
 * Relative links in Markdown and the anchors they name, resolved as GitHub renders them: a link's path against
 * the file's folder, an anchor against the target's headings slugged by GitHub's rules (lower case, punctuation
 * dropped, spaces to hyphens, a repeated slug numbered -1, -2, …).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Link {
  /** The Markdown file, relative to the repository root. */
  file: string;
  line: number;
  target: string;
}

/** The text of a Markdown file with fenced code blocks and inline code spans blanked, line numbers kept. */
function proseOf(text: string): string[] {
  let fence: string | null = null;
  return text.split('\n').map((line) => {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (open && open[1]!.startsWith(fence)) fence = null;
      return '';
    }
    if (open) {
      fence = open[1]!;
      return '';
    }
    return line.replace(/(`+)[^`]*?\1/g, '');
  });
}

/** Every `[text](target)` link of the file whose target is not a URL. */
export function relativeLinks(root: string, file: string): Link[] {
  const links: Link[] = [];
  proseOf(readFileSync(join(root, file), 'utf8')).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      links.push({ file, line: i + 1, target });
    }
  });
  return links;
}

/** GitHub's slug of a heading's text (github-slugger's rule). */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image: its text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*~]/g, ''); // code and emphasis marks
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors GitHub gives the headings of a Markdown file. */
export function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseOfHeadings(text)) {
    const m = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Lines outside fenced code blocks, inline code kept (a heading's code span is part of its slug). */
function proseOfHeadings(text: string): string[] {
  let fence: string | null = null;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (open && open[1]!.startsWith(fence)) fence = null;
      continue;
    }
    if (open) {
      fence = open[1]!;
      continue;
    }
    out.push(line);
  }
  return out;
}

/** Why a link does not resolve, or null when it does. */
export function brokenReason(root: string, link: Link): string | null {
  const hash = link.target.indexOf('#');
  const path = decodeURIComponent(hash < 0 ? link.target : link.target.slice(0, hash));
  const anchor = hash < 0 ? null : decodeURIComponent(link.target.slice(hash + 1));
  const resolved = path === '' ? join(root, link.file) : join(root, dirname(link.file), path);
  const shown = relative(root, resolved) || '.';
  if (relative(root, resolved).startsWith('..')) return `${shown} is outside the repository`;
  if (!existsSync(resolved)) return `${shown} does not exist`;
  if (anchor === null) return null;
  if (!statSync(resolved).isFile() || !resolved.endsWith('.md')) return `#${anchor} on ${shown}, not a Markdown file`;
  return anchorsOf(readFileSync(resolved, 'utf8')).has(anchor) ? null : `${shown} has no heading #${anchor}`;
}
