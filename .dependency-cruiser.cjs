/**
 * The dependency rule, checked by `npm run lint:deps` (part of `npm test`).
 *
 *   doors (src/api/<door>/)  →  engine (src/engine/)  →  core (src/core/)  →  db (src/db/)
 *
 * Imports point down only. A door (native, hexabase, dataarts, batch-approvals) holds its routes, schemas,
 * presenters and use-cases in its own folder, and reaches the engine through its façade, src/engine/engine.ts,
 * only. The engine runs core operations per item and knows no door; core knows no engine; db knows only rows
 * and dialects. So a door's rule lives in its folder and nowhere else, and a change to one door cannot reach
 * another. Shared api files (src/api/*.ts) serve every door; app.ts and dialect-errors.ts are where the doors
 * are put together, so they may name each door.
 *
 * Beside the layers: src/core/states.ts (batch, chunk and item states) imports nothing, so every layer uses it,
 * row types included; the top-level modules (errors.ts, ids.ts, log.ts, metrics.ts, csv-cell.ts, …) are shared
 * by all layers and import none of them but db and states. src/config.ts and src/server.ts are the composition
 * roots: they read every layer's defaults and wire the layers together, so they may import anything. The CLI
 * (src/cli/) and the web UI (src/web/) sit on top, beside the doors.
 *
 * tsPreCompilationDeps: type-only imports count, for the layers and for cycles alike.
 */
const UPPER = '^src/(api|cli|web)/|^src/(server|config)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles: a shared type goes into a small file of its own instead.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'states-are-a-leaf',
      comment: 'Every layer imports the states, so they import nothing of the project.',
      severity: 'error',
      from: { path: '^src/core/states\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'db-knows-no-upper-layer',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: `^src/(core|engine)/|${UPPER}`, pathNot: '^src/core/states\\.ts$' },
    },
    {
      name: 'core-knows-no-engine-or-door',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: `^src/engine/|${UPPER}` },
    },
    {
      name: 'engine-knows-no-door',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: UPPER },
    },
    {
      name: 'shared-modules-import-down-only',
      comment: 'src/*.ts other than the composition roots (config.ts, server.ts) serve every layer.',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: '^src/(config|server)\\.ts$' },
      to: { path: `^src/(core|engine)/|${UPPER}`, pathNot: '^src/core/states\\.ts$' },
    },
    {
      name: 'doors-use-the-engine-facade',
      comment: 'A door reaches the engine through src/engine/engine.ts only; extend the façade for what it needs.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/engine/', pathNot: '^src/engine/engine\\.ts$' },
    },
    {
      name: 'door-knows-no-other-door',
      severity: 'error',
      from: { path: '^src/api/([^/]+)/' },
      to: { path: '^src/api/[^/]+/', pathNot: '^src/api/$1/' },
    },
    {
      name: 'shared-api-files-know-no-door',
      comment:
        'app.ts and dialect-errors.ts assemble the doors; RouteDeps (types.ts) carries the native event streams settings.',
      severity: 'error',
      from: { path: '^src/api/[^/]+\\.ts$', pathNot: '^src/api/(app|dialect-errors)\\.ts$' },
      to: { path: '^src/api/[^/]+/', pathNot: '^src/api/native/event-streams\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
