// Tiny static server for the built smoke page (dist/). With --check it also launches headless Chromium,
// waits for the page to POST its result to /result, prints it and exits 0 when the page reports ok.
//   node examples/browser/serve.mjs [--port 8123] [--check] [--chromium /usr/bin/chromium] [--flags "..."]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const port = Number(opt("--port", "8123"));
const check = args.includes("--check");
const root = fileURLToPath(new URL("./dist/", import.meta.url));
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

let chrome = null;
const finish = (code) => { if (chrome) chrome.kill("SIGTERM"); server.close(); process.exit(code); };

const server = createServer(async (req, res) => {
  if (req.method === "POST" && req.url === "/result") {
    let body = "";
    for await (const c of req) body += c;
    res.end("ok");
    console.log(`page result: ${body}`);
    if (check) finish(JSON.parse(body).ok ? 0 : 1);
    return;
  }
  const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0])).replace(/^(\.\.[/\\])+/, "");
  const file = join(root, path.endsWith("/") ? `${path}index.html` : path);
  try {
    const data = await readFile(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(data);
  } catch {
    res.writeHead(404);
    res.end("not found");
  }
});

server.listen(port, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${port}/`;
  console.log(`serving ${root} at ${url}`);
  if (!check) return;
  const bin = opt("--chromium", "chromium");
  const flags = (opt("--flags", "--headless=new --no-sandbox --enable-unsafe-webgpu --enable-features=Vulkan " +
    "--use-vulkan=swiftshader --use-angle=swiftshader --disable-gpu-sandbox --ignore-gpu-blocklist")).split(/\s+/).filter(Boolean);
  chrome = spawn(bin, [...flags, `--user-data-dir=${join(tmpdir(), "ggts-chromium-profile")}`, url], { stdio: ["ignore", "inherit", "inherit"] });
  chrome.on("exit", (code) => { console.log(`chromium exited with ${code} before the page reported`); finish(2); });
  setTimeout(() => { console.log("timed out waiting for the page"); finish(3); }, Number(opt("--timeout", "90")) * 1000);
});
