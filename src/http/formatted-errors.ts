import { type HTTPGraphQLHead } from '@apollo/server';
import { type GraphQLError, type GraphQLFormattedError } from 'graphql';

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * A result's errors as Apollo Server 5 sends them (its normalizeAndFormatErrors, which it does not
 * export), for the queries answered past it (src/http/query-fast-path.ts): each with a code
 * (INTERNAL_SERVER_ERROR where it has none) through the gateway's formatError, an `extensions.http`
 * taken out of it into the response's status and headers, and a formatter that fails answered by a
 * generic error; no stack trace (the gateway sets includeStacktraceInErrorResponses false). The
 * differential test (test/http/query-fast-path.test.ts) holds the two to the same bytes.
 */
export function formattedErrors(
  errors: readonly GraphQLError[],
  formatError: FormatError,
  http: HTTPGraphQLHead,
): GraphQLFormattedError[] {
  return errors.map((error) => {
    try {
      const extensions: Record<string, unknown> = {
        ...error.extensions,
        code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR',
      };
      if (isHttpHead(extensions.http)) {
        if (extensions.http.status) http.status = extensions.http.status;
        for (const [name, value] of extensions.http.headers ?? []) http.headers.set(name, value);
        delete extensions.http;
      }
      return formatError({ ...error.toJSON(), extensions }, error);
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
}

/** An `extensions.http` Apollo takes for the response's head: a numeric status, a Map of headers, or neither. */
const isHttpHead = (value: unknown): value is { status?: number; headers?: Map<string, string> } =>
  typeof value === 'object' &&
  value !== null &&
  (!('status' in value) || typeof value.status === 'number') &&
  (!('headers' in value) || value.headers instanceof Map);
