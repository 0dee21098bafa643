import { AFTER } from './connection-page.js';

const FIELDS = 'id companyName contactName city country';

/**
 * The read shapes the benches load (`npm run bench`, `npm run bench:request-cpu`): the five of
 * compare.sh (S1–S5) and six more, with the user each is asked as.
 */
export const SHAPES = [
  { id: 'S1', user: 's1', what: 'its customers', query: '{ customers { id companyName } }' },
  {
    id: 'S2',
    user: 'u1',
    what: 'first 100 customers, 5 fields',
    query: `{ customers(limit: 100) { ${FIELDS} } }`,
  },
  {
    id: 'S3',
    user: 'u1',
    what: '50 orders + customer + lines + product + category',
    query:
      '{ orders(limit: 50) { id customer { companyName } details { quantity product { productName category { categoryName } } } } }',
  },
  { id: 'S4', user: 'u1', what: 'count of customers', query: '{ customersCount }' },
  {
    id: 'S5',
    user: 'sa',
    what: "S2's rows by an explicit where",
    query: `{ customers(limit: 100, where: { clientId: { eq: 1 } }) { ${FIELDS} } }`,
  },
  // Beyond compare.sh: per-parent pages with a filter and a sort, and counts through the scopes.
  {
    id: 'X1',
    user: 'u1',
    what: '20 customers, each its 3 latest orders over a freight, 2 lines each',
    query:
      '{ customers(limit: 20, orderBy: [{ companyName: ASC }]) { id orders(limit: 3, orderBy: [{ orderDate: DESC }], where: { freight: { gt: 10 } }) { id freight details(limit: 2) { quantity } } } }',
  },
  {
    id: 'X2',
    user: 'u1',
    what: 'orders counted through the scope (grows with the data)',
    query: '{ ordersCount }',
  },
  // Issue 27: an aggregate, a group-by, a relation filter and a connection page, each over the orders
  // the scope lets u1 read (all of them grow with the data but X6's page).
  {
    id: 'X3',
    user: 'u1',
    what: 'its orders aggregated: count, sum/avg freight, min/max freight and date',
    query:
      '{ ordersAggregate { count sum { freight } avg { freight } min { freight orderDate } max { freight orderDate } } }',
  },
  {
    id: 'X4',
    user: 'u1',
    what: 'its orders grouped by ship country: count, sum freight, by country',
    query:
      '{ ordersGroupBy(by: [shipCountry], orderBy: [{ key: { shipCountry: ASC } }]) { key { shipCountry } count sum { freight } } }',
  },
  {
    id: 'X5',
    user: 'u1',
    what: 'customers with some order over 100 freight (relation filter), by id',
    query:
      '{ customers(limit: 100, where: { orders: { some: { freight: { gt: 100 } } } }, orderBy: [{ id: ASC }]) { id companyName } }',
  },
  {
    id: 'X6',
    user: 'u1',
    what: 'connection: the 50 orders after the first 50 by date desc, totalCount',
    // The page after the first one's end cursor (connection-page.ts).
    query: `{ ordersConnection(first: 50${AFTER}, orderBy: [{ orderDate: DESC }]) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id orderDate freight } } } }`,
  },
];
