/**
 * A comment that names a file names one that exists: every `src/…`, `test/…`, `bench/…`, `docs/…` or `scripts/…`
 * path in a `//` or `/* … *\/` comment of src/, test/, bench/ or scripts/ resolves against the repository root (a
 * file or a folder). Comments are read with TypeScript's own comment ranges, so strings and regular expressions
 * are never taken for them.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FOLDERS = ['src', 'test', 'bench', 'scripts'];
/** Generated from the OpenAPI document; its comments are the routes' descriptions. */
const SKIP = new Set(['src/client/schema.d.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(c|m)?[jt]s$/.test(e.name) && !SKIP.has(path) ? [path] : [];
  });
}

/** The text of every comment of a file, with the line it starts on. */
function commentsOf(fileName: string, text: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const seen = new Set<number>();
  const out: { line: number; text: string }[] = [];
  const take = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) {
      if (seen.has(r.pos)) continue;
      seen.add(r.pos);
      out.push({ line: source.getLineAndCharacterOfPosition(r.pos).line + 1, text: text.slice(r.pos, r.end) });
    }
  };
  const visit = (node: ts.Node) => {
    take(ts.getLeadingCommentRanges(text, node.pos));
    take(ts.getTrailingCommentRanges(text, node.end));
    ts.forEachChild(node, visit);
  };
  visit(source);
  take(ts.getLeadingCommentRanges(text, source.endOfFileToken.pos));
  return out.sort((a, b) => a.line - b.line);
}

/** Repository paths in a comment (`src/…`, `test/…`, `bench/…`, `docs/…`, `scripts/…`): a repository path, not part of a URL or of another path. */
function pathsIn(comment: string): string[] {
  return [...comment.matchAll(/(?<![\w./@-])((?:src|test|bench|docs|scripts)\/[\w./-]*[\w-])/g)].map((m) => m[1]!);
}

it('finds paths in comments, and only in comments', () => {
  const text = [
    "import { x } from '../src/not-a-comment.ts'; // see src/core/items.ts and test/helpers/",
    "const url = 'https://example.com/src/nope.ts'; /* src/engine/sql/claim-chunk.ts, src/api/<door>/ */",
    'const re = /\\/\\/ src\\/regex.ts/; // https://github.com/o/r/blob/main/src/x.ts is a URL',
  ].join('\n');
  const found = commentsOf('x.ts', text).flatMap((c) => pathsIn(c.text));
  assert.deepEqual(found, ['src/core/items.ts', 'test/helpers', 'src/engine/sql/claim-chunk.ts', 'src/api']);
});

it('every repository path a comment names exists', () => {
  const files = FOLDERS.flatMap(sourceFiles);
  assert.ok(files.length > 100, `only ${files.length} source files found`);
  const missing: string[] = [];
  let named = 0;
  for (const file of files) {
    for (const c of commentsOf(file, readFileSync(join(ROOT, file), 'utf8'))) {
      for (const path of pathsIn(c.text)) {
        named++;
        if (!existsSync(join(ROOT, path))) missing.push(`${relative(ROOT, join(ROOT, file))}:${c.line} names ${path}`);
      }
    }
  }
  assert.ok(named > 20, `only ${named} paths found in comments: is the scan still reading them?`);
  assert.deepEqual(missing, [], 'comments naming files that do not exist');
});
