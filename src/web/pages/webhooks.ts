import { WEBHOOK_EVENT_TYPES } from '../../core/webhooks/event-types.ts';
import { api, ApiError, wsPath } from '../api.ts';
import { h, notice, replace } from '../dom.ts';
import { plural, stateLabel, when } from '../format.ts';
import type { Cleanup } from '../router.ts';
import type { CreatedWebhook, Delivery, Webhook } from '../types.ts';

/** Deliveries shown per webhook: the newest, which is what someone debugging a receiver looks at. */
const DELIVERIES = 20;

/**
 * The workspace's webhooks (workspace admins; docs/api.md: Webhooks): register a URL for some or all events and see its
 * secret once, switch a webhook off and on, delete it, and read its delivery log (every attempt's status and
 * error) with a redeliver button per delivery.
 */
export function webhooksPage(main: HTMLElement): Cleanup {
  let stopped = false;
  const slot = h('div', { class: 'table-slot' }, notice('info', 'Loading webhooks…'));
  const created = h('div', { 'aria-live': 'polite' });
  const url = h('input', {
    id: 'wh-url',
    type: 'url',
    required: true,
    maxLength: 2000,
    placeholder: 'https://hooks.example.com/batchgate',
    size: 48,
  });
  const description = h('input', { id: 'wh-description', type: 'text', maxLength: 500, size: 32 });
  const events = WEBHOOK_EVENT_TYPES.map((t) => ({
    type: t,
    box: h('input', { type: 'checkbox', checked: true, value: t, id: `wh-ev-${t}` }),
  }));
  const formError = h('div');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'New webhook', onsubmit: (e: Event) => (e.preventDefault(), void create()) },
    h('div', { class: 'field' }, h('label', { for: 'wh-url' }, 'URL'), url),
    h('div', { class: 'field' }, h('label', { for: 'wh-description' }, 'Description'), description),
    h(
      'fieldset',
      { class: 'field events' },
      h('legend', null, 'Events'),
      events.map(({ type, box }) => h('label', null, box, ` ${type}`)),
    ),
    h('button', { type: 'submit' }, 'Add webhook'),
  );

  replace(main, h('h1', null, 'Webhooks'), form, formError, created, slot);
  void load();
  return () => {
    stopped = true;
  };

  async function create(): Promise<void> {
    replace(formError);
    const chosen = events.filter((e) => e.box.checked).map((e) => e.type);
    if (chosen.length === 0) return replace(formError, notice('error', 'Choose at least one event.'));
    try {
      const hook = await api<CreatedWebhook>('POST', wsPath('/webhooks'), {
        url: url.value.trim(),
        events: chosen,
        ...(description.value.trim() ? { description: description.value.trim() } : {}),
      });
      url.value = '';
      description.value = '';
      replace(
        created,
        h(
          'div',
          { class: 'notice notice-info', role: 'status' },
          h(
            'p',
            null,
            `Webhook added for ${hook.url}. Its signing secret is shown this once: keep it where the receiver can read it.`,
          ),
          h('code', { class: 'secret', 'aria-label': 'Signing secret' }, hook.secret),
        ),
      );
    } catch (err) {
      return replace(formError, notice('error', `Could not add the webhook: ${(err as Error).message}`));
    }
    await load();
  }

  async function load(): Promise<void> {
    let hooks: Webhook[];
    try {
      hooks = (await api<{ webhooks: Webhook[] }>('GET', wsPath('/webhooks'))).webhooks;
    } catch (err) {
      if (stopped) return;
      if (err instanceof ApiError && err.code === 'FORBIDDEN') {
        // Removed, not hidden: the form's flex layout would override the hidden attribute.
        form.remove();
        return replace(slot, notice('empty', 'Only the workspace’s admins manage its webhooks.'));
      }
      return replace(slot, notice('error', `Could not load webhooks: ${(err as Error).message}`));
    }
    if (stopped) return;
    if (hooks.length === 0)
      return replace(
        slot,
        notice('empty', 'No webhooks yet. Add one above to have batch and ticket events POSTed to a URL.'),
      );
    replace(
      slot,
      h(
        'table',
        null,
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['URL', 'Events', 'State', 'Added', ''].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        // A tbody per webhook: its row and, below it, its delivery log.
        hooks.map(row),
      ),
    );
  }

  function row(hook: Webhook): HTMLTableSectionElement {
    const log = h('td', { colSpan: 5 });
    const logRow = h('tr', { hidden: true }, log);
    const all = hook.events.length === WEBHOOK_EVENT_TYPES.length;
    const toggle = async () => {
      await act(() => api('PATCH', wsPath(`/webhooks/${hook.id}`), { active: !hook.active }));
    };
    const remove = async () => {
      if (!confirm(`Delete the webhook for ${hook.url} and its delivery log?`)) return;
      await act(() => api('DELETE', wsPath(`/webhooks/${hook.id}`)));
    };
    const showLog = async () => {
      logRow.hidden = !logRow.hidden;
      if (!logRow.hidden) await deliveries(hook, log);
    };
    return h(
      'tbody',
      { 'data-webhook': hook.id },
      h(
        'tr',
        null,
        h(
          'td',
          null,
          h('span', { class: 'url' }, hook.url),
          hook.description ? h('div', { class: 'muted' }, hook.description) : null,
        ),
        h('td', null, all ? 'all events' : hook.events.join(', ')),
        h(
          'td',
          null,
          h(
            'span',
            { class: 'badge', 'data-state': hook.active ? 'succeeded' : 'cancelled' },
            hook.active ? 'active' : 'off',
          ),
        ),
        h('td', null, when(hook.created_at)),
        h(
          'td',
          null,
          h(
            'div',
            { class: 'actions' },
            h('button', { type: 'button', onclick: () => void showLog() }, 'Deliveries'),
            h('button', { type: 'button', onclick: () => void toggle() }, hook.active ? 'Switch off' : 'Switch on'),
            h('button', { type: 'button', class: 'danger', onclick: () => void remove() }, 'Delete'),
          ),
        ),
      ),
      logRow,
    );
  }

  async function act(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (err) {
      replace(formError, notice('error', (err as Error).message));
    }
    await load();
  }

  async function deliveries(hook: Webhook, into: HTMLElement): Promise<void> {
    replace(into, notice('info', 'Loading deliveries…'));
    let list: Delivery[];
    try {
      list = (
        await api<{ deliveries: Delivery[] }>('GET', wsPath(`/webhooks/${hook.id}/deliveries?limit=${DELIVERIES}`))
      ).deliveries;
    } catch (err) {
      return replace(into, notice('error', `Could not load deliveries: ${(err as Error).message}`));
    }
    if (list.length === 0) return replace(into, notice('empty', 'Nothing delivered yet.'));
    const redeliver = async (d: Delivery) => {
      try {
        await api('POST', wsPath(`/webhooks/${hook.id}/deliveries/${d.id}/redeliver`), {});
      } catch (err) {
        return replace(into, notice('error', `Could not redeliver: ${(err as Error).message}`));
      }
      await deliveries(hook, into);
    };
    replace(
      into,
      h(
        'table',
        { class: 'deliveries', 'aria-label': `Deliveries of ${hook.url}` },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Event', 'State', 'Attempts', 'Last answer', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          null,
          list.map((d) =>
            h(
              'tr',
              null,
              h('td', null, d.event_type, d.redelivery_of ? h('div', { class: 'muted' }, 'redelivery') : null),
              h(
                'td',
                null,
                h(
                  'span',
                  {
                    class: 'badge',
                    'data-state': d.state === 'dead' ? 'failed' : d.state === 'succeeded' ? 'succeeded' : 'queued',
                  },
                  stateLabel(d.state),
                ),
                d.state === 'pending' && d.next_attempt_at
                  ? h('div', { class: 'muted' }, `next try ${when(d.next_attempt_at)}`)
                  : null,
              ),
              h('td', null, plural(d.attempt_count, 'attempt')),
              h(
                'td',
                null,
                d.last_status !== null ? `HTTP ${d.last_status}` : '—',
                d.last_error ? h('div', { class: 'muted' }, d.last_error) : null,
              ),
              h('td', null, when(d.created_at)),
              h('td', null, h('button', { type: 'button', onclick: () => void redeliver(d) }, 'Redeliver')),
            ),
          ),
        ),
      ),
    );
  }
}
