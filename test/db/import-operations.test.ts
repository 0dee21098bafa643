import 'reflect-metadata';
import { type Rel } from '@mikro-orm/core';
import { Entity } from '@mikro-orm/decorators/legacy';
import { buildSchema, parse, validate } from 'graphql';
import { ObjectType } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { declareSecurity } from '../../security/system/policy.js';
import { emitSchemaText } from '../../src/api/schema-file.js';
import { operationsSources } from '../../src/tools/import/operations-source.js';
import { GeneratedId, IntColumn, StringColumn } from '../../src/model/columns.js';
import { ToOne } from '../../src/model/relations.js';

/** A domain of the test's own, written the way db:import writes one. */
@Entity({ tableName: 'shelf' })
@ObjectType()
class Shelf {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  label!: string;
}

@Entity({ tableName: 'book' })
@ObjectType()
class Book {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  title!: string;

  @IntColumn({ nullable: true })
  pages?: number | null;

  @ToOne(() => Shelf, { nullable: true })
  shelf?: Rel<Shelf> | null;
}

describe('the typed operations db:import writes', () => {
  it('call every root field of each entity with its arguments as variables, and validate against the schema', async () => {
    const text = await emitSchemaText({
      folder: 'test',
      entities: [Shelf, Book],
      policy: declareSecurity(({ sharedByAllTenants }) => sharedByAllTenants(Shelf, Book)),
      migrations: [],
    });
    const schema = buildSchema(text);
    const sources = operationsSources(schema, ['Shelf', 'Book']);
    expect([...sources.keys()]).toEqual(['Shelf', 'Book']);
    for (const source of sources.values()) expect(validate(schema, parse(source))).toEqual([]);
    const names = (source: string) => [...source.matchAll(/^(?:query|mutation) (\w+)/gm)].map((m) => m[1]);
    expect(names(sources.get('Book')!)).toEqual([
      'Books',
      'Book',
      'BooksCount',
      'CreateBook',
      'UpdateBook',
      'DeleteBook',
    ]);
    expect(sources.get('Book')).toContain(
      'query Books($where: BookWhere, $orderBy: [BookOrderBy!], $limit: Int, $offset: Int) {\n' +
        '  books(where: $where, orderBy: $orderBy, limit: $limit, offset: $offset) { id title pages shelf { id } }\n}',
    );
  });
});
