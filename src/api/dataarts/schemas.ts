/** TypeBox schemas of the DataArts dialect. Optional fields also take null: DataArts SDKs send unset fields as null. */
import { Type, type TSchema } from 'typebox';
import { BIZ_TYPES } from '../../core/dataarts-workflow.ts';
import { ENV_TYPES, OPERATION_TYPES } from '../../core/dataarts/enums.ts';
import { MAX_LIMIT } from '../../core/dataarts/paging.ts';
import { DateTimeInput } from '../schemas.ts';

export const MAX_BIZ_INFOS = 1000;
export const MAX_IDS = 1000;

const DIGITS = '^[0-9]{1,20}$';

/** An id as a string, or as a JSON number (the older Long form; beyond 2^53 the body parser keeps it a string). */
export const LongId = Type.Union([Type.String({ pattern: DIGITS, maxLength: 20 }), Type.Integer({ minimum: 0 })]);
export const idText = (v: string | number): string => String(v);

export const Nullable = <T extends TSchema>(s: T) => Type.Optional(Type.Union([s, Type.Null()]));

export const BizTypeSchema = Type.Union(BIZ_TYPES.map((t) => Type.Literal(t)));
export const EnvTypeSchema = Type.Union(ENV_TYPES.map((t) => Type.Literal(t)));
export const OperationTypeSchema = Type.Union(OPERATION_TYPES.map((t) => Type.Literal(t)));

export const ProjectParams = Type.Object({ project_id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ApprovalBatchParam = Type.Object({
  biz_infos: Type.Array(Type.Object({ biz_id: LongId, biz_type: BizTypeSchema, env_type: Nullable(EnvTypeSchema) }), {
    minItems: 1,
    maxItems: MAX_BIZ_INFOS,
  }),
  approver_user_id: Type.String({ minLength: 1, maxLength: 64 }),
  approver_user_name: Type.String({ maxLength: 200 }),
  email: Nullable(Type.String({ maxLength: 320 })),
  fast_approval: Nullable(Type.Boolean()),
  schedule_time: Nullable(Type.String({ maxLength: 5 })),
  env_type: Nullable(EnvTypeSchema),
});

export const ApprovalInfoParam = Type.Object({
  ids: Type.Array(LongId, { minItems: 1, maxItems: MAX_IDS }),
  msg: Nullable(Type.String({ maxLength: 4000 })),
});

/**
 * A comma-separated list of at most MAX_IDS ids in a query string (`ids`, `approver_ids`). The count is in the
 * pattern: a length bound alone let 1001 short ids through (and ~10,000 one-digit ones).
 */
export const IdList = Type.String({
  pattern: `^[0-9]{1,20}(,[0-9]{1,20}){0,${MAX_IDS - 1}}$`,
  maxLength: MAX_IDS * 21,
});
export const splitIds = (s: string): string[] => [...new Set(s.split(','))];

export const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT }));
export const Offset = Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 }));

export const SearchApprovalsQuery = Type.Object({
  biz_id: Type.Optional(Type.String({ pattern: DIGITS, maxLength: 20 })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  create_by: Type.Optional(Type.String({ maxLength: 200 })),
  approver: Type.Optional(Type.String({ maxLength: 200 })),
  approval_status: Type.Optional(Type.Union([Type.Literal('DEVELOPING'), Type.Literal('FINISHED')])),
  approval_status_detail: Type.Optional(
    Type.Union([Type.Literal('DEVELOPING'), Type.Literal('APPROVED'), Type.Literal('REJECT')]),
  ),
  approval_type: Type.Optional(Type.Union([Type.Literal('PUBLISH'), Type.Literal('OFFLINE')])),
  biz_type: Type.Optional(BizTypeSchema),
  begin_time: Type.Optional(DateTimeInput),
  end_time: Type.Optional(DateTimeInput),
  limit: Limit,
  offset: Offset,
});

export const ApproverParam = Type.Object({
  approver_name: Type.String({ minLength: 1, maxLength: 200 }),
  user_id: Type.String({ minLength: 1, maxLength: 64 }),
  app_name: Nullable(Type.String({ maxLength: 200 })),
  email: Nullable(Type.String({ maxLength: 320 })),
  phone_number: Nullable(Type.String({ maxLength: 64 })),
  email_notify: Nullable(Type.Boolean()),
  sms_notify: Nullable(Type.Boolean()),
});

export const OperationResultQuery = Type.Object({
  operation_type: OperationTypeSchema,
  operation_id: Type.Optional(Type.String({ pattern: DIGITS, maxLength: 20 })),
  limit: Limit,
  offset: Offset,
});

/** Every success answer: `{"data":{"value": …}}`. */
export const envelope = <T>(value: T) => ({ data: { value } });
