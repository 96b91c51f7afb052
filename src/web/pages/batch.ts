import { spreadsheetSafe } from '../../csv-cell.ts';
import { api, ApiError, readEvents, wsPath } from '../api.ts';
import { h, notice, replace } from '../dom.ts';
import { duration, rate, stateLabel, when } from '../format.ts';
import { etaText, progressBar, rateText } from '../progress.ts';
import type { Cleanup } from '../router.ts';
import { RETRYABLE, TERMINAL } from '../../core/states.ts';
import type { Batch, BatchItem } from '../types.ts';

const ITEM_PAGE = 50;
const CHART_POINTS = 120;

/**
 * One batch: counts, progress, rate and ETA live from its server-sent events (read with fetch, so the token
 * stays in a header), a throughput chart of what this page has seen, the controls, the per-item outcomes
 * (filtered by state, paged by cursor) and a CSV of the failures.
 */
export function batchPage(main: HTMLElement, [id]: string[]): Cleanup {
  const ctrl = new AbortController();
  let batch: Batch | null = null;
  const base = wsPath(`/batches/${id}`);

  const title = h('h1', null, `Batch ${id}`);
  const subtitle = h('p', { class: 'hint' });
  const badge = h('span', { class: 'badge big', role: 'status', 'aria-live': 'polite' });
  const bar = progressBar('Batch progress');
  const stat = (label: string) => {
    const dd = h('dd', { class: 'num' }, '—');
    return { dt: h('dt', null, label), dd };
  };
  const stats = {
    total: stat('Total'),
    succeeded: stat('Succeeded'),
    failed: stat('Failed'),
    skipped: stat('Skipped'),
    pending: stat('Pending'),
    rate: stat('Rate'),
    eta: stat('ETA'),
    maxRate: stat('Max rate'),
    priority: stat('Priority'),
  };
  const times = h('p', { class: 'hint times' });
  const live = h('span', { class: 'live hint' });
  const chart = throughputChart();
  const note = sessionStorage.getItem('batchgate.note');
  sessionStorage.removeItem('batchgate.note');

  const controlStatus = h('div', { class: 'status-slot' });
  const btn = (label: string, run: () => Promise<Batch>, cls = '') =>
    h('button', { type: 'button', class: cls, onclick: () => void control(label, run) }, label);
  const pauseBtn = btn('Pause', () => api<Batch>('POST', `${base}/pause`));
  const resumeBtn = btn('Resume', () => api<Batch>('POST', `${base}/resume`));
  const cancelBtn = btn('Cancel batch', () => api<Batch>('POST', `${base}/cancel`), 'danger');
  const retryBtn = btn('Retry failed', () => api<Batch>('POST', `${base}/retry`));
  // Revert makes a new batch: the page moves to it, where its outcomes (REVERT_CONFLICT per changed item) show.
  const revertBtn = (label: string, dryRun: boolean) =>
    h('button', { type: 'button', onclick: () => void revert(label, dryRun) }, label);
  const revertDryBtn = revertBtn('Preview revert', true);
  const revertRunBtn = revertBtn('Revert batch', false);
  const priorityInput = h('input', {
    id: 'priority',
    type: 'number',
    min: '1',
    max: '100',
    step: '1',
    inputMode: 'numeric',
  });
  const priorityBtn = h('button', { type: 'submit' }, 'Set priority');
  const priorityForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const p = Number(priorityInput.value);
        if (!Number.isInteger(p) || p < 1 || p > 100)
          return replace(controlStatus, notice('error', 'The priority is a whole number from 1 to 100.'));
        void control('Set priority', () => api<Batch>('POST', `${base}/reprioritize`, { priority: p }));
      },
    },
    h('label', { for: 'priority' }, 'Priority (1–100)'),
    priorityInput,
    priorityBtn,
  );
  const rateInput = h('input', {
    id: 'max-rate',
    type: 'number',
    min: '0',
    step: 'any',
    inputMode: 'decimal',
    placeholder: 'no limit',
  });
  const rethrottleBtn = h('button', { type: 'submit' }, 'Set rate');
  const rethrottleForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const v = rateInput.value.trim();
        const maxRate = v === '' || Number(v) === 0 ? null : Number(v);
        if (maxRate !== null && !(maxRate > 0))
          return replace(
            controlStatus,
            notice('error', 'The rate is a positive number of items per second, or empty for no limit.'),
          );
        void control('Set rate', () => api<Batch>('POST', `${base}/rethrottle`, { max_rate: maxRate }));
      },
    },
    h('label', { for: 'max-rate' }, 'Max rate (items/s)'),
    rateInput,
    rethrottleBtn,
  );

  const itemState = h(
    'select',
    { id: 'i-state', onchange: () => void loadItems(null, true) },
    h('option', { value: '' }, 'All outcomes'),
    ['failed', 'succeeded', 'skipped', 'pending'].map((s) => h('option', { value: s }, s)),
  );
  const itemsSlot = h('div', { class: 'table-slot' });
  const itemsPager = h('div', { class: 'pager' });
  const csvBtn = h('button', { type: 'button', onclick: () => void downloadCsv() }, 'Download failures (CSV)');
  const cursors: (string | null)[] = [null];

  replace(
    main,
    h('p', null, h('a', { href: '#/batches' }, '‹ All batches')),
    h('div', { class: 'titlebar' }, title, badge),
    subtitle,
    note ? notice('info', note) : null,
    h(
      'section',
      { class: 'card', 'aria-label': 'Progress' },
      bar.el,
      h(
        'dl',
        { class: 'stats' },
        Object.values(stats).map((s) => h('div', null, s.dt, s.dd)),
      ),
      times,
      live,
    ),
    h('section', { class: 'card', 'aria-label': 'Throughput' }, h('h2', null, 'Throughput'), chart.el),
    h(
      'section',
      { class: 'card', 'aria-label': 'Controls' },
      h('h2', null, 'Controls'),
      h('div', { class: 'actions' }, pauseBtn, resumeBtn, cancelBtn, retryBtn, revertDryBtn, revertRunBtn),
      rethrottleForm,
      priorityForm,
      controlStatus,
    ),
    h(
      'section',
      { class: 'card', 'aria-label': 'Outcomes' },
      h('h2', null, 'Outcomes'),
      h(
        'div',
        { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: 'i-state' }, 'Outcome'), itemState),
        h('div', { class: 'field end' }, csvBtn),
      ),
      itemsSlot,
      itemsPager,
    ),
  );

  void start();
  return () => ctrl.abort();

  async function start(): Promise<void> {
    try {
      show(await api<Batch>('GET', base));
    } catch (err) {
      replace(
        main,
        h('h1', null, `Batch ${id}`),
        notice(
          'error',
          err instanceof ApiError && err.status === 404
            ? 'There is no such batch in this workspace.'
            : (err as Error).message,
        ),
      );
      return;
    }
    if (batch!.failed > 0 && TERMINAL.includes(batch!.state)) itemState.value = 'failed';
    void loadItems(null, true);
    void follow();
  }

  /** Follows the event stream until the batch ends; reconnects after a drop, backing off to 5 s. */
  async function follow(): Promise<void> {
    let delay = 500;
    while (!ctrl.signal.aborted && batch && !TERMINAL.includes(batch.state)) {
      live.textContent = 'Live';
      try {
        await readEvents(`${base}/events`, (e) => show(JSON.parse(e.data) as Batch), ctrl.signal);
        delay = 500;
      } catch {
        live.textContent = 'Reconnecting…';
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(5000, delay * 2);
        try {
          show(await api<Batch>('GET', base));
        } catch {
          /* still offline: the loop retries */
        }
      }
    }
    if (!ctrl.signal.aborted) {
      live.textContent = '';
      void loadItems(null, true);
    }
  }

  function show(b: Batch): void {
    batch = b;
    badge.textContent = stateLabel(b.state);
    badge.dataset.state = b.state;
    subtitle.textContent = `${b.operation}${b.action ? ` · ${b.action}` : ''}${b.dry_run ? ' · dry run' : ''}${b.comment ? ` · “${b.comment}”` : ''}${b.attempt > 1 ? ` · attempt ${b.attempt}` : ''}${
      b.reverts_batch_id ? ` · reverts batch ${b.reverts_batch_id}` : ''
    }`;
    bar.update(b);
    stats.total.dd.textContent = b.total.toLocaleString();
    stats.succeeded.dd.textContent = b.succeeded.toLocaleString();
    stats.failed.dd.textContent = b.failed.toLocaleString();
    stats.skipped.dd.textContent = b.skipped.toLocaleString();
    stats.pending.dd.textContent = b.pending.toLocaleString();
    stats.rate.dd.textContent = rateText(b);
    stats.eta.dd.textContent = etaText(b);
    stats.maxRate.dd.textContent = b.max_rate === null ? 'no limit' : rate(b.max_rate);
    stats.priority.dd.textContent = String(b.priority);
    if (document.activeElement !== priorityInput) priorityInput.value = String(b.priority);
    times.textContent = `Created ${when(b.created_at)} · started ${when(b.started_at)} · finished ${when(b.finished_at)}${
      b.started_at && b.finished_at
        ? ` · took ${duration((Date.parse(b.finished_at) - Date.parse(b.started_at)) / 1000)}`
        : ''
    }`;
    chart.add(b);
    const terminal = TERMINAL.includes(b.state);
    pauseBtn.disabled = !['queued', 'scheduled', 'running'].includes(b.state);
    resumeBtn.disabled = b.state !== 'paused';
    cancelBtn.disabled = terminal;
    retryBtn.disabled = !(RETRYABLE.includes(b.state) && b.failed > 0);
    rethrottleBtn.disabled = terminal;
    rateInput.disabled = terminal;
    priorityBtn.disabled = terminal;
    priorityInput.disabled = terminal;
    // What a revert undoes: a finished or cancelled batch that changed something (a dry run changed nothing).
    const revertible = terminal && b.state !== 'failed' && !b.dry_run && b.succeeded > 0;
    revertDryBtn.disabled = !revertible;
    revertRunBtn.disabled = !revertible;
    csvBtn.disabled = b.failed === 0;
  }

  async function control(label: string, run: () => Promise<Batch>): Promise<void> {
    replace(controlStatus, notice('info', `${label}…`));
    try {
      const b = await run();
      show(b);
      replace(controlStatus, notice('info', `${label}: the batch is now ${stateLabel(b.state)}.`));
      if (label === 'Retry failed') itemState.value = '';
      void loadItems(null, true);
      // A resumed or retried batch runs again: follow it.
      if (!TERMINAL.includes(b.state)) void follow();
    } catch (err) {
      replace(controlStatus, notice('error', `${label} failed: ${(err as Error).message}`));
    }
  }

  async function revert(label: string, dryRun: boolean): Promise<void> {
    if (
      !dryRun &&
      !confirm('Revert this batch? Items changed since it ran are reported as conflicts, not overwritten.')
    )
      return;
    replace(controlStatus, notice('info', `${label}…`));
    try {
      const r = await api<Batch>('POST', `${base}/revert`, { dry_run: dryRun });
      sessionStorage.setItem(
        'batchgate.note',
        `${dryRun ? 'A dry run of reverting' : 'Reverting'} batch ${id}: items changed since then fail with REVERT_CONFLICT.`,
      );
      location.hash = `#/batches/${r.id}`;
    } catch (err) {
      replace(controlStatus, notice('error', `${label} failed: ${(err as Error).message}`));
    }
  }

  async function loadItems(cursor: string | null, reset: boolean): Promise<void> {
    if (reset) cursors.splice(0, cursors.length, null);
    const q = new URLSearchParams({ limit: String(ITEM_PAGE) });
    if (itemState.value) q.set('state', itemState.value);
    if (cursor) q.set('cursor', cursor);
    let res: { items: BatchItem[]; next_cursor: string | null };
    try {
      res = await api('GET', `${base}/items?${q}`);
    } catch (err) {
      // Retention purged them: not a failure, the counters above are all there is.
      if (err instanceof ApiError && err.code === 'ITEMS_PURGED') replace(itemsSlot, notice('empty', err.message));
      else replace(itemsSlot, notice('error', `Could not load outcomes: ${(err as Error).message}`));
      return;
    }
    if (ctrl.signal.aborted) return;
    if (res.items.length === 0) {
      replace(
        itemsSlot,
        notice('empty', itemState.value ? `No ${itemState.value} items.` : 'This batch has no items.'),
      );
    } else {
      replace(
        itemsSlot,
        h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'outcomes' },
            h('caption', { class: 'sr-only' }, 'Per-item outcomes'),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['#', 'Target', 'Outcome', 'Error code', 'Message', 'Attempts'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              null,
              res.items.map((i) =>
                h(
                  'tr',
                  null,
                  h('td', { class: 'num' }, i.seq),
                  h('td', { class: 'mono' }, i.target_id),
                  h('td', null, h('span', { class: 'badge', 'data-state': i.state }, i.state)),
                  h('td', { class: 'mono' }, i.error_code ?? ''),
                  h('td', null, i.error_message ?? ''),
                  h('td', { class: 'num' }, i.attempts),
                ),
              ),
            ),
          ),
        ),
      );
    }
    const at = cursors.indexOf(cursor);
    replace(
      itemsPager,
      h(
        'button',
        {
          type: 'button',
          disabled: at <= 0,
          onclick: () => void loadItems(cursors[at - 1] ?? null, false),
          'aria-label': 'Previous outcomes page',
        },
        '‹ Previous',
      ),
      h('span', null, `Page ${at + 1}`),
      h(
        'button',
        {
          type: 'button',
          disabled: res.next_cursor === null,
          'aria-label': 'Next outcomes page',
          onclick: () => {
            if (res.next_cursor !== null) {
              cursors.splice(at + 1, cursors.length, res.next_cursor);
              void loadItems(res.next_cursor, false);
            }
          },
        },
        'Next ›',
      ),
    );
  }

  async function downloadCsv(): Promise<void> {
    csvBtn.disabled = true;
    try {
      const lines = ['seq,target_id,error_code,error_message,attempts'];
      let cursor: string | null = null;
      do {
        const q = new URLSearchParams({ state: 'failed', limit: '1000', ...(cursor ? { cursor } : {}) });
        const res: { items: BatchItem[]; next_cursor: string | null } = await api('GET', `${base}/items?${q}`);
        for (const i of res.items)
          lines.push(
            [i.seq, i.target_id, i.error_code ?? '', i.error_message ?? '', i.attempts].map(csvCell).join(','),
          );
        cursor = res.next_cursor;
      } while (cursor !== null);
      const url = URL.createObjectURL(new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' }));
      const a = h('a', { href: url, download: `batch-${id}-failures.csv`, class: 'sr-only' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      replace(controlStatus, notice('error', `The CSV download failed: ${(err as Error).message}`));
    } finally {
      csvBtn.disabled = (batch?.failed ?? 0) === 0;
    }
  }
}

/** RFC 4180 quoting, after spreadsheetSafe (a leading =+-@ is prefixed with ' so it does not run as a formula). */
function csvCell(v: string | number): string {
  const s = spreadsheetSafe(String(v));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Items per second between successive updates this page received, as an SVG line; fixed size, no reflow. */
function throughputChart(): { el: HTMLElement; add(b: Batch): void } {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 600;
  const H = 120;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const line = document.createElementNS(NS, 'polyline');
  svg.append(line);
  const caption = h('p', { class: 'hint' }, 'Collecting samples while this page is open…');
  const el = h('figure', { class: 'chart-box' }, svg as unknown as HTMLElement, h('figcaption', null, caption));
  const samples: { t: number; done: number }[] = [];
  const rates: number[] = [];
  return {
    el,
    add(b) {
      const t = performance.now() / 1000;
      const done = b.total - b.pending;
      const prev = samples.at(-1);
      samples.push({ t, done });
      if (prev && t - prev.t > 0.05) rates.push(Math.max(0, (done - prev.done) / (t - prev.t)));
      if (rates.length > CHART_POINTS) rates.splice(0, rates.length - CHART_POINTS);
      if (rates.length < 2) return;
      const max = Math.max(...rates, 1);
      line.setAttribute(
        'points',
        rates
          .map((r, i) => `${((i / (rates.length - 1)) * W).toFixed(1)},${(H - (r / max) * (H - 4) - 2).toFixed(1)}`)
          .join(' '),
      );
      const peak = rate(max);
      svg.setAttribute('aria-label', `Throughput over the last ${rates.length} updates, peak ${peak}`);
      caption.textContent = `Items per second over the last ${rates.length} updates · peak ${peak} · now ${rate(rates.at(-1) ?? 0)}`;
    },
  };
}
