import { type RowSql } from '../../security/system/sql-fragment.js';
import { answerable } from './column-types.js';
import {
  type FieldNode,
  getArgumentValues,
  getNamedType,
  GraphQLError,
  type GraphQLObjectType,
  isNonNullType,
  type GraphQLResolveInfo,
} from 'graphql';
import { collectSubfields } from 'graphql/execution/collectFields.js';
import { type RequestContext } from '../context.js';
import { type ConnectionPage, translateConnection } from './connection-arguments.js';
import { badUserInput } from '../errors.js';
import {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  type AggregateSelection,
  fieldOf,
} from './aggregates.js';
import {
  authorizeRead,
  authorizeReferenceColumns,
  relationVisibility,
  securityOf,
} from './request-checks.js';
import {
  type EntityModel,
  type ScalarFieldModel,
  type ToManyModel,
  type ToOneModel,
} from './entity-model.js';
import {
  type ListArguments,
  type OrderTerm,
  pagination,
  translateOrderBy,
  translateWhere,
} from './query-arguments.js';

type Row = Record<string, unknown>;

/**
 * What one root field reads, taken from its GraphQL selection before any SQL runs: per entity the
 * columns asked for and the relations with their arguments — through fragments, aliases, variables
 * and @skip/@include, as graphql-js collects them. src/api/compiled-read.ts turns it into one statement.
 */
export interface ReadPlan {
  model: EntityModel;
  /** The scalar fields asked for that the user may read; the others resolve to their FORBIDDEN error. */
  columns: ScalarFieldModel[];
  relations: RelationRead[];
  /**
   * The level's answer field by field in the response's order, when PostgreSQL can write it as the
   * response does (CompiledRead `answerJson`); undefined when some field of it or below needs
   * graphql-js: an error to raise (a field or relation refused), a value to convert (KindSpec.answer),
   * an aggregate, a connection, or a field the compiler does not read.
   */
  answer?: AnswerField[];
}

/** One field of a level's answer (ReadPlan.answer), by its response key. */
export type AnswerField =
  | { key: string; typename: string }
  | { key: string; column: ScalarFieldModel; asId: boolean; nonNull: boolean }
  | { key: string; relation: RelationRead };

/**
 * PostgreSQL truncates a longer identifier, and the answer names its columns by response keys: an
 * alias longer than this is answered by graphql-js.
 */
const MAX_ANSWER_KEY = 63;

export type RelationRead =
  | { key: string; plan: ReadPlan; toOne: ToOneModel }
  | { key: string; plan: ReadPlan; toMany: ToManyModel; page: ChildPage }
  | { key: string; count: ToManyModel; where: RowSql | undefined }
  | { key: string; aggregate: ToManyModel; where: RowSql | undefined; selection: AggregateSelection }
  | { key: string; connection: ToManyModel; plan: ConnectionPlan; page: ConnectionPage };

/**
 * What a connection's selection reads: its nodes' plan, the total if asked for, and the fields of its
 * page info asked for (whether rows precede a page read forwards takes a statement part of its own).
 */
export interface ConnectionPlan {
  node: ReadPlan;
  totalCount: boolean;
  pageInfo: ReadonlySet<string>;
}

/** A to-many relation's per-parent page, translated and checked. */
export interface ChildPage {
  where: RowSql | undefined;
  orderBy: OrderTerm[];
  limit: number;
  offset: number;
}

/**
 * Where a compiled row keeps a relation's value: by the field's response key (aliases of one
 * relation may differ in arguments), under a name no GraphQL field can have, so it never shadows a
 * scalar that the default resolver reads by name.
 */
const relationKey = (responseKey: string) => `@${responseKey}`;

/** The checks of a to-one field: the verb on the related entity. */
function checkToOne(ctx: RequestContext, model: EntityModel, relation: ToOneModel): true {
  authorizeRead(ctx, relation.target);
  authorizeReferenceColumns(securityOf(ctx), model, relation.target, relation.byColumns);
  return true;
}

/** The checks of a to-many field, in the order the API has always made them, and its translated page. */
function checkToMany(
  ctx: RequestContext,
  model: EntityModel,
  relation: ToManyModel,
  args: ListArguments,
): ChildPage {
  authorizeRelated(ctx, model, relation, args);
  const page = pagination(args);
  const related = relationVisibility(ctx);
  return {
    where: translateWhere(relation.target, args.where, related),
    orderBy: translateOrderBy(relation.target, args.orderBy, related),
    ...page,
  };
}

/** The checks of following a to-many relation to its rows with these where and orderBy. */
function authorizeRelated(
  ctx: RequestContext,
  model: EntityModel,
  relation: ToManyModel,
  args: Pick<ListArguments, 'where' | 'orderBy'>,
) {
  // Through a join table, its rows are read too: they say which rows are related.
  if (relation.through) authorizeRead(ctx, relation.through.pivot);
  authorizeRead(ctx, relation.target, args);
  authorizeReferenceColumns(securityOf(ctx), model, relation.target, relation.byColumns);
}

/** The checks of a to-many relation's count field, as its list's (it counts what the list would hold). */
function checkCount(
  ctx: RequestContext,
  model: EntityModel,
  relation: ToManyModel,
  args: Pick<ListArguments, 'where'>,
) {
  return checkToMany(ctx, model, relation, { where: args.where }).where;
}

/**
 * What an aggregate's selection (`nodes` of `type`: an `<E>Aggregate` or `<E>Group`) computes: count
 * and the functions of the fields asked for, each of which the user must be allowed to read
 * (FORBIDDEN otherwise: a sum tells of every value it adds). A group's `key` may ask only for fields
 * among `by`.
 */
export function aggregateSelectionOf(
  ctx: RequestContext,
  model: EntityModel,
  info: GraphQLResolveInfo,
  type: GraphQLObjectType,
  nodes: readonly FieldNode[],
  by: readonly string[] = [],
): AggregateSelection {
  const security = securityOf(ctx);
  const subfields = (parent: GraphQLObjectType, parentNodes: readonly FieldNode[]) =>
    [...collectSubfields(info.schema, info.fragments, info.variableValues, parent, parentNodes).values()]
      .map((fieldNodes) => ({ name: fieldNodes[0]!.name.value, nodes: fieldNodes }))
      .filter(({ name }) => name !== '__typename');
  const selection: AggregateSelection = { count: false, fields: [] };
  for (const { name, nodes: fieldNodes } of subfields(type, nodes)) {
    if (name === 'count') {
      selection.count = true;
      continue;
    }
    const values = getNamedType(type.getFields()[name]!.type) as GraphQLObjectType;
    if (name === 'key') {
      for (const field of subfields(values, fieldNodes))
        if (!by.includes(field.name)) throw badUserInput(`key.${field.name}: ${field.name} is not among by`);
      continue;
    }
    const fn = name as AggregateFunction;
    if (!AGGREGATE_FUNCTIONS.includes(fn)) throw new Error(`${type.name}.${name} is not an aggregate`);
    for (const { name: fieldName } of subfields(values, fieldNodes)) {
      security.authorizeField(model.name, fieldName);
      const field = fieldOf(model, fn, fieldName);
      if (!selection.fields.some((each) => each.fn === fn && each.field === field))
        selection.fields.push({ fn, field });
    }
  }
  return selection;
}

/**
 * A relation field's place in a root field's answer: its response keys from the root field down, list
 * indices left out (every row of a level is read under one plan).
 */
const placeOf = (responseKeys: readonly string[]) => JSON.stringify(responseKeys);

/** The errors of the relations a plan left out, by their place (`placeOf`): what their fields resolve to. */
export type Refusals = ReadonlyMap<string, GraphQLError>;

/** The plan of a root field, with the refusals of all its levels. */
export interface RootPlan extends ReadPlan {
  refusals: Refusals;
}

/**
 * The plan of a connection (`nodes` of the connection type `type`, at `place`): its edges' nodes are
 * read as one level, whatever aliases the edges and nodes go by; the refusals of its relations are
 * kept at each of their places.
 */
function planConnection(
  ctx: RequestContext,
  model: EntityModel,
  info: GraphQLResolveInfo,
  type: GraphQLObjectType,
  nodes: readonly FieldNode[],
  place: readonly string[],
  refusals: Map<string, GraphQLError>,
): ConnectionPlan {
  const subfields = (parent: GraphQLObjectType, parentNodes: readonly FieldNode[]) =>
    collectSubfields(info.schema, info.fragments, info.variableValues, parent, parentNodes);
  const plan = { totalCount: false, pageInfo: new Set<string>() };
  /** Each place the nodes are answered at (edges and node by their response keys), with its field nodes. */
  const nodePlaces: { place: string[]; nodes: readonly FieldNode[] }[] = [];
  for (const [responseKey, fieldNodes] of subfields(type, nodes)) {
    const name = fieldNodes[0]!.name.value;
    if (name === 'totalCount') plan.totalCount = true;
    else if (name === 'pageInfo') {
      const pageInfo = getNamedType(type.getFields().pageInfo!.type) as GraphQLObjectType;
      for (const infoNodes of subfields(pageInfo, fieldNodes).values())
        plan.pageInfo.add(infoNodes[0]!.name.value);
    } else if (name === 'edges') {
      const edge = getNamedType(type.getFields().edges!.type) as GraphQLObjectType;
      for (const [nodeKey, nodeNodes] of subfields(edge, fieldNodes))
        if (nodeNodes[0]!.name.value === 'node')
          nodePlaces.push({ place: [...place, responseKey, nodeKey], nodes: nodeNodes });
    }
  }
  const first = nodePlaces[0]?.place ?? [...place, 'edges', 'node'];
  const levelRefusals = new Map<string, GraphQLError>();
  const node = planLevel(
    ctx,
    model,
    info,
    nodePlaces.flatMap((each) => each.nodes),
    first,
    levelRefusals,
  );
  // A relation below is refused wherever it is answered: under each alias of edges and node.
  const prefix = placeOf(first).slice(0, -1);
  for (const [refusedAt, error] of levelRefusals)
    for (const { place: at } of nodePlaces)
      refusals.set(placeOf(at).slice(0, -1) + refusedAt.slice(prefix.length), error);
  return { node, ...plan };
}

/** The plan of a root connection field `info` resolves, with the refusals of all its levels. */
export function planConnectionRead(
  ctx: RequestContext,
  model: EntityModel,
  info: GraphQLResolveInfo,
): ConnectionPlan & { refusals: Refusals } {
  const refusals = new Map<string, GraphQLError>();
  const type = getNamedType(info.returnType) as GraphQLObjectType;
  const plan = planConnection(ctx, model, info, type, info.fieldNodes, [String(info.path.key)], refusals);
  return { ...plan, refusals };
}

/** The plan of the field `info` resolves, whose value is a `model` row or a list of them. */
export function planRead(ctx: RequestContext, model: EntityModel, info: GraphQLResolveInfo): RootPlan {
  const refusals = new Map<string, GraphQLError>();
  const plan = planLevel(ctx, model, info, info.fieldNodes, [String(info.path.key)], refusals);
  return { ...plan, refusals };
}

function planLevel(
  ctx: RequestContext,
  model: EntityModel,
  info: GraphQLResolveInfo,
  nodes: readonly FieldNode[],
  place: readonly string[],
  refusals: Map<string, GraphQLError>,
): ReadPlan {
  const security = securityOf(ctx);
  const type = info.schema.getType(model.name) as GraphQLObjectType;
  const fields = collectSubfields(info.schema, info.fragments, info.variableValues, type, nodes);
  const plan: ReadPlan = { model, columns: [], relations: [] };
  let answer: AnswerField[] | undefined = [];
  /** Adds `field` to the level's answer, or gives the answer up (`undefined`). */
  const answerWith = (field: AnswerField | undefined) => {
    if (!field || field.key.length > MAX_ANSWER_KEY) answer = undefined;
    else answer?.push(field);
  };
  for (const [responseKey, fieldNodes] of fields) {
    const name = fieldNodes[0]!.name.value;
    if (name === '__typename') {
      answerWith({ key: responseKey, typename: model.name });
      continue;
    }
    const scalar = model.scalars.find((field) => field.name === name);
    if (scalar) {
      const readable = security.mayReadField(model.name, name);
      if (!plan.columns.includes(scalar) && readable) plan.columns.push(scalar);
      const fieldType = type.getFields()[name]!.type;
      const asId = getNamedType(fieldType).name === 'ID';
      answerWith(
        readable && answerable(scalar, asId)
          ? { key: responseKey, column: scalar, asId, nonNull: isNonNullType(fieldType) }
          : undefined,
      );
      continue;
    }
    const relationPlace = [...place, responseKey];
    // A relation the user may not follow, or with arguments it may not use, is left out of the
    // statement, and its field resolves to the check's error (see `relationValue`).
    const unlessRefused = <T>(check: () => T): T | undefined => {
      try {
        return check();
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        refusals.set(placeOf(relationPlace), error);
        answer = undefined;
        return undefined;
      }
    };
    /** Adds a relation to the plan, and to the answer if its own level can be answered. */
    const read = (relation: RelationRead) => {
      plan.relations.push(relation);
      const answered =
        'count' in relation ||
        (('toOne' in relation || 'toMany' in relation) && relation.plan.answer !== undefined);
      answerWith(answered ? { key: responseKey, relation } : undefined);
    };
    const levelBelow = (target: EntityModel) =>
      planLevel(ctx, target, info, fieldNodes, relationPlace, refusals);
    const toOne = model.toOne.find((relation) => relation.name === name);
    if (toOne) {
      if (!unlessRefused(() => checkToOne(ctx, model, toOne))) continue;
      read({ key: relationKey(responseKey), plan: levelBelow(toOne.target), toOne });
      continue;
    }
    const counted = model.toMany.find((relation) => relation.countField === name);
    if (counted) {
      const args = getArgumentValues(type.getFields()[name]!, fieldNodes[0]!, info.variableValues);
      const checked = unlessRefused(() => ({ where: checkCount(ctx, model, counted, args) }));
      if (checked) read({ key: relationKey(responseKey), count: counted, where: checked.where });
      continue;
    }
    const aggregated = model.toMany.find((relation) => relation.aggregateField === name);
    if (aggregated) {
      const field = type.getFields()[name]!;
      const args = getArgumentValues(field, fieldNodes[0]!, info.variableValues);
      const checked = unlessRefused(() => {
        const where = checkCount(ctx, model, aggregated, args);
        security.authorizeAggregate(aggregated.target.name);
        const aggregateType = getNamedType(field.type) as GraphQLObjectType;
        return {
          where,
          selection: aggregateSelectionOf(ctx, aggregated.target, info, aggregateType, fieldNodes),
        };
      });
      if (checked) read({ key: relationKey(responseKey), aggregate: aggregated, ...checked });
      continue;
    }
    const connected = model.toMany.find((relation) => relation.connectionField === name);
    if (connected) {
      const field = type.getFields()[name]!;
      const args = getArgumentValues(field, fieldNodes[0]!, info.variableValues);
      const page = unlessRefused(() => {
        authorizeRelated(ctx, model, connected, args);
        return translateConnection(ctx, connected.target, args);
      });
      if (!page) continue;
      const connectionType = getNamedType(field.type) as GraphQLObjectType;
      read({
        key: relationKey(responseKey),
        connection: connected,
        page,
        plan: planConnection(
          ctx,
          connected.target,
          info,
          connectionType,
          fieldNodes,
          relationPlace,
          refusals,
        ),
      });
      continue;
    }
    const toMany = model.toMany.find((relation) => relation.name === name);
    if (toMany) {
      const args = getArgumentValues(type.getFields()[name]!, fieldNodes[0]!, info.variableValues);
      const page = unlessRefused(() => checkToMany(ctx, model, toMany, args));
      if (!page) continue;
      read({ key: relationKey(responseKey), plan: levelBelow(toMany.target), toMany, page });
      continue;
    }
    // A field the compiler does not read (one a domain added): graphql-js resolves it.
    answerWith(undefined);
  }
  return answer ? { ...plan, answer } : plan;
}

/**
 * The value of a relation field: read with its parent row by the root field's statement. A relation
 * missing from the row was left out because a check refused it when the read was planned, and the
 * root field kept that refusal in the request (`ctx.refusedRelations`).
 */
export function relationValue(parent: Row, ctx: RequestContext, info: GraphQLResolveInfo): unknown {
  const key = relationKey(String(info.path.key));
  if (key in parent) return parent[key];
  const place: string[] = [];
  for (let at: GraphQLResolveInfo['path'] | undefined = info.path; at; at = at.prev)
    if (typeof at.key === 'string') place.unshift(at.key);
  const refusal = ctx.refusedRelations.get(placeOf(place));
  if (refusal) throw refusal;
  throw new Error(`${info.parentType.name}.${info.fieldName} was not read with its parent row`);
}
