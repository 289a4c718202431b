/**
 * The kernels of the uint8 mean (see downsample.ts's meanWhole8): the native one (mean-native.c),
 * and where it could not be built the wasm SIMD kernels of mean.wat, one instance per thread
 * (instantiated on first use), with the linear memory they work in: the input chunk is copied
 * in, its output region computed there, and copied back out.
 */
import { readFileSync } from 'node:fs';
import { nativeAddon } from '../native.js';

/** The parts of the WebAssembly API used here (TypeScript declares it only with the DOM's lib). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface MeanExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  mean2x2(src: number, stride: number, dst: number, dstStride: number, width: number, rows: number): void;
  mean2x2x2(
    src: number,
    stride: number,
    plane: number,
    dst: number,
    dstStride: number,
    width: number,
    rows: number,
  ): void;
}

let instance: MeanExports | undefined;

/** Output rows handed to the kernels must be whole steps of this many voxels. */
export const MEAN_STEP = 16;

const PAGE = 65536;

/** The kernels, with at least `bytes` of memory. */
export function meanKernels(bytes: number): MeanExports {
  if (!instance) {
    const module = new Module(readFileSync(new URL('./mean.wasm', import.meta.url)));
    instance = new Instance(module).exports as MeanExports;
  }
  const short = bytes - instance.memory.buffer.byteLength;
  if (short > 0) instance.memory.grow(Math.ceil(short / PAGE));
  return instance;
}

/** The native kernel (mean-native.c): reads and writes the chunks where they lie, no copies. */
interface NativeMean {
  mean(
    src: Uint8Array,
    srcPlaneStep: number,
    x: number,
    y: number,
    depth: number,
    dst: Uint8Array,
    dstStart: number,
    dstRowStride: number,
    dstPlaneStep: number,
    width: number,
    rows: number,
    planes: number,
  ): void;
}

export const nativeMean = nativeAddon<NativeMean>(import.meta.url, './mean-native.node');

export type MeanKernel = 'native' | 'wasm';
export const DEFAULT_MEAN: MeanKernel = nativeMean ? 'native' : 'wasm';
