/** A date and time the API gave in seconds since the epoch, in the reader's locale. */
export function when(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

/** Like `when`, for a moment that may never have happened. */
export function whenOrNever(seconds: number | null, never = 'Never'): string {
  return seconds === null ? never : when(seconds);
}
