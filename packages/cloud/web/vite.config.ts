import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The admin center: a React single-page app the cloud serves under /admin.
 * `npm run build:web` writes dist/; for development, `npx vite` in this folder
 * serves it with hot reload and sends API and sign-in calls to a running cloud
 * (SKYBRIDGE_CLOUD_URL, default http://127.0.0.1:8443).
 */
const cloud = process.env.SKYBRIDGE_CLOUD_URL ?? 'http://127.0.0.1:8443';
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022', chunkSizeWarningLimit: 600 },
  server: {
    proxy: Object.fromEntries(['/api', '/common', '/healthz'].map((p) => [p, { target: cloud, changeOrigin: true, secure: false }])),
  },
});
