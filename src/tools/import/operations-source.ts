import {
  getNamedType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNullableType,
  isLeafType,
  isNonNullType,
  isObjectType,
} from 'graphql';

/** `customers` → `Customers`: operation names follow the field they call. */
const capitalized = (name: string) => name[0]!.toUpperCase() + name.slice(1);

/**
 * The fields of a related row a selection names: its `id`, or where its key has other names
 * (`playlist_id`, a composite key) its non-null columns, the key among them.
 */
function relatedSelection(type: GraphQLObjectType): string {
  const leaves = Object.values(type.getFields()).filter((field) => isLeafType(getNamedType(field.type)));
  if (leaves.some((field) => field.name === 'id')) return 'id';
  const required = leaves.filter((field) => isNonNullType(field.type));
  return (required.length > 0 ? required : leaves.slice(0, 1)).map((field) => field.name).join(' ');
}

/** The fields of a type a client can select without arguments: its columns, and its to-one rows' keys. */
function columnSelection(type: GraphQLObjectType): string {
  return Object.values(type.getFields())
    .filter((field) => field.args.every((arg) => !isNonNullType(arg.type)))
    .flatMap((field) => {
      const target = getNullableType(field.type);
      if (isLeafType(getNamedType(target))) return [field.name];
      const related = isObjectType(target) ? relatedSelection(target) : '';
      return related ? [`${field.name} { ${related} }`] : [];
    })
    .join(' ');
}

/** One operation calling `field` with each of its arguments as a variable of the same type. */
function operation(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const call = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const returned = getNamedType(field.type);
  const selection = isObjectType(returned) ? ` { ${columnSelection(returned)} }` : '';
  return `${kind} ${capitalized(field.name)}${variables ? `(${variables})` : ''} {\n  ${field.name}${call ? `(${call})` : ''}${selection}\n}\n`;
}

/**
 * Typed documents for an imported domain, one file per entity: every root field that answers the
 * entity (list, by key, create, update), its count and its delete, each selecting the entity's
 * columns. Written to schema/operations/ for `npm run codegen`, so a client starts typed.
 */
export function operationsSources(schema: GraphQLSchema, entityTypes: string[]): Map<string, string> {
  const query = Object.values(schema.getQueryType()?.getFields() ?? {});
  const mutation = Object.values(schema.getMutationType()?.getFields() ?? {});
  const answers = (name: string) => (field: GraphQLField<unknown, unknown>) =>
    getNamedType(field.type).name === name;
  const sources = new Map<string, string>();
  for (const name of entityTypes) {
    const lists = query.filter(answers(name)).map((field) => `${field.name}Count`);
    const queries = query.filter((field) => answers(name)(field) || lists.includes(field.name));
    const mutations = mutation.filter((field) => answers(name)(field) || field.name === `delete${name}`);
    const operations = [
      ...queries.map((field) => operation('query', field)),
      ...mutations.map((field) => operation('mutation', field)),
    ];
    sources.set(
      name,
      `# ${name}: written by \`npm run db:import\` from the schema.\n\n${operations.join('\n')}`,
    );
  }
  return sources;
}
