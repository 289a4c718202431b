"""The script a user would write instead of boss-ingest: a CATMAID tile stack (ROOT/z/y_x_0.EXT)
into a Zarr v3 array with Pillow, numpy and zarr-python, one chunk (16 slices x one tile) per task
on a multiprocessing.Pool. Same chunks and codec as boss-ingest's default (blosc lz4, level 1,
no shuffle). With --decode-only the tiles are decoded and dropped: Pillow's decoding alone.
With --zindex the stack is one image per slice (ROOT/sliceZZZZ.EXT, z zero-padded to 4 digits),
and a task is a z band of 16 slices, each read once and written to every chunk of the band.

usage: pillow_zarr.py ROOT EXT WIDTH HEIGHT DEPTH TILE OUT [--processes N] [--decode-only] [--zindex]
Prints {"seconds": ..., "bytes": ...} (the pool's work, from its start to its end)."""
import argparse
import json
import time
from multiprocessing import Pool

import numpy as np
import zarr
from PIL import Image
from zarr.codecs import BloscCodec

DEPTH = 16


def tile(root, ext, z, yi, xi):
    return np.asarray(Image.open(f"{root}/{z}/{yi}_{xi}_0.{ext}"))


def section(root, ext, z):
    return np.asarray(Image.open(f"{root}/slice{z:04d}.{ext}"))


def band(task):
    args, z0 = task
    first = section(args.root, args.ext, z0)
    block = np.empty((min(DEPTH, args.depth - z0), *first.shape), dtype=first.dtype)
    block[0] = first
    for i in range(1, block.shape[0]):
        block[i] = section(args.root, args.ext, z0 + i)
    if not args.decode_only:
        array = zarr.open_array(args.out, mode="r+")
        array[z0 : z0 + block.shape[0]] = block
    return block.nbytes


def work(task):
    args, (z0, yi, xi) = task
    block = np.stack([tile(args.root, args.ext, z, yi, xi) for z in range(z0, min(z0 + DEPTH, args.depth))])
    if not args.decode_only:
        array = zarr.open_array(args.out, mode="r+")
        y0, x0 = yi * args.tile, xi * args.tile
        array[z0 : z0 + block.shape[0], y0 : y0 + block.shape[1], x0 : x0 + block.shape[2]] = block
    return block.nbytes


def main():
    p = argparse.ArgumentParser()
    for name in ("root", "ext", "width", "height", "depth", "tile", "out"):
        p.add_argument(name, type=int if name in ("width", "height", "depth", "tile") else str)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--decode-only", action="store_true")
    p.add_argument("--zindex", action="store_true")
    args = p.parse_args()
    # Sections of 16k x 16k pixels are past Pillow's decompression-bomb guard; a user lifts it.
    Image.MAX_IMAGE_PIXELS = None
    dtype = (section(args.root, args.ext, 0) if args.zindex else tile(args.root, args.ext, 0, 0, 0)).dtype
    if not args.decode_only:
        zarr.create_array(
            args.out,
            shape=(args.depth, args.height, args.width),
            chunks=(DEPTH, args.tile, args.tile),
            dtype=dtype,
            compressors=BloscCodec(cname="lz4", clevel=1, shuffle="noshuffle"),
            overwrite=True,
        )
    if args.zindex:
        tasks, fn = [(args, z0) for z0 in range(0, args.depth, DEPTH)], band
    else:
        fn = work
        tasks = [
            (args, (z0, yi, xi))
            for z0 in range(0, args.depth, DEPTH)
            for yi in range(args.height // args.tile)
            for xi in range(args.width // args.tile)
        ]
    t0 = time.perf_counter()
    with Pool(args.processes) as pool:
        total = sum(pool.imap_unordered(fn, tasks))
    print(json.dumps({"seconds": time.perf_counter() - t0, "bytes": total}))


if __name__ == "__main__":
    main()
