"""An independent pyramid from the definition in issue 12, for the tests: reads a level-0 array
(raw little-endian, C order z, y, x) and its extent, and writes levels 1..N as raw files.

Level k+1 halves x and y (and z when isotropic); its extent is [floor(start/2), ceil(stop/2)) of
level k's. Each of its voxels inside that extent comes from the level-k voxels of its block lying
inside level k's extent: mean = floor(sum / count), mode = most frequent, smallest on a tie.
Everything else is 0. Python integers keep uint64 sums exact.

usage: pyramid_reference.py PARAMS.json LEVEL0.bin OUTDIR
PARAMS: {"dtype", "shape": [z, y, x], "extent": {"x": [a, b], "y": ..., "z": ...},
         "method": "mean" | "mode", "isotropic": bool, "levels": N}
"""
import json
import sys
from collections import Counter

import numpy as np

params = json.load(open(sys.argv[1]))
dtype = np.dtype(params["dtype"]).newbyteorder("<")
level = np.fromfile(sys.argv[2], dtype=dtype).reshape(params["shape"])
extent = {axis: tuple(params["extent"][axis]) for axis in "xyz"}
halved = {"x": True, "y": True, "z": params["isotropic"]}
outdir = sys.argv[3]

for k in range(1, params["levels"] + 1):
    above = {
        axis: ((lo // 2, -(-hi // 2)) if halved[axis] else (lo, hi)) for axis, (lo, hi) in extent.items()
    }
    shape = [(n + 1) // 2 if halved[axis] else n for axis, n in zip("zyx", level.shape)]
    out = np.zeros(shape, dtype=dtype)
    f = {axis: 2 if halved[axis] else 1 for axis in "xyz"}
    for z in range(*above["z"]):
        zs = [i for i in range(z * f["z"], z * f["z"] + f["z"]) if extent["z"][0] <= i < extent["z"][1]]
        for y in range(*above["y"]):
            ys = [i for i in range(2 * y, 2 * y + 2) if extent["y"][0] <= i < extent["y"][1]]
            for x in range(*above["x"]):
                xs = [i for i in range(2 * x, 2 * x + 2) if extent["x"][0] <= i < extent["x"][1]]
                values = [int(level[i, j, l]) for i in zs for j in ys for l in xs]
                if params["method"] == "mean":
                    out[z, y, x] = sum(values) // len(values)
                else:
                    counts = Counter(values)
                    top = max(counts.values())
                    out[z, y, x] = min(v for v, c in counts.items() if c == top)
    out.tofile(f"{outdir}/level{k}.bin")
    level, extent = out, above
