import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { type EntityExplanation, type Explanation } from './explain-user.js';

/** Who the explanation is for, as one line: id, roles and attributes. */
export function describeUser(user: AuthUser): string {
  const roles = user.roles.length > 0 ? user.roles.join(', ') : 'none (public)';
  const attributes = Object.entries(user.attributes)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(', ');
  return `${user.id} — roles: ${roles}${attributes ? `; ${attributes}` : ''}`;
}

/** Each verb and whether the user has it, aggregating among them (the console shows the same). */
export function permissionsOf(entity: EntityExplanation): [string, boolean][] {
  return [...Object.entries(entity.verbs), ['aggregate', entity.aggregate]];
}

/** `read ✓  create ✓  update ✓  delete ✗  aggregate ✓` */
export function verbsLine(entity: EntityExplanation): string {
  return permissionsOf(entity)
    .map(([verb, allowed]) => `${verb} ${allowed ? '✓' : '✗'}`)
    .join('  ');
}

export function rowsText(entity: EntityExplanation): string {
  return entity.rows === undefined ? 'may not read' : `${entity.rows} row${entity.rows === 1 ? '' : 's'}`;
}

/** One entity for one user, indented under the entity's heading. */
function entityBlock(entity: EntityExplanation, indent: string): string[] {
  return [
    `${indent}${verbsLine(entity)}   ${rowsText(entity)}`,
    ...entity.rules.map((rule) => `${indent}  ${rule.kind.padEnd(16)} ${rule.label}`),
    `${indent}  ${'predicate'.padEnd(16)} ${entity.predicate}`,
  ];
}

/**
 * The terminal form of `security:explain`: one section per entity; with a second user, each entity
 * shows both, one under the other, so differences line up.
 */
export function explanationText(users: AuthUser[], explanations: Explanation[]): string {
  const lines = users.map((user, index) => `${index === 0 ? 'User' : 'Compared with'} ${describeUser(user)}`);
  for (const entityName of Object.keys(explanations[0]!.entities)) {
    lines.push('', entityName);
    explanations.forEach((explanation, index) => {
      if (explanations.length > 1) lines.push(`  ${users[index]!.id}:`);
      lines.push(...entityBlock(explanation.entities[entityName]!, explanations.length > 1 ? '    ' : '  '));
    });
  }
  return lines.join('\n');
}
