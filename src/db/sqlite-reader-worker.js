// A reader thread of src/db/sqlite-readers.ts: one read-only connection to the service's SQLite file. Plain
// JavaScript, so it loads without the TypeScript loader the main thread may have registered in-process.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('cache_size = -16384');

let deadline = Infinity;
const TIMEOUT = 'QUERY_TIMEOUT';
// Called per row by compiled conditions (capabilities.deadlineCheck): aborts the statement past the deadline.
db.function('bg_alive', { varargs: true }, () => {
  if (Date.now() > deadline) throw Object.assign(new Error('query deadline passed'), { code: TIMEOUT });
  return 1;
});

const statements = new Map();
function prepared(sql) {
  let st = statements.get(sql);
  if (st) return st;
  st = db.prepare(sql);
  if (statements.size >= 200) statements.delete(statements.keys().next().value);
  statements.set(sql, st);
  return st;
}

parentPort.on('message', (job) => {
  deadline = job.deadline;
  try {
    parentPort.postMessage({ rows: prepared(job.sql).all(job.params) });
  } catch (e) {
    parentPort.postMessage(
      e && e.code === TIMEOUT ? { timeout: true } : { error: { message: String(e && e.message), code: e && e.code } },
    );
  } finally {
    deadline = Infinity;
  }
});
