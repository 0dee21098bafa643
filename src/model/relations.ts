import { type EntityName } from '@mikro-orm/core';
import { ManyToOne } from '@mikro-orm/decorators/legacy';

/** What PostgreSQL does to the referring rows when the referenced row is deleted or its key changes. */
export type ReferentialAction = 'restrict' | 'no action' | 'cascade' | 'set null' | 'set default';

/**
 * A foreign key as an imported table has it: its constraint name, its actions and the index on its
 * column (its name; `true`: the name MikroORM gives; `false`: none). Declared so that a migration sees
 * the team's table as it is and leaves it be.
 */
export interface ExistingForeignKey {
  name: string;
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
  index: string | boolean;
}

/**
 * A to-one relation: an indexed foreign key whose referenced row cannot be deleted while referenced.
 * 'restrict' rather than MikroORM's default 'set null': deleting a row must never silently rewrite
 * rows that refer to it (and that the caller may not even be allowed to see). An imported table's
 * foreign key keeps what the team declared (`foreignKey`), which db:import reports when it acts.
 * The GraphQL field (`customer: Customer`) and the input field (`customerId: ID`) are derived from
 * this metadata by the API layer, not declared here.
 */
export const ToOne = <T extends object>(
  target: () => EntityName<T>,
  /**
   * `primary`: the foreign key is also a column of the row's composite primary key. `column`: the
   * foreign key's name, where it is not `<property>_id` (an imported table's). An imported table's
   * column may also have a type of its own (`smallint` referring to an `integer` key: `columnType`),
   * a default (`defaultRaw`, SQL) and a comment.
   */
  options: {
    nullable: boolean;
    primary?: boolean;
    column?: string;
    columnType?: string;
    defaultRaw?: string;
    comment?: string;
    foreignKey?: ExistingForeignKey;
  },
) =>
  ManyToOne(target, {
    nullable: options.nullable,
    ...(options.foreignKey
      ? {
          foreignKeyName: options.foreignKey.name,
          deleteRule: options.foreignKey.onDelete,
          updateRule: options.foreignKey.onUpdate,
          index: options.foreignKey.index,
        }
      : { index: true, deleteRule: 'restrict' }),
    ...(options.primary ? { primary: true } : {}),
    ...(options.column ? { fieldName: options.column } : {}),
    ...(options.columnType ? { columnType: options.columnType } : {}),
    ...(options.defaultRaw === undefined ? {} : { defaultRaw: options.defaultRaw }),
    ...(options.comment === undefined ? {} : { comment: options.comment }),
  });

/**
 * A reference by several columns: a foreign key of several columns, or one to a column other than
 * its target's single key (`salesorderdetail (specialofferid, productid) → specialofferproduct`).
 * MikroORM cannot write such a relation through the columns an imported table also serves, so the
 * columns stay plain columns (written and filtered as such) and the API alone adds the to-one field
 * (`name`) and the target's inverse to-many field (`inverse`), matching every pair of columns.
 */
export interface ColumnReference {
  name: string;
  target: () => EntityName<object>;
  /** This class's property of each column, to the target's property of the column it refers to. */
  columns: Record<string, string>;
  inverse: string;
}

const columnReferences = new Map<object, ColumnReference[]>();

/** Declares a reference by columns on the class (see `ColumnReference`). */
export const ReferencesByColumns =
  (reference: ColumnReference) =>
  (cls: object): void => {
    columnReferences.set(cls, [...(columnReferences.get(cls) ?? []), reference]);
  };

/** The references by columns declared on `cls`. */
export const columnReferencesOf = (cls: object): readonly ColumnReference[] =>
  columnReferences.get(cls) ?? [];
