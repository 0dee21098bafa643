/**
 * The engine's public entry: everything a domain's own files use — the column, relation and view
 * decorators its entity classes are written with, the vocabulary of its declare-security.ts, what its
 * `*_row_security` migrations call, and the shape of the domain itself. A domain imports this module
 * and nothing else of the engine, so the engine's folders can move without touching a domain.
 */
export * from './model/columns.js';
export * from './model/relations.js';
export { WritableView } from './model/views.js';
export {
  type CurrentUser,
  declareSecurity,
  type SecurityDeclarations,
  type SecurityPolicy,
  type VerbFlags,
} from '../security/system/policy.js';
export { RESET_POLICIES } from '../security/system/database-policies.js';
export type { DemoData, DemoUsers, Domain } from './domain.js';
export type { AuthUser } from '../security/system/identity.js';
