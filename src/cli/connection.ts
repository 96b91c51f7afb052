import type { Command } from 'commander';
import { createClient, type BatchgateClient } from '../client/index.ts';
import { usage } from './exit.ts';

export interface ClientOpts {
  url?: string;
  token?: string;
  workspace?: string;
  json?: boolean;
}

export interface Connection {
  api: BatchgateClient;
  /** The workspace id or, where the API takes one, its project_id. */
  ws: string;
  json: boolean;
}

/** The options every client command takes; each falls back to its environment variable. */
export function clientCommand(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'service URL (default: $BATCHGATE_URL)')
    .option('--token <token>', 'API token (default: $BATCHGATE_TOKEN)')
    .option('-w, --workspace <id>', 'workspace id (default: $BATCHGATE_WORKSPACE)')
    .option('--json', 'machine output: JSON on stdout');
}

export function connect(opts: ClientOpts, { workspace = true } = {}): Connection {
  const url = opts.url ?? process.env.BATCHGATE_URL;
  const token = opts.token ?? process.env.BATCHGATE_TOKEN;
  const ws = opts.workspace ?? process.env.BATCHGATE_WORKSPACE ?? '';
  if (!url) usage('no service URL: set BATCHGATE_URL or pass --url');
  if (!/^https?:\/\//.test(url)) usage(`--url must be an http(s) URL, got ${JSON.stringify(url)}`);
  if (!token) usage('no token: set BATCHGATE_TOKEN or pass --token');
  if (workspace && !ws) usage('no workspace: set BATCHGATE_WORKSPACE or pass --workspace');
  return { api: createClient({ baseUrl: url, token }), ws, json: opts.json === true };
}
