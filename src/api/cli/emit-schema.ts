/**
 * `npm run schema:emit`: writes schema/schema.graphql from the served domain's entity classes (DOMAIN),
 * or `-- --domain <folder> --out <file>` another domain's (the demo's, which its typed documents use).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../../config.js';
import { loadDomain } from '../../domain.js';
import { emitSchemaText, SCHEMA_FILE } from '../schema-file.js';

const { values } = parseArgs({ options: { domain: { type: 'string' }, out: { type: 'string' } } });
const out = values.out ?? SCHEMA_FILE;
await writeFile(out, await emitSchemaText(await loadDomain(values.domain ?? loadConfigOrExit().domain)));
console.log(`Wrote ${out}`);
