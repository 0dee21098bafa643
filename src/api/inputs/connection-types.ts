import { GraphQLBoolean, GraphQLInt, GraphQLString } from 'graphql';
import { type ClassType, Field, ObjectType } from 'type-graphql';
import { type EntityModel } from '../entity-model.js';
import { type TypeName } from './aggregate-types.js';

/** Relay's page information, one type for every connection (type-graphql's names are global). */
@ObjectType('PageInfo', { description: 'Where a page of a connection lies among all its rows' })
class PageInfo {
  @Field(() => GraphQLBoolean, { description: 'Rows follow the last edge' })
  hasNextPage!: boolean;

  @Field(() => GraphQLBoolean, { description: 'Rows precede the first edge' })
  hasPreviousPage!: boolean;

  @Field(() => GraphQLString, { nullable: true, description: 'The cursor of the first edge' })
  startCursor!: string | null;

  @Field(() => GraphQLString, { nullable: true, description: 'The cursor of the last edge' })
  endCursor!: string | null;
}

/** The Relay connection of an entity's rows, `<E>Connection { edges { cursor node } pageInfo totalCount }`. */
export function createConnectionType(model: EntityModel, typeName: TypeName): ClassType {
  @ObjectType(typeName(`${model.name}Edge`), { description: `A ${model.name} row and its position` })
  class Edge {}
  Field(() => GraphQLString, { description: 'Its position: pass it as after or before' })(
    Edge.prototype,
    'cursor',
  );
  Field(() => model.cls)(Edge.prototype, 'node');

  @ObjectType(typeName(`${model.name}Connection`), {
    description: `A page of the ${model.name} rows that match where, in orderBy order (Relay)`,
  })
  class Connection {}
  Field(() => [Edge])(Connection.prototype, 'edges');
  Field(() => PageInfo)(Connection.prototype, 'pageInfo');
  Field(() => GraphQLInt, { description: 'How many rows match where, on all pages' })(
    Connection.prototype,
    'totalCount',
  );
  return Connection;
}
