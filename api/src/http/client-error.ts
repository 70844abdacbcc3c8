/** A request Express could not take, through no fault of ours: its status and a message for the client. */
export interface ClientFault {
  status: number;
  message: string;
}

/**
 * Recognises the http-errors style 4xx errors Express raises before a handler runs: the
 * router's URIError for a path parameter that cannot be percent-decoded (status 400, no
 * `expose`), and body-parser's errors for a body that cannot be read (bad JSON, too large, an
 * unsupported charset or encoding). Both set `status` and `statusCode` alike; an error of ours
 * that merely carries a `status` (such as a backend's refusal) is not one of these and stays a
 * 500. Their own messages are not passed on: the client gets one sentence per kind.
 */
export function clientFault(err: unknown): ClientFault | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode, type } = err as { status?: unknown; statusCode?: unknown; type?: unknown };
  if (typeof status !== 'number' || status !== statusCode || status < 400 || status > 499) return undefined;
  if (err instanceof URIError) return { status, message: 'The request URL could not be decoded.' };
  if (typeof type === 'string') return { status, message: 'The request body could not be read.' };
  return { status, message: 'The request could not be read.' };
}
