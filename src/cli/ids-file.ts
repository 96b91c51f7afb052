import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { usage } from './exit.ts';

/** Ids one per line from a file, or stdin for `-`; blank lines and `#` comments are ignored. */
export async function readIdsFile(path: string): Promise<string[]> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  const ids: string[] = [];
  let n = 0;
  try {
    for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      if (!/^[0-9]{1,20}$/.test(line))
        usage(`${path === '-' ? 'stdin' : path}:${n}: not an id: ${JSON.stringify(line.slice(0, 40))}`);
      ids.push(line);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) usage(`cannot read ${path}: ${(e as Error).message}`);
    throw e;
  }
  return ids;
}
