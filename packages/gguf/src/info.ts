// Human/JSON summaries of a GGUF file for `ggts gguf info`.

import { typeTraits } from "@ggts/tensor";
import { GgufFile } from "./file.js";
import { GgufKV, GgufValueType, describeKVType } from "./value-types.js";

export interface TypeStats { count: number; elements: number; bytes: number }

export interface GgufSummary {
  path?: string;
  version: number;
  architecture: string | null;
  name: string | null;
  fileSize: number;
  alignment: number;
  dataOffset: number;
  kvCount: number;
  tensorCount: number;
  parameters: number;
  tensorBytes: number;
  /** Keyed by ggml type name (e.g. "q4_K"). */
  types: Record<string, TypeStats>;
  /** Scalars as JSON-safe values; arrays summarised as { type, length, head }. */
  metadata: Record<string, unknown>;
}

export interface TensorRow { name: string; type: string; ne: number[]; elements: number; bytes: number; offset: number }

/** JSON-safe rendering of a KV value: bigint → string (or number when safe), arrays → {type,length,head}. */
export function kvToJson(kv: GgufKV, maxItems = 8): unknown {
  const conv = (x: unknown): unknown => {
    if (typeof x === "bigint") return Number.isSafeInteger(Number(x)) ? Number(x) : x.toString();
    if (typeof x === "number" && !Number.isFinite(x)) return String(x);
    return x;
  };
  if (kv.type !== GgufValueType.ARRAY) return conv(kv.value);
  const arr = kv.value as ArrayLike<unknown>;
  const head = Array.from({ length: Math.min(maxItems, arr.length) }, (_, i) => {
    const el = arr[i];
    return kv.arrayType === GgufValueType.ARRAY ? "[…]" : conv(el);
  });
  if (arr.length <= maxItems) return head;
  return { type: describeKVType(kv), length: arr.length, head };
}

export function summarizeGguf(f: GgufFile): GgufSummary {
  const types: Record<string, TypeStats> = {};
  let parameters = 0, tensorBytes = 0;
  for (const t of f.tensors) {
    const name = typeTraits(t.type).name;
    const s = (types[name] ??= { count: 0, elements: 0, bytes: 0 });
    s.count++; s.elements += t.nElements; s.bytes += t.nbytes;
    parameters += t.nElements; tensorBytes += t.nbytes;
  }
  const metadata: Record<string, unknown> = {};
  for (const kv of f.metadata.values()) metadata[kv.key] = kvToJson(kv);
  const str = (k: string) => (f.metadata.get(k)?.type === GgufValueType.STRING ? (f.get(k) as string) : null);
  return {
    path: f.path, version: f.version, architecture: str("general.architecture"), name: str("general.name"),
    fileSize: f.fileSize, alignment: f.alignment, dataOffset: f.dataOffset, kvCount: f.metadata.size,
    tensorCount: f.tensors.length, parameters, tensorBytes, types, metadata,
  };
}

export function tensorRows(f: GgufFile): TensorRow[] {
  return f.tensors.map((t) => ({
    name: t.name, type: typeTraits(t.type).name, ne: t.ne, elements: t.nElements, bytes: t.nbytes, offset: t.offset,
  }));
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, x = n;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return i === 0 ? `${n} B` : `${x.toFixed(2)} ${units[i]}`;
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} K`;
  return String(n);
}

function formatValue(v: unknown): string {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const a = v as { type: string; length: number; head: unknown[] };
    return `length ${a.length}: ${JSON.stringify(a.head).slice(0, 80)}…`;
  }
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > 100 ? s.slice(0, 100) + "…" : s;
}

/** Text report: header facts, metadata, type histogram and (optionally) the tensor table. */
export function formatGgufInfo(f: GgufFile, opts: { tensors?: boolean } = {}): string {
  const s = summarizeGguf(f);
  const out: string[] = [];
  out.push(`file:         ${s.path ?? "(memory)"}`);
  out.push(`format:       GGUF v${s.version}, alignment ${s.alignment}, data at offset ${s.dataOffset}`);
  out.push(`architecture: ${s.architecture ?? "(none)"}${s.name ? `  name: ${s.name}` : ""}`);
  out.push(`size:         ${formatBytes(s.fileSize)} (${s.fileSize} bytes), tensor data ${formatBytes(s.tensorBytes)}`);
  out.push(`tensors:      ${s.tensorCount}, parameters ${formatCount(s.parameters)} (${s.parameters})`);
  out.push(`metadata:     ${s.kvCount} keys`);
  const width = Math.max(0, ...Object.keys(s.metadata).map((k) => k.length));
  for (const [k, v] of Object.entries(s.metadata)) {
    const kv = f.metadata.get(k)!;
    out.push(`  ${k.padEnd(width)}  ${describeKVType(kv).padEnd(17)} ${formatValue(v)}`);
  }
  out.push("types:");
  for (const [name, t] of Object.entries(s.types).sort((a, b) => b[1].bytes - a[1].bytes)) {
    const pct = s.tensorBytes ? ((100 * t.bytes) / s.tensorBytes).toFixed(1) : "0";
    out.push(`  ${name.padEnd(7)} ${String(t.count).padStart(6)} tensors ${formatCount(t.elements).padStart(10)} params ${formatBytes(t.bytes).padStart(11)} (${pct}%)`);
  }
  if (opts.tensors) {
    const rows = tensorRows(f);
    const nw = Math.max(4, ...rows.map((r) => r.name.length));
    out.push("tensors:");
    out.push(`  ${"name".padEnd(nw)}  ${"type".padEnd(7)} ${"shape (ne)".padEnd(24)} ${"bytes".padStart(12)} ${"offset".padStart(14)}`);
    for (const r of rows) {
      out.push(`  ${r.name.padEnd(nw)}  ${r.type.padEnd(7)} ${`[${r.ne.join(", ")}]`.padEnd(24)} ${String(r.bytes).padStart(12)} ${String(r.offset).padStart(14)}`);
    }
  }
  return out.join("\n");
}

/** JSON report (what `--json` prints). */
export function ggufInfoJson(f: GgufFile, opts: { tensors?: boolean } = {}): Record<string, unknown> {
  const s = summarizeGguf(f) as unknown as Record<string, unknown>;
  if (opts.tensors) s.tensors = tensorRows(f);
  return s;
}
