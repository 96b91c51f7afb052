import { Command, CommanderError } from 'commander';
import { registerBatchCommands } from './batch-commands.ts';
import { CliError, EXIT } from './exit.ts';
import { registerItemCommands } from './items-commands.ts';
import { registerServerCommands } from './server-commands.ts';
import { registerTicketCommands } from './tickets-commands.ts';
import { registerTokenCommands } from './tokens-commands.ts';

const program = new Command();
program
  .name('batchgate')
  .description('Batch approvals and bulk operations: the service (serve, worker, migrate) and its command-line client')
  .version('0.1.0')
  .addHelpText(
    'after',
    `
Client commands talk to a running service over HTTP. Configure them with
  BATCHGATE_URL / --url, BATCHGATE_TOKEN / --token, BATCHGATE_WORKSPACE / --workspace.
Every client command takes --json (machine output on stdout).
Exit codes: 0 success, 1 a batch completed with item failures, 2 usage or request error.`,
  );

registerServerCommands(program);
registerBatchCommands(program);
registerTicketCommands(program);
registerItemCommands(program);
registerTokenCommands(program);

// `batchgate --help` lists every client command, not only the groups.
const clientLines = program.commands
  .filter((group) => group.commands.length)
  .flatMap((group) =>
    group.commands.map((c) => [
      `${group.name()} ${c.name()} ${c.usage().replace(/^\[options\] ?/, '')}`.trim(),
      c.description(),
    ]),
  );
const width = Math.max(...clientLines.map(([u]) => u!.length));
program.addHelpText(
  'after',
  `\nClient commands (batchgate <group> <command> --help for their options):\n${clientLines.map(([u, d]) => `  ${u!.padEnd(width)}  ${d}`).join('\n')}`,
);

// Usage errors exit 2 (commander's own default is 1, which is ours for item failures).
(function exitOverride(cmd: Command): void {
  cmd.exitOverride();
  cmd.showHelpAfterError('(add --help for usage)');
  for (const sub of cmd.commands) exitOverride(sub);
})(program);

// Output piped into `head` and the like: stop quietly when the reader goes away.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (e instanceof CliError) {
    process.stderr.write(`batchgate: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    throw e;
  }
}
