import { type EntityName } from '@mikro-orm/core';
import { ManyToOne } from '@mikro-orm/decorators/legacy';

/**
 * A to-one relation: an indexed foreign key whose referenced row cannot be deleted while referenced.
 * 'restrict' rather than MikroORM's default 'set null': deleting a row must never silently rewrite
 * rows that refer to it (and that the caller may not even be allowed to see).
 * The GraphQL field (`customer: Customer`) and the input field (`customerId: ID`) are derived from
 * this metadata by the API layer, not declared here.
 */
export const ToOne = <T extends object>(
  target: () => EntityName<T>,
  /**
   * `primary`: the foreign key is also a column of the row's composite primary key. `column`: the
   * foreign key's name, where it is not `<property>_id` (an imported table's).
   */
  options: { nullable: boolean; primary?: boolean; column?: string },
) =>
  ManyToOne(target, {
    nullable: options.nullable,
    index: true,
    deleteRule: 'restrict',
    ...(options.primary ? { primary: true } : {}),
    ...(options.column ? { fieldName: options.column } : {}),
  });
