/** A date and time the API gave in seconds since the epoch, in the reader's locale. */
export function when(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

/** Like `when`, for a moment that may never have happened. */
export function whenOrNever(seconds: number | null, never = 'Never'): string {
  return seconds === null ? never : when(seconds);
}

/**
 * A span of seconds in words, in the largest unit that reads well: "5 minutes", "1 hour",
 * "90 seconds", "about 57 minutes".
 */
export function duration(seconds: number): string {
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    const n = seconds / size;
    if (n >= 1 && (Number.isInteger(n) || n >= 2)) {
      const whole = Math.round(n);
      return `${Number.isInteger(n) ? '' : 'about '}${whole} ${unit}${whole === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
