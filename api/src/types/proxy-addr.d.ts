// proxy-addr (the package Express uses for req.ip) ships no types; the part used here.
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';
  function proxyaddr(req: IncomingMessage, trust: (addr: string, hop: number) => boolean): string | undefined;
  export default proxyaddr;
}
