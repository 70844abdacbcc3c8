import type { ServerResponse } from 'node:http';

/**
 * A JSON response as Express's res.json writes it (same Content-Type, Content-Length, body),
 * without its per-call work; for the hot token and userinfo endpoints.
 */
export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
