import { type EntityMetadata, type MetadataStorage } from '@mikro-orm/core';

/** An entity the declarations apply to: a table-backed MikroORM entity. */
export type SecuredEntity = EntityMetadata;

/**
 * Whether an entity reads a view (db:import declares one with a key as a view entity, one without as
 * a virtual entity reading it): read-only, and without row security of its own in the database.
 */
export const isView = (meta: EntityMetadata): boolean =>
  Boolean(meta.view || (meta.virtual && meta.expression));

/** The entities the declarations apply to, by class name: a view without a key (a virtual entity) too. */
export function securedEntitiesOf(metadata: MetadataStorage): Map<string, SecuredEntity> {
  return new Map(
    [...metadata.getAll().values()]
      .filter((meta) => !meta.embeddable && (!meta.virtual || isView(meta)) && meta.tableName)
      .map((meta) => [meta.className, meta]),
  );
}
