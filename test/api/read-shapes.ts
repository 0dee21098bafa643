/**
 * The shapes of read the compiler is held to, each with who asks: the golden files of
 * read-golden.test.ts record their SQL and answers, and test/http/answers.test.ts checks that each
 * answer PostgreSQL writes is byte for byte the one graphql-js completes.
 */
export const SHAPES: { name: string; user: string; document: string }[] = [
  {
    name: 'list-filtered-sorted',
    user: 'u1',
    document:
      '{ customers(limit: 3, where: { city: { eq: "London" } }, orderBy: [{ companyName: DESC }]) { id companyName city } }',
  },
  {
    name: 'nested-to-one-and-to-many',
    user: 'u1',
    document:
      '{ orders(limit: 2) { id customer { companyName } details(limit: 2) { quantity product { productName category { categoryName } } } } }',
  },
  { name: 'by-key', user: 's1', document: '{ order(id: "1") { id shipCity customer { id } } }' },
  { name: 'count-through-a-scope', user: 'u1', document: '{ ordersCount orderDetailsCount }' },
  {
    name: 'relation-count-and-page',
    user: 'u2',
    document: '{ customers(limit: 2) { id ordersCount orders(limit: 1, orderBy: [{ id: DESC }]) { id } } }',
  },
  {
    name: 'refused-field',
    user: 's1',
    document: '{ employees(limit: 2) { id lastName salary } }',
  },
  {
    name: 'refused-field-nested',
    user: 'u1',
    document: '{ departments(limit: 2) { id employees(limit: 1) { id salary } } }',
  },
  {
    name: 'to-many-where-sort-page',
    user: 'u1',
    document:
      '{ customers(limit: 2) { id orders(where: { freight: { gt: 20 } }, orderBy: [{ freight: DESC }], limit: 2, offset: 1) { id freight } } }',
  },
  {
    name: 'aliases-of-one-relation',
    user: 'u2',
    document:
      '{ customers(limit: 2) { ...names first: orders(limit: 1, orderBy: [{ orderDate: ASC }]) { id orderDate } last: orders(limit: 1, orderBy: [{ orderDate: DESC }]) { id orderDate } } } fragment names on Customer { id companyName }',
  },
  // s1 sees the employees of its region only and no restricted department: a hidden row's id is
  // null to the filter and the sort, as it is to the selection.
  {
    name: 'relation-ids-of-hidden-rows',
    user: 's1',
    document:
      '{ employees(where: { worksForDepartmentId: { isNull: false } }, orderBy: [{ reportsToId: DESC }], limit: 4) { id worksForDepartment { id } reportsTo { id } } }',
  },
  {
    name: 'nested-relation-ids-of-hidden-rows',
    user: 's1',
    document:
      '{ customers(limit: 2) { id orders(where: { employeeId: { isNull: false } }, orderBy: [{ employeeId: DESC }, { id: ASC }], limit: 2) { id employee { id region } } } }',
  },
  // The same document as a tenant and as a manager: restricted departments are for managers.
  ...(['u1', 'u2'] as const).map((user) => ({
    name: `restricted-rows-as-${user}`,
    user,
    document:
      '{ departments(limit: 5) { id securityLevel parent { id } children(limit: 3) { id securityLevel } } }',
  })),
  // ALFKI's customer grant admits its own record only, though its tenant holds others.
  {
    name: 'by-key-own-and-others',
    user: 'ALFKI',
    document:
      '{ own: customer(id: "ALFKI") { id orders(limit: 2, orderBy: [{ orderDate: DESC }]) { id orderDate } } sameTenant: customer(id: "AVONB") { id } otherTenant: customer(id: "ANATR") { id } }',
  },
  // Suppliers are shared, their products are not: each level keeps its own rows' condition.
  {
    name: 'shared-parent-tenant-children',
    user: 'u1',
    document: '{ suppliers(limit: 2) { id products(limit: 3) { id discontinued category { clientId } } } }',
  },
  // A nested argument out of bounds is that field's error, at its path, and the statement leaves the
  // field out (the null then runs up the non-null list types to `data`).
  {
    name: 'bad-nested-argument',
    user: 'u1',
    document: '{ customers(limit: 2) { id orders(limit: 5000) { id } } }',
  },
];
