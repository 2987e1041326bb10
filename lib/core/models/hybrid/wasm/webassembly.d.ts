/**
 * The part of the WebAssembly JS API this project uses (the hybrid model's SIMD kernel). TypeScript's
 * "DOM" lib declares it, but this Node project does not load DOM types, and @types/node 22 declares
 * only a few WebAssembly types.
 */
export {};

declare global {
  namespace WebAssembly {
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(delta: number): number;
    }
    class Module {
      constructor(bytes: Uint8Array);
    }
    type ImportValue = Memory | ((...args: number[]) => number);
    type Imports = Record<string, Record<string, ImportValue>>;
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Record<string, unknown>;
    }
  }
}
