import {
  CheckConstraintViolationException,
  type EntityProperty,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  ReferenceKind,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { type EntityManager } from '@mikro-orm/postgresql';
import { FIELD_WRITES_TRIGGER } from '../../security/system/database-policies.js';
import { API_VERBS } from '../../security/system/security-model.js';
import { type RequestSecurity } from '../../security/system/request-security.js';
import { indexColumns } from '../db/index-columns.js';
import { badUserInput, notFound } from '../errors.js';
import { type EntityModel } from './entity-model.js';

type Row = Record<string, unknown>;
type Verb = 'create' | 'update' | 'delete';

/** What a refused write tried: the row it would have written (create, update) or deleted (its key). */
export interface Attempt {
  entity?: object;
  key?: Row;
}

/**
 * A value in PostgreSQL's text form (a Textual column) is read by its type's input function, which
 * refuses some values with codes of its own rather than class 22: `tsquery`/`jsonpath` with a syntax
 * error (42601), `regclass` a relation that does not exist (42P01), `regtype` a type (42704).
 */
const TEXTUAL_REFUSALS = new Set(['42601', '42P01', '42704']);
const refusedTextual = (model: EntityModel, verb: Verb, sqlState: string) =>
  verb !== 'delete' &&
  TEXTUAL_REFUSALS.has(sqlState) &&
  model.scalars.some((field) => field.kind === 'Textual');

/**
 * The refusal of a write that collides with rows the caller may not see (a key another tenant took,
 * rows of theirs that refer to the row): worded like any refused write, naming no key, row or
 * constraint, so the answer tells no more than that this write cannot be made.
 */
const notSaved = (model: EntityModel, verb: Verb) =>
  badUserInput(
    `This ${model.name} could not be ${verb === 'delete' ? 'deleted' : 'saved'}; nothing was written`,
  );

/**
 * Database refusals become messages about the input; they never carry SQL, constraint names or values.
 * A refusal caused by other rows (a unique value taken, rows referring to a deleted one) says so only
 * when the caller can see such a row; `em` is the request's, its transaction back where it was before
 * the write, and it reads under the caller's row filters.
 */
export async function toUserError(
  error: unknown,
  em: EntityManager,
  model: EntityModel,
  verb: Verb,
  security: RequestSecurity,
  attempt: Attempt,
): Promise<unknown> {
  if (error instanceof UniqueConstraintViolationException) {
    const taken = await visibleCollision(em, model, error, attempt.entity);
    return taken
      ? badUserInput(`A ${model.name} with the same ${taken} already exists`)
      : notSaved(model, verb);
  }
  if (error instanceof ForeignKeyConstraintViolationException) {
    if (verb !== 'delete') return notFound(`A row this ${model.name} refers to does not exist`);
    return (await visiblyReferred(em, model, attempt.key))
      ? badUserInput(`This ${model.name} cannot be deleted while other rows refer to it`)
      : notSaved(model, verb);
  }
  if (error instanceof NotNullConstraintViolationException) {
    return badUserInput(`A required field of ${model.name} is missing`);
  }
  // A domain's or table's CHECK: the rule stays in the database, its name and the values stay out.
  if (error instanceof CheckConstraintViolationException) {
    return badUserInput(`A value of this ${model.name} breaks a check of the database; nothing was written`);
  }
  const sqlState =
    (error as { code?: unknown }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
  // An exclusion constraint (23P01) is a collision with rows the caller may not see either.
  if (sqlState === '23P01') return notSaved(model, verb);
  // Data exceptions (SQLSTATE class 22): a value the column's type refuses (out of range, malformed).
  if (typeof sqlState === 'string' && (sqlState.startsWith('22') || refusedTextual(model, verb, sqlState))) {
    return badUserInput(`A value of this ${model.name} does not fit its column; nothing was written`);
  }
  // A writable view's WITH CHECK OPTION (src/model/views.ts): the row would not be in the view.
  if (sqlState === '44000')
    return badUserInput(
      `This ${model.name} would not be in the view it is written through; nothing was written`,
    );
  // The database's own WITH CHECK (its policies mirror the declarations) refused the written row, or
  // its field-writes trigger a column the caller's roles may not write.
  if ((error as { code?: unknown }).code === '42501') {
    const { hint, column } = error as { hint?: unknown; column?: unknown };
    if (hint === FIELD_WRITES_TRIGGER)
      return security.fieldRefusedByDatabase(model.name, propertyOfColumn(em, model, String(column))?.name);
    if (/row-level security/.test((error as Error).message))
      return security.refusedByDatabase(model.name, API_VERBS[verb], (error as Error).message);
  }
  return error;
}

/** The property of `model` stored in `column` alone, if there is one (none for an expression: null). */
const propertyOfColumn = (em: EntityManager, model: EntityModel, column: string | null) =>
  em
    .getMetadata()
    .get(model.cls)
    .props.find((each: EntityProperty) => each.fieldNames?.length === 1 && each.fieldNames[0] === column);

/**
 * The fields of a unique constraint the attempted row shares with a row the caller can see
 * (`id`, `email`), or undefined when no visible row has those values: then the row it collided
 * with is one the caller may not see. PostgreSQL names the constraint (or unique index) but, on a
 * table under row security, not its columns or values: the catalog gives the columns, the attempted
 * row the values. An index on an expression has no such columns: the refusal stays unexplained.
 */
async function visibleCollision(
  em: EntityManager,
  model: EntityModel,
  error: UniqueConstraintViolationException,
  entity: object | undefined,
): Promise<string | undefined> {
  const { constraint, schema } = error as { constraint?: string; schema?: string };
  if (!entity || !constraint) return undefined;
  const columns = await indexColumns(em, constraint, schema ?? 'public');
  const where: Row = {};
  const fields: string[] = [];
  for (const column of columns) {
    const prop = propertyOfColumn(em, model, column);
    if (!prop) return undefined;
    where[prop.name] = (entity as Row)[prop.name];
    fields.push(prop.kind === ReferenceKind.SCALAR ? prop.name : `${prop.name}Id`);
  }
  if (fields.length === 0) return undefined;
  return (await em.count(model.cls, where)) > 0 ? fields.join(', ') : undefined;
}

/** True when a row the caller can see refers to the row of `model` with `key`, by any to-one relation. */
async function visiblyReferred(
  em: EntityManager,
  model: EntityModel,
  key: Row | undefined,
): Promise<boolean> {
  if (!key) return false;
  for (const meta of em.getMetadata().getAll().values()) {
    for (const prop of meta.props) {
      const toOne =
        prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner);
      if (!toOne || prop.targetMeta?.class !== model.cls || meta.virtual) continue;
      if ((await em.count(meta.class, { [prop.name]: key } as never)) > 0) return true;
    }
  }
  return false;
}
