import adapter from '@sveltejs/adapter-static';

/** A static SPA: every route renders in the browser; unknown paths get the app shell. */
export default {
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    // Hashes of SvelteKit's inline bootstrap script go into a CSP <meta>; the API server sends
    // the same policy as a header, with the directives a <meta> cannot carry.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['none'],
        'script-src': ['self'],
        'style-src': ['self'],
        // SvelteKit's route announcer (for screen readers) carries a fixed inline style;
        // allow exactly that attribute value and no other.
        'style-src-attr': ['unsafe-hashes', 'sha256-S8qMpvofolR8Mpjy4kQvEm7m1q8clzU4dfDH0AmvZjo='],
        'img-src': ['self', 'data:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'manifest-src': ['self'],
        'base-uri': ['none'],
        'form-action': ['self'],
      },
    },
    version: { pollInterval: 0 },
  },
};
