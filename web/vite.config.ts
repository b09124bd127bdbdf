// The dashboard's build (web/dist, served by the API server at /) and its dev server (`npm run dev:web`), which
// proxies /api to a running server so the session cookie and the Origin check behave as in production.
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The shell's shared code (react-dom, router, query, Radix, cmdk) is one ~350 KB chunk (≈95 KB brotli); pages are split.
    chunkSizeWarningLimit: 520,
  },
  server: { proxy: { '/api': { target: process.env.OPSBASE_API_URL ?? 'http://localhost:4000' } } },
});
