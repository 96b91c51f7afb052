import { api, ApiError, session } from '../api.ts';
import { h, notice, replace } from '../dom.ts';
import { go, type Cleanup } from '../router.ts';
import type { Me, Workspace } from '../types.ts';

/** Paste a token → `GET /me` → choose a workspace from `GET /workspaces`. The token stays in sessionStorage. */
export function signInPage(main: HTMLElement): Cleanup | void {
  const status = h('div', { class: 'status-slot' });
  const tokenInput = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: false,
    required: true,
    value: session.token ?? '',
  });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const picker = h('div');

  const form = h(
    'form',
    {
      class: 'card narrow',
      'aria-labelledby': 'signin-title',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const token = tokenInput.value.trim();
        if (!token) return replace(status, notice('error', 'Paste your API token.'));
        submit.disabled = true;
        replace(status, notice('info', 'Signing in…'));
        const auth = { authorization: `Bearer ${token}` };
        try {
          const me = await api<Me>('GET', '/me', undefined, auth);
          const { workspaces } = await api<{ workspaces: Workspace[] }>('GET', '/workspaces', undefined, auth);
          session.token = token;
          replace(status, notice('info', `Signed in as ${me.name}.`));
          showPicker(me, workspaces);
        } catch (err) {
          replace(
            status,
            notice(
              'error',
              err instanceof ApiError && err.status === 401 ? 'This token is not valid.' : (err as Error).message,
            ),
          );
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h(
      'p',
      { class: 'hint' },
      'Paste an API token. It is kept in this browser tab only and cleared when the tab closes.',
    ),
    h('label', { for: 'token' }, 'API token'),
    tokenInput,
    h('div', { class: 'actions' }, submit),
    status,
  );

  function showPicker(me: Me, workspaces: Workspace[]): void {
    if (workspaces.length === 0) {
      replace(
        picker,
        notice('empty', `${me.name} is not a member of any workspace yet. Ask a workspace admin to add you.`),
      );
      return;
    }
    const select = h(
      'select',
      { id: 'workspace' },
      workspaces.map((w) =>
        h(
          'option',
          { value: w.id, selected: w.id === session.workspace },
          w.project_id ? `${w.name} (${w.project_id})` : w.name,
        ),
      ),
    );
    replace(
      picker,
      h(
        'form',
        {
          class: 'card narrow',
          onsubmit: (e: Event) => {
            e.preventDefault();
            const ws = workspaces.find((w) => w.id === select.value)!;
            session.workspace = ws.id;
            sessionStorage.setItem('batchgate.workspaceName', ws.name);
            go('/inbox');
          },
        },
        h('h2', null, 'Workspace'),
        h('label', { for: 'workspace' }, 'Workspace'),
        select,
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Open workspace')),
      ),
    );
    select.focus();
  }

  replace(main, form, picker);
  tokenInput.focus();
  // Already signed in (changing workspace): go straight to the picker.
  if (session.token) form.requestSubmit();
}
