import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isRequestDeadline, RequestDeadlineExceeded } from './http/request-deadline.js';

/** The `extensions.code` values of SPEC §4 that the gateway itself raises. */
export type ErrorCode =
  'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'INTERNAL_SERVER_ERROR';

function userError(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** An id that does not exist, or that the caller may not see: the two are indistinguishable on purpose. */
export const notFound = (message: string) => userError('NOT_FOUND', message);

export const badUserInput = (message: string) => userError('BAD_USER_INPUT', message);

const SERVICE_BUSY = 'The service is busy: no database connection became free in time. Try again.';

/** Whether `error`, or an error it was caused by (however the ORM and the driver wrapped it), passes `test`. */
function anyCause(error: unknown, test: (cause: Error & { code?: unknown }) => boolean): boolean {
  for (let current = error; current instanceof Error; current = current.cause) if (test(current)) return true;
  return false;
}

/** pg-pool's refusal after waiting DB_POOL_TIMEOUT for a connection. */
const isPoolTimeout = (error: unknown) =>
  anyCause(error, (cause) => /timeout exceeded when trying to connect/i.test(cause.message));

/** PostgreSQL cancelled a statement at its `statement_timeout` (DB_STATEMENT_TIMEOUT): 57014 and its reason. */
const isStatementTimeout = (error: unknown) =>
  anyCause(error, (cause) => cause.code === '57014' && /statement timeout/.test(cause.message));

const DATABASE_UNAVAILABLE = 'The database is unavailable. Try again shortly.';

/**
 * The database cannot be reached or dropped the connection: refused or reset sockets, SQLSTATE 08xxx
 * connection failures (not 08P01, a protocol violation our own input can cause), 57P01-57P03 (the
 * server is shutting down, crashed, or starting), and pg's refusal to use a client whose connection
 * already failed (the next statement of a transaction whose server went away mid-way).
 */
const isDatabaseUnavailable = (error: unknown) =>
  anyCause(
    error,
    (cause) =>
      (typeof cause.code === 'string' &&
        /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|0800[01346]|57P0[123])$/.test(cause.code)) ||
      /^Connection terminated|^Client (has encountered a connection error|was closed) and is not queryable/.test(
        cause.message,
      ),
  );

/**
 * The rule behind a denial, by its label (`extensions.rule`), with the denial's code; undefined for any
 * other error. `error` as resolved, before Apollo wrapped it (unwrapResolverError).
 */
export function denialOf(error: unknown): { code: string; rule: string } | undefined {
  if (!(error instanceof GraphQLError) || typeof error.extensions.rule !== 'string') return undefined;
  return { code: String(error.extensions.code), rule: error.extensions.rule };
}

/**
 * What a failure that is the service's state rather than a bug (no connection free in time, the
 * request's deadline, the database away) says, in general terms; undefined for any other failure.
 */
export function serviceCondition(error: unknown): string | undefined {
  if (isPoolTimeout(error)) return SERVICE_BUSY;
  if (isRequestDeadline(error) || isStatementTimeout(error)) return new RequestDeadlineExceeded().message;
  if (isDatabaseUnavailable(error)) return DATABASE_UNAVAILABLE;
  return undefined;
}

/** The message a masked error may show: what went wrong in general terms, never its details. */
const publicMessage = (error: unknown) => serviceCondition(error) ?? 'Internal server error';

/** graphql-js's hints ("Did you mean …?") name types, fields and values of the schema to a stranger. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/**
 * An error Apollo wrapped as a GraphQLError on its way out of a plugin hook (a RangeError in a
 * request-pipeline hook): its code is INTERNAL_SERVER_ERROR and it carries another error inside, whose
 * message is the raw JavaScript one. A GraphQLError raised on purpose carries none, and one graphql-js
 * makes of a refused value (a variable a scalar rejects) has its own code.
 */
const isWrappedFailure = (error: GraphQLError, formatted: GraphQLFormattedError) =>
  formatted.extensions?.code === 'INTERNAL_SERVER_ERROR' &&
  error.originalError !== undefined &&
  !(error.originalError instanceof GraphQLError);

/**
 * Apollo's formatError: errors the gateway raised on purpose (GraphQLErrors, with their codes) pass
 * unchanged (in production without the deciding rule of a denial); anything else (a database error, a bug) is replaced by a generic message, so no SQL,
 * constraint name, stack trace or row value ever reaches a client. The original is logged with the
 * request id by the request-logging plugin. In production no message carries a schema hint, whichever
 * step raised it (validation, or coercing a variable's value during execution).
 */
export function errorFormatter(options: { production: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError && !isWrappedFailure(original, formatted)) {
      const { stacktrace: _stacktrace, rule, ...extensions } = formatted.extensions ?? {};
      const message = options.production ? formatted.message.replace(SUGGESTION, '') : formatted.message;
      // The rule behind a denial helps whoever writes the rules; in production it would tell a stranger
      // how the rules are built, so it stays in the log (the request-logging plugin), under the request id.
      return {
        ...formatted,
        message,
        extensions: options.production || !rule ? extensions : { ...extensions, rule },
      };
    }
    return {
      message: publicMessage(original),
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
