// Drops module-scope functions and private/workgroup variables that main never reaches. The per-slot
// accessor prelude is generous, and llvmpipe's compile time grows with the module it is given.

interface Item { text: string; name: string | null; keep: boolean }

function splitTopLevel(src: string): Item[] {
  const items: Item[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "{") depth++;
    else if (c === "}") { depth--; if (depth === 0) { items.push(mk(src.slice(start, i + 1))); start = i + 1; } }
    else if (c === ";" && depth === 0) { items.push(mk(src.slice(start, i + 1))); start = i + 1; }
  }
  if (src.slice(start).trim()) items.push(mk(src.slice(start)));
  return items;
}

function mk(text: string): Item {
  const body = text.replace(/^(\s*(\/\/[^\n]*|\/\*\*?[\s\S]*?\*\/))*\s*/, "");
  const fn = /^fn\s+(\w+)/.exec(body);
  const gv = /^var<(private|workgroup)>\s+(\w+)/.exec(body);
  return { text, name: fn ? fn[1] : gv ? gv[2] : null, keep: !fn && !gv || (fn?.[1] === "main") || /@compute/.test(body) };
}

export function stripUnused(src: string): string {
  const items = splitTopLevel(src);
  const byName = new Map(items.filter((i) => i.name).map((i) => [i.name!, i]));
  const reached = new Set<Item>();
  const queue = items.filter((i) => i.keep);
  while (queue.length) {
    const it = queue.pop()!;
    if (reached.has(it)) continue;
    reached.add(it);
    for (const m of it.text.matchAll(/\b([A-Za-z_]\w*)\b/g)) {
      const dep = byName.get(m[1]);
      if (dep && !reached.has(dep)) queue.push(dep);
    }
  }
  return items.filter((i) => reached.has(i)).map((i) => i.text).join("");
}
