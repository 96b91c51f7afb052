import type { Command } from 'commander';
import { clientCommand, connect, type ClientOpts, type Connection } from './connection.ts';
import { usage } from './exit.ts';
import { printJson, printLine, printTable } from './output.ts';
import { ok } from './request.ts';

interface UserOpts extends ClientOpts {
  user?: string;
}

interface CreateOpts extends UserOpts {
  label?: string;
  expiresAt?: string;
}

/** The user named by --user, or the caller. */
async function userId(conn: Connection, o: UserOpts): Promise<string> {
  if (o.user) return o.user;
  return (await ok(conn.api.GET('/api/v1/me'))).id;
}

export function registerTokenCommands(program: Command): void {
  const tokens = program
    .command('tokens')
    .description("API tokens: list, create and revoke mine (or, as an admin, a user's)");

  clientCommand(
    tokens
      .command('list')
      .description('My tokens (never their secrets)')
      .option('--user <id>', "another user's (system admin, or an admin of a workspace they belong to)"),
  ).action(async (o: UserOpts) => {
    const conn = connect(o, { workspace: false });
    const id = await userId(conn, o);
    const res = await ok(conn.api.GET('/api/v1/users/{user_id}/tokens', { params: { path: { user_id: id } } }));
    if (conn.json) return printJson(res);
    if (!res.tokens.length) return printLine('no tokens');
    printTable([
      ['ID', 'LABEL', 'CREATED', 'EXPIRES'],
      ...res.tokens.map((t) => [t.id, t.label, t.created_at, t.expires_at ?? 'never']),
    ]);
  });

  clientCommand(
    tokens
      .command('create')
      .description('Issue a token; its secret is printed once')
      .option('--label <text>', 'what it is for')
      .option('--expires-at <time>', 'when it stops working (RFC 3339, e.g. 2030-01-01T00:00:00Z)')
      .option('--user <id>', 'for another user (system admin)'),
  ).action(async (o: CreateOpts) => {
    const conn = connect(o, { workspace: false });
    if (o.expiresAt !== undefined && Number.isNaN(Date.parse(o.expiresAt)))
      usage(`--expires-at must be a date-time, got ${JSON.stringify(o.expiresAt)}`);
    const id = await userId(conn, o);
    const body = {
      ...(o.label !== undefined ? { label: o.label } : {}),
      ...(o.expiresAt !== undefined ? { expires_at: o.expiresAt } : {}),
    };
    const res = await ok(conn.api.POST('/api/v1/users/{user_id}/tokens', { params: { path: { user_id: id } }, body }));
    if (conn.json) return printJson(res);
    printLine(res.token);
    process.stderr.write(
      `token ${res.id} for user ${res.user_id}${res.expires_at ? `, expires ${res.expires_at}` : ''}: shown once, keep it\n`,
    );
  });

  clientCommand(
    tokens
      .command('revoke')
      .description('Revoke a token by id')
      .argument('<token_id>', 'the id `tokens list` shows')
      .option('--user <id>', "another user's"),
  ).action(async (tokenId: string, o: UserOpts) => {
    const conn = connect(o, { workspace: false });
    const id = await userId(conn, o);
    await ok(
      conn.api.DELETE('/api/v1/users/{user_id}/tokens/{token_id}', {
        params: { path: { user_id: id, token_id: tokenId } },
      }),
    );
    if (conn.json) return printJson({ revoked: tokenId });
    printLine(`revoked ${tokenId}`);
  });
}
