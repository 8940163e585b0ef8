import { it } from "vitest";
import { makeQkx2Quants } from "../src/quant/kq-search.js";
import { halfAt, nearestInt, fr, putU16 } from "../src/quant/common.js";
import { f32ToF16 } from "../src/f16.js";
import { loadGguf } from "./quant-helpers.js";

function makeQpQuants(n: number, nmax: number, x: Float32Array, L: Uint8Array, qw: Float32Array): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, x[i]);
  if (max < fr(1e-15)) { L.fill(0, 0, n); return 0; }
  let iscale = fr(nmax / max);
  for (let i = 0; i < n; i++) L[i] = nearestInt(fr(iscale * x[i]));
  const scale = fr(1 / iscale);
  let bestMse = 0;
  for (let i = 0; i < n; i++) { const diff = fr(x[i] - fr(scale * L[i])); bestMse = fr(bestMse + fr(fr(qw[i] * diff) * diff)); }
  for (let is = -4; is <= 4; is++) {
    if (is === 0) continue;
    const iscaleIs = fr(fr(fr(fr(0.1) * is) + nmax) / max);
    const scaleIs = fr(1 / iscaleIs);
    let mse = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.min(nmax, nearestInt(fr(iscaleIs * x[i])));
      const diff = fr(x[i] - fr(scaleIs * l));
      mse = fr(mse + fr(fr(qw[i] * diff) * diff));
    }
    if (mse < bestMse) { bestMse = mse; iscale = iscaleIs; }
  }
  let sumlx = 0, suml2 = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.min(nmax, nearestInt(fr(iscale * x[i])));
    L[i] = l;
    sumlx = fr(sumlx + fr(fr(qw[i] * x[i]) * l)); suml2 = fr(suml2 + fr(fr(qw[i] * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nc = 0;
    for (let i = 0; i < n; i++) {
      const w = qw[i];
      let slx = fr(sumlx - fr(fr(w * x[i]) * L[i]));
      let sl2 = fr(suml2 - fr(fr(w * L[i]) * L[i]));
      if (slx > 0 && sl2 > 0) {
        const nl = Math.min(nmax, nearestInt(fr(fr(x[i] * sl2) / slx)));
        if (nl !== L[i]) {
          slx = fr(slx + fr(fr(w * x[i]) * nl)); sl2 = fr(sl2 + fr(fr(w * nl) * nl));
          if (fr(fr(slx * slx) * suml2) > fr(fr(sumlx * sumlx) * sl2)) { L[i] = nl; sumlx = slx; suml2 = sl2; nc++; }
        }
      }
    }
    if (!nc) break;
  }
  return suml2 > 0 ? fr(sumlx / suml2) : 0;
}

function makeQkx3(n: number, nmax: number, x: Float32Array, xo: number, weights: Float32Array, L: Uint8Array, lo: number, mo: {min: number}, Laux: Uint8Array, rmin: number, rdelta: number, nstep: number): number {
  let min = x[xo], max = x[xo];
  let sumW = weights[0], sumX = fr(sumW * x[xo]);
  for (let i = 1; i < n; i++) { const xi = x[xo+i]; if (xi < min) min = xi; if (xi > max) max = xi; const w = weights[i]; sumW = fr(sumW + w); sumX = fr(sumX + fr(w * xi)); }
  if (min > 0) min = 0;
  if (max <= min) { L.fill(0, lo, lo+n); mo.min = -min; return 0; }
  const range = fr(max - min);
  let iscale = fr(nmax / range); let scale = fr(1 / iscale); let best = 0;
  for (let i = 0; i < n; i++) { const l = Math.max(0, Math.min(nmax, nearestInt(fr(iscale * fr(x[xo+i] - min))))); L[lo+i] = l; let diff = fr(fr(fr(scale * l) + min) - x[xo+i]); diff = fr(diff*diff); best = fr(best + fr(weights[i]*diff)); }
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / range);
    let sl = 0, sl2 = 0, sxl = 0;
    for (let i = 0; i < n; i++) {
      const v = fr(iscale * fr(x[xo+i] - min));
      const l = v > 0 ? nearestInt(Math.min(v, nmax)) : 0;
      Laux[i] = l; const w = weights[i]; const wl = fr(w*l);
      sl = fr(sl + wl); sl2 = fr(sl2 + fr(wl*l)); sxl = fr(sxl + fr(wl*x[xo+i]));
    }
    const D = fr(fr(sumW*sl2) - fr(sl*sl));
    if (D > 0) {
      let ts = fr(fr(fr(sumW*sxl) - fr(sumX*sl))/D); let tm = fr(fr(fr(sl2*sumX) - fr(sl*sxl))/D);
      if (tm > 0) { tm = 0; ts = fr(sxl/sl2); }
      let mad = 0;
      for (let i = 0; i < n; i++) { let diff = fr(fr(fr(ts*Laux[i]) + tm) - x[xo+i]); diff = fr(diff*diff); mad = fr(mad + fr(weights[i]*diff)); }
      if (mad < best) { for (let i = 0; i < n; i++) L[lo+i] = Laux[i]; best = mad; scale = ts; min = tm; }
    }
  }
  mo.min = -min; return scale;
}

function q4kImpl(x: Float32Array, xo: number, dst: Uint8Array) {
  let sumX2 = 0;
  for (let l = 0; l < 256; l++) sumX2 = fr(sumX2 + fr(x[xo+l]*x[xo+l]));
  const sigma2 = fr(fr(2*sumX2)/256);
  const avX = fr(Math.sqrt(sigma2));
  const w = new Float32Array(32), sw = new Float32Array(8), scales = new Float32Array(8), mins = new Float32Array(8);
  const L = new Uint8Array(256), La = new Uint8Array(32), Ls = new Uint8Array(8), Lm = new Uint8Array(8); const mo = {min: 0};
  for (let j = 0; j < 8; j++) {
    for (let l = 0; l < 32; l++) w[l] = avX + Math.abs(x[xo+32*j+l]);
    let s = 0; for (let l = 0; l < 32; l++) s = fr(s + w[l]); sw[j] = s;
    scales[j] = makeQkx3(32, 15, x, xo+32*j, w, L, 32*j, mo, La, fr(-0.9), fr(0.05), 36); mins[j] = mo.min;
  }
  const dB = makeQpQuants(8, 63, scales, Ls, sw);
  const mB = makeQpQuants(8, 63, mins, Lm, sw);
  for (let j = 0; j < 8; j++) {
    const ls = Ls[j], lm = Lm[j];
    if (j < 4) { dst[4+j] = ls; dst[8+j] = lm; } else { dst[4+j+4] = (ls&15)|((lm&15)<<4); dst[4+j-4] |= (ls>>4)<<6; dst[4+j] |= (lm>>4)<<6; }
  }
  putU16(dst, 0, f32ToF16(dB)); putU16(dst, 2, f32ToF16(mB));
}

it("explore", () => {
  const f32 = loadGguf("kimi-q-f32.gguf");
  const q = loadGguf("kimi-q-q4_k_m.gguf");
  const name = "blk.0.attn_q.weight";
  const info = q.tensors.get(name)!; const src = f32.tensors.get(name)!;
  const x = new Float32Array(f32.bytes.buffer.slice(f32.bytes.byteOffset + src.offset, f32.bytes.byteOffset + src.offset + 4 * 65536));
  let bad = 0;
  for (let b = 0; b < 256; b++) {
    const theirs = q.bytes.subarray(info.offset + 144*b, info.offset + 144*b+16);
    const mine = new Uint8Array(144);
    q4kImpl(x, 256*b, mine);
    let ok = true; for (let k = 0; k < 16; k++) if (mine[k] !== theirs[k]) ok = false;
    if (!ok) { bad++; if (bad < 3) console.log("mine", Array.from(mine.subarray(0,16)).join(","), "\ntheirs", Array.from(theirs).join(",")); }
  }
  console.log("impl-path header mismatches", bad);
});
