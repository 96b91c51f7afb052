import { h } from './dom.ts';
import { duration, rate } from './format.ts';
import { TERMINAL } from '../core/states.ts';
import type { Batch } from './types.ts';

/**
 * A fixed-size progress bar with its numbers: updated in place (width, text), so a stream of updates never
 * moves the layout. Stacked segments show succeeded / failed / skipped.
 */
export function progressBar(label: string): { el: HTMLElement; update(b: Batch): void } {
  const ok = h('span', { class: 'seg ok' });
  const bad = h('span', { class: 'seg bad' });
  const skip = h('span', { class: 'seg skip' });
  const bar = h(
    'div',
    { class: 'bar', role: 'progressbar', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100' },
    ok,
    bad,
    skip,
  );
  const pct = h('span', { class: 'num pct' });
  const el = h('div', { class: 'progress' }, bar, pct);
  return {
    el,
    update(b: Batch) {
      const t = b.total || 1;
      ok.style.width = `${(100 * b.succeeded) / t}%`;
      bad.style.width = `${(100 * b.failed) / t}%`;
      skip.style.width = `${(100 * b.skipped) / t}%`;
      bar.setAttribute('aria-valuenow', String(b.percent));
      bar.setAttribute(
        'aria-valuetext',
        `${b.percent}% — ${b.succeeded} succeeded, ${b.failed} failed, ${b.skipped} skipped of ${b.total}`,
      );
      pct.textContent = `${b.percent.toFixed(1)}%`;
    },
  };
}

export function rateText(b: Batch): string {
  return rate(b.items_per_second);
}

export function etaText(b: Batch): string {
  if (TERMINAL.includes(b.state)) return 'done';
  if (b.state === 'paused') return 'paused';
  return duration(b.eta_seconds);
}
