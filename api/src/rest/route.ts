import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { ApiScope } from '@gatehouse/shared';
import type { AppContext } from '../context.js';
import { ApiError } from '../http/api-error.js';
import { requireSameOrigin } from '../http/csrf.js';
import { parseBody, parseQuery } from '../http/validate.js';
import { authenticate, type Principal } from './principal.js';

/** One REST endpoint: its contract (also the source of the OpenAPI document) and its handler. */
export interface RouteSpec<
  B extends z.ZodType | undefined = z.ZodType | undefined,
  R extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express path, e.g. `/api/v1/me/tokens/:id`. */
  path: string;
  summary: string;
  /**
   * The scope a caller needs (implied scopes count). `public` routes take no credentials: they
   * serve people without an account yet and check a single-use token of their own instead.
   * `browser` routes are the sign-in screens' own: cookie-only (no bearer token), CSRF-checked,
   * and whoever may be signed in on the browser.
   */
  scope: ApiScope | 'public' | 'browser';
  body?: B;
  /** The query string's parameters, parsed like the body. */
  query?: Q;
  /** The answer's schema; none means 204 No Content. */
  response?: R;
  status?: number;
}

export interface RouteContext<B, Q = undefined, P = Principal> {
  req: Request;
  res: Response;
  principal: P;
  body: B;
  query: Q;
}

type Output<S> = S extends z.ZodType ? z.input<S> : void;
type Input<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The REST endpoints of one app, mounted on its router and listed for the OpenAPI document. */
export class RestRoutes {
  readonly specs: RouteSpec[] = [];
  private readonly json = express.json({ limit: '64kb' });
  /** The sign-in screens send a few short fields, before anyone is authenticated. */
  private readonly smallJson = express.json({ limit: '16kb' });
  private readonly origin: string;

  constructor(
    private readonly ctx: AppContext,
    private readonly router: Router,
  ) {
    this.origin = new URL(ctx.config.issuer).origin;
  }

  /** `before` runs ahead of authentication, e.g. a rate limit for endpoints that check secrets. */
  add<B extends z.ZodType | undefined, R extends z.ZodType | undefined, Q extends z.ZodObject | undefined = undefined>(
    spec: RouteSpec<B, R, Q> & { scope: ApiScope },
    handler: (c: RouteContext<Input<B>, Input<Q>>) => Promise<Output<R>>,
    before: RequestHandler[] = [],
  ): void {
    this.mount(spec, handler as (c: RouteContext<unknown, unknown, Principal | undefined>) => Promise<unknown>, before);
  }

  /** A route without credentials; `before` should hold a rate limit. */
  addPublic<B extends z.ZodType | undefined, R extends z.ZodType | undefined, Q extends z.ZodObject | undefined = undefined>(
    spec: RouteSpec<B, R, Q> & { scope: 'public' },
    handler: (c: RouteContext<Input<B>, Input<Q>, undefined>) => Promise<Output<R>>,
    before: RequestHandler[],
  ): void {
    this.mount(spec, handler as (c: RouteContext<unknown, unknown, Principal | undefined>) => Promise<unknown>, before);
  }

  /** A sign-in screen's route: the browser's cookies only, with the CSRF check on every change. */
  addBrowser<B extends z.ZodType | undefined, R extends z.ZodType | undefined, Q extends z.ZodObject | undefined = undefined>(
    spec: RouteSpec<B, R, Q> & { scope: 'browser' },
    handler: (c: RouteContext<Input<B>, Input<Q>, undefined>) => Promise<Output<R>>,
    before: RequestHandler[] = [],
  ): void {
    this.mount(spec, handler as (c: RouteContext<unknown, unknown, Principal | undefined>) => Promise<unknown>, before);
  }

  private mount(
    spec: RouteSpec,
    handler: (c: RouteContext<unknown, unknown, Principal | undefined>) => Promise<unknown>,
    before: RequestHandler[],
  ): void {
    this.specs.push(spec);
    const realm = this.ctx.config.issuer;
    // The CSRF check comes first, so a forged call does not even count against a rate limit.
    const guard = spec.scope === 'browser' ? [requireSameOrigin(this.origin)] : [];
    this.router[spec.method](spec.path, ...guard, ...before, spec.scope === 'browser' ? this.smallJson : this.json, async (req, res) => {
      if (spec.scope === 'public' || spec.scope === 'browser') {
        const body = spec.body ? parseBody(spec.body, req.body) : undefined;
        const query = spec.query ? parseQuery(spec.query, req.query) : undefined;
        return this.respond(spec, res, await handler({ req, res, principal: undefined, body, query }));
      }
      let principal: Principal;
      try {
        principal = await authenticate(this.ctx, req);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'invalid_token') {
          res.set('WWW-Authenticate', `Bearer realm="${realm}", error="invalid_token"`);
        }
        throw err;
      }
      if (!principal.scopes.has(spec.scope)) {
        if (principal.via !== 'session') {
          res.set('WWW-Authenticate', `Bearer realm="${realm}", error="insufficient_scope", scope="${spec.scope}"`);
        }
        throw new ApiError('insufficient_scope', 403, `This needs the ${spec.scope} scope.`, { required: spec.scope });
      }
      const body = spec.body ? parseBody(spec.body, req.body) : undefined;
      const query = spec.query ? parseQuery(spec.query, req.query) : undefined;
      this.respond(spec, res, await handler({ req, res, principal, body, query }));
    });
  }

  private respond(spec: RouteSpec, res: Response, result: unknown): void {
    res.set('Cache-Control', 'no-store');
    if (spec.response) res.status(spec.status ?? 200).json(result);
    else res.status(204).end();
  }
}
