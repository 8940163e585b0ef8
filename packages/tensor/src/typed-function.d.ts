// typed-function 4.2.2 ships no declarations; this covers the part ggts uses.
declare module "typed-function" {
  type Fn = (...args: any[]) => any;
  interface TypedFunction {
    (name: string, signatures: Record<string, Fn>): Fn;
    (signatures: Record<string, Fn>): Fn;
    create(): TypedFunction;
    addType(type: { name: string; test: (x: unknown) => boolean }, beforeObjectTest?: boolean): void;
    addConversion(c: { from: string; to: string; convert: (x: any) => any }): void;
    referToSelf(fn: (self: Fn) => Fn): Fn;
  }
  const typed: TypedFunction;
  export default typed;
}
