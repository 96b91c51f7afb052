import { onUnauthorized, session } from './api.ts';
import { h, replace } from './dom.ts';
import { batchPage } from './pages/batch.ts';
import { batchesPage } from './pages/batches.ts';
import { inboxPage } from './pages/inbox.ts';
import { itemsPage } from './pages/items.ts';
import { signInPage } from './pages/signin.ts';
import { webhooksPage } from './pages/webhooks.ts';

import { go, type Cleanup, type Page } from './router.ts';

/**
 * The shell: a header with navigation and a main region; pages are chosen by the URL fragment
 * (`#/inbox`, `#/items`, `#/batches`, `#/batches/{id}`, `#/webhooks`), so the server only serves `/` and the assets.
 */

const routes: [RegExp, Page][] = [
  [/^\/inbox$/, inboxPage],
  [/^\/items$/, itemsPage],
  [/^\/batches$/, batchesPage],
  [/^\/batches\/(\d+)$/, batchPage],
  [/^\/webhooks$/, webhooksPage],
];

let cleanup: Cleanup | void;
const nav = h('nav', { 'aria-label': 'Main' });
const main = h('main', { id: 'main', tabindex: '-1' });

function render(): void {
  cleanup?.();
  cleanup = undefined;
  const path = location.hash.replace(/^#/, '') || '/inbox';
  if (!session.token || !session.workspace || path === '/signin') {
    renderNav(null);
    cleanup = signInPage(main);
    return;
  }
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (m) {
      renderNav(path);
      cleanup = page(main, m.slice(1));
      return;
    }
  }
  go('/inbox');
}

function renderNav(path: string | null): void {
  if (path === null) return replace(nav);
  const link = (href: string, label: string) =>
    h(
      'a',
      {
        href: `#${href}`,
        ...(path === href || (href === '/batches' && path.startsWith('/batches/')) ? { 'aria-current': 'page' } : {}),
      },
      label,
    );
  replace(
    nav,
    link('/inbox', 'Inbox'),
    link('/items', 'Items'),
    link('/batches', 'Batches'),
    link('/webhooks', 'Webhooks'),
    h('span', { class: 'spacer' }),
    h(
      'a',
      { href: '#/signin', class: 'ws', title: 'Change workspace' },
      sessionStorage.getItem('batchgate.workspaceName') ?? 'Workspace',
    ),
    h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out'),
  );
}

function signOut(): void {
  session.clear();
  sessionStorage.removeItem('batchgate.workspaceName');
  go('/signin');
}

onUnauthorized.add(() => {
  if (session.token) {
    session.clear();
    go('/signin');
  }
});

document.body.replaceChildren(
  h(
    'a',
    { href: '#main', class: 'skip', onclick: (e: Event) => (e.preventDefault(), main.focus()) },
    'Skip to content',
  ),
  h('header', null, h('span', { class: 'brand' }, 'batchgate'), nav),
  main,
);
window.addEventListener('hashchange', render);
render();
