import 'reflect-metadata';
import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import {
  type AuthUser,
  BooleanColumn,
  DateTimeColumn,
  declareSecurity,
  GeneratedId,
  IntColumn,
  NaturalId,
  StringColumn,
  ToOne,
} from '../../src/index.js';
import { type OwnDomainSpec } from '../helpers/own-domain.js';

/**
 * The relation tests' own domain: a school district whose schools are its tenants. A pupil's
 * reports hold marks, each for a course of a subject — to-many, to-many, to-one, to-one: a tree five
 * tables deep, hundreds of marks under the first 25 pupils. Faculties form a tree of their own (a
 * parent and children) whose teachers report to one another, and tutor the reports. Withdrawn
 * courses are hidden from all but heads, and pupils are seen through grants by tutors, by pupils
 * themselves and by visitors, so the users' lists leave out children that the counts must leave out
 * too. Written as a domain is, with the engine's public entry (src/index.ts) alone.
 */

@Entity()
@ObjectType()
export class Faculty {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;

  @ToOne(() => Faculty, { nullable: true })
  parent?: Rel<Faculty> | null;

  @OneToMany(() => Faculty, (faculty) => faculty.parent)
  children = new Collection<Faculty>(this);

  @OneToMany(() => Teacher, (teacher) => teacher.faculty)
  teachers = new Collection<Teacher>(this);
}

@Entity()
@ObjectType()
export class Teacher {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;

  @ToOne(() => Faculty, { nullable: true })
  faculty?: Rel<Faculty> | null;

  @ToOne(() => Teacher, { nullable: true })
  reportsTo?: Rel<Teacher> | null;
}

@Entity()
@ObjectType()
export class Pupil {
  @NaturalId({ length: 8 })
  id!: string;

  @StringColumn({ length: 40 })
  name!: string;

  @IntColumn()
  year!: number;

  @StringColumn({ length: 20 })
  house!: string;

  @BooleanColumn({ default: true })
  listed!: boolean;

  @IntColumn({ nullable: true, index: true })
  clientId?: number | null;

  @OneToMany(() => Report, (report) => report.pupil)
  reports = new Collection<Report>(this);
}

@Entity()
@ObjectType()
export class Report {
  @GeneratedId()
  id!: number;

  @DateTimeColumn()
  issuedAt!: Date;

  @IntColumn({ nullable: true })
  absences?: number | null;

  @ToOne(() => Pupil, { nullable: false })
  pupil!: Rel<Pupil>;

  @ToOne(() => Teacher, { nullable: true })
  tutor?: Rel<Teacher> | null;

  @OneToMany(() => Mark, (mark) => mark.report)
  marks = new Collection<Mark>(this);
}

@Entity()
@ObjectType()
export class Subject {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;

  @IntColumn({ nullable: true, index: true })
  clientId?: number | null;

  @OneToMany(() => Course, (course) => course.subject)
  courses = new Collection<Course>(this);
}

@Entity()
@ObjectType()
export class Course {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;

  @BooleanColumn({ default: false })
  withdrawn!: boolean;

  @ToOne(() => Subject, { nullable: true })
  subject?: Rel<Subject> | null;
}

@Entity()
@ObjectType()
export class Mark {
  @GeneratedId()
  id!: number;

  @IntColumn()
  grade!: number;

  @ToOne(() => Report, { nullable: false })
  report!: Rel<Report>;

  @ToOne(() => Course, { nullable: false })
  course!: Rel<Course>;
}

// --- rows. Generated keys are left to the database (1, 2, … in the order below); the tests read
// the rows back with SQL rather than rely on any key.

/** Two roots; the first has children with and without children of their own. */
const FACULTIES: { name: string; parent: string | null }[] = [
  { name: 'Board', parent: null },
  { name: 'Sciences', parent: 'Board' },
  { name: 'Humanities', parent: 'Board' },
  { name: 'Arts', parent: 'Board' },
  { name: 'Physics', parent: 'Sciences' },
  { name: 'Chemistry', parent: 'Sciences' },
  { name: 'History', parent: 'Humanities' },
  { name: 'Languages', parent: 'Humanities' },
  { name: 'Administration', parent: null },
  { name: 'Admissions', parent: 'Administration' },
];

/** Everyone below the principal reports to another teacher, most of them in a faculty under the Board. */
const TEACHERS: { name: string; faculty: string | null; reportsTo: string | null }[] = [
  { name: 'Principal', faculty: 'Board', reportsTo: null },
  { name: 'Head of Sciences', faculty: 'Sciences', reportsTo: 'Principal' },
  { name: 'Head of Humanities', faculty: 'Humanities', reportsTo: 'Principal' },
  { name: 'Science technician', faculty: 'Sciences', reportsTo: 'Head of Sciences' },
  { name: 'Physics teacher', faculty: 'Physics', reportsTo: 'Head of Sciences' },
  { name: 'Chemistry teacher', faculty: 'Chemistry', reportsTo: 'Head of Sciences' },
  { name: 'History teacher', faculty: 'History', reportsTo: 'Head of Humanities' },
  { name: 'Art teacher', faculty: 'Arts', reportsTo: 'Principal' },
  { name: 'Librarian', faculty: 'Humanities', reportsTo: null },
  { name: 'Registrar', faculty: 'Admissions', reportsTo: 'Principal' },
  { name: 'Supply teacher', faculty: null, reportsTo: 'Head of Humanities' },
];

/** School 3 has subjects but no pupils and no user: rows no user of the tests may count. */
const SUBJECTS: { name: string; clientId: number; courses: [name: string, withdrawn?: 'withdrawn'][] }[] = [
  { name: 'Mathematics', clientId: 1, courses: [['Algebra'], ['Geometry'], ['Slide rules', 'withdrawn']] },
  {
    name: 'Science',
    clientId: 1,
    courses: [['Physics'], ['Chemistry'], ['Biology'], ['Alchemy', 'withdrawn']],
  },
  { name: 'Languages', clientId: 1, courses: [['French'], ['German'], ['Spanish']] },
  { name: 'History', clientId: 2, courses: [['Ancient'], ['Modern'], ['Folklore', 'withdrawn']] },
  { name: 'Art', clientId: 2, courses: [['Drawing'], ['Sculpture'], ['Pottery', 'withdrawn'], ['Film']] },
  { name: 'Music', clientId: 2, courses: [['Choir'], ['Orchestra']] },
  { name: 'Sport', clientId: 3, courses: [['Football'], ['Swimming', 'withdrawn']] },
];

const HOUSES = ['Oak', 'Ash', 'Elm', 'Yew'];

/** Every third pupil is school 2's, the others school 1's: both schools among the first 25. */
const PUPILS = Array.from({ length: 60 }, (_, i) => ({
  id: `P${String(i + 1).padStart(3, '0')}`,
  name: `Pupil ${i + 1}`,
  year: 1 + (i % 6),
  house: HOUSES[i % HOUSES.length]!,
  listed: i % 5 !== 4,
  clientId: i % 3 === 2 ? 2 : 1,
}));

/** Reports per pupil, by the pupil's index: some have none, none has more than the tests' limits. */
const REPORTS_PER_PUPIL = [6, 2, 0, 9, 4, 7, 3, 5, 8, 1];

/** Three dates of issue, so a pupil's reports share them and sorting by date must break ties by id. */
const ISSUE_DATES = [Date.UTC(2024, 0, 15), Date.UTC(2024, 4, 15), Date.UTC(2024, 8, 15)];

const REPORTS = PUPILS.flatMap((pupil, i) =>
  Array.from({ length: REPORTS_PER_PUPIL[i % REPORTS_PER_PUPIL.length]! }, (_, j) => ({
    pupil: pupil.id,
    issuedAt: new Date(ISSUE_DATES[j % ISSUE_DATES.length]!),
    absences: j % 4 === 3 ? null : (i * 3 + j * 5) % 12,
    tutor: (i + j) % 7 === 6 ? null : TEACHERS[(i + j) % TEACHERS.length]!.name,
    /** Three to seven marks each. */
    marks: 3 + ((i + j) % 5),
  })),
);

/**
 * A staff member of each school, a head of each (one with, one without the staff role), a tutor who
 * sees pupils through two grants, a pupil who sees their own record and a visitor (no role: public) through
 * the listed ones.
 */
const USERS: AuthUser[] = [
  { id: 'staff1', name: 'Staff One', roles: ['staff'], attributes: { clientId: 1 } },
  { id: 'staff2', name: 'Staff Two', roles: ['staff'], attributes: { clientId: 2 } },
  { id: 'head1', name: 'Head One', roles: ['head'], attributes: { clientId: 1 } },
  { id: 'head2', name: 'Head Two', roles: ['head', 'staff'], attributes: { clientId: 2 } },
  { id: 'tutor2', name: 'Tutor Two', roles: ['tutor'], attributes: { clientId: 2, house: 'Oak' } },
  { id: 'P001', name: 'Pupil 1', roles: ['pupil'], attributes: { clientId: 1 } },
  { id: 'visitor2', name: 'Visitor Two', roles: [], attributes: { clientId: 2 } },
];

/** Who the tests sign in, all with the demo password. */
export const RELATIONS_USERS = USERS.map((user) => user.id);

export const relationsDomain: OwnDomainSpec = {
  name: 'relations',
  entities: [Faculty, Teacher, Pupil, Report, Subject, Course, Mark],
  policy: declareSecurity(
    ({ rolePermission, tenantFilter, scope, sharedByAllTenants, globalFilter, grant }) => {
      // A school's staff may do everything with their school's rows.
      rolePermission('staff');

      // Heads, tutors, pupils and visitors may read, insert and update, but not delete.
      rolePermission(['head', 'tutor', 'pupil', 'public'], { delete: false });

      // Everyone but the superuser sees only the rows of their own school.
      tenantFilter('clientId', (currentUser) => ({ clientId: currentUser.clientId }), {
        rolesNotFiltered: ['sa'],
      });

      // A report is its pupil's school's, a mark its report's, a course its subject's.
      scope(Report, 'pupil');
      scope(Mark, 'report');
      scope(Course, 'subject');

      // The district's faculties and teachers serve every school.
      sharedByAllTenants(Faculty, Teacher);

      // Withdrawn courses are hidden from all but heads (and the superuser).
      globalFilter('withdrawn', () => ({ withdrawn: false }), { rolesNotFiltered: ['sa', 'head'] });

      // Tutors see the pupils of the last two years ...
      grant(Pupil, 'tutor', { filter: () => ({ year: { $gte: 5 } }) });

      // ... and those of their own house.
      grant(Pupil, 'tutor', { filter: (currentUser) => ({ house: currentUser.house as string }) });

      // A pupil sees their own record only.
      grant(Pupil, 'pupil', { filter: (currentUser) => ({ id: currentUser.id }) });

      // Visitors see the pupils who are listed.
      grant(Pupil, 'public', { filter: () => ({ listed: true }) });
    },
  ),
  seed(em) {
    const faculties = new Map<string, Faculty>();
    for (const { name, parent } of FACULTIES)
      faculties.set(
        name,
        em.create(Faculty, { name, parent: parent === null ? null : faculties.get(parent) }),
      );
    const teachers = new Map<string, Teacher>();
    for (const { name, faculty, reportsTo } of TEACHERS)
      teachers.set(
        name,
        em.create(Teacher, {
          name,
          faculty: faculty === null ? null : faculties.get(faculty),
          reportsTo: reportsTo === null ? null : teachers.get(reportsTo),
        }),
      );
    const coursesOfSchool = new Map<number, Course[]>();
    for (const { courses, ...subjectRow } of SUBJECTS) {
      const subject = em.create(Subject, subjectRow);
      for (const [name, withdrawn] of courses) {
        const course = em.create(Course, { name, withdrawn: withdrawn === 'withdrawn', subject });
        coursesOfSchool.set(subject.clientId!, [...(coursesOfSchool.get(subject.clientId!) ?? []), course]);
      }
    }
    // A withdrawn course of no subject: visible to the superuser alone, and no subject's child.
    em.create(Course, { name: 'Latin', withdrawn: true, subject: null });

    const pupils = new Map(PUPILS.map((row) => [row.id, em.create(Pupil, row)]));
    REPORTS.forEach(({ pupil: pupilId, tutor, marks, ...row }, r) => {
      const pupil = pupils.get(pupilId)!;
      const report = em.create(Report, {
        ...row,
        pupil,
        tutor: tutor === null ? null : teachers.get(tutor),
      });
      const courses = coursesOfSchool.get(pupil.clientId!)!;
      for (let m = 0; m < marks; m++)
        em.create(Mark, { grade: 1 + ((r + m) % 6), report, course: courses[(r + m) % courses.length]! });
    });
  },
  demoUsers: { users: USERS, loginAs: 'staff1' },
};
