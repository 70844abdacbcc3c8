import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of one application context, in a registry of its own (never
 * prom-client's global one: tests build many applications in one process).
 * Every label takes values from a fixed set, so the number of series stays bounded.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Completed sign-ins (`success`) and wrong passwords (`failure`). */
  readonly logins: Counter<'result'>;
  /** Second-factor prompts (`challenge`) and checks (`success`, `failure`). */
  readonly mfa: Counter<'result'>;
  /** Authorization responses redirected to a client: a code (`success`) or an error (`failure`, `error`). */
  readonly authorize: Counter<'result' | 'error'>;
  readonly tokenRequests: Counter<'grant_type' | 'result'>;
  readonly userinfo: Counter<'result'>;
  /** Consent decisions: `granted`, `denied`, `revoked`. */
  readonly consent: Counter<'result'>;
  readonly passwordChanges: Counter<'result'>;
  readonly apiTokenOperations: Counter<'operation' | 'result'>;
  /** `route` is the route's pattern (never the raw path) or `unmatched`. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
}

export const GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  function counter<L extends string>(name: string, help: string, labelNames: L[], initial: Partial<Record<L, string>>[] = []): Counter<L> {
    const c = new Counter<L>({ name, help, labelNames, registers: [registry] });
    // Series that exist from the start, so rates and alerts work before the first event.
    for (const labels of initial) c.inc(labels, 0);
    return c;
  }
  const results = (...values: string[]) => values.map((result) => ({ result }));

  return {
    registry,
    logins: counter('gatehouse_logins_total', 'Sign-in attempts by result.', ['result'], results('success', 'failure')),
    mfa: counter(
      'gatehouse_mfa_total',
      'Second-factor challenges and checks by result.',
      ['result'],
      results('challenge', 'success', 'failure'),
    ),
    authorize: counter(
      'gatehouse_authorize_total',
      'Authorization responses sent to clients: codes, and errors by OAuth error code.',
      ['result', 'error'],
      results('success'),
    ),
    tokenRequests: counter(
      'gatehouse_token_requests_total',
      'Token endpoint results by grant type (invalid_client and invalid_grant failures).',
      ['grant_type', 'result'],
      GRANT_TYPES.flatMap((grant_type) => ['success', 'failure'].map((result) => ({ grant_type, result }))),
    ),
    userinfo: counter('gatehouse_userinfo_total', 'UserInfo requests by result.', ['result'], results('success', 'failure')),
    consent: counter('gatehouse_consent_total', 'Consent decisions.', ['result'], results('granted', 'denied', 'revoked')),
    passwordChanges: counter('gatehouse_password_changes_total', 'Passwords changed by their owner.', ['result'], results('success')),
    apiTokenOperations: counter(
      'gatehouse_api_token_operations_total',
      'Personal API tokens created and revoked.',
      ['operation', 'result'],
      ['create', 'revoke'].map((operation) => ({ operation, result: 'success' })),
    ),
    httpDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
