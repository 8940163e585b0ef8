#!/usr/bin/env node
// One-shot, idempotent set-up used by `npm start` and `npm test`: system packages (when root), pnpm,
// workspace dependencies, TypeScript build and native addons. Each step is skipped when already done.
import { execSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (m) => process.stderr.write(`[setup] ${m}\n`);
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const sh = (cmd, opts = {}) => execSync(cmd, { stdio: "inherit", cwd: root, ...opts });
const quiet = (cmd) => { try { return execSync(cmd, { stdio: ["ignore", "pipe", "ignore"] }).toString().trim(); } catch { return ""; } };

function debVersion(pkg) { return quiet(`dpkg-query -W -f='\${Version}' ${pkg}`); }

function systemPackages() {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !has("apt-get")) { log("not root or no apt-get: skipping system packages"); return; }
  const want = [];
  if (!has("cmake")) want.push("cmake");
  if (!has("ninja")) want.push("ninja-build");
  if (!has("g++")) want.push("g++");
  if (!existsSync("/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h") && !existsSync("/usr/include/cblas.h")) want.push("libopenblas-dev");
  // Dawn rejects Debian 12's Mesa 22 lavapipe; Mesa 25 from bookworm-backports works (spec/setup.md).
  const mesa = debVersion("mesa-vulkan-drivers");
  const needMesa = process.env.GGTS_SKIP_WEBGPU_DRIVER !== "1" && !(mesa && parseInt(mesa, 10) >= 25);
  if (want.length === 0 && !needMesa) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (needMesa) {
    const codename = quiet(". /etc/os-release && echo $VERSION_CODENAME");
    if (codename === "bookworm") {
      const list = "/etc/apt/sources.list.d/ggts-backports.list";
      if (!existsSync(list) && !existsSync("/etc/apt/sources.list.d/backports.list")) {
        sh(`echo 'deb http://deb.debian.org/debian bookworm-backports main' > ${list}`);
      }
    }
  }
  log(`installing ${[...want, ...(needMesa ? ["mesa-vulkan-drivers (backports)"] : [])].join(", ")}`);
  sh("apt-get update -qq", { env });
  if (want.length) sh(`apt-get install -y -qq --no-install-recommends ${want.join(" ")}`, { env });
  if (needMesa) {
    const r = spawnSync("sh", ["-c", "apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1"],
      { stdio: "inherit", env });
    if (r.status !== 0) log("could not install Mesa lavapipe from backports; WebGPU tests will report it");
  }
}

function pnpm() {
  if (has("pnpm") && quiet("pnpm --version") === "12.4.2") return;
  log("installing pnpm 12.4.2");
  sh("npm i -g pnpm@12.4.2");
}

function deps() {
  const stamp = path.join(root, "node_modules/.modules.yaml");
  sh(`pnpm install --frozen-lockfile${existsSync(stamp) ? " --prefer-offline" : ""}`);
}

function build() {
  sh("pnpm exec tsc -b");
  sh("pnpm -r --if-present run build:native");
}

systemPackages();
pnpm();
deps();
build();
