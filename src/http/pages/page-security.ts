import { type RequestHandler } from 'express';

/**
 * The content security policy of the gateway's own pages (the explorer and the console): everything
 * from the gateway itself and nothing from anywhere else — no CDN, no web font, no analytics — so a
 * page that works, works offline, and a page that tried to reach out would be stopped and reported
 * by the browser. `data:` fonts and images are GraphiQL's stylesheet's own, embedded in it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const pageSecurity: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

/** Text for HTML: the console shows values from the database and the auth provider. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** The start of a console page, up to its body: one head for the console and its sign-in. */
export const consolePageStart = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/pages.css">
</head>
<body class="console">`;
