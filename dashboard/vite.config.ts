import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Served by `omniva api` under /app/ with a strict Content-Security-Policy
// (script-src 'self'; style-src 'self'): the compiled CSS goes to one .css file,
// nothing is inlined (no data: URLs, no inline <script> or <style>).
export default defineConfig({
  base: '/app/',
  plugins: [svelte({ emitCss: true, compilerOptions: { css: 'external' } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2020',
  },
  server: {
    proxy: { '/v1': { target: process.env.OMNIVA_API_URL ?? 'http://127.0.0.1:8090', ws: true } },
  },
});
