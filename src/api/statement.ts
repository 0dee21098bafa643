import { type GraphQLError } from 'graphql';
import { type CompiledSql } from '../../security/system/sql-fragment.js';

/** A whole compiled read (src/api/compiled-read.ts): one select, `$1, $2, …`, and its parameters. */
export interface Statement extends CompiledSql {
  /** A count whose rows pass a scope's check of their parent: see CompiledRead.count. */
  countsThroughScope?: boolean;
  /** The relations its plan left out, by their place in the answer: see read-plan.ts `relationValue`. */
  refusals?: ReadonlyMap<string, GraphQLError>;
  /** Its one value is the root field's answer as the response writes it: see CompiledRead.answer. */
  answer?: true;
  /** The entities whose rows it reads (CompiledRead.select), whose rules a trace names. */
  entities?: readonly string[];
}
