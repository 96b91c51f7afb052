/**
 * Every relative link in README.md, docs/*.md and the bench folder's README.md (when there is one) resolves: its file exists in the repository, and
 * a `#anchor` on it names a heading of the target (GitHub's slugs). No database needed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { anchorsOf, brokenReason, relativeLinks, slug } from './markdown-links.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(): string[] {
  const docs = readdirSync(`${ROOT}docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs, 'bench/README.md'].filter((f) => existsSync(`${ROOT}${f}`)).sort();
}

it('slugs headings as GitHub does', () => {
  assert.equal(slug('Tokens and event streams'), 'tokens-and-event-streams');
  assert.equal(slug('Backup and restore'), 'backup-and-restore');
  assert.equal(slug('`GET /metrics` (Prometheus) — 2.0!'), 'get-metrics-prometheus--20');
  assert.equal(slug('Batch approval open API (批量审批)'), 'batch-approval-open-api-批量审批');
  assert.deepEqual([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n### A b\n')], ['a', 'a-1', 'a-b']);
});

it('every relative link in README.md and docs/ resolves, anchors included', () => {
  const files = markdownFiles();
  assert.ok(files.includes('README.md') && files.includes('docs/api.md'), 'the documentation is where it was');
  const links = files.flatMap((f) => relativeLinks(ROOT, f));
  assert.ok(links.length > 20, `only ${links.length} relative links found: is the parser still reading them?`);
  const broken = links.flatMap((l) => {
    const why = brokenReason(ROOT, l);
    return why === null ? [] : [`${l.file}:${l.line} (${l.target}): ${why}`];
  });
  assert.deepEqual(broken, [], 'broken links');
});
