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

/** Calls the filter with a user whose every attribute is a placeholder, to see its shape. */
export function symbolicCondition(filter: RowFilter): Record<string, unknown> {
  const currentUser = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (typeof key !== 'string') return undefined;
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
