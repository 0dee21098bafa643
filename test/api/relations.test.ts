import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownDomain } from '../helpers/own-domain.js';
import { signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { RELATIONS_USERS, relationsDomain } from './relations-domain.js';

type Id = { id: string };
type Where = Record<string, unknown>;

// Nested lists carry explicit limits above the domain's largest families (9 reports of one pupil, 7
// marks of one report), so the whole tree of up to 25 pupils fits MAX_RESULT_OBJECTS.
const PupilMarkTree = parse(`query ($limit: Int = 25) {
  pupils(limit: $limit) {
    id
    reports(limit: 40) { id marks(limit: 30) { id course { id subject { id } } } }
  }
}`) as TypedDocumentNode<
  {
    pupils: (Id & {
      reports: (Id & { marks: (Id & { course: (Id & { subject: Id | null }) | null })[] })[];
    })[];
  },
  { limit?: number }
>;

const PupilsWithRecentReports =
  parse(`query ($pupilWhere: PupilWhere, $reportLimit: Int, $reportOffset: Int) {
  pupils(where: $pupilWhere, orderBy: [{ id: ASC }]) {
    id
    reports(orderBy: [{ issuedAt: DESC }], limit: $reportLimit, offset: $reportOffset) {
      id
      issuedAt
      pupil { id }
    }
  }
}`) as TypedDocumentNode<
    { pupils: (Id & { reports: (Id & { issuedAt: string; pupil: Id | null })[] })[] },
    { pupilWhere?: Where; reportLimit?: number; reportOffset?: number }
  >;

type UpwardMark = Id & {
  report: Id & {
    pupil: (Id & { clientId: number | null }) | null;
    tutor: (Id & { faculty: (Id & { parent: Id | null }) | null }) | null;
  };
};
const MarksUpward = parse(`query ($limit: Int) {
  marks(limit: $limit, orderBy: [{ id: ASC }]) {
    id
    report { id pupil { id clientId } tutor { id faculty { id parent { id } } } }
  }
}`) as TypedDocumentNode<{ marks: UpwardMark[] }, { limit?: number }>;

const FacultyTree = parse(`{
  faculties(where: { parentId: { isNull: true } }, orderBy: [{ id: ASC }], limit: 10) {
    id
    children(orderBy: [{ id: ASC }], limit: 20) {
      id
      parent { id }
      children(orderBy: [{ id: ASC }], limit: 20) { id }
      teachers(limit: 50) { id reportsTo { id } }
    }
  }
}`) as TypedDocumentNode<
  {
    faculties: (Id & {
      children: (Id & { parent: Id | null; children: Id[]; teachers: (Id & { reportsTo: Id | null })[] })[];
    })[];
  },
  Record<string, never>
>;

const SubjectCourses = parse(`query ($courseWhere: CourseWhere) {
  subjects(orderBy: [{ id: ASC }]) {
    id
    courses(where: $courseWhere, orderBy: [{ id: ASC }]) { id withdrawn subject { id } }
  }
}`) as TypedDocumentNode<
  { subjects: (Id & { courses: (Id & { withdrawn: boolean; subject: Id | null })[] })[] },
  { courseWhere?: Where }
>;

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ empty: true, prepare: true, domain: await ownDomain(relationsDomain) });
  // The first statement of a new pool also checks the database exists; keep it out of the counts.
  await t.execute(PupilMarkTree, { limit: 1 });
});
afterAll(() => t?.close());

async function sqlRows<T = Record<string, unknown>>(query: string): Promise<T[]> {
  return (await t.db.sql.query(query)).rows as T[];
}

/** SQL's count of `query`'s rows. */
async function sqlCount(query: string): Promise<number> {
  const [row] = await sqlRows<{ count: string }>(`select count(*) from (${query}) counted`);
  return Number(row!.count);
}

/** An id as GraphQL answers it (ID is a string), or null. */
const id = (value: unknown) => (value === null ? null : String(value));

describe('no N+1: one statement per root field, whatever the depth and the number of rows', () => {
  it.each([1, 5, 25])('pupils(limit: %i) { reports { marks { course { subject } } } }', async (limit) => {
    const result = await t.executeCountingSql(PupilMarkTree, { limit });
    expect(result.errors).toBeUndefined();
    const pupils = result.data!.pupils;
    expect(pupils).toHaveLength(Math.min(limit, await sqlCount('select id from pupil')));
    const marks = pupils.flatMap((p) => p.reports.flatMap((r) => r.marks));
    if (limit === 25) expect(marks.length).toBeGreaterThan(500);
    // pupils, reports, marks, courses, subjects: five levels, one statement, in which each level is
    // its own table's select (a correlated subquery), never a join.
    expect(result.statements).toHaveLength(1);
    expect(result.statements[0]!.match(/from "(\w+)"/g)!.sort()).toEqual([
      'from "course"',
      'from "mark"',
      'from "pupil"',
      'from "report"',
      'from "subject"',
    ]);
    expect(result.statements[0]).not.toMatch(/\bjoin\b/);
  });

  it('returns the same tree SQL builds with joins', async () => {
    const result = await t.execute(PupilMarkTree, { limit: 25 });
    const fromGateway = result.data!.pupils.flatMap((p) =>
      p.reports.flatMap((r) =>
        r.marks.map((m) => [p.id, r.id, m.id, m.course?.id, m.course?.subject?.id].join('/')),
      ),
    );
    const expected = await sqlRows<{ path: string }>(`
      select concat_ws('/', p.id, r.id, m.id, c.id, c.subject_id) as path
      from (select id from pupil order by id limit 25) p
      join report r on r.pupil_id = p.id
      join mark m on m.report_id = r.id
      join course c on c.id = m.course_id
      order by p.id, r.id, m.id`);
    expect(fromGateway).toEqual(expected.map((row) => row.path));
  });

  it('reads the to-one direction in the same statement too', async () => {
    const result = await t.executeCountingSql(MarksUpward, { limit: 500 });
    expect(result.errors).toBeUndefined();
    // marks, their reports, pupils, tutors, faculties and parent faculties: one statement.
    expect(result.statements).toHaveLength(1);
    const rows = await sqlRows<Record<string, string | number | null>>(`
      select m.id, r.id as report_id, p.id as pupil_id, p.client_id, t.id as tutor_id,
        f.id as faculty_id, f.parent_id
      from mark m join report r on r.id = m.report_id join pupil p on p.id = r.pupil_id
      left join teacher t on t.id = r.tutor_id left join faculty f on f.id = t.faculty_id
      order by m.id limit 500`);
    const expected: UpwardMark[] = rows.map((row) => ({
      id: id(row.id)!,
      report: {
        id: id(row.report_id)!,
        pupil: { id: id(row.pupil_id)!, clientId: row.client_id as number | null },
        tutor:
          row.tutor_id === null
            ? null
            : {
                id: id(row.tutor_id)!,
                faculty:
                  row.faculty_id === null
                    ? null
                    : {
                        id: id(row.faculty_id)!,
                        parent: row.parent_id === null ? null : { id: id(row.parent_id)! },
                      },
              },
      },
    }));
    expect(result.data!.marks).toEqual(expected);
  });
});

describe('nested to-many arguments apply per parent', () => {
  it('limit, offset and orderBy select each pupil’s own most recent reports, in one statement', async () => {
    const result = await t.executeCountingSql(PupilsWithRecentReports, {
      pupilWhere: { id: { in: ['P001', 'P002', 'P003'] } },
      reportLimit: 2,
      reportOffset: 1,
    });
    expect(result.errors).toBeUndefined();
    expect(result.statements).toHaveLength(1); // pupils, their reports, and the reports' pupil
    const pupils = result.data!.pupils;
    expect(pupils.map((p) => p.id)).toEqual(['P001', 'P002', 'P003']);
    expect(pupils.flatMap((p) => p.reports).length).toBeGreaterThan(0);
    for (const pupil of pupils) {
      // Reports share their dates of issue: the primary key breaks the ties.
      const expected = await sqlRows<{ id: number }>(
        `select id from report where pupil_id = '${pupil.id}' order by issued_at desc, id asc limit 2 offset 1`,
      );
      expect(pupil.reports.map((r) => r.id)).toEqual(expected.map((row) => String(row.id)));
      expect(pupil.reports.every((r) => r.pupil?.id === pupil.id)).toBe(true);
    }
  });

  it('where filters the children, not the parents', async () => {
    const result = await t.execute(SubjectCourses, { courseWhere: { withdrawn: { eq: true } } });
    const subjects = result.data!.subjects;
    expect(subjects).toHaveLength(await sqlCount('select id from subject'));
    const courses = subjects.flatMap((s) => s.courses);
    expect(courses.every((c) => c.withdrawn)).toBe(true);
    expect(courses.map((c) => c.id).sort()).toEqual(
      (await sqlRows<{ id: number }>('select id from course where withdrawn and subject_id is not null'))
        .map((row) => String(row.id))
        .sort(),
    );
  });

  it('self-references resolve in both directions', async () => {
    const result = await t.execute(FacultyTree, {});
    expect(result.errors).toBeUndefined();
    const roots = await sqlRows<{ id: number }>('select id from faculty where parent_id is null order by id');
    expect(result.data!.faculties.map((f) => f.id)).toEqual(roots.map((row) => String(row.id)));
    const [root] = result.data!.faculties;
    const children = await sqlRows<{ id: number }>(
      `select id from faculty where parent_id = ${root!.id} order by id`,
    );
    expect(root!.children.map((f) => f.id)).toEqual(children.map((row) => String(row.id)));
    for (const child of root!.children) {
      expect(child.parent?.id).toBe(root!.id);
      const grandChildren = await sqlRows<{ id: number }>(
        `select id from faculty where parent_id = ${child.id} order by id`,
      );
      expect(child.children.map((f) => f.id)).toEqual(grandChildren.map((row) => String(row.id)));
      const teachers = await sqlRows<{ id: number; reports_to_id: number | null }>(
        `select id, reports_to_id from teacher where faculty_id = ${child.id} order by id`,
      );
      expect(child.teachers.map((teacher) => [teacher.id, teacher.reportsTo?.id ?? null])).toEqual(
        teachers.map((row) => [id(row.id), id(row.reports_to_id)]),
      );
    }
    const teachersWithManager = root!.children.flatMap((f) => f.teachers).filter((e) => e.reportsTo);
    expect(teachersWithManager.length).toBeGreaterThan(0);
  });

  it('a nested limit above 1000 is refused like a top-level one', async () => {
    const result = await t.execute(PupilsWithRecentReports, { reportLimit: 1001 });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(/limit must be between 0 and 1000/);
  });
});

describe("a to-many relation's count", () => {
  type Counted = {
    pupils: {
      reports: { absences: number | null }[];
      reportsCount: number;
      oftenAbsent: number;
    }[];
    subjects: { courses: unknown[]; coursesCount: number }[];
  };
  const document = parse(`{
    pupils(limit: 200) { reports(limit: 200) { absences } reportsCount oftenAbsent: reportsCount(where: { absences: { gt: 5 } }) }
    subjects(limit: 100) { courses(limit: 200) { id } coursesCount } }`) as TypedDocumentNode<
    Counted,
    Record<string, never>
  >;

  it('counts exactly the rows its list holds, for every user, with and without where, in the same statement', async () => {
    const caller = await signIn(t, RELATIONS_USERS);
    for (const user of RELATIONS_USERS) {
      const result = await t.executeCountingSql(document, {}, caller(user));
      expect(result.errors, user).toBeUndefined();
      // Two root fields, two statements: the counts are read with their parents' rows.
      expect(result.statements, user).toHaveLength(2);
      const { pupils, subjects } = result.data!;
      expect(pupils.length, user).toBeGreaterThan(0);
      for (const pupil of pupils) {
        expect(pupil.reportsCount).toBe(pupil.reports.length);
        expect(pupil.oftenAbsent).toBe(pupil.reports.filter((report) => (report.absences ?? 0) > 5).length);
      }
      for (const subject of subjects) expect(subject.coursesCount).toBe(subject.courses.length);
    }
  });

  it("counts none of another tenant's rows: a school's pupils' reports as SQL counts them", async () => {
    const result = await t.execute(document, {}, await t.callerFor('staff1'));
    const reports = await sqlCount(
      'select r.id from report r join pupil p on p.id = r.pupil_id where p.client_id = 1',
    );
    const counted = result.data!.pupils.reduce((sum, pupil) => sum + pupil.reportsCount, 0);
    expect(counted).toBe(reports);
    expect(counted).toBeLessThan(await sqlCount('select id from report'));
  });

  it('leaves out the children a filter hides: withdrawn courses from staff, not from heads', async () => {
    const coursesOf = (clientId: number, withdrawn: string) =>
      sqlCount(`select c.id from course c join subject s on s.id = c.subject_id
        where s.client_id = ${clientId} and ${withdrawn}`);
    const counted = async (user: string) =>
      (await t.execute(document, {}, await t.callerFor(user))).data!.subjects.reduce(
        (sum, subject) => sum + subject.coursesCount,
        0,
      );
    const staffCounted = await counted('staff1');
    expect(staffCounted).toBe(await coursesOf(1, 'not c.withdrawn'));
    expect(staffCounted).toBeLessThan(await coursesOf(1, 'true'));
    const headCounted = await counted('head2');
    expect(headCounted).toBe(await coursesOf(2, 'true'));
    expect(headCounted).toBeGreaterThan(await coursesOf(2, 'not c.withdrawn'));
  });
});
