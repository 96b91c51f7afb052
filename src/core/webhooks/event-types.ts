/**
 * What a webhook can subscribe to. Batch events come from the batch's state changes (src/engine), ticket events
 * from the commit of item changes (src/core/operations/commit-changes.ts); each is written to the outbox in the
 * transaction of the change itself.
 *
 *   batch.created    submit recorded the batch (also a dry run, also one with no targets)
 *   batch.started    queued | scheduled ──claim──► running (again after a resume or a retry)
 *   batch.paused     queued | scheduled | running ──pause──► paused
 *   batch.finished   the batch ended succeeded, completed_with_errors or cancelled (again after a retry)
 *   batch.failed     the batch ended failed
 *   ticket.assigned  a ticket opened for its assignee (or role)
 *   ticket.decided   a ticket was approved, rejected or withdrawn
 */
export const WEBHOOK_EVENT_TYPES = Object.freeze([
  'batch.created',
  'batch.started',
  'batch.paused',
  'batch.finished',
  'batch.failed',
  'ticket.assigned',
  'ticket.decided',
] as const);
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}
