import { type ErrorRequestHandler, type RequestHandler } from 'express';
import { type Logger } from '../logger.js';

/** What body-parser reports, by its `type`, in words a client can act on; the status is its own. */
const BODY_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'The request body is not valid JSON.',
  'entity.too.large': 'The request body is too large.',
  'encoding.unsupported': 'The request body has an unsupported content encoding.',
  'charset.unsupported': 'The request body has an unsupported character set.',
  'request.aborted': 'The request was aborted before its body arrived.',
  'request.size.invalid': 'The request body is shorter or longer than its Content-Length.',
};

interface HttpError extends Error {
  status?: number;
  type?: string;
}

/**
 * The answer for a request the routes could not take: JSON in the shape the route speaks (GraphQL's
 * `errors` on /graphql, `{error}` on the REST routes) and never Express's own handler, whose
 * development page is HTML with a stack trace and the server's absolute paths.
 */
function send(
  res: Parameters<RequestHandler>[1],
  path: string,
  status: number,
  code: string,
  message: string,
) {
  res
    .status(status)
    .json(path.startsWith('/graphql') ? { errors: [{ message, extensions: { code } }] } : { error: message });
}

/** Errors raised before a route answered (mostly parsing the body); anything unforeseen is logged and masked. */
export function httpErrors(log: Logger): ErrorRequestHandler {
  return (error: HttpError, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = error.type ? BODY_ERRORS[error.type] : undefined;
    if (known) return send(res, req.path, error.status ?? 400, 'BAD_REQUEST', known);
    log.error({ err: error, method: req.method, path: req.path }, 'unhandled HTTP error');
    send(res, req.path, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
  };
}

/** A path the gateway does not serve: a JSON 404 rather than Express's HTML page. */
export const notFound: RequestHandler = (req, res) =>
  send(res, req.path, 404, 'NOT_FOUND', `Nothing is served at ${req.method} ${req.path}.`);
