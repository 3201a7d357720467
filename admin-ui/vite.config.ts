import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The admin service (which holds the API token in an httpOnly cookie and
// forwards /v1 calls) listens here during local development.
const ADMIN_SERVICE = "http://127.0.0.1:48081";

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      "/v1": { target: ADMIN_SERVICE, changeOrigin: false },
      "/session": { target: ADMIN_SERVICE, changeOrigin: false },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    restoreMocks: true,
  },
});
