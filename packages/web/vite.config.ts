// Vite builds the app into dist/ (served by the Parley server at /). Hashed file names under assets/
// let the server cache them as immutable; no inline script or style, so the server's strict
// Content-Security-Policy holds (module preload polyfill off: it would be an inline script).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
