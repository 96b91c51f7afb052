/**
 * Request schemas of the Hexabase v0 door. Bodies are strict like everywhere else (a wrong JSON type is a 400
 * INVALID_PARAMS, never coerced) but list every key Hexabase documents for the call, so a client written
 * against Hexabase is not refused for a key batchgate merely ignores.
 */
import { Type } from 'typebox';
import { MAX_ITEMS_LIMIT } from './bulk-action.ts';
import { MAX_PER_PAGE } from '../../core/items.ts';
import { Comment, conditionsSchema, DateTimeInput, FieldValues, Key } from '../schemas.ts';

/** Path segments: ids or display ids (an unknown one answers 404, not a pattern error). */
export const Seg = Type.String({ minLength: 1, maxLength: 64 });
export const AppParams = Type.Object({ app_id: Key });
export const AppDsParams = Type.Object({ app_id: Key, datastore_id: Key });
export const AppDsItemParams = Type.Object({ app_id: Key, datastore_id: Key, item_id: Seg });
export const DsGroupParams = Type.Object({ d_id: Seg });

/** Hexabase's SearchCondition, with the SDK's `data_type` and `rpf_id` accepted (and ignored). */
export const HexConditions = conditionsSchema({
  data_type: Type.Optional(Type.String({ maxLength: 64 })),
  rpf_id: Type.Optional(Type.String({ maxLength: 64 })),
});

export const Changes = Type.Array(
  Type.Object(
    { id: Type.String({ minLength: 1, maxLength: 64 }), value: Type.Unknown() },
    { additionalProperties: false },
  ),
  {
    maxItems: 500,
  },
);
const AnyObject = Type.Record(Type.String(), Type.Unknown());
const AccessKeyUpdates = Type.Object(
  {
    overwrite: Type.Optional(Type.Boolean()),
    ignore_action_settings: Type.Optional(Type.Boolean()),
    groups_to_publish: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 })),
    roles_to_publish: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 })),
    users_to_publish: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
const RevNo = Type.Integer({ minimum: 0, maximum: 2_147_483_647 });

export const BulkActionBody = Type.Object(
  {
    conditions: Type.Optional(HexConditions),
    use_or_condition: Type.Optional(Type.Boolean()),
    item: Type.Optional(FieldValues),
    changes: Type.Optional(Changes),
    item_revisions: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), RevNo, { maxProperties: 1000 }),
    ),
    comment: Type.Optional(Comment),
    max_items: Type.Optional(Type.Integer({ minimum: 10, maximum: MAX_ITEMS_LIMIT, multipleOf: 10 })),
    use_display_id: Type.Optional(Type.Boolean()),
    continue_proc: Type.Optional(Type.Boolean()),
    as_params: Type.Optional(AnyObject),
    realtime_auto_link: Type.Optional(Type.Boolean()),
    access_key_updates: Type.Optional(AccessKeyUpdates),
  },
  { additionalProperties: false },
);

const BulkError = Type.Object({
  description: Type.String(),
  error: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  error_level: Type.String(),
  reference_id: Type.Optional(Type.String()),
});
export const BulkActionResponse = Type.Object({
  errors: Type.Optional(Type.Array(BulkError)),
  has_error: Type.Boolean(),
  result: Type.Object({ matched: Type.Integer(), processed: Type.Integer() }),
});

export const SortFields = Type.Array(
  Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 64 }),
      order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    },
    { additionalProperties: false },
  ),
  { maxItems: 10 },
);

export const SearchBody = Type.Object(
  {
    conditions: Type.Optional(HexConditions),
    use_or_condition: Type.Optional(Type.Boolean()),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    per_page: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_PER_PAGE, description: `0 or omitted: up to ${MAX_PER_PAGE} items.` }),
    ),
    sort_field_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    sort_order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    sort_fields: Type.Optional(SortFields),
    use_display_id: Type.Optional(Type.Boolean()),
    return_number_value: Type.Optional(Type.Boolean()),
    return_count_only: Type.Optional(Type.Boolean()),
    omit_fields_data: Type.Optional(Type.Boolean()),
    omit_total_items: Type.Optional(Type.Boolean()),
    select_fields: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 500 })),
    // Accepted for compatibility; no effect here (see docs/hexabase.md).
    unread_only: Type.Optional(Type.Boolean()),
    use_default_search: Type.Optional(Type.Boolean()),
    include_links: Type.Optional(Type.Boolean()),
    include_lookups: Type.Optional(Type.Boolean()),
    include_fields_data: Type.Optional(Type.Boolean()),
    exclude_action_history: Type.Optional(Type.Boolean()),
    exclude_comment_history: Type.Optional(Type.Boolean()),
    data_result_timeout_sec: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    total_count_timeout_sec: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
    debug_query: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** The payload options Hexabase's item writes share (CreateItem, ExecuteAction): accepted, most recorded only. */
const WriteOptions = {
  item: Type.Optional(FieldValues),
  changes: Type.Optional(Changes),
  use_display_id: Type.Optional(Type.Boolean()),
  return_item_result: Type.Optional(Type.Boolean()),
  return_number_value: Type.Optional(Type.Boolean()),
  return_actionscript_logs: Type.Optional(Type.Boolean()),
  as_params: Type.Optional(AnyObject),
  realtime_auto_link: Type.Optional(Type.Boolean()),
  access_key_updates: Type.Optional(AccessKeyUpdates),
  ensure_transaction: Type.Optional(Type.Boolean()),
  exec_children_post_procs: Type.Optional(Type.Boolean()),
  is_sync_related_items: Type.Optional(Type.Boolean()),
};

export const CreateItemBody = Type.Object(
  {
    action_id: Type.Optional(Type.String({ maxLength: 64 })),
    return_display_id: Type.Optional(Type.Boolean()),
    ...WriteOptions,
  },
  { additionalProperties: false },
);

export const ExecuteActionBody = Type.Object(
  {
    comment: Type.Optional(Comment),
    rev_no: Type.Optional(RevNo),
    is_force_update: Type.Optional(Type.Boolean()),
    ...WriteOptions,
  },
  { additionalProperties: false },
);

const Flag = Type.Boolean();
export const DetailsQuery = Type.Object(
  {
    format: Type.Optional(Type.Literal('map')),
    use_display_id: Type.Optional(Flag),
    include_linked_items: Type.Optional(Flag),
    include_lookups: Type.Optional(Flag),
    return_number_value: Type.Optional(Flag),
  },
  { additionalProperties: false },
);

export const HistoriesQuery = Type.Object(
  {
    from_index: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    to_index: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    from_datetime: Type.Optional(DateTimeInput),
    to_datetime: Type.Optional(DateTimeInput),
    exclude_action_history: Type.Optional(Flag),
    exclude_comment_history: Type.Optional(Flag),
  },
  { additionalProperties: false },
);

export const CommentBody = Type.Object(
  { comment: Type.String({ minLength: 1, maxLength: 4000 }) },
  { additionalProperties: false },
);
