import { allOf, sql, type SqlFragment } from '../../security/system/sql-fragment.js';
import { type EntityModel, primaryKeyOf, type ToManyModel, type ToOneModel } from './entity-model.js';

/*
 * How the rows of a relation are found from a row of its owner, as SQL on two aliased rows: the one
 * place the compiled read's nested levels and the relation filters of a `where` take it from.
 */

/** A property's column on the row aliased `alias`. */
export function columnSql(model: EntityModel, alias: string, property: string): SqlFragment {
  const column = model.columns.get(property);
  if (column === undefined) throw new Error(`${model.name}.${property} has no column`);
  return sql.id(alias, column);
}

/** The row `targetAlias` is the one `relation` of the row `ownerAlias` of `owner` points to. */
export function toOneLink(
  owner: EntityModel,
  ownerAlias: string,
  relation: ToOneModel,
  targetAlias: string,
): SqlFragment {
  const pairs = relation.byColumns ?? [[relation.name, primaryKeyOf(relation.target).name]];
  return allOf(
    pairs.map(
      ([own, theirs]) =>
        sql`${columnSql(relation.target, targetAlias, theirs)} = ${columnSql(owner, ownerAlias, own)}`,
    ),
  );
}

/**
 * `select <value> from <join table> as <alias> where <condition>`, with an alias of the caller's and
 * the join rows' own row security: a link the user may not see relates nothing.
 */
export type JoinRows = (
  pivot: EntityModel,
  value: (alias: string) => SqlFragment,
  condition: (alias: string) => SqlFragment,
) => SqlFragment;

/**
 * The row `targetAlias` is one of the rows `relation` of the row `ownerAlias` relates to: by the
 * target's column that refers to the owner, or, through a join table, by the key of a target among
 * the join rows of the owner.
 */
export function toManyLink(
  owner: EntityModel,
  ownerAlias: string,
  relation: ToManyModel,
  targetAlias: string,
  joinRows: JoinRows,
): SqlFragment {
  const target = relation.target;
  if (relation.through) {
    const { pivot, toTarget } = relation.through;
    const ownerKey = columnSql(owner, ownerAlias, primaryKeyOf(owner).name);
    const links = joinRows(
      pivot,
      (alias) => columnSql(pivot, alias, toTarget),
      (alias) => sql`${columnSql(pivot, alias, relation.mappedBy)} = ${ownerKey}`,
    );
    return sql`${columnSql(target, targetAlias, primaryKeyOf(target).name)} in (${links})`;
  }
  const pairs = relation.byColumns ?? [[primaryKeyOf(owner).name, relation.mappedBy]];
  return allOf(
    pairs.map(
      ([own, theirs]) =>
        sql`${columnSql(target, targetAlias, theirs)} = ${columnSql(owner, ownerAlias, own)}`,
    ),
  );
}
