// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    interface PageState {
      /** Why the user was sent back to this screen, e.g. after too many wrong codes. */
      notice?: string;
    }
  }
}
export {};
