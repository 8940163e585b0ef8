// The addon loads without a driver (static cudart) and reports why no device can be used.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { OP_NAMES, OP_PARAMS, backendFactories, REC } from "@ggts/tensor";
import { ADDON_PATH, addonLoadError, cudaBackendFactory, tryLoadAddon } from "@ggts/backend-cuda";
// @ts-expect-error plain ESM build script without types
import { archList } from "../scripts/build-native.mjs";

const hasNvcc = (() => {
  try { execSync("command -v nvcc || test -x /usr/local/cuda/bin/nvcc", { stdio: "ignore", shell: "/bin/sh" }); return true; } catch { return false; }
})();
const built = existsSync(ADDON_PATH);
const noAddon = !built && !hasNvcc ? "no nvcc and no built addon" : null;

describe("cuda addon", () => {
  it.skipIf(noAddon !== null)(`loads (it must be built wherever nvcc exists)${noAddon ? ` — skipped: ${noAddon}` : ""}`, () => {
    expect(addonLoadError()).toBeNull();
    const a = tryLoadAddon()!;
    expect(a.recordSize).toBe(REC);
  });

  it.skipIf(noAddon !== null)("has the same op table as @ggts/tensor", () => {
    const table = tryLoadAddon()!.opTable();
    expect(table.map((o) => o.name)).toEqual(OP_NAMES);
    expect(table.map((o) => o.params)).toEqual(OP_NAMES.map((n) => OP_PARAMS[n].length));
  });

  it.skipIf(noAddon !== null)("available() is null with a device, or the CUDA error text", async () => {
    const a = tryLoadAddon()!;
    const r = a.available();
    const info = a.deviceInfo();
    const f = await cudaBackendFactory.available();
    if (r === null) {
      expect(f.ok).toBe(true);
      expect(info.name).toBeTruthy();
    } else {
      expect(r.length).toBeGreaterThan(5);
      expect(r).toMatch(/CUDA|driver|device/i);
      expect(f).toEqual({ ok: false, reason: r });
      expect(info.error).toBe(r);
    }
    // cuBLAS is optional: either found, or the reason is given.
    if (!info.cublas) expect(info.cublasError).toMatch(/libcublas/);
  });

  it("registers as cuda with priority 200", () => {
    const f = backendFactories().find((x) => x.name === "cuda");
    expect(f?.priority).toBe(200);
  });

  it("reports an unbuilt addon as 'addon not built'", async () => {
    const f = await cudaBackendFactory.available();
    if (!built) expect(f).toEqual({ ok: false, reason: expect.stringMatching(/^addon not built/) });
    else expect(typeof f.ok).toBe("boolean");
  });

  it("turns GGTS_CUDA_ARCHS into real archs plus PTX of the newest", () => {
    expect(archList("80;90")).toBe("80-real;90-real;90-virtual");
    expect(archList("90")).toBe("90-real;90-virtual");
    expect(archList("86-real;89-virtual")).toBe("86-real;89-virtual");
    expect(() => archList("sm_90")).toThrow(/bad arch list/);
  });
});
