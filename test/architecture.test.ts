import { readdir, readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Customer } from '../demo/northwind/entities/index.js';
import { startTestGateway, type TestGateway } from './helpers/test-gateway.js';

describe('every database access goes through the request’s EntityManager fork', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ empty: true });
  });
  afterAll(() => t?.close());

  it('the global EntityManager refuses to query', async () => {
    await expect(t.orm.em.find(Customer, {})).rejects.toThrow(/global EntityManager/);
  });

  it.each([
    ['em.createQueryBuilder(Customer)', 'createQueryBuilder'],
    ['em.qb(Customer)', 'qb'],
    ["em.getReference(Customer, 'ALFKI')", 'getReference'],
    ["em.upsert(Customer, { id: 'X' })", 'upsert'],
    ["em.nativeDelete(Customer, { id: 'X' })", 'nativeDelete'],
    ["em.execute('select 1')", 'execute'],
    ["em.getConnection().execute('select 1')", 'getConnection'],
    ['em.find(Customer, {}, { filters: false })', 'filters: false'],
    ['dangerouslyBypassRowSecurity(em)', 'dangerouslyBypassRowSecurity'],
  ])('the linter rejects `%s` in the API layer', async (call, rule) => {
    const eslint = new ESLint({ cwd: process.cwd() });
    const code = `import { type EntityManager } from '@mikro-orm/postgresql';\nimport { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';\nimport { Customer } from '../../demo/northwind/entities/index.js';\nexport const probe = (em: EntityManager) => ${call};\n`;
    const [report] = await eslint.lintText(code, { filePath: 'src/api/probe.ts' });
    const messages = report!.messages
      .filter((m) => m.ruleId === 'no-restricted-syntax')
      .map((m) => m.message);
    expect(messages.some((message) => message.includes(rule))).toBe(true);
  });
});

describe('the tests never depend on the served domain', () => {
  it('import no module of domain/, and load domain/ and schema/ only to check schema/', async () => {
    const files = [
      ...(await readdir('test', { recursive: true })).map((f) => `test/${f}`),
      ...(await readdir('bench', { recursive: true })).map((f) => `bench/${f}`),
    ].filter((file) => file.endsWith('.ts') && !file.startsWith('test/imported-'));
    const offending: string[] = [];
    for (const file of files) {
      const source = await readFile(file, 'utf8');
      if (/from '(\.\.\/)+domain\//.test(source)) offending.push(`${file} imports domain/`);
      if (/loadDomain\('domain'\)/.test(source) && file !== 'test/schema/schema-file.test.ts')
        offending.push(`${file} loads the served domain`);
      // schema/ is the served domain's too (db:import rewrites it).
      if (
        /['/]schema\/(schema\.graphql|operations|__generated__)/.test(source) &&
        !file.startsWith('test/schema/')
      )
        offending.push(`${file} reads the served schema/`);
    }
    // db:import replaces domain/ and schema/, never demo/: the tests and benchmarks that use the demo
    // (demo/northwind/) stay green after an import (SPEC §9).
    expect(offending).toEqual([]);
  });
});

/**
 * The engine's modules (src/, security/, auth-providers/, postgres/) and the imports between them,
 * type-only imports included: `module → the modules it imports`, as TypeScript reads the import
 * declarations.
 */
const engineImports = () => importsOf(['src', 'security', 'auth-providers', 'postgres']);

/** The modules under `folders` and the project files each imports (relative imports only). */
async function importsOf(folders: string[]): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const folder of folders) {
    for (const file of await readdir(folder, { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const path = `${folder}/${file}`;
      const { importedFiles } = ts.preProcessFile(await readFile(path, 'utf8'), true, false);
      graph.set(
        path,
        importedFiles
          .map((imported) => imported.fileName)
          .filter((name) => name.startsWith('.'))
          .map((name) => relative('.', resolve(dirname(path), name.replace(/\.js$/, '.ts')))),
      );
    }
  }
  return graph;
}

/** The groups of modules that import one another in a circle (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (module: string) => {
    index.set(module, index.size);
    low.set(module, index.get(module)!);
    stack.push(module);
    for (const imported of graph.get(module) ?? []) {
      if (!graph.has(imported)) continue;
      if (!index.has(imported)) {
        visit(imported);
        low.set(module, Math.min(low.get(module)!, low.get(imported)!));
      } else if (stack.includes(imported)) low.set(module, Math.min(low.get(module)!, index.get(imported)!));
    }
    if (low.get(module) !== index.get(module)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      component.push(top);
      if (top === module) break;
    }
    if (component.length > 1 || graph.get(module)?.includes(module)) found.push(component.sort());
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return found;
}

/** Which modules may not import which: each layer is used by those above it and never uses them. */
const LAYERS: { from: RegExp; mayNotImport: RegExp }[] = [
  { from: /^security\/system\//, mayNotImport: /^(src|auth-providers)\// },
  { from: /^src\/db\//, mayNotImport: /^src\/tools\// },
  // security/database runs on src/db: a provider that imported it would reach the engine through it.
  { from: /^auth-providers\//, mayNotImport: /^(src|security\/database)\// },
  { from: /^postgres\//, mayNotImport: /^(src|security|auth-providers)\// },
];

/** Every import in `graph` that one of the LAYERS forbids, as `module → imported`. */
function layerCrossings(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([module, imported]) =>
    LAYERS.filter(({ from }) => from.test(module)).flatMap(({ mayNotImport }) =>
      imported.filter((path) => mayNotImport.test(path)).map((path) => `${module} → ${path}`),
    ),
  );
}

describe('the engine’s modules', () => {
  it('import one another without a cycle, type-only imports included', async () => {
    const graph = await engineImports();
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });

  it('never import a domain: not the demo, not the served domain/', async () => {
    const graph = await engineImports();
    const domainImports = [...graph].flatMap(([module, imported]) =>
      imported.filter((path) => /^(demo|domain)\//.test(path)).map((path) => `${module} → ${path}`),
    );
    expect(domainImports).toEqual([]);
  });

  it('are reached by the demo through the public entry (src/index.ts) alone, as an imported domain is', async () => {
    const graph = await importsOf(['demo']);
    expect(graph.size).toBeGreaterThan(20);
    const reaching = [...graph].flatMap(([module, imported]) =>
      imported
        .filter((path) => /^(src|security|auth-providers|postgres)\//.test(path) && path !== 'src/index.ts')
        .map((path) => `${module} → ${path}`),
    );
    expect(reaching).toEqual([]);
  });

  it('keep their layers: the security model imports no runtime, the runtime no developer tool, a provider nothing of the engine, postgres/ nothing of the project', async () => {
    expect(layerCrossings(await engineImports())).toEqual([]);
  });

  it('finds an import that crosses a layer, so the check above can fail: the SQL provider’s imports of src/ before it stopped', () => {
    const graph = new Map([
      ['auth-providers/sql/user-store.ts', ['src/db/pg-transaction.ts', 'auth-providers/auth-provider.ts']],
      ['auth-providers/sql/cli.ts', ['src/config.ts', 'auth-providers/sql/user-store.ts']],
      ['auth-providers/auth-provider.ts', ['security/system/identity.ts']],
      ['auth-providers/ldap/ldap.provider.ts', ['security/database/database-role.ts']],
      ['security/system/identity.ts', ['src/context.ts']],
      ['src/db/database.ts', ['src/tools/cli/seed.ts', 'postgres/pg-transaction.ts']],
      ['src/tools/cli/auth-users.ts', ['auth-providers/sql/user-store.ts', 'src/db/database.ts']],
      ['postgres/sql-migrations.ts', ['src/logger.ts', 'postgres/pg-transaction.ts']],
    ]);
    expect(layerCrossings(graph)).toEqual([
      'auth-providers/sql/user-store.ts → src/db/pg-transaction.ts',
      'auth-providers/sql/cli.ts → src/config.ts',
      'auth-providers/ldap/ldap.provider.ts → security/database/database-role.ts',
      'security/system/identity.ts → src/context.ts',
      'src/db/database.ts → src/tools/cli/seed.ts',
      'postgres/sql-migrations.ts → src/logger.ts',
    ]);
  });

  it('finds a cycle where there is one, so the check above can fail', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});

/**
 * A call that edits or searches a value named as SQL (`sql`, `query`, `statement`, `…Sql`) as text:
 * how rendered SQL used to be patched (a marker spliced, an alias replaced, a clause cut out).
 */
const SQL_TEXT_EDIT =
  /\b\w*(sql|query|statement)\w*\s*\.\s*(replace|replaceAll|slice|substring|substr|indexOf|lastIndexOf|split|match|search)\(/i;

/** The lines of the engine's modules that edit SQL as text, as `file:line: code`. */
async function sqlTextEdits(): Promise<string[]> {
  const found: string[] = [];
  for (const folder of ['src', 'security', 'auth-providers', 'postgres']) {
    for (const file of await readdir(folder, { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const lines = (await readFile(`${folder}/${file}`, 'utf8')).split('\n');
      lines.forEach((line, index) => {
        if (SQL_TEXT_EDIT.test(line)) found.push(`${folder}/${file}:${index + 1}: ${line.trim()}`);
      });
    }
  }
  return found;
}

describe('the engine’s SQL', () => {
  it('is composed from fragments and never edited as text once rendered', async () => {
    expect(await sqlTextEdits()).toEqual([]);
  });

  it('would be caught edited: the four edits the read path and explain once made', () => {
    for (const line of [
      'sql: sql.slice(0, at) + value.sql + sql.slice(at + VALUE_MARKER.length),',
      '`exists (${sql.replace(OUTER_ROW_KEY, `${row}.${quoteIdentifier(foreignKey)}`)})`,',
      "return sql.slice(sql.indexOf(' where ') + ' where '.length);",
      'const statement = rendered.sql; statement.replaceAll(table, byKey);',
    ])
      expect(line).toMatch(SQL_TEXT_EDIT);
  });
});
