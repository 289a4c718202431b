// Writes the example's data: 3 raw uint16 slices of 600 x 200 in data/ beside this file.
import { mkdirSync, writeFileSync } from 'node:fs';

const WIDTH = 600;
const HEIGHT = 200;
const dir = new URL('./data/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (let z = 0; z < 3; z++) {
  const slice = Buffer.alloc(WIDTH * HEIGHT * 2);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const blob = Math.sin(x / 23 + z) * Math.cos(y / 17 - z);
      slice.writeUInt16LE(Math.round(30000 + 20000 * blob + x * 7 + y * 3), 2 * (y * WIDTH + x));
    }
  }
  writeFileSync(new URL(`slice_${z}.raw`, dir), slice);
}
