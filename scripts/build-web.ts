// `npm run build:web` (also run by `prepare`, so `npm ci` builds it): bundles src/web into web-dist/.
import { buildWeb, WEB_DIST } from '../src/api/web-ui.ts';

const t0 = Date.now();
await buildWeb();
console.log(`web UI built into ${WEB_DIST} in ${Date.now() - t0} ms`);
