import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      "@ggts/tensor": pkg("tensor"),
      "@ggts/gguf": pkg("gguf"),
      "@ggts/backend-cpu": pkg("backend-cpu"),
      "@ggts/backend-webgpu": pkg("backend-webgpu"),
      "@ggts/backend-cuda": pkg("backend-cuda"),
      "@ggts/models": pkg("models"),
      "@ggts/cli": pkg("cli"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
