import { type Condition, type Operand } from './captured-filter.js';
import { type CompiledEntity, type CompiledPolicy, type CompiledRole } from './compiled-policy.js';

/** One difference between two compiled policies, where it is and what it was and is. */
export interface PolicyChange {
  entity?: string;
  role?: string;
  /**
   * What changed: `verbs`, `hidden columns`, `grants`, `filters`, `stamps`, `aggregates withheld by`,
   * `scope`, `coverage`, `rule`.
   */
  what: string;
  /** Removed and added values; a changed rule or scope has one of each. */
  removed: string[];
  added: string[];
}

const OPERATOR_SQL: Record<string, string> = {
  eq: '=',
  ne: '≠',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  in: 'in',
  nin: 'not in',
  like: 'like',
  ilike: 'ilike',
};

const operandText = (operand: Operand) =>
  'attribute' in operand ? `currentUser.${operand.attribute}` : JSON.stringify(operand.literal);

/** A condition as a person reads it: `clientId = currentUser.clientId and (region = "x" or …)`. */
export function conditionText(condition: Condition): string {
  if ('and' in condition) return condition.and.map(conditionText).join(' and ');
  if ('or' in condition) return `(${condition.or.map(conditionText).join(' or ')})`;
  if ('not' in condition) return `not (${conditionText(condition.not)})`;
  const operand = Array.isArray(condition.operand)
    ? `(${condition.operand.map(operandText).join(', ')})`
    : operandText(condition.operand);
  return `${condition.property} ${OPERATOR_SQL[condition.operator]} ${operand}`;
}

const difference = (before: readonly string[] = [], after: readonly string[] = []) => ({
  removed: before.filter((item) => !after.includes(item)),
  added: after.filter((item) => !before.includes(item)),
});

function roleChanges(
  entity: string,
  role: string,
  before?: CompiledRole,
  after?: CompiledRole,
): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const fields: [string, keyof CompiledRole][] = [
    ['verbs', 'verbs'],
    ['hidden columns', 'hiddenColumns'],
    ['grants', 'grants'],
    ['filters', 'filters'],
    ['stamps', 'stamps'],
    ['aggregates withheld by', 'noAggregates'],
  ];
  // A single label (the rule withholding aggregates) is compared as a list of one.
  const listOf = (role: CompiledRole | undefined, key: keyof CompiledRole) => [role?.[key] ?? []].flat();
  for (const [what, key] of fields) {
    const { removed, added } = difference(listOf(before, key), listOf(after, key));
    if (removed.length > 0 || added.length > 0) changes.push({ entity, role, what, removed, added });
  }
  return changes;
}

const scopeText = (scope: CompiledEntity['scope']) =>
  scope ? [`through ${scope.through} (${scope.parent}): ${scope.label}`] : [];

/**
 * What changes from `before` to `after`: per entity its coverage and scope, per role of it its verbs,
 * hidden columns, grants, filters, stamps and the rule withholding aggregates, and each rule whose
 * condition changed under its label.
 */
export function policyDiff(before: CompiledPolicy, after: CompiledPolicy): PolicyChange[] {
  const changes: PolicyChange[] = [];
  for (const label of new Set([...Object.keys(before.rules), ...Object.keys(after.rules)])) {
    const was = before.rules[label];
    const is = after.rules[label];
    if (was && is && conditionText(was) !== conditionText(is))
      changes.push({
        what: 'rule',
        removed: [`${label}: ${conditionText(was)}`],
        added: [`${label}: ${conditionText(is)}`],
      });
  }
  for (const entity of new Set([...Object.keys(before.entities), ...Object.keys(after.entities)])) {
    const was = before.entities[entity];
    const is = after.entities[entity];
    if (was?.coverage !== is?.coverage)
      changes.push({
        entity,
        what: 'coverage',
        removed: was?.coverage ? [was.coverage] : [],
        added: is?.coverage ? [is.coverage] : [],
      });
    const scope = difference(scopeText(was?.scope), scopeText(is?.scope));
    if (scope.removed.length > 0 || scope.added.length > 0) changes.push({ entity, what: 'scope', ...scope });
    for (const role of new Set([...Object.keys(was?.roles ?? {}), ...Object.keys(is?.roles ?? {})]))
      changes.push(...roleChanges(entity, role, was?.roles[role], is?.roles[role]));
  }
  return changes;
}

/** The changes as lines a reviewer reads, `- removed` and `+ added` under where they are. */
export function policyDiffText(changes: PolicyChange[]): string {
  if (changes.length === 0) return 'No change to what any role may do or see.';
  return changes
    .flatMap((change) => [
      `${[change.entity, change.role && `role ${change.role}`].filter(Boolean).join(', ') || 'rules'} — ${change.what}:`,
      ...change.removed.map((value) => `  - ${value}`),
      ...change.added.map((value) => `  + ${value}`),
    ])
    .join('\n');
}
