/** `npm run schema:emit`: writes schema/schema.graphql from the entity classes. */
import { writeFile } from 'node:fs/promises';
import { emitSchemaText, SCHEMA_FILE } from '../schema-file.js';

await writeFile(SCHEMA_FILE, await emitSchemaText());
console.log(`Wrote ${SCHEMA_FILE}`);
