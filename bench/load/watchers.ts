/**
 * SSE watchers: long-lived `GET …/batches/{id}/events` streams held by plain `http` clients for a whole phase,
 * counting the events each receives and the longest silence between two of them. The service promises an event
 * at least every 250 ms while a batch runs; a silence longer than `stallMs`, a stream that fails or ends before
 * the phase does, counts as an error.
 */
import http from 'node:http';

export interface WatcherStats {
  watchers: number;
  events: number;
  /** Longest gap between two events (or since the last one, at stop) over all watchers, ms. */
  maxGapMs: number;
  errors: number;
  errorDetail: string[];
}

export interface Watchers {
  /** Resolves once every watcher has received its first event. */
  ready: Promise<void>;
  stop(): WatcherStats;
}

export function watchBatch(url: string, token: string, n: number, stallMs: number): Watchers {
  let events = 0;
  let stopping = false;
  const errorDetail: string[] = [];
  const fail = (msg: string) => {
    if (!stopping) errorDetail.push(msg);
  };
  const last: number[] = [];
  const gaps: number[] = [];
  const reqs: http.ClientRequest[] = [];
  const firsts: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    last.push(0);
    gaps.push(0);
    let first!: () => void;
    firsts.push(new Promise<void>((r) => (first = r)));
    const req = http.get(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          fail(`watcher ${i}: HTTP ${res.statusCode}`);
          first();
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (s: string) => {
          buf += s;
          let k;
          while ((k = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, k);
            buf = buf.slice(k + 2);
            if (!block.includes('data: ')) continue;
            const now = Date.now();
            if (last[i]) gaps[i] = Math.max(gaps[i]!, now - last[i]!);
            else first();
            last[i] = now;
            events++;
          }
        });
        res.on('end', () => fail(`watcher ${i}: the stream ended during the phase`));
        res.on('error', (e) => fail(`watcher ${i}: ${e.message}`));
      },
    );
    req.on('error', (e) => {
      fail(`watcher ${i}: ${e.message}`);
      first();
    });
    reqs.push(req);
  }
  return {
    ready: Promise.all(firsts).then(() => {}),
    stop() {
      const now = Date.now();
      stopping = true;
      for (const r of reqs) r.destroy();
      last.forEach((t, i) => {
        if (t) gaps[i] = Math.max(gaps[i]!, now - t);
        else errorDetail.push(`watcher ${i} received no event`);
        if (gaps[i]! > stallMs)
          errorDetail.push(`watcher ${i} went ${gaps[i]} ms without an event (limit ${stallMs} ms)`);
      });
      return { watchers: n, events, maxGapMs: Math.max(0, ...gaps), errors: errorDetail.length, errorDetail };
    },
  };
}
