import { CSRF_HEADER, CSRF_HEADER_VALUE, type InteractionNext } from '@gatehouse/shared';

/**
 * A minimal browser over fetch: a cookie jar and manual redirects, so a test can walk a real
 * server through the same calls the SPA makes.
 */
export class FetchBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  private async post(url: string, body: unknown): Promise<InteractionNext> {
    const res = await this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.origin, [CSRF_HEADER]: CSRF_HEADER_VALUE },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as InteractionNext;
  }

  /** GET that must redirect; returns the Location. */
  async redirect(url: string): Promise<URL> {
    const res = await this.request(url);
    const location = res.headers.get('location');
    if (res.status !== 303 || !location) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
    return new URL(location, url);
  }

  /** Plays the SPA: signs in and approves wherever the server asks. Returns the client's callback URL. */
  async completeAuthorization(authorizationUrl: URL, username: string, password: string): Promise<URL> {
    return this.continueFrom(await this.redirect(authorizationUrl.href), username, password);
  }

  /** Goes on from a screen the server sent the browser to (login or consent). */
  async continueFrom(screen: URL, username: string, password: string): Promise<URL> {
    let location = screen;
    while (location.origin === this.origin && location.searchParams.has('interaction')) {
      const id = location.searchParams.get('interaction')!;
      const api = `${this.origin}/api/v1/interactions/${id}`;
      let next =
        location.pathname === '/login'
          ? await this.post(`${api}/login`, { username, password })
          : await this.post(`${api}/consent`, { approve: true });
      if (next.next === 'consent') next = await this.post(`${api}/consent`, { approve: true });
      if (next.next !== 'redirect') throw new Error('unexpected interaction answer');
      location = await this.redirect(next.location);
    }
    return location;
  }
}
