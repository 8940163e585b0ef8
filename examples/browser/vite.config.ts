// Bundles the smoke page with the workspace packages' TypeScript sources (as vitest resolves them).
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

const pkg = (name: string) => fileURLToPath(new URL(`../../packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: { alias: { "@ggts/tensor": pkg("tensor"), "@ggts/backend-webgpu": pkg("backend-webgpu") } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
