import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

/** In `npm run dev` the API runs on :3000 with its issuer set to this dev server's origin. */
const api = process.env.GATEHOUSE_API ?? 'http://127.0.0.1:3000';
const proxy = Object.fromEntries(['/api', '/oauth2', '/.well-known', '/healthz', '/readyz'].map((p) => [p, { target: api }]));

export default defineConfig({
  plugins: [sveltekit()],
  server: { proxy },
  build: { sourcemap: false },
});
