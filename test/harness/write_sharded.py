"""Writes a sharded Zarr v3 array with zarr-python for the tests, so that our shard reader meets a
shard it did not write. Voxel (x, y, z) holds (7x + 13y + 31z + 1) % 251 inside the written box
(z0:z1, y0:y1, x0:x1); everything else is never written.

usage: write_sharded.py PATH PARAMS.json
PARAMS: {"dtype", "shape": [z, y, x], "chunks": [...], "shards": [...], "compressor": "none" | "zstd" | "blosc",
         "box": [[z0, z1], [y0, y1], [x0, x1]]}
"""
import json
import sys

import numpy as np
import zarr
from zarr.codecs import BloscCodec, ZstdCodec

path = sys.argv[1]
params = json.load(open(sys.argv[2]))
compressors = {
    "none": None,
    "zstd": ZstdCodec(level=3),
    "blosc": BloscCodec(cname="lz4", clevel=1, shuffle="noshuffle"),
}[params["compressor"]]
array = zarr.create_array(
    path,
    shape=params["shape"],
    chunks=params["chunks"],
    shards=params["shards"],
    dtype=params["dtype"],
    compressors=compressors,
    fill_value=0,
)
(z0, z1), (y0, y1), (x0, x1) = params["box"]
z, y, x = np.meshgrid(np.arange(z0, z1), np.arange(y0, y1), np.arange(x0, x1), indexing="ij")
array[z0:z1, y0:y1, x0:x1] = ((7 * x + 13 * y + 31 * z + 1) % 251).astype(params["dtype"])
