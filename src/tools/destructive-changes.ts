import { type Column, type SchemaDifference } from '@mikro-orm/postgresql';

/** Integer and float widths in PostgreSQL's own names, each holding every value of the ones before. */
const WIDENING_CHAINS = [
  ['smallint', 'int2', 'integer', 'int', 'int4', 'bigint', 'int8'],
  ['real', 'float4', 'double precision', 'float8'],
];

const lengthOf = (type: string) => Number(/\((\d+)\)/.exec(type)?.[1] ?? Infinity);
const baseOf = (type: string) =>
  type
    .replace(/\(.*\)/, '')
    .trim()
    .toLowerCase();
const isText = (base: string) =>
  ['varchar', 'character varying', 'char', 'character', 'bpchar', 'text'].includes(base);

/** Whether every value of `from` fits `to` unchanged: a longer varchar, text, a wider number. */
function widens(from: Column, to: Column): boolean {
  const [a, b] = [baseOf(from.type), baseOf(to.type)];
  if (isText(a) && b === 'text') return true;
  if (isText(a) && a === b) return lengthOf(to.type) >= lengthOf(from.type);
  const chain = WIDENING_CHAINS.find((types) => types.includes(a) && types.includes(b));
  return chain !== undefined && chain.indexOf(b) >= chain.indexOf(a);
}

/**
 * The changes in `diff` that can lose data: dropped columns, and a column type that does not hold
 * every value of the old one. (Tables, views, enums and schemas are never dropped: the diff of
 * mapped-tables-migrator.ts holds only what the entities map.) `npm run db:migration:create`
 * writes none of them unless told `--allow-destructive`.
 */
export function destructiveChanges(diff: SchemaDifference): string[] {
  const changes: string[] = [];
  for (const table of Object.values(diff.changedTables)) {
    for (const column of Object.keys(table.removedColumns))
      changes.push(`drop column ${table.name}.${column}`);
    for (const { fromColumn, column, changedProperties } of Object.values(table.changedColumns)) {
      if (changedProperties.has('type') && !widens(fromColumn, column)) {
        changes.push(`change column ${table.name}.${column.name} from ${fromColumn.type} to ${column.type}`);
      }
    }
  }
  return changes;
}
