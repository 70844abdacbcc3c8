import { z } from 'zod';

/** A rule on a parsed URL: the problem with it, or undefined when it passes. */
export type UrlRule = (url: URL) => string | undefined;

/** The URL `value` names, or undefined when it is not an absolute URL. Never throws. */
export function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * An absolute URL whose parsed form passes every rule. zod runs a refinement even after the
 * `url` check failed, so `z.url().refine((u) => new URL(u)…)` throws "Invalid URL" (a 500 from
 * the API, a bare error at start-up) instead of failing. Every URL setting or field with a rule
 * on its parsed form is built here, so the rules only ever see a URL.
 */
export function urlWith(rules: UrlRule[], max = 2048) {
  return z
    .url('must be an absolute URL')
    .max(max)
    .superRefine((value, ctx) => {
      const url = parseUrl(value);
      if (!url) return;
      for (const rule of rules) {
        const problem = rule(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    });
}

/** Only https. */
export const httpsOnly: UrlRule = (url) => (url.protocol === 'https:' ? undefined : 'must be an https URL');
/** http or https. */
export const httpOrHttps: UrlRule = (url) => (/^https?:$/.test(url.protocol) ? undefined : 'must be an http or https URL');
/** A base URL others are appended to: no query, no fragment. */
export const noQueryOrFragment: UrlRule = (url) => (url.search || url.hash ? 'must not have a query or fragment' : undefined);
