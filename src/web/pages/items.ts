import { api, ApiError, wsPath } from '../api.ts';
import { buildCondition, operators, subjects, takesRange, type Op, type Subject } from '../conditions.ts';
import { h, notice, replace } from '../dom.ts';
import { plural } from '../format.ts';
import { go, type Cleanup } from '../router.ts';
import { TERMINAL } from '../../core/states.ts';
import type { Batch, BatchItem, Condition, Datastore, Field, Item } from '../types.ts';

const PER_PAGE = 50;
const DS_KEY = 'batchgate.itemsDatastore';
/** Failed items listed after a dry run; the rest are counted, and on the dry-run batch's page. */
const FAILED_SHOWN = 100;

interface Row {
  subject: Subject;
  op: Op;
  a: string;
  b: string;
}

/** The search the table shows: Apply copies the builder into it, so editing rows never changes a selection. */
interface Applied {
  conditions: Condition[];
  useOr: boolean;
}

/**
 * Browse a datastore's items with a condition builder (the search language), select some or all matching, and
 * run an action or a field update as a batch: a dry run first, showing what would fail, then the real run.
 */
export function itemsPage(main: HTMLElement): Cleanup {
  const ctrl = new AbortController();
  let datastores: Datastore[] = [];
  let ds: Datastore | null = null;
  let subs: Subject[] = [];
  let rows: Row[] = [];
  let applied: Applied = { conditions: [], useOr: false };
  let items: Item[] = [];
  let total = 0;
  let page = 1;
  const seen = new Map<string, Item>();
  const selected = new Set<string>();
  let allMatching = false;
  /** The batch body the last dry run was for; Run is offered only for that same body. */
  let dryKey: string | null = null;
  let searchSeq = 0;

  const dsSelect = h('select', { id: 'i-datastore', onchange: () => chooseDatastore(dsSelect.value) });
  const sortSelect = h('select', { id: 'i-sort', onchange: () => search(1) });
  const orderSelect = h(
    'select',
    { id: 'i-order', onchange: () => search(1) },
    h('option', { value: 'asc' }, 'Ascending'),
    h('option', { value: 'desc' }, 'Descending'),
  );
  const andRadio = h('input', { type: 'radio', name: 'i-join', id: 'i-and', value: 'and', checked: true });
  const orRadio = h('input', { type: 'radio', name: 'i-join', id: 'i-or', value: 'or' });
  const rowsSlot = h('ol', { class: 'cond-rows' });
  const addBtn = h('button', { type: 'button', onclick: () => addRow() }, 'Add condition');
  const applyBtn = h('button', { type: 'button', class: 'primary', onclick: () => apply() }, 'Apply');
  const clearBtn = h(
    'button',
    { type: 'button', onclick: () => ((rows = []), renderRows(), apply()) },
    'Clear conditions',
  );
  const condStatus = h('div', { class: 'status-slot' });
  const summary = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const tableSlot = h('div', { class: 'table-slot' });
  const pager = h('div', { class: 'pager' });

  const opSelect = h('select', { id: 'i-operation', onchange: () => (renderUpdateForm(), updateButtons()) });
  const updField = h('select', { id: 'i-update-field', onchange: () => (renderUpdateValue(), updateButtons()) });
  const updValueSlot = h('div', { class: 'field' });
  const updForm = h(
    'div',
    { class: 'inline update-form', hidden: true },
    h('div', { class: 'field' }, h('label', { for: 'i-update-field' }, 'Field to set'), updField),
    updValueSlot,
  );
  const comment = h('textarea', {
    id: 'i-comment',
    rows: 2,
    maxLength: 2000,
    placeholder: 'Shown in each item’s history',
    oninput: () => updateButtons(),
  });
  const dryBtn = h('button', { type: 'button', onclick: () => dryRun() }, 'Dry run');
  const runBtn = h('button', { type: 'button', class: 'primary', onclick: () => run() }, 'Run');
  const opStatus = h('div', { class: 'status-slot', 'aria-live': 'polite' });

  replace(
    main,
    h('h1', null, 'Items'),
    h(
      'section',
      { class: 'filters', 'aria-label': 'Datastore and order' },
      h('div', { class: 'field' }, h('label', { for: 'i-datastore' }, 'Datastore'), dsSelect),
      h('div', { class: 'field' }, h('label', { for: 'i-sort' }, 'Sort by'), sortSelect),
      h('div', { class: 'field' }, h('label', { for: 'i-order' }, 'Order'), orderSelect),
    ),
    h(
      'section',
      { class: 'card conditions', 'aria-labelledby': 'i-cond-title' },
      h('h2', { id: 'i-cond-title' }, 'Conditions'),
      h(
        'fieldset',
        { class: 'join' },
        h('legend', null, 'Items must match'),
        h('label', { for: 'i-and' }, andRadio, ' all conditions (AND)'),
        h('label', { for: 'i-or' }, orRadio, ' any condition (OR)'),
      ),
      rowsSlot,
      h('div', { class: 'actions' }, addBtn, applyBtn, clearBtn),
      condStatus,
    ),
    summary,
    tableSlot,
    pager,
    h(
      'section',
      { class: 'card decision', 'aria-labelledby': 'i-op-title' },
      h('h2', { id: 'i-op-title' }, 'Bulk operation'),
      h('div', { class: 'field' }, h('label', { for: 'i-operation' }, 'Operation'), opSelect),
      updForm,
      h('div', { class: 'field grow' }, h('label', { for: 'i-comment' }, 'Comment (optional)'), comment),
      h('div', { class: 'actions' }, dryBtn, runBtn),
      h('p', { class: 'hint' }, 'Run is offered after a dry run of the same operation on the same selection.'),
      opStatus,
    ),
  );
  replace(tableSlot, notice('info', 'Loading datastores…'));
  updateButtons();
  void load();
  return () => ctrl.abort();

  async function load(): Promise<void> {
    try {
      datastores = (await api<{ datastores: Datastore[] }>('GET', wsPath('/datastores'))).datastores;
    } catch (err) {
      if (!ctrl.signal.aborted)
        replace(tableSlot, notice('error', `Could not load the datastores: ${(err as Error).message}`));
      return;
    }
    if (ctrl.signal.aborted) return;
    if (datastores.length === 0) {
      replace(tableSlot, notice('empty', 'This workspace has no datastores yet.'));
      dsSelect.disabled = true;
      return;
    }
    for (const d of datastores) dsSelect.append(h('option', { value: d.id }, d.name));
    const remembered = sessionStorage.getItem(DS_KEY);
    chooseDatastore(datastores.some((d) => d.id === remembered) ? remembered! : datastores[0]!.id);
  }

  function chooseDatastore(id: string): void {
    ds = datastores.find((d) => d.id === id) ?? null;
    if (!ds) return;
    dsSelect.value = ds.id;
    sessionStorage.setItem(DS_KEY, ds.id);
    subs = subjects(ds);
    rows = [];
    applied = { conditions: [], useOr: false };
    andRadio.checked = true;
    seen.clear();
    clearSelection();
    replace(
      sortSelect,
      h('option', { value: '' }, 'Default'),
      h('option', { value: 'title' }, 'Title'),
      h('option', { value: 'status' }, 'Status'),
      h('option', { value: 'rev_no' }, 'Revision'),
      h('option', { value: 'created_at' }, 'Created'),
      h('option', { value: 'updated_at' }, 'Updated'),
      ds.fields.filter((f) => f.type !== 'json').map((f) => h('option', { value: f.display_id }, f.name)),
    );
    replace(
      opSelect,
      ds.actions.map((a) => h('option', { value: `action:${a.display_id}` }, `Action: ${a.name}`)),
      ds.fields.some((f) => f.type !== 'json') ? h('option', { value: 'update' }, 'Update a field') : null,
    );
    replace(
      updField,
      ds.fields.filter((f) => f.type !== 'json').map((f) => h('option', { value: f.display_id }, f.name)),
    );
    renderUpdateForm();
    renderRows();
    replace(condStatus);
    replace(opStatus);
    void search(1);
  }

  // ---- condition builder ----

  function addRow(): void {
    const subject = subs[0];
    if (!subject) return;
    rows.push({ subject, op: operators(subject)[0]!.op, a: '', b: '' });
    renderRows();
    (rowsSlot.querySelector(`#i-c${rows.length}-field`) as HTMLSelectElement | null)?.focus();
  }

  function renderRows(): void {
    if (rows.length === 0) {
      replace(
        rowsSlot,
        h('li', { class: 'hint' }, 'No conditions: every item of the datastore is shown. Add one to narrow the list.'),
      );
      return;
    }
    replace(
      rowsSlot,
      rows.map((row, i) => {
        const n = i + 1;
        const field = h(
          'select',
          {
            id: `i-c${n}-field`,
            'aria-label': `Condition ${n} field`,
            onchange: () => {
              row.subject = subs.find((s) => s.key === field.value)!;
              row.op = operators(row.subject)[0]!.op;
              row.a = row.b = '';
              renderRows();
              (rowsSlot.querySelector(`#i-c${n}-field`) as HTMLSelectElement | null)?.focus();
            },
          },
          subs.map((s) => h('option', { value: s.key, selected: s.key === row.subject.key }, s.label)),
        );
        const op = h(
          'select',
          {
            id: `i-c${n}-op`,
            'aria-label': `Condition ${n} operator`,
            onchange: () => {
              const wasRange = takesRange(row.subject, row.op);
              row.op = op.value as Op;
              if (wasRange !== takesRange(row.subject, row.op)) row.a = row.b = '';
              renderRows();
              (rowsSlot.querySelector(`#i-c${n}-op`) as HTMLSelectElement | null)?.focus();
            },
          },
          operators(row.subject).map((o) => h('option', { value: o.op, selected: o.op === row.op }, o.label)),
        );
        const remove = h(
          'button',
          {
            type: 'button',
            class: 'link',
            'aria-label': `Remove condition ${n}`,
            onclick: () => {
              rows.splice(i, 1);
              renderRows();
              addBtn.focus();
            },
          },
          'Remove',
        );
        return h(
          'li',
          { class: 'cond-row' },
          field,
          op,
          h('span', { class: 'cond-values' }, valueInputs(row, n)),
          remove,
        );
      }),
    );
  }

  function valueInputs(row: Row, n: number): HTMLElement[] {
    const s = row.subject;
    if (row.op === 'blank') return [];
    const input = (which: 'a' | 'b', label: string) => {
      const type = s.kind === 'number' ? 'number' : s.kind === 'date' ? 'date' : 'text';
      return h('input', {
        type,
        id: `i-c${n}-${which}`,
        'aria-label': `Condition ${n} ${label}`,
        value: row[which],
        ...(type === 'number' ? { step: 'any' } : {}),
        oninput: (e: Event) => (row[which] = (e.target as HTMLInputElement).value),
        onkeydown: (e: KeyboardEvent) => e.key === 'Enter' && apply(),
      });
    };
    if (takesRange(s, row.op)) return [input('a', 'from'), h('span', { 'aria-hidden': 'true' }, '–'), input('b', 'to')];
    if (s.options) {
      if (row.a === '') row.a = s.options[0]?.value ?? '';
      const sel = h(
        'select',
        { id: `i-c${n}-a`, 'aria-label': `Condition ${n} value`, onchange: () => (row.a = sel.value) },
        s.options.map((o) => h('option', { value: o.value, selected: o.value === row.a }, o.label)),
      );
      return [sel];
    }
    return [input('a', s.kind === 'users' ? 'user id' : 'value')];
  }

  function apply(): void {
    const conditions: Condition[] = [];
    for (const [i, row] of rows.entries()) {
      const c = buildCondition(row.subject, row.op, row.a, row.b);
      if (typeof c === 'string') {
        replace(condStatus, notice('error', `Condition ${i + 1}: ${c}`));
        (rowsSlot.querySelector(`#i-c${i + 1}-a`) as HTMLElement | null)?.focus();
        return;
      }
      conditions.push(c);
    }
    replace(condStatus);
    applied = { conditions, useOr: orRadio.checked };
    clearSelection();
    void search(1);
  }

  // ---- results ----

  async function search(toPage: number): Promise<void> {
    if (!ds) return;
    const seq = ++searchSeq;
    tableSlot.setAttribute('aria-busy', 'true');
    const body = {
      ...(applied.conditions.length ? { conditions: applied.conditions } : {}),
      ...(applied.useOr ? { use_or_condition: true } : {}),
      page: toPage,
      per_page: PER_PAGE,
      ...(sortSelect.value ? { sort_field_id: sortSelect.value, sort_order: orderSelect.value } : {}),
    };
    try {
      const res = await api<{ items: Item[]; total: number }>(
        'POST',
        wsPath(`/datastores/${encodeURIComponent(ds.id)}/items/search`),
        body,
      );
      if (ctrl.signal.aborted || seq !== searchSeq) return;
      items = res.items;
      total = res.total;
      page = toPage;
      for (const it of items) seen.set(it.id, it);
      renderTable();
    } catch (err) {
      if (ctrl.signal.aborted || seq !== searchSeq) return;
      items = [];
      total = 0;
      summary.textContent = '';
      replace(tableSlot, notice('error', `The search failed: ${describe(err)}`));
      replace(pager);
    } finally {
      if (seq === searchSeq) tableSlot.removeAttribute('aria-busy');
    }
  }

  function selectedCount(): number {
    return allMatching ? total : selected.size;
  }

  function renderTable(): void {
    if (!ds) return;
    const fields = ds.fields;
    summary.textContent = `${plural(total, 'item')} matching · ${selectedCount().toLocaleString()} selected.`;
    updateButtons();
    if (total === 0) {
      replace(
        tableSlot,
        notice(
          'empty',
          applied.conditions.length ? 'No item matches these conditions.' : 'This datastore has no items yet.',
        ),
      );
      replace(pager);
      return;
    }
    const isSel = (id: string) => allMatching || selected.has(id);
    const pageBox = h('input', {
      type: 'checkbox',
      'aria-label': 'Select this page',
      checked: items.every((it) => isSel(it.id)),
      onchange: () => {
        if (allMatching && !pageBox.checked) clearSelection();
        for (const it of items) {
          if (pageBox.checked) selected.add(it.id);
          else selected.delete(it.id);
        }
        selectionChanged();
      },
    });
    replace(
      tableSlot,
      h(
        'div',
        { class: 'bulkbar' },
        allMatching
          ? h('span', null, `All ${total.toLocaleString()} matching items are selected.`)
          : h(
              'button',
              {
                type: 'button',
                class: 'link',
                onclick: () => ((allMatching = true), selected.clear(), selectionChanged()),
              },
              `Select all ${total.toLocaleString()} matching`,
            ),
        selectedCount()
          ? h(
              'button',
              { type: 'button', class: 'link', onclick: () => (clearSelection(), selectionChanged()) },
              'Clear selection',
            )
          : null,
      ),
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'items' },
          h('caption', { class: 'sr-only' }, `Items of ${ds.name}`),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col', class: 'sel' }, pageBox),
              h('th', { scope: 'col' }, 'Title'),
              h('th', { scope: 'col' }, 'Status'),
              h('th', { scope: 'col', class: 'num' }, 'Rev.'),
              fields.map((f) => h('th', { scope: 'col' }, f.name)),
            ),
          ),
          h(
            'tbody',
            null,
            items.map((it) => {
              const name = it.title || it.id;
              const box = h('input', {
                type: 'checkbox',
                'aria-label': `Select ${name}`,
                checked: isSel(it.id),
                onchange: () => {
                  if (allMatching) {
                    // Leaving "all matching": keep this page, minus the one unticked.
                    allMatching = false;
                    for (const x of items) selected.add(x.id);
                  }
                  if (box.checked) selected.add(it.id);
                  else selected.delete(it.id);
                  selectionChanged();
                  (tableSlot.querySelector(`input[data-id="${it.id}"]`) as HTMLInputElement | null)?.focus();
                },
              });
              box.dataset.id = it.id;
              return h(
                'tr',
                { class: isSel(it.id) ? 'selected' : '' },
                h('td', { class: 'sel' }, box),
                h('td', { class: 'clip' }, it.title ?? h('span', { class: 'hint' }, '(no title)')),
                h('td', null, it.status_name),
                h('td', { class: 'num' }, it.rev_no),
                fields.map((f) => h('td', { class: 'clip' }, show(f, it.fields[f.display_id]))),
              );
            }),
          ),
        ),
      ),
    );
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    replace(
      pager,
      h(
        'button',
        { type: 'button', disabled: page <= 1, onclick: () => search(page - 1), 'aria-label': 'Previous page' },
        '‹ Previous',
      ),
      h('span', { 'aria-live': 'polite' }, `Page ${page} of ${pages}`),
      h(
        'button',
        { type: 'button', disabled: page >= pages, onclick: () => search(page + 1), 'aria-label': 'Next page' },
        'Next ›',
      ),
    );
  }

  function show(f: Field, v: unknown): string {
    if (v === null || v === undefined || v === '') return '';
    if (Array.isArray(v)) return v.join(', ');
    if (f.type === 'json' || typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  function clearSelection(): void {
    selected.clear();
    allMatching = false;
  }

  function selectionChanged(): void {
    renderTable();
  }

  // ---- bulk operation ----

  function renderUpdateForm(): void {
    updForm.hidden = opSelect.value !== 'update';
    renderUpdateValue();
  }

  function updateFieldDef(): Field | undefined {
    return ds?.fields.find((f) => f.display_id === updField.value);
  }

  function renderUpdateValue(): void {
    const f = updateFieldDef();
    if (!f) return replace(updValueSlot);
    const common = { id: 'i-update-value', oninput: () => updateButtons(), onchange: () => updateButtons() };
    let control: HTMLElement;
    if (f.type === 'select')
      control = h(
        'select',
        common,
        h('option', { value: '' }, '(blank)'),
        (f.options ?? []).map((o) => h('option', { value: o }, o)),
      );
    else if (f.type === 'number') control = h('input', { ...common, type: 'number', step: 'any' });
    else if (f.type === 'date') control = h('input', { ...common, type: 'date' });
    else if (f.type === 'datetime') control = h('input', { ...common, type: 'datetime-local' });
    else
      control = h('input', {
        ...common,
        type: 'text',
        ...(f.type === 'users' ? { placeholder: 'User ids, comma-separated' } : {}),
      });
    replace(
      updValueSlot,
      h('label', { for: 'i-update-value' }, 'New value'),
      control,
      h('span', { class: 'hint' }, 'Empty clears the field.'),
    );
  }

  /** The `fields` of an update batch, or a message when the value does not fit the field. */
  function updateFields(): Record<string, unknown> | string {
    const f = updateFieldDef();
    if (!f) return 'Choose a field.';
    const raw = (
      (updValueSlot.querySelector('#i-update-value') as HTMLInputElement | HTMLSelectElement | null)?.value ?? ''
    ).trim();
    if (raw === '') return { [f.display_id]: null };
    switch (f.type) {
      case 'number': {
        const n = Number(raw);
        return Number.isFinite(n) ? { [f.display_id]: n } : `“${raw}” is not a number.`;
      }
      case 'datetime': {
        const d = new Date(raw);
        return Number.isNaN(d.getTime()) ? `“${raw}” is not a date and time.` : { [f.display_id]: d.toISOString() };
      }
      case 'users':
        return {
          [f.display_id]: raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        };
      default:
        return { [f.display_id]: raw };
    }
  }

  /** The batch to submit (without dry_run), or why there is none. */
  function batchBody(): Record<string, unknown> | string {
    if (!ds) return 'Choose a datastore.';
    if (selectedCount() === 0) return 'Select items first.';
    const target = allMatching
      ? {
          datastore: ds.id,
          ...(applied.conditions.length ? { conditions: applied.conditions } : {}),
          ...(applied.useOr ? { use_or_condition: true } : {}),
        }
      : { ids: [...selected] };
    const text = comment.value.trim();
    const extra = text ? { comment: text } : {};
    if (opSelect.value.startsWith('action:'))
      return { operation: 'action', action: opSelect.value.slice(7), target, ...extra };
    if (opSelect.value === 'update') {
      const fields = updateFields();
      if (typeof fields === 'string') return fields;
      return { operation: 'update', fields, target, ...extra };
    }
    return 'Choose an operation.';
  }

  function updateButtons(): void {
    const body = batchBody();
    dryBtn.disabled = typeof body === 'string';
    runBtn.disabled = typeof body === 'string' || dryKey !== JSON.stringify(body);
  }

  function opName(body: Record<string, unknown>): string {
    if (body.operation === 'update') return `update of ${Object.keys(body.fields as object).join(', ')}`;
    return ds?.actions.find((a) => a.display_id === body.action)?.name ?? String(body.action);
  }

  async function dryRun(): Promise<void> {
    const body = batchBody();
    if (typeof body === 'string') return replace(opStatus, notice('error', body));
    dryKey = null;
    dryBtn.disabled = runBtn.disabled = true;
    replace(opStatus, notice('info', `Dry run of ${opName(body)} on ${plural(selectedCount(), 'item')}…`));
    try {
      let batch = await api<Batch>(
        'POST',
        wsPath('/batches'),
        { ...body, dry_run: true },
        { 'idempotency-key': crypto.randomUUID() },
      );
      while (!TERMINAL.includes(batch.state)) {
        await new Promise((r) => setTimeout(r, 300));
        if (ctrl.signal.aborted) return;
        batch = await api<Batch>('GET', wsPath(`/batches/${batch.id}`));
      }
      const failed = batch.failed
        ? (
            await api<{ items: BatchItem[] }>(
              'GET',
              wsPath(`/batches/${batch.id}/items?state=failed&limit=${FAILED_SHOWN}`),
            )
          ).items
        : [];
      if (ctrl.signal.aborted) return;
      dryKey = JSON.stringify(body);
      showDryRun(batch, failed);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      replace(opStatus, notice('error', `The dry run did not complete: ${describe(err)}`));
    } finally {
      updateButtons();
    }
  }

  function showDryRun(batch: Batch, failed: BatchItem[]): void {
    const would = batch.succeeded;
    replace(
      opStatus,
      h(
        'div',
        { class: 'check dry-run', role: 'status' },
        h(
          'p',
          null,
          h('strong', null, 'Dry run: '),
          `of ${plural(batch.total, 'item')}, ${would.toLocaleString()} would succeed, ${batch.failed.toLocaleString()} would fail`,
          batch.skipped ? `, ${batch.skipped.toLocaleString()} would be skipped` : '',
          '. Nothing was changed.',
        ),
        failed.length
          ? h(
              'div',
              { class: 'scroll' },
              h(
                'table',
                { class: 'dry-failures' },
                h('caption', null, 'Would fail'),
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    h('th', { scope: 'col' }, 'Item'),
                    h('th', { scope: 'col' }, 'Error code'),
                    h('th', { scope: 'col' }, 'Message'),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  failed.map((f) =>
                    h(
                      'tr',
                      null,
                      h('td', { class: 'clip' }, seen.get(f.target_id)?.title ?? f.target_id),
                      h('td', { class: 'mono' }, f.error_code ?? ''),
                      h('td', { class: 'clip', title: f.error_message ?? '' }, f.error_message ?? ''),
                    ),
                  ),
                ),
              ),
            )
          : null,
        batch.failed > failed.length
          ? h(
              'p',
              null,
              `…and ${(batch.failed - failed.length).toLocaleString()} more, on `,
              h('a', { href: `#/batches/${batch.id}` }, `dry-run batch ${batch.id}`),
              '.',
            )
          : null,
        h(
          'p',
          { class: 'hint' },
          batch.failed
            ? 'Run submits the same batch for real: the items that would fail will fail with these errors.'
            : 'Run submits the same batch for real.',
        ),
      ),
    );
  }

  async function run(): Promise<void> {
    const body = batchBody();
    if (typeof body === 'string' || dryKey !== JSON.stringify(body)) return;
    dryBtn.disabled = runBtn.disabled = true;
    replace(opStatus, notice('info', `Submitting ${opName(body)} on ${plural(selectedCount(), 'item')}…`));
    try {
      const batch = await api<Batch>('POST', wsPath('/batches'), body, { 'idempotency-key': crypto.randomUUID() });
      go(`/batches/${batch.id}`);
    } catch (err) {
      updateButtons();
      replace(opStatus, notice('error', `The batch was not submitted: ${describe(err)}`));
    }
  }
}

function describe(err: unknown): string {
  return err instanceof ApiError ? `${err.message} (${err.code})` : (err as Error).message;
}
