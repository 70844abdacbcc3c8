import { z } from 'zod';

/**
 * Characters no human-readable field may hold: C0 and C1 controls (NUL, TAB, CR, LF, ESC, DEL …),
 * the line and paragraph separators, the bidirectional embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069), the implicit direction marks (U+200E, U+200F, U+061C), the
 * invisible zero-width space, word joiner and byte-order mark (U+200B, U+2060–U+2064, U+FEFF),
 * and lone surrogates. They reach ID tokens, the consent screen, logs and terminals, where they
 * end lines, drive terminals or reorder what the reader sees ("Trojan Source", CVE-2021-42574).
 * Joiners (U+200C, U+200D) stay allowed: Persian text and emoji sequences need them.
 */
const UNSAFE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069\u200B\u200E\u200F\u061C\u2060-\u2064\uFEFF]|\p{Cs}/u;

/** The message a field with such a character fails with. */
export const DISPLAY_TEXT_MESSAGE = 'must not contain control or direction-changing characters';

/** Whether `value` holds none of the characters display text refuses (see {@link displayText}). */
export function isDisplayText(value: string): boolean {
  return !UNSAFE.test(value);
}

/**
 * Text people read: names, nicknames, descriptions, token and application names. Any script,
 * accents and emoji are fine; controls, direction overrides and lone surrogates are refused,
 * not stripped, so what is stored is what was typed. Surrounding whitespace is trimmed after
 * that check, and `max` counts UTF-16 code units of the trimmed text.
 */
export function displayText(max: number) {
  return z.string().refine(isDisplayText, DISPLAY_TEXT_MESSAGE).trim().max(max);
}
