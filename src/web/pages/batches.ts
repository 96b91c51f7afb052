import { api, readEvents, wsPath } from '../api.ts';
import { h, notice, replace } from '../dom.ts';
import { stateLabel, when } from '../format.ts';
import { etaText, progressBar, rateText } from '../progress.ts';
import type { Cleanup } from '../router.ts';
import { BATCH_STATES, TERMINAL } from '../../core/states.ts';
import type { Batch } from '../types.ts';

/** The list itself is re-read this often while anything runs, to pick up new batches and those not streamed. */
const POLL_MS = 5000;
/** Browsers allow about six HTTP/1.1 connections per origin; four event streams leave room for API calls. */
const MAX_STREAMS = 4;

/**
 * The workspace's batches, newest first, with state, progress, rate and ETA. Rows of running batches (the newest
 * four) update live from their server-sent events; the list is re-read every 5 s while any batch runs, and rows
 * update in place.
 */
export function batchesPage(main: HTMLElement): Cleanup {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const streams = new Map<string, AbortController>();
  const filter = h(
    'select',
    { id: 'b-state', onchange: () => void load(true) },
    h('option', { value: '' }, 'All states'),
    BATCH_STATES.map((s) => h('option', { value: s }, stateLabel(s))),
  );
  const slot = h('div', { class: 'table-slot' }, notice('info', 'Loading batches…'));
  const rows = new Map<string, { tr: HTMLTableRowElement; update(b: Batch): void }>();
  let tbody: HTMLTableSectionElement | null = null;

  replace(
    main,
    h('h1', null, 'Batches'),
    h(
      'section',
      { class: 'filters', 'aria-label': 'Filters' },
      h('div', { class: 'field' }, h('label', { for: 'b-state' }, 'State'), filter),
    ),
    slot,
  );
  void load(true);
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const ctrl of streams.values()) ctrl.abort();
  };

  /** Follows a running batch's event stream into its row until it ends (or the page is left). */
  function follow(b: Batch): void {
    if (stopped || streams.has(b.id) || streams.size >= MAX_STREAMS || TERMINAL.includes(b.state)) return;
    const ctrl = new AbortController();
    streams.set(b.id, ctrl);
    readEvents(
      wsPath(`/batches/${b.id}/events`),
      (e) => rows.get(b.id)?.update(JSON.parse(e.data) as Batch),
      ctrl.signal,
    )
      .catch(() => {})
      .finally(() => streams.get(b.id) === ctrl && streams.delete(b.id));
  }

  async function load(fresh: boolean): Promise<void> {
    clearTimeout(timer);
    let batches: Batch[];
    try {
      batches = (
        await api<{ batches: Batch[] }>(
          'GET',
          wsPath(`/batches?limit=100${filter.value ? `&state=${filter.value}` : ''}`),
        )
      ).batches;
    } catch (err) {
      if (!stopped) replace(slot, notice('error', `Could not load batches: ${(err as Error).message}`));
      return;
    }
    if (stopped) return;
    if (fresh || !tbody || batches.some((b) => !rows.has(b.id))) build(batches);
    else for (const b of batches) rows.get(b.id)?.update(b);
    for (const b of batches) follow(b);
    if (batches.some((b) => !TERMINAL.includes(b.state))) timer = setTimeout(() => void load(false), POLL_MS);
  }

  function build(batches: Batch[]): void {
    rows.clear();
    for (const ctrl of streams.values()) ctrl.abort();
    streams.clear();
    if (batches.length === 0) {
      tbody = null;
      replace(
        slot,
        notice(
          'empty',
          filter.value ? 'No batch in this state.' : 'No batches yet. Approve tickets from the Inbox to start one.',
        ),
      );
      return;
    }
    tbody = h(
      'tbody',
      null,
      batches.map((b) => {
        const bar = progressBar(`Progress of batch ${b.id}`);
        const state = h('span', { class: 'badge' });
        const counts = h('td', { class: 'num' });
        const rateTd = h('td', { class: 'num' });
        const etaTd = h('td', { class: 'num' });
        const tr = h(
          'tr',
          null,
          h('td', null, h('a', { href: `#/batches/${b.id}`, class: 'mono' }, b.id)),
          h('td', null, b.operation + (b.action ? ` · ${b.action}` : '') + (b.dry_run ? ' (dry run)' : '')),
          h('td', null, state),
          h('td', { class: 'progress-cell' }, bar.el),
          counts,
          rateTd,
          etaTd,
          h('td', null, when(b.created_at)),
        );
        const update = (x: Batch) => {
          state.textContent = stateLabel(x.state);
          state.dataset.state = x.state;
          bar.update(x);
          counts.textContent = `${(x.total - x.pending).toLocaleString()} / ${x.total.toLocaleString()}`;
          rateTd.textContent = rateText(x);
          etaTd.textContent = etaText(x);
        };
        update(b);
        rows.set(b.id, { tr, update });
        return tr;
      }),
    );
    replace(
      slot,
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'batches' },
          h('caption', { class: 'sr-only' }, 'Batches'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Batch', 'Operation', 'State', 'Progress', 'Done', 'Rate', 'ETA', 'Created'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          tbody,
        ),
      ),
    );
  }
}
