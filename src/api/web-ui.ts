import fastifyStatic from '@fastify/static';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from './types.ts';

/** The browser sources (src/web) and the git-ignored folder their bundle is built into. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_SRC = join(ROOT, 'src/web');
export const WEB_DIST = join(ROOT, 'web-dist');

/** Only our own origin: no CDN, no inline script, and the token never leaves for another host. */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Bundles src/web into `outDir` with esbuild (minified, one file, source map). Written to a sibling temporary
 * folder first and renamed into place, so a server starting in parallel never serves half a build.
 */
export async function buildWeb(outDir = WEB_DIST): Promise<void> {
  const { build } = await import('esbuild');
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(join(tmp, 'assets'), { recursive: true });
  try {
    await build({
      entryPoints: [join(WEB_SRC, 'main.ts')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      minify: true,
      sourcemap: true,
      outfile: join(tmp, 'assets/app.js'),
      logLevel: 'warning',
    });
    writeFileSync(join(tmp, 'assets/app.css'), readFileSync(join(WEB_SRC, 'styles.css')));
    writeFileSync(join(tmp, 'index.html'), readFileSync(join(WEB_SRC, 'index.html')));
    rmSync(outDir, { recursive: true, force: true });
    try {
      renameSync(tmp, outDir);
    } catch (e) {
      // Another process finished the same build between our rm and rename: its bundle is as good as ours.
      if (!existsSync(join(outDir, 'index.html'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `npm start` on a checkout where `prepare` did not run (npm install --ignore-scripts): build once, lazily. */
export async function ensureWebBuild(outDir = WEB_DIST): Promise<void> {
  if (!existsSync(join(outDir, 'index.html'))) await buildWeb(outDir);
}

/**
 * The web UI at `/` (index.html) and `/assets/*`, hidden from the OpenAPI document. Navigation inside the UI
 * uses the URL fragment, so no other path needs a fallback and unknown paths keep their JSON 404.
 */
export function webUi(opts: { dir?: string } = {}) {
  const dir = opts.dir ?? WEB_DIST;
  return async function plugin(app: App): Promise<void> {
    app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
      const index = join(dir, 'index.html');
      reply
        .header('content-security-policy', CSP)
        .header('cache-control', 'no-cache')
        .header('referrer-policy', 'no-referrer');
      if (!existsSync(index)) {
        return reply
          .status(503)
          .type('text/plain; charset=utf-8')
          .send('The web UI is not built: run `npm run build:web`.\n');
      }
      return reply.type('text/html; charset=utf-8').send(readFileSync(index));
    });
    await app.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      cacheControl: false,
      setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
    });
  };
}
