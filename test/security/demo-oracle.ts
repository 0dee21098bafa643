import { parse } from 'graphql';
import { afterAll, beforeAll } from 'vitest';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/*
 * What each demo user may read, written out from SPEC §5 as SQL — independently of the engine — for
 * the read-path tests to compare every read path of the API with.
 */

export interface DemoUser {
  id: string;
  clientId?: number;
  region?: string;
  /** Subject to the filters that all but sa and manager get. */
  manager: boolean;
  /** Subject to the region filter (sales and customer roles, unless exempt by another role). */
  regionFiltered: boolean;
  /** The OR of the user's filtered Customer grants, or null when none applies. */
  customerGrant: string | null;
}

export const USERS: DemoUser[] = [
  {
    id: 'aneu',
    clientId: 1,
    region: 'British Isles',
    manager: false,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 'u1',
    clientId: 1,
    region: 'North America',
    manager: false,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 'u2',
    clientId: 2,
    region: 'British Isles',
    manager: true,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 'sam',
    clientId: 2,
    region: 'North America',
    manager: true,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 's1',
    clientId: 2,
    region: 'British Isles',
    manager: false,
    regionFiltered: true,
    customerGrant: `credit_limit > 300 or contact_name = 'Mike'`,
  },
  {
    id: 'r1',
    clientId: 1,
    region: 'Central America',
    manager: false,
    regionFiltered: false,
    customerGrant: null,
  },
  { id: 'ALFKI', clientId: 1, manager: false, regionFiltered: false, customerGrant: `id = 'ALFKI'` },
  { id: 'ANATR', clientId: 2, manager: false, regionFiltered: false, customerGrant: `id = 'ANATR'` },
  { id: 'p1', clientId: 2, manager: false, regionFiltered: false, customerGrant: `id <> 'ANATR'` },
];

/** The row predicate of SPEC §5 for one user and table, in SQL. */
export function visible(user: DemoUser, table: string): string {
  const conditions: string[] = [];
  const has = (column: string) =>
    ({
      category: ['client_id'],
      customer: ['client_id', 'region'],
      employee: ['region'],
      supplier: ['region'],
      department: ['security_level'],
      product: ['discontinued'],
    })[table]?.includes(column) ?? false;
  if (has('client_id'))
    conditions.push(user.clientId === undefined ? 'false' : `client_id = ${user.clientId}`);
  if (has('security_level') && !user.manager) conditions.push('security_level = 0');
  if (has('region') && user.regionFiltered)
    conditions.push(user.region ? `region = '${user.region}'` : 'false');
  if (has('discontinued') && !user.manager) conditions.push('not discontinued');
  if (table === 'customer' && user.customerGrant) conditions.push(`(${user.customerGrant})`);
  // Scopes: a row is visible iff its parent row is (a row without a parent: to nobody but sa).
  const parent = (
    {
      order: ['customer', 'customer_id'],
      order_detail: ['order', 'order_id'],
      product: ['category', 'category_id'],
    } as Record<string, [string, string]>
  )[table];
  if (parent)
    conditions.push(`${parent[1]} in (select id from "${parent[0]}" where ${visible(user, parent[0])})`);
  return conditions.length ? conditions.join(' and ') : 'true';
}

/** `sql` with VISIBLE(table) or VISIBLE(table, alias) written out for `user`. */
export function oracle(user: DemoUser, sql: string): string {
  return sql.replace(/VISIBLE\((\w+)(?:, (\w+))?\)/g, (_, table: string, alias?: string) => {
    const condition = visible(user, table);
    // Columns of an aliased row are qualified by a subquery of it: (select … from (select alias.*)).
    return alias
      ? `exists (select 1 from "${table}" v where v.id = ${alias}.id and ${condition})`
      : condition;
  });
}

/**
 * Each layer alone must hold: with both on, the database's policies would hide a row the gateway's
 * filter let through (and the other way round).
 */
export const LAYERS = [
  ['both layers', {}],
  ['the gateway alone', { databaseLayer: false }],
  ['the database alone', { applicationRowFilter: false }],
] as const;

/** A gateway per layer setup of LAYERS, each with every demo user signed in. */
export type LayerGateways = Map<string, { t: TestGateway; callerOf: (userId: string) => Caller }>;

export async function startLayerGateways(): Promise<LayerGateways> {
  const layers: LayerGateways = new Map();
  for (const [name, options] of LAYERS) {
    const gateway = await startTestGateway(options);
    layers.set(name, {
      t: gateway,
      callerOf: await signIn(
        gateway,
        USERS.map((user) => user.id),
      ),
    });
  }
  return layers;
}

/**
 * The gateways of LAYERS for a test file: started before its tests, closed after them. `run` asks one
 * of them as a demo user; `both` is the gateway with both layers, whose database the oracle reads.
 */
export function layerGateways() {
  let layers: LayerGateways;
  beforeAll(async () => {
    layers = await startLayerGateways();
  });
  afterAll(async () => {
    for (const layer of layers.values()) await layer.t.close();
  });
  return {
    get: (layer: string) => layers.get(layer)!,
    get both(): TestGateway {
      return layers.get('both layers')!.t;
    },
    run: (layer: string, user: DemoUser | string, query: string, variables: Record<string, unknown> = {}) =>
      layers
        .get(layer)!
        .t.execute(
          parse(query) as never,
          variables,
          layers.get(layer)!.callerOf(typeof user === 'string' ? user : user.id),
        ),
  };
}
