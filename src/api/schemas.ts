/**
 * API schemas (TypeBox = JSON Schema): Fastify validates requests with them, serializes responses with them and
 * @fastify/swagger turns them into /openapi.json. They describe the wire shape only; src/api/present.ts converts
 * domain objects into it.
 */
import { Type, type TLiteral, type TSchema, type TSchemaOptions } from 'typebox';
import { TICKET_STATES } from '../core/states.ts';
import { ID_PATTERN } from '../ids.ts';
import { Errors } from '../errors.ts';
import { FIELD_TYPES } from '../core/field-values.ts';
import { ROLES } from '../core/roles.ts';
import { MAX_CONDITION_DEPTH, MAX_SEARCH_VALUES, type Condition } from '../core/conditions.ts';

export const Id = Type.String({
  pattern: ID_PATTERN,
  maxLength: 20,
  description: '19-digit decimal id (64-bit snowflake).',
});
export const Key = Type.String({ minLength: 1, maxLength: 64, description: 'An id or a display_id.' });
export const DisplayId = Type.String({ minLength: 1, maxLength: 64 });
export const Name = Type.String({ minLength: 1, maxLength: 200 });
export const Comment = Type.String({ maxLength: 4000 });
export const Time = Type.String({ format: 'date-time' });
export const NullableTime = Type.Union([Time, Type.Null()]);
/** A date-time a client sends: the longest RFC 3339 form (nanoseconds, an offset) is 35 characters. */
export const DateTimeInput = Type.String({ format: 'date-time', maxLength: 64 });
/** Paging in query strings: bounded, so a huge or exponent-form number is a 400 and never reaches SQL. */
export const Limit = Type.Integer({ minimum: 1, maximum: 1000 });
export const Offset = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });
/**
 * A closed set of strings in an answer (a state, say), as `{type: 'string', enum: [...]}`: the generated client
 * reads it as the union of the values, and the serializer writes it as a plain string (an `anyOf` would be
 * checked branch by branch).
 */
export function StringEnum<const V extends readonly string[]>(values: V, options: TSchemaOptions = {}) {
  return Type.Enum([...values], { type: 'string', ...options });
}
/** A closed set of strings in a query (a state filter, say): a union of literals, as the other filters are. */
export function LiteralUnion<const V extends readonly string[]>(values: V) {
  return Type.Union(values.map((v) => Type.Literal(v)) as { -readonly [K in keyof V]: TLiteral<V[K]> });
}
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const FieldValues = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  description: 'Field values keyed by field display_id.',
});

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(Errors).map((c) => Type.Literal(c))),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every 4xx/5xx answer of the native API.' },
);

/** Standard error responses for a route, plus its success responses. */
export function responses(ok: Record<number, TSchema>): Record<number, TSchema> {
  const err = Type.Ref('ErrorResponse');
  return { ...ok, 400: err, 401: err, 403: err, 404: err, 409: err, 413: err, 415: err, 429: err };
}

export const WsParams = Type.Object({ ws: Key });

export const Workspace = Type.Object({
  id: Id,
  name: Type.String(),
  project_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
});
export const User = Type.Object({
  id: Id,
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  is_system_admin: Type.Boolean(),
  created_at: Time,
});
export const Member = Type.Object({
  user_id: Id,
  name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
});

export const FieldSchema = Type.Object({
  id: Id,
  display_id: Type.String(),
  name: Type.String(),
  type: StringEnum(FIELD_TYPES),
  options: Type.Union([Type.Array(Type.String()), Type.Null()]),
});
export const StatusSchema = Type.Object({ id: Id, display_id: Type.String(), name: Type.String() });
export const ApprovalSchema = Type.Object({
  pending_status: Type.String(),
  reject_status: Type.Union([Type.String(), Type.Null()]),
  approver_user_id: Type.Union([Id, Type.Null()]),
  approver_role: Type.Union([Type.String(), Type.Null()]),
  batch_approvable: Type.Boolean(),
  requires_comment: Type.Boolean(),
  allow_self_approval: Type.Boolean({
    description: 'Whether the submitter may decide their own ticket (four-eyes otherwise).',
  }),
});
export const ActionSchema = Type.Object({
  id: Id,
  display_id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  from: Type.Union([Type.Array(Type.String()), Type.Null()]),
  to: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Union([Type.Array(Type.String()), Type.Null()]),
  set_fields: Type.Union([FieldValues, Type.Null()]),
  approval: Type.Union([ApprovalSchema, Type.Null()]),
});
export const DatastoreSchema = Type.Object({
  id: Id,
  workspace_id: Id,
  display_id: Type.String(),
  name: Type.String(),
  fields: Type.Array(FieldSchema),
  statuses: Type.Array(StatusSchema),
  actions: Type.Array(ActionSchema),
  drafts: Type.Union([Type.Object({ statuses: Type.Array(Type.String()) }), Type.Null()], {
    description: 'Released statuses: versions and drafts, or null.',
  }),
  created_at: Time,
});

export const DatastoreBody = Type.Object(
  {
    name: Name,
    display_id: Type.Optional(DisplayId),
    fields: Type.Optional(
      Type.Array(
        Type.Object(
          {
            display_id: DisplayId,
            name: Name,
            type: Type.Union(FIELD_TYPES.map((t) => Type.Literal(t))),
            options: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 200 },
      ),
    ),
    statuses: Type.Array(Type.Object({ display_id: DisplayId, name: Name }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 100,
    }),
    actions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            display_id: DisplayId,
            name: Name,
            from: Type.Optional(Type.Array(DisplayId, { maxItems: 100 })),
            to: Type.Optional(DisplayId),
            roles: Type.Optional(Type.Array(RoleSchema, { maxItems: 4 })),
            set_fields: Type.Optional(FieldValues),
            approval: Type.Optional(
              Type.Object(
                {
                  pending_status: DisplayId,
                  reject_status: Type.Optional(DisplayId),
                  approver_user_id: Type.Optional(Id),
                  approver_role: Type.Optional(RoleSchema),
                  batch_approvable: Type.Optional(Type.Boolean()),
                  requires_comment: Type.Optional(Type.Boolean()),
                  allow_self_approval: Type.Optional(
                    Type.Boolean({
                      description: 'Let the submitter decide their own ticket; default false (four-eyes).',
                    }),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 200 },
      ),
    ),
    drafts: Type.Optional(
      Type.Object(
        {
          statuses: Type.Array(DisplayId, {
            minItems: 1,
            maxItems: 100,
            description:
              'Released statuses: entering one records a version; an update there is kept as the item draft.',
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ItemSchema = Type.Object({
  id: Id,
  datastore_id: Id,
  title: Type.String(),
  status: Type.String({ description: 'The status display_id.' }),
  status_id: Id,
  status_name: Type.String(),
  fields: FieldValues,
  rev_no: Type.Integer(),
  created_at: Time,
  created_by: Type.Union([Type.String(), Type.Null()]),
  updated_at: Time,
  updated_by: Type.Union([Type.String(), Type.Null()]),
});

export const ItemInput = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 1000 })),
    fields: Type.Optional(FieldValues),
    status: Type.Optional(DisplayId),
  },
  { additionalProperties: false },
);

export const MAX_IMPORT = 10_000;

export const DraftSchema = Type.Object(
  {
    title: Type.Union([Type.String(), Type.Null()]),
    fields: FieldValues,
    created_by: Type.Union([Type.String(), Type.Null()]),
    created_at: Time,
    updated_by: Type.Union([Type.String(), Type.Null()]),
    updated_at: Time,
  },
  { description: 'The pending edit of an item in a released status: the values it would set.' },
);

export const VersionSchema = Type.Object({
  id: Id,
  version: Type.Integer(),
  title: Type.String(),
  status: Type.String(),
  fields: FieldValues,
  created_at: Time,
  created_by: Type.Union([Type.String(), Type.Null()]),
  batch_id: Type.Union([Type.String(), Type.Null()]),
});

export const HistorySchema = Type.Object({
  id: Id,
  kind: Type.String(),
  user_id: Type.Union([Type.String(), Type.Null()]),
  action: Type.Union([Type.String(), Type.Null()]),
  from_status: Type.Union([Type.String(), Type.Null()]),
  to_status: Type.Union([Type.String(), Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  batch_id: Type.Union([Type.String(), Type.Null()]),
  ticket_id: Type.Union([Type.String(), Type.Null()]),
  changes: Type.Union([FieldValues, Type.Null()]),
  created_at: Time,
  rev_no: Type.Union([Type.Integer(), Type.Null()], {
    description: "The item's rev_no after this change (null on entries older than revert support).",
  }),
  reverts_batch_id: Type.Union([Type.String(), Type.Null()], {
    description: 'On a `revert` entry: the batch whose change it undid (`batch_id` is the revert batch).',
  }),
  on_behalf_of: Type.Union([Type.String(), Type.Null()], {
    description: 'When `user_id` (who really made the change) acted in another user’s name: that user.',
  }),
});

export const TicketSchema = Type.Object({
  id: Id,
  item_id: Id,
  datastore_id: Id,
  action: Type.String({ description: 'The action display_id.' }),
  action_id: Id,
  state: StringEnum(TICKET_STATES),
  assignee_id: Type.Union([Id, Type.Null()]),
  assignee_role: Type.Union([Type.String(), Type.Null()]),
  submitter_id: Id,
  batch_approvable: Type.Boolean(),
  requires_comment: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  decision_comment: Type.Union([Type.String(), Type.Null()]),
  decided_by: Type.Union([Id, Type.Null()], { description: 'Who decided: the user who really did it.' }),
  on_behalf_of: Type.Union([Id, Type.Null()], {
    description: 'When `decided_by` decided in another user’s name (the batch approval API’s user_id): that user.',
  }),
  allow_self_approval: Type.Boolean({
    description: 'Whether its submitter may decide it (the action’s approval.allow_self_approval).',
  }),
  decided_at: NullableTime,
  created_at: Time,
  updated_at: Time,
});

export const SearchValueSchema = Type.Union([
  Type.String({ maxLength: 1000 }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
]);

/**
 * Recursive to MAX_CONDITION_DEPTH levels, written out because Ajv then needs no $recursiveRef support. A dialect
 * passes the extra keys its clients send (Hexabase's SDK adds `data_type` and `rpf_id`) so they are accepted.
 */
function conditionSchema(depth: number, extra: Record<string, TSchema>): TSchema {
  const props: Record<string, TSchema> = {
    id: Type.Optional(Type.String({ maxLength: 64 })),
    search_value: Type.Optional(Type.Array(SearchValueSchema, { maxItems: MAX_SEARCH_VALUES })),
    exact_match: Type.Optional(Type.Boolean()),
    not_match: Type.Optional(Type.Boolean()),
    include_null: Type.Optional(Type.Boolean()),
    use_or_condition: Type.Optional(Type.Boolean()),
    ...extra,
  };
  if (depth > 1) props.conditions = Type.Optional(Type.Array(conditionSchema(depth - 1, extra), { maxItems: 100 }));
  return Type.Object(props, { additionalProperties: false });
}

/** A list of search conditions (the one condition language), with a dialect's extra accepted keys. */
export function conditionsSchema(extra: Record<string, TSchema> = {}) {
  return Type.Unsafe<Condition[]>(Type.Array(conditionSchema(MAX_CONDITION_DEPTH, extra), { maxItems: 100 }));
}

export const ConditionSchema = conditionSchema(MAX_CONDITION_DEPTH, {});
export const Conditions = conditionsSchema();
