import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * A relation id is a value of the related row (SPEC §5): sorting and filtering by it never reveal the
 * id of a related row the caller cannot see. Employees stay visible when their department is hidden
 * (departments with a security level are for managers), so `worksForDepartmentId` is the probe.
 */
let t: TestGateway;
let tenant: Caller;
let sales: Caller;
beforeAll(async () => {
  t = await startTestGateway();
  tenant = await t.callerFor('u1');
  sales = await t.callerFor('s1');
});
afterAll(() => t?.close());

async function employees(query: string, caller = tenant) {
  const result = await t.execute(parse(query) as never, {}, caller);
  expect(result.errors).toBeUndefined();
  return result.data as { employees: { id: string; worksForDepartment: { id: string } | null }[] };
}

describe('relation ids of hidden rows', () => {
  it('sort as null, so a hidden department is not placed by its id', async () => {
    const { rows } = await t.db.sql.query(
      `select e.id, case when d.security_level = 0 then d.id end as department
         from employee e left join department d on d.id = e.works_for_department_id
        order by 2 asc nulls last, 1`,
    );
    expect(rows.some((row) => row.department === null)).toBe(true);
    for (const direction of ['ASC', 'DESC']) {
      const data = await employees(
        `{ employees(limit: 1000, orderBy: [{ worksForDepartmentId: ${direction} }]) { id worksForDepartment { id } } }`,
      );
      const expected =
        direction === 'ASC'
          ? rows
          : [...rows].sort((a, b) => {
              // PostgreSQL's DESC puts nulls first; ties keep the primary key ascending.
              if (a.department === b.department) return a.id - b.id;
              if (a.department === null) return -1;
              if (b.department === null) return 1;
              return b.department - a.department;
            });
      expect(data.employees.map((e) => e.id)).toEqual(expected.map((row) => String(row.id)));
    }
  });

  it('sort as null in nested lists too (per-parent windows)', async () => {
    // s1 (sales, British Isles) sees employees of its region only, so a manager elsewhere is hidden.
    const { rows } = await t.db.sql.query(
      `select e.id, e.works_for_department_id as department,
              case when m.region = 'British Isles' then m.id end as manager
         from employee e left join employee m on m.id = e.reports_to_id
        where e.region = 'British Isles'
        order by 3 asc nulls last, 1`,
    );
    expect(rows.some((row) => row.manager === null)).toBe(true);
    const result = await t.execute(
      parse(
        '{ departments(limit: 100) { id employees(limit: 100, orderBy: [{ reportsToId: ASC }]) { id } } }',
      ) as never,
      {},
      sales,
    );
    expect(result.errors).toBeUndefined();
    const departments = (result.data as { departments: { id: string; employees: { id: string }[] }[] })
      .departments;
    for (const department of departments) {
      expect(department.employees.map((e) => e.id)).toEqual(
        rows.filter((row) => String(row.department) === department.id).map((row) => String(row.id)),
      );
    }
  });
});
