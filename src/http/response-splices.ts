import { randomUUID } from 'node:crypto';

/**
 * The root fields of a request whose answers PostgreSQL wrote as the response writes them
 * (CompiledRead.answer), put into the response body as they are: rows that graphql-js would complete
 * field by field, and the response serialise again, after the driver parsed them. Such a field
 * resolves to a stand-in that graphql-js completes at no cost (an empty list, null); once the result is
 * final its stand-in is replaced by a token (`mark`), and the serialised body's token by the answer
 * (`splice`). One per HTTP request (src/http/graphql-endpoint.ts); other callers get rows.
 */
export class ResponseSplices {
  /** Tokens no value of the response can hold by chance: the answers go in after it is serialised. */
  private readonly nonce = randomUUID();
  private readonly answers = new Map<string, string>();
  private readonly tokens = new Map<string, string>();

  /** Keeps the answer (JSON text) of the root field `responseKey`. */
  keep(responseKey: string, json: string): void {
    this.answers.set(responseKey, json);
  }

  /**
   * Replaces the stand-in of each kept root field in the final result's `data` by its token; none
   * where the data is gone (a non-null field's error nulled it), and the answers are then dropped.
   */
  mark(data: Record<string, unknown> | null | undefined): void {
    if (!data) return;
    for (const [responseKey, json] of this.answers) {
      if (!(responseKey in data)) continue;
      const token = `@grantgate:${this.nonce}:${this.tokens.size}`;
      this.tokens.set(`"${token}"`, json);
      data[responseKey] = token;
    }
  }

  /** Some answer was marked in the result: its serialisation needs `splice`. */
  get marked(): boolean {
    return this.tokens.size > 0;
  }

  /** The serialised response with each marked token (a JSON string) replaced by its answer. */
  splice(body: string): string {
    for (const [token, json] of this.tokens) {
      const at = body.indexOf(token);
      if (at >= 0) body = body.slice(0, at) + json + body.slice(at + token.length);
    }
    return body;
  }
}
