import type { Dialect } from '../../../db/capabilities.ts';
import { fail } from '../../../errors.ts';
import { postgresPhysical } from './postgres.ts';
import { sqlitePhysical } from './sqlite.ts';
import { DW_TYPES, type DwType, type PhysicalDialect } from './types.ts';

export const PHYSICAL_DIALECTS: Readonly<Record<DwType, PhysicalDialect>> = Object.freeze({
  POSTGRESQL: postgresPhysical,
  SQLITE: sqlitePhysical,
});

export function isDwType(value: unknown): value is DwType {
  return typeof value === 'string' && (DW_TYPES as readonly string[]).includes(value);
}

export function physicalDialect(dwType: string): PhysicalDialect {
  if (!isDwType(dwType))
    fail(
      'VALIDATION_FAILED',
      `dw_type ${JSON.stringify(dwType)} is not supported; batchgate maps types for ${DW_TYPES.join(' and ')}.`,
    );
  return PHYSICAL_DIALECTS[dwType];
}

/** The physical database a source dialect's tables are. */
export function physicalDialectOf(dialect: Dialect): PhysicalDialect {
  return Object.values(PHYSICAL_DIALECTS).find((p) => p.dialect === dialect)!;
}
