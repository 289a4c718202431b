"""Source volumes for the pyramid tests, written by zarr-python: a Zarr v3 group with `img` (uint16
noise, for mean), `img2` (`img` changed, for a re-run over part of a volume) and `lab` (uint8
labels in stripes with 1 voxel in 4 changed, so blocks have a majority, ties and several values).

usage: pyramid_sources.py GROUP Z Y X
"""
import sys

import numpy as np
import zarr

group, shape = sys.argv[1], tuple(int(n) for n in sys.argv[2:5])
rng = np.random.default_rng(12)
img = rng.integers(0, 65536, size=shape, dtype=np.uint16)
z, y, x = np.indices(shape)
lab = ((x // 3 + y // 2 + z) % 4).astype(np.uint8)
noise = rng.integers(0, 4, size=shape) == 0
lab[noise] = rng.integers(0, 6, size=int(noise.sum()))
g = zarr.open_group(group, mode="w")
chunks = tuple(min(n, 16) for n in shape)
g.create_array("img", data=img, chunks=chunks)
g.create_array("img2", data=(img // 2 + 1000).astype(np.uint16), chunks=chunks)
g.create_array("lab", data=lab, chunks=chunks)
