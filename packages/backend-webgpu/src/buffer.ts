// A BackendBuffer over one GPUBuffer (storage | copy-src | copy-dst).
import type { Backend, BackendBuffer } from "@ggts/tensor";

export class WebGpuBuffer implements BackendBuffer {
  private freed = false;
  constructor(readonly backend: Backend, readonly gpu: GPUBuffer, readonly size: number,
              private readonly onFree: (b: WebGpuBuffer) => void, readonly isArena = false) {}
  get isFreed(): boolean { return this.freed; }
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.gpu.destroy();
    this.onFree(this);
  }
}
