// ARGSORT and TOP_K by ranking: each thread counts the elements of its row that sort before its own
// (ties by index, i.e. a stable sort) and writes its index at that rank. O(n) per thread, no barriers.
import type { KernelBuilder } from "./spec.js";
import { count, guard } from "./spec.js";

const rankBody = (desc: boolean, limit: string) => guard(count("s0")) + `
  let i = unravel(gid, ne_s0());
  let v = get_s0(i.x, i.y, i.z, i.w);
  var rank = 0u;
  for (var j = 0u; j < ne_s0().x; j++) {
    let w = get_s0(j, i.y, i.z, i.w);
    if (w ${desc ? ">" : "<"} v || (w == v && j < i.x)) { rank++; }
  }
  if (rank < ${limit}) { sw_d(at_d(rank, i.y, i.z, i.w) >> 2u, i.x); }
`;

export const selectKernels: Record<string, KernelBuilder> = {
  ARGSORT: (n) => ({ key: `argsort:${n.params.order}`, wg: 64, threads: n.src[0].nElements, bind: [0],
    body: rankBody(n.params.order === 1, "ne_s0().x") }),
  TOP_K: (n) => ({ key: "top_k", wg: 64, threads: n.src[0].nElements, bind: [0], body: rankBody(true, "ne_d().x") }),
};
