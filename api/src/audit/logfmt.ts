// Control characters (including CR/LF) would let a value forge a second log line.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** One logfmt field value: control characters stripped, quoted when it needs to be. */
export function logfmtValue(value: unknown): string {
  const text = String(value ?? '').replace(CONTROL, '');
  return text === '' || /[\s"=\\]/.test(text) ? `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"` : text;
}

export function logfmtLine(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${logfmtValue(v)}`)
    .join(' ');
}
