// Builds the portal into dist/ (index.html + hashed files under assets/), which the control plane serves at `/`.
// JSX goes through esbuild's automatic runtime: no React plugin needed.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // the API reference renderer is big and lives in its own lazily loaded chunk
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: false,
  },
});
