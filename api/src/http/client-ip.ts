import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** Express's compiled `trust proxy` setting (app.get('trust proxy fn')). */
export type TrustProxy = (addr: string, hop: number) => boolean;

/**
 * The client address exactly as Express's req.ip computes it: proxy-addr over the socket
 * address and X-Forwarded-For, with the application's own compiled trust function.
 */
export function clientIp(req: IncomingMessage, trust: TrustProxy): string | undefined {
  return proxyaddr(req, trust);
}
