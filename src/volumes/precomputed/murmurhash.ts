/**
 * MurmurHash3 x86 128-bit, seed 0: the hash of neuroglancer's sharded format, which keeps the low
 * 64 bits of the hash of a chunk id's 8 little-endian bytes.
 */
const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Low 64 bits of murmurhash3_x86_128(the 8 little-endian bytes of `key`, seed 0). */
export function murmurHash64Low(key: bigint): bigint {
  // An 8-byte key is all tail: k1 and k2 only.
  let k1 = Number(key & 0xffffffffn);
  let k2 = Number((key >> 32n) & 0xffffffffn);
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  k2 = Math.imul(k2, C2);
  k2 = rotl(k2, 16);
  k2 = Math.imul(k2, C3);
  h2 ^= k2;
  k1 = Math.imul(k1, C1);
  k1 = rotl(k1, 15);
  k1 = Math.imul(k1, C2);
  h1 ^= k1;
  const len = 8;
  h1 = (h1 ^ len) >>> 0;
  h2 = (h2 ^ len) >>> 0;
  h3 = (h3 ^ len) >>> 0;
  h4 = (h4 ^ len) >>> 0;
  h1 = (h1 + h2 + h3 + h4) >>> 0;
  h2 = (h2 + h1) >>> 0;
  h3 = (h3 + h1) >>> 0;
  h4 = (h4 + h1) >>> 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) >>> 0;
  h2 = (h2 + h1) >>> 0;
  return (BigInt(h2) << 32n) | BigInt(h1);
}
