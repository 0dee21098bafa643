import { type RowFilter } from './policy.js';

/** Why a filter cannot be captured as data: it reads something besides the current user, or computes. */
export class Uncapturable extends Error {}

/**
 * A user attribute read by a filter during symbolic evaluation. Computing with it (a string, a
 * number, a comparison) would make the condition depend on the user in a way SQL cannot mirror, so
 * any conversion throws and the filter is reported as not static.
 */
export class UserValue {
  constructor(readonly attribute: string) {}
  [Symbol.toPrimitive](): never {
    throw new Uncapturable(`it computes with currentUser.${this.attribute}`);
  }
}

/**
 * Calls the filter with a user whose every attribute is a placeholder, to see its shape; the
 * attributes it reads are added to `read`.
 */
export function symbolicCondition(filter: RowFilter, read = new Set<string>()): Record<string, unknown> {
  const currentUser = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (typeof key !== 'string') return undefined;
        read.add(key);
        return new UserValue(key);
      },
    },
  );
  let condition: unknown;
  try {
    condition = filter(currentUser as never);
  } catch (error) {
    if (error instanceof Uncapturable) throw error;
    throw new Uncapturable(`it throws when evaluated symbolically (${(error as Error).message})`);
  }
  if (!condition || typeof condition !== 'object' || Array.isArray(condition))
    throw new Uncapturable('it does not return a condition object');
  return condition as Record<string, unknown>;
}

/**
 * Which user attribute each property of the condition is compared with: `{ clientId:
 * currentUser.clientId }` and `{ id: { $ne: currentUser.id } }` give [clientId, clientId] and [id, id],
 * also inside $and/$or/$not. Conditions on relations' properties are not followed.
 */
export function comparedAttributes(condition: unknown): [property: string, attribute: string][] {
  const pairs: [string, string][] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object' || node instanceof UserValue) return;
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith('$')) {
        visit(value);
        continue;
      }
      const operands =
        value && typeof value === 'object' && !(value instanceof UserValue) && !Array.isArray(value)
          ? Object.entries(value)
              .filter(([operator]) => operator.startsWith('$'))
              .flatMap(([, operand]) => [operand].flat())
          : [value].flat();
      for (const operand of operands) if (operand instanceof UserValue) pairs.push([key, operand.attribute]);
    }
  };
  visit(condition);
  return pairs;
}
