import type { Dialect } from '../../../db/capabilities.ts';
import type { LogicalType } from '../logical-types.ts';

/** The physical databases a model can be for: DataArts `dw_type` values batchgate maps types and writes DDL for. */
export const DW_TYPES = Object.freeze(['POSTGRESQL', 'SQLITE'] as const);
export type DwType = (typeof DW_TYPES)[number];

/** A column as a physical table model holds it (TABLE_MODEL biz_info `attributes`). */
export interface PhysicalColumn {
  name_en: string;
  /** The type in the model's own database, spelled as that database reports it. */
  data_type: string;
  not_null: boolean;
  is_primary_key: boolean;
  description: string | null;
}

export interface PhysicalTableDef {
  tb_name: string;
  description: string | null;
  columns: PhysicalColumn[];
}

/**
 * Everything that differs between the physical databases a model can target, in one module per database
 * (src/core/models/physical/*.ts): type mapping both ways, identifier rules, and CREATE TABLE.
 */
export interface PhysicalDialect {
  readonly dwType: DwType;
  /** The source dialect whose connections reverse into this database's models. */
  readonly dialect: Dialect;
  /** Longest identifier in bytes (PostgreSQL truncates beyond NAMEDATALEN - 1 = 63), or null for no limit. */
  readonly maxIdentifierBytes: number | null;
  /** The physical type for a logical type, spelled as this database reports it back (so a reverse round-trips). */
  typeOf(t: LogicalType): string;
  /** The logical type of a physical type, or null when it has no portable equivalent. */
  logicalOf(dataType: string): LogicalType | null;
  quote(identifier: string): string;
  /** CREATE TABLE (and, where the database has them, COMMENT) statements for one table, each without `;`. */
  createTable(table: PhysicalTableDef): string[];
}
