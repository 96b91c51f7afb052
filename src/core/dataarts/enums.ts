/**
 * DataArts Architecture enumerations (the DataArts Studio API reference), frozen. The lifecycle statuses and biz types
 * themselves are in ../dataarts-workflow.ts, next to the workflow they define.
 */

/** What a batch was, as BatchOperationVO.operation_type and the operation-results lookup name it. */
export const OPERATION_TYPES = Object.freeze([
  'PUBLISH',
  'OFFLINE',
  'APPROVAL',
  'ADD_TAGS',
  'ER_REVERSE_DB',
  'CODETABLE_REVERSE_DB',
  'DIMENSION_REVERSE_DB',
  'FACT_LOGIC_TABLE_REVERSE_DB',
  'SYNC_TABLES',
  'IMPORT_STANDARD',
  'IMPORT_CODETABLE',
  'IMPORT_ER_TABLE',
  'IMPORT_BUSINESS',
  'TRANSFORM_LOGIC_MODEL',
  'PUBLISH_CODETABLE',
  'PUBLISH_STANDARD',
  'TABLE_MODEL_RELOCATE',
  'DIMENSION_RELOCATE',
  'FACT_LOGIC_TABLE_RELOCATE',
  'AGGREGATION_LOGIC_TABLE_RELOCATE',
  'ATOMIC_INDEX_RELOCATE',
  'DERIVATIVE_INDEX_RELOCATE',
  'COMPOUND_METRIC_RELOCATE',
  'BIZ_METRIC_RELOCATE',
  'CODE_TABLE_RELOCATE',
  'STANDARD_ELEMENT_RELOCATE',
  'INFO_ARCH_RELOCATE',
] as const);
export type OperationType = (typeof OPERATION_TYPES)[number];

/** Batch publish and batch offline: the DataArts operation and the workflow action (dataarts-workflow.ts) it runs. */
export const BIZ_OPERATIONS = Object.freeze({ PUBLISH: 'publish', OFFLINE: 'offline' } as const);
export type BizOperation = keyof typeof BIZ_OPERATIONS;

export const ENV_TYPES = Object.freeze(['INVALID_TYPE', 'DEV_TYPE', 'PROD_TYPE', 'DEV_PROD_TYPE'] as const);

/** ConfirmApprovals `action-id` and the ticket decision each one is. */
export const APPROVAL_ACTIONS = Object.freeze({ resolve: 'approve', reject: 'reject' } as const);
export type ApprovalAction = keyof typeof APPROVAL_ACTIONS;

/** ApprovalStatusEnum by batchgate ticket state; a closed ticket (its entity was deleted) reads as withdrawn. */
export const APPROVAL_STATUS_OF_TICKET = Object.freeze({
  pending: 'DEVELOPING',
  approved: 'APPROVED',
  rejected: 'REJECT',
  withdrawn: 'WITHDREW',
  closed: 'WITHDREW',
} as const);

/** SearchApprovals `approval_status_detail` → ticket state. */
export const TICKET_STATE_OF_DETAIL = Object.freeze({
  DEVELOPING: 'pending',
  APPROVED: 'approved',
  REJECT: 'rejected',
} as const);

/** BatchOperationVO.operation_status. */
export const OPERATION_STATUS = Object.freeze({ RUNNING: 'RUNNING', SUCCESS: 'SUCCESS', FAILED: 'FAILED' } as const);
export type OperationStatus = (typeof OPERATION_STATUS)[keyof typeof OPERATION_STATUS];

/** BatchOperationVO child remarks seen on the real service. */
export const REMARK = Object.freeze({
  passed: 'PASSED',
  skipped: 'SKIP | Skipped by users',
  alreadyPublished: 'The definition has been released and does not support resubmission',
  notOnline: (name: string) => `Definition ${name}  is not online`,
});

/** The batch `source` of every batch this door submits. */
export const DATAARTS_SOURCE = 'dataarts';
