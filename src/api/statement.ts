/** SQL text with `?` placeholders and its parameters, in order. */
export interface Fragment {
  sql: string;
  params: readonly unknown[];
}

/** A whole compiled read (src/api/compiled-read.ts): one select with `?` placeholders and its parameters. */
export interface Statement extends Fragment {
  /** A count whose rows pass a scope's check of their parent: see CompiledRead.count. */
  countsThroughScope?: boolean;
}
