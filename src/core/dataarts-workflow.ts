import type { DatastoreInput } from './datastores.ts';

/** DataArts Architecture BizTypeEnum: all 40 values (the DataArts Studio API reference). */
export const BIZ_TYPES = Object.freeze([
  'AGGREGATION_LOGIC_TABLE',
  'ATOMIC_INDEX',
  'ATOMIC_METRIC',
  'BIZ_CATALOG',
  'BIZ_METRIC',
  'CODE_TABLE',
  'COMMON_CONDITION',
  'COMPOSITE_METRIC',
  'COMPOUND_METRIC',
  'CONDITION_GROUP',
  'DEGENERATE_DIMENSION',
  'DERIVATIVE_INDEX',
  'DERIVED_METRIC',
  'DIMENSION',
  'DIMENSION_ATTRIBUTE',
  'DIMENSION_HIERARCHIES',
  'DIMENSION_LOGIC_TABLE',
  'DIMENSION_TABLE_ATTRIBUTE',
  'DIRECTORY',
  'FACT_ATTRIBUTE',
  'FACT_DIMENSION',
  'FACT_LOGIC_TABLE',
  'FACT_MEASURE',
  'FUNCTION',
  'INFO_ARCH',
  'MODEL',
  'QUALITY_RULE',
  'SECRECY_LEVEL',
  'STANDARD_ELEMENT',
  'STANDARD_ELEMENT_TEMPLATE',
  'SUBJECT',
  'SUMMARY_DIMENSION_ATTRIBUTE',
  'SUMMARY_INDEX',
  'SUMMARY_TIME',
  'TABLE_MODEL',
  'TABLE_MODEL_ATTRIBUTE',
  'TABLE_MODEL_LOGIC',
  'TABLE_TYPE',
  'TAG',
  'TIME_CONDITION',
] as const);
export type BizType = (typeof BIZ_TYPES)[number];

export const DATAARTS_STATUSES = Object.freeze([
  'DRAFT',
  'PUBLISH_DEVELOPING',
  'PUBLISHED',
  'OFFLINE_DEVELOPING',
  'OFFLINE',
  'REJECT',
] as const);

/**
 * The DataArts lifecycle as an ordinary workflow (the DataArts Studio API reference):
 *
 *   DRAFT | REJECT | OFFLINE --publish--> PUBLISH_DEVELOPING --resolve--> PUBLISHED
 *                                         PUBLISH_DEVELOPING --reject---> REJECT
 *   PUBLISHED --offline--> OFFLINE_DEVELOPING --resolve--> OFFLINE
 *                          OFFLINE_DEVELOPING --reject---> PUBLISHED (back where it was)
 *   withdraw restores the status the item had before the submit; fast_approval skips the pending step.
 *   Both actions allow self-approval: fast_approval is the submitter approving their own change, and the document's
 *   clients resolve the tickets they submitted with their own credentials (the DataArts Studio API reference).
 *   PUBLISHED is released: an edit there is a pending draft (下展), and `publish` from PUBLISHED applies it
 *   (a draft makes its released status a valid `from`); rejecting that re-publish leaves the entity PUBLISHED.
 *
 * Only a JSON field, so the 40 datastores a workspace gets add no per-field indexes to the item table.
 */
export function dataartsDatastore(bizType: BizType): DatastoreInput {
  return {
    name: bizType,
    display_id: bizType,
    fields: [{ display_id: 'biz_info', name: 'biz_info', type: 'json' }],
    statuses: DATAARTS_STATUSES.map((s) => ({ display_id: s, name: s })),
    // An edit of a PUBLISHED entity is its pending "下展" draft; publishing again applies it (src/core/drafts.ts).
    drafts: { statuses: ['PUBLISHED'] },
    actions: [
      {
        display_id: 'publish',
        name: 'Publish',
        from: ['DRAFT', 'REJECT', 'OFFLINE'],
        to: 'PUBLISHED',
        approval: {
          pending_status: 'PUBLISH_DEVELOPING',
          reject_status: 'REJECT',
          approver_role: 'approver',
          allow_self_approval: true,
        },
      },
      {
        display_id: 'offline',
        name: 'Take offline',
        from: ['PUBLISHED'],
        to: 'OFFLINE',
        approval: { pending_status: 'OFFLINE_DEVELOPING', approver_role: 'approver', allow_self_approval: true },
      },
    ],
  };
}
