// Scale searches of ggml's K-quant reference quantizers (make_qx_quants, make_q3_quants, make_qkx2_quants),
// replayed in float32 arithmetic and with the same loop order so ties and roundings come out identical.

import { GROUP_MAX_EPS, fr, nearestInt } from "./common.js";

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/**
 * Symmetric scale for n values with codes in [-nmax, nmax-1], weighted by x² (rmse_type 1, no imatrix).
 * Writes L[lo + i] = code + nmax and returns the scale.
 */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array | Uint8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  let iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l + nmax;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  let scale = suml2 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(fr(0.1) * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
      const w = fr(xi * xi);
      sumlx = fr(sumlx + fr(fr(w * xi) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) {
        L[lo + i] = nmax + clamp(nearestInt(fr(iscale * x[xo + i]!)), -nmax, nmax - 1);
      }
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}

/**
 * Q3_K's search (make_q3_quants with do_rmse): codes in [-nmax, nmax-1], then up to 5 rounds of single-element
 * moves that increase the weighted cosine. Writes L[lo + i] = code + nmax and returns the scale.
 */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]!);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    return 0;
  }
  const iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
    L[lo + i] = l;
    const w = fr(xi * xi);
    sumlx = fr(sumlx + fr(fr(w * xi) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let nChanged = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      const w = fr(xi * xi);
      const li = L[lo + i]!;
      let slx = fr(sumlx - fr(fr(w * xi) * li));
      if (slx > 0) {
        let sl2 = fr(suml2 - fr(fr(w * li) * li));
        const newL = clamp(nearestInt(fr(fr(xi * sl2) / slx)), -nmax, nmax - 1);
        if (newL !== li) {
          slx = fr(slx + fr(fr(w * xi) * newL));
          sl2 = fr(sl2 + fr(fr(w * newL) * newL));
          if (sl2 > 0 && fr(fr(slx * slx) * suml2) > fr(fr(sumlx * sumlx) * sl2)) {
            L[lo + i] = newL;
            sumlx = slx;
            suml2 = sl2;
            nChanged++;
          }
        }
      }
    }
    if (!nChanged) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] = L[lo + i]! + nmax;
  return suml2 > 0 ? fr(sumlx / suml2) : 0;
}

/** Result slot for makeQkx2Quants' second output (the positive offset "min" such that x ≈ scale·L − min). */
export interface MinOut {
  min: number;
}

/**
 * Affine scale+min search for codes in [0, nmax] (make_qkx2_quants): start from (max−min)/nmax, then try
 * nstep+1 inverse scales (rmin + rdelta·is + nmax)/(max−min), each followed by a weighted least-squares fit of
 * scale and min; keep the best by weighted squared (or absolute, useMad) error. Writes L[lo + i] in [0, nmax].
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, xo: number, weights: Float32Array, L: Uint8Array, lo: number,
  out: MinOut, Laux: Uint8Array, rmin: number, rdelta: number, nstep: number, useMad: boolean,
): number {
  let min = x[xo]!;
  let max = x[xo]!;
  let sumW = weights[0]!;
  let sumX = fr(sumW * x[xo]!);
  for (let i = 1; i < n; i++) {
    const xi = x[xo + i]!;
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = weights[i]!;
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    for (let i = 0; i < n; i++) L[lo + i] = 0;
    out.min = -min;
    return 0;
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[xo + i]!;
    const l = clamp(nearestInt(fr(iscale * fr(xi - min))), 0, nmax);
    L[lo + i] = l;
    let diff = fr(fr(fr(scale * l) + min) - xi);
    diff = useMad ? Math.abs(diff) : fr(diff * diff);
    bestError = fr(bestError + fr(weights[i]! * diff));
  }
  if (nstep < 1) {
    out.min = -min;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xo + i]!;
      const l = clamp(nearestInt(fr(iscale * fr(xi - min))), 0, nmax);
      Laux[i] = l;
      const w = weights[i]!;
      const wl = fr(w * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * xi));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let curError = 0;
      for (let i = 0; i < n; i++) {
        let diff = fr(fr(fr(thisScale * Laux[i]!) + thisMin) - x[xo + i]!);
        diff = useMad ? Math.abs(diff) : fr(diff * diff);
        curError = fr(curError + fr(weights[i]! * diff));
      }
      if (curError < bestError) {
        for (let i = 0; i < n; i++) L[lo + i] = Laux[i]!;
        bestError = curError;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  out.min = -min;
  return scale;
}
