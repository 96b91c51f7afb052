import { api, ApiError, wsPath } from '../api.ts';
import { h, notice, replace } from '../dom.ts';
import { plural, when } from '../format.ts';
import { go, type Cleanup } from '../router.ts';
import type { Batch, Datastore, Ticket } from '../types.ts';

const PAGE_SIZE = 50;
/** Pages of 1000 (the API's largest); an inbox beyond this is cut, and says so. */
const FETCH_PAGE = 1000;
const MAX_LOADED = 20_000;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The Age filter: option value → label and whether a ticket of that age (ms since created_at) matches. */
const AGES: Record<string, { label: string; test: (age: number) => boolean }> = {
  'older-1h': { label: 'Older than 1 hour', test: (age) => age > HOUR },
  'older-1d': { label: 'Older than 1 day', test: (age) => age > DAY },
  'older-7d': { label: 'Older than 7 days', test: (age) => age > 7 * DAY },
  'newer-1d': { label: 'Newer than 1 day', test: (age) => age <= DAY },
};

/**
 * My pending tickets: filter, select (one, the page, or all matching), Check what may be decided in a batch,
 * then Approve / Reject with a comment as one batch, and follow it on the batch page.
 */
export function inboxPage(main: HTMLElement): Cleanup {
  const ctrl = new AbortController();
  const tickets: Ticket[] = [];
  let total = 0;
  let datastores = new Map<string, Datastore>();
  let meId = '';
  const selected = new Set<string>();
  let page = 0;

  const dsFilter = h(
    'select',
    { id: 'f-datastore', onchange: () => refilter() },
    h('option', { value: '' }, 'All datastores'),
  );
  const actionFilter = h(
    'select',
    { id: 'f-action', onchange: () => refilter() },
    h('option', { value: '' }, 'All actions'),
  );
  const ageFilter = h(
    'select',
    { id: 'f-age', onchange: () => refilter() },
    h('option', { value: '' }, 'Any'),
    Object.entries(AGES).map(([value, { label }]) => h('option', { value }, label)),
  );
  const textFilter = h('input', {
    id: 'f-text',
    type: 'search',
    placeholder: 'Ticket, item, action or comment',
    oninput: () => refilter(),
  });
  const summary = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const tableSlot = h('div', { class: 'table-slot' });
  const pager = h('div', { class: 'pager' });
  const checkSlot = h('div', { class: 'status-slot' });
  const submitStatus = h('div', { class: 'status-slot' });
  const comment = h('textarea', {
    id: 'decision-comment',
    rows: 2,
    maxLength: 2000,
    placeholder: 'Shown in each item’s history',
  });
  const checkBtn = h('button', { type: 'button', onclick: () => showCheck() }, 'Check');
  const approveBtn = h('button', { type: 'button', class: 'primary', onclick: () => decide('approve') }, 'Approve');
  const rejectBtn = h('button', { type: 'button', class: 'danger', onclick: () => decide('reject') }, 'Reject');

  replace(
    main,
    h('h1', null, 'Inbox'),
    h(
      'section',
      { class: 'filters', 'aria-label': 'Filters' },
      h('div', { class: 'field' }, h('label', { for: 'f-datastore' }, 'Datastore'), dsFilter),
      h('div', { class: 'field' }, h('label', { for: 'f-action' }, 'Action'), actionFilter),
      h('div', { class: 'field' }, h('label', { for: 'f-age' }, 'Age'), ageFilter),
      h('div', { class: 'field grow' }, h('label', { for: 'f-text' }, 'Search'), textFilter),
    ),
    summary,
    tableSlot,
    pager,
    h(
      'section',
      { class: 'card decision', 'aria-label': 'Decision' },
      h('div', { class: 'field grow' }, h('label', { for: 'decision-comment' }, 'Comment'), comment),
      h('div', { class: 'actions' }, checkBtn, approveBtn, rejectBtn),
      checkSlot,
      submitStatus,
    ),
  );
  replace(tableSlot, notice('info', 'Loading your pending tickets…'));
  void load();
  return () => ctrl.abort();

  async function load(): Promise<void> {
    try {
      meId = (await api<{ id: string }>('GET', '/me')).id;
      const ds = await api<{ datastores: Datastore[] }>('GET', wsPath('/datastores'));
      datastores = new Map(ds.datastores.map((d) => [d.id, d]));
      for (;;) {
        const res = await api<{ tickets: Ticket[]; total: number }>(
          'GET',
          wsPath(`/tickets?assignee=me&state=pending&limit=${FETCH_PAGE}&offset=${tickets.length}`),
        );
        if (ctrl.signal.aborted) return;
        total = res.total;
        tickets.push(...res.tickets);
        if (res.tickets.length < FETCH_PAGE || tickets.length >= Math.min(total, MAX_LOADED)) break;
      }
    } catch (err) {
      if (!ctrl.signal.aborted)
        replace(tableSlot, notice('error', `Could not load the inbox: ${(err as Error).message}`));
      return;
    }
    const usedDs = [...new Set(tickets.map((t) => t.datastore_id))];
    for (const id of usedDs) dsFilter.append(h('option', { value: id }, datastores.get(id)?.name ?? id));
    for (const a of [...new Set(tickets.map((t) => t.action))].sort())
      actionFilter.append(h('option', { value: a }, actionName(a)));
    refilter();
  }

  /** Why the ticket cannot be decided in a batch by me, or null: four-eyes first, then the action's own rule. */
  function whyNot(t: Ticket): string | null {
    if (t.submitter_id === meId && !t.allow_self_approval)
      return 'You submitted it: someone else must decide it (four-eyes).';
    return t.batch_approvable ? null : (t.reason ?? 'Not batch-approvable.');
  }

  function actionName(displayId: string): string {
    for (const d of datastores.values()) {
      const a = d.actions.find((x) => x.display_id === displayId);
      if (a) return a.name;
    }
    return displayId;
  }

  function matching(): Ticket[] {
    const ds = dsFilter.value;
    const action = actionFilter.value;
    const age = AGES[ageFilter.value];
    const now = Date.now();
    const q = textFilter.value.trim().toLowerCase();
    return tickets.filter(
      (t) =>
        (!ds || t.datastore_id === ds) &&
        (!action || t.action === action) &&
        (!age || age.test(now - Date.parse(t.created_at))) &&
        (!q ||
          [
            t.id,
            t.item_id,
            t.action,
            actionName(t.action),
            t.comment ?? '',
            datastores.get(t.datastore_id)?.name ?? '',
          ].some((s) => s.toLowerCase().includes(q))),
    );
  }

  function refilter(): void {
    page = 0;
    render();
  }

  function render(): void {
    const rows = matching();
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const shown = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const cut =
      total > tickets.length
        ? ` Showing the first ${tickets.length.toLocaleString()} of ${total.toLocaleString()}.`
        : '';
    summary.textContent = `${plural(rows.length, 'pending ticket')} matching · ${selected.size.toLocaleString()} selected.${cut}`;
    const buttonsOff = selected.size === 0;
    checkBtn.disabled = approveBtn.disabled = rejectBtn.disabled = buttonsOff;

    if (tickets.length === 0) {
      replace(tableSlot, notice('empty', 'Nothing to decide: you have no pending tickets.'));
      replace(pager);
      return;
    }
    if (rows.length === 0) {
      const clear = h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            dsFilter.value = actionFilter.value = ageFilter.value = textFilter.value = '';
            refilter();
          },
        },
        'Clear filters',
      );
      replace(tableSlot, notice('empty', 'No pending ticket matches these filters.'), clear);
      replace(pager);
      return;
    }
    const pageAll = shown.every((t) => selected.has(t.id));
    const pageBox = h('input', {
      type: 'checkbox',
      'aria-label': 'Select this page',
      checked: pageAll,
      onchange: () => {
        for (const t of shown) {
          if (pageBox.checked) selected.add(t.id);
          else selected.delete(t.id);
        }
        render();
      },
    });
    const allMatching = rows.every((t) => selected.has(t.id));
    replace(
      tableSlot,
      h(
        'div',
        { class: 'bulkbar' },
        allMatching && rows.length > shown.length
          ? h('span', null, `All ${rows.length.toLocaleString()} matching tickets are selected.`)
          : h(
              'button',
              { type: 'button', class: 'link', onclick: () => (rows.forEach((t) => selected.add(t.id)), render()) },
              `Select all ${rows.length.toLocaleString()} matching`,
            ),
        selected.size
          ? h(
              'button',
              { type: 'button', class: 'link', onclick: () => (selected.clear(), replace(checkSlot), render()) },
              'Clear selection',
            )
          : null,
      ),
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'tickets' },
          h('caption', { class: 'sr-only' }, 'Pending tickets'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col', class: 'sel' }, pageBox),
              ['Ticket', 'Item', 'Datastore', 'Action', 'Batch', 'Submitted', 'Comment'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            shown.map((t) => {
              const box = h('input', {
                type: 'checkbox',
                'aria-label': `Select ticket ${t.id}`,
                checked: selected.has(t.id),
                onchange: () => {
                  if (box.checked) selected.add(t.id);
                  else selected.delete(t.id);
                  render();
                  (
                    tableSlot.querySelector(`input[aria-label="Select ticket ${t.id}"]`) as HTMLInputElement | null
                  )?.focus();
                },
              });
              return h(
                'tr',
                { class: selected.has(t.id) ? 'selected' : '' },
                h('td', { class: 'sel' }, box),
                h('td', { class: 'mono' }, t.id),
                h('td', { class: 'mono' }, t.item_id),
                h('td', null, datastores.get(t.datastore_id)?.name ?? t.datastore_id),
                h('td', null, actionName(t.action)),
                h('td', null, whyNot(t) === null ? 'yes' : h('span', { class: 'warn', title: whyNot(t) ?? '' }, 'no')),
                h('td', null, when(t.created_at)),
                h('td', { class: 'clip' }, t.comment ?? ''),
              );
            }),
          ),
        ),
      ),
    );
    replace(
      pager,
      h(
        'button',
        { type: 'button', disabled: page === 0, onclick: () => (page--, render()), 'aria-label': 'Previous page' },
        '‹ Previous',
      ),
      h('span', { 'aria-live': 'polite' }, `Page ${page + 1} of ${pages}`),
      h(
        'button',
        { type: 'button', disabled: page >= pages - 1, onclick: () => (page++, render()), 'aria-label': 'Next page' },
        'Next ›',
      ),
    );
  }

  function selection(): { ok: Ticket[]; blocked: Ticket[] } {
    const byId = new Map(tickets.map((t) => [t.id, t]));
    const chosen = [...selected].map((id) => byId.get(id)).filter((t): t is Ticket => t !== undefined);
    return { ok: chosen.filter((t) => whyNot(t) === null), blocked: chosen.filter((t) => whyNot(t) !== null) };
  }

  function showCheck(): void {
    const { ok, blocked } = selection();
    const needComment = ok.filter((t) => t.requires_comment).length;
    replace(
      checkSlot,
      h(
        'div',
        { class: 'check', role: 'status' },
        h(
          'p',
          null,
          `${plural(ok.length, 'ticket')} can be decided in a batch; ${plural(blocked.length, 'ticket')} cannot.`,
        ),
        needComment ? h('p', null, `${plural(needComment, 'ticket')} require a comment.`) : null,
        blocked.length
          ? h(
              'table',
              { class: 'blocked' },
              h('caption', null, 'Cannot be decided in a batch'),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'col' }, 'Ticket'),
                  h('th', { scope: 'col' }, 'Action'),
                  h('th', { scope: 'col' }, 'Why not'),
                ),
              ),
              h(
                'tbody',
                null,
                blocked
                  .slice(0, 100)
                  .map((t) =>
                    h(
                      'tr',
                      null,
                      h('td', { class: 'mono' }, t.id),
                      h('td', null, actionName(t.action)),
                      h('td', null, whyNot(t)),
                    ),
                  ),
              ),
            )
          : null,
        blocked.length > 100 ? h('p', null, `…and ${blocked.length - 100} more.`) : null,
        blocked.length
          ? h(
              'p',
              { class: 'hint' },
              'Approve and Reject submit only the tickets that can be decided in a batch; decide the others one by one.',
            )
          : null,
      ),
    );
  }

  async function decide(operation: 'approve' | 'reject'): Promise<void> {
    const { ok, blocked } = selection();
    const text = comment.value.trim();
    if (ok.length === 0)
      return replace(
        submitStatus,
        notice('error', 'None of the selected tickets can be decided in a batch: press Check to see why.'),
      );
    if (!text && ok.some((t) => t.requires_comment)) {
      comment.focus();
      return replace(submitStatus, notice('error', 'Some selected tickets require a comment.'));
    }
    approveBtn.disabled = rejectBtn.disabled = true;
    replace(
      submitStatus,
      notice(
        'info',
        `Submitting ${operation === 'approve' ? 'approval' : 'rejection'} of ${plural(ok.length, 'ticket')}…`,
      ),
    );
    try {
      const batch = await api<Batch>(
        'POST',
        wsPath('/batches'),
        { operation, target: { ids: ok.map((t) => t.id) }, ...(text ? { comment: text } : {}) },
        { 'idempotency-key': crypto.randomUUID() },
      );
      if (blocked.length)
        sessionStorage.setItem(
          'batchgate.note',
          `${plural(blocked.length, 'ticket')} left out: they cannot be decided in a batch.`,
        );
      go(`/batches/${batch.id}`);
    } catch (err) {
      approveBtn.disabled = rejectBtn.disabled = false;
      replace(
        submitStatus,
        notice(
          'error',
          `The batch was not submitted: ${err instanceof ApiError ? `${err.message} (${err.code})` : (err as Error).message}`,
        ),
      );
    }
  }
}
