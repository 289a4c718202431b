"""The script a user would write for a time series: one multipage uint16 TIFF per z slice, page t
of each file the slice at time t, into a Zarr v3 array (t, z, y, x) with tifffile and zarr-python,
a range of time points per task on a multiprocessing.Pool. Same chunks and codec as boss-ingest's
default (one time point, all z up to 16, blosc lz4 level 1, no shuffle).

usage: tifffile_zarr.py OUT PAGES FILE... [--processes N]
Prints {"seconds": ..., "bytes": ...} (the pool's work, from its start to its end)."""
import argparse
import json
import time
from multiprocessing import Pool

import numpy as np
import tifffile
import zarr
from zarr.codecs import BloscCodec

STEP = 25


def work(task):
    args, t0 = task
    t1 = min(t0 + STEP, args.pages)
    files = [tifffile.TiffFile(f) for f in args.files]
    try:
        block = np.stack([np.stack([f.pages[t].asarray() for f in files]) for t in range(t0, t1)])
    finally:
        for f in files:
            f.close()
    zarr.open_array(args.out, mode="r+")[t0:t1] = block
    return block.nbytes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("pages", type=int)
    p.add_argument("files", nargs="+")
    p.add_argument("--processes", type=int, default=2)
    args = p.parse_args()
    with tifffile.TiffFile(args.files[0]) as f:
        page = f.pages[0]
        height, width, dtype = page.shape[0], page.shape[1], page.dtype
    zarr.create_array(
        args.out,
        shape=(args.pages, len(args.files), height, width),
        chunks=(1, min(16, len(args.files)), height, width),
        dtype=dtype,
        compressors=BloscCodec(cname="lz4", clevel=1, shuffle="noshuffle"),
        overwrite=True,
    )
    tasks = [(args, t0) for t0 in range(0, args.pages, STEP)]
    start = time.perf_counter()
    with Pool(args.processes) as pool:
        total = sum(pool.imap_unordered(work, tasks))
    print(json.dumps({"seconds": time.perf_counter() - start, "bytes": total}))


if __name__ == "__main__":
    main()
