/** Anything that turns one token id into its raw bytes. */
export interface TokenByteSource {
  tokenBytes(id: number, special?: boolean): Uint8Array;
}

/**
 * Incremental detokenizer for generation: a token may end in the middle of a UTF-8 sequence (emoji and
 * CJK are often split over byte tokens), so incomplete trailing bytes are held back until the next
 * token completes them. Genuinely invalid bytes come out as U+FFFD; a pending partial sequence only
 * does so on `flush()`.
 */
export class StreamingDecoder {
  private decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

  constructor(
    private readonly source: TokenByteSource,
    private readonly special = false,
  ) {}

  /** Decode one more token; returns the newly completed text (possibly ""). */
  push(id: number): string {
    return this.decoder.decode(this.source.tokenBytes(id, this.special), { stream: true });
  }

  /** Decode raw bytes in the same stream. */
  pushBytes(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }

  /** End of stream: whatever is still pending is emitted (an incomplete sequence becomes U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }

  reset(): void {
    this.decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  }
}
