"""Sets one voxel of an OME-Zarr volume's array 0 (or ARRAY: a pyramid level, a source group's
array) with zarr-python 3 (which decodes the chunk, changes it and encodes it again), so a test can
change a stored volume without our writer. Prints the voxel's value before and after as JSON.

usage: set_voxel.py VOLUME Z Y X VALUE [ARRAY]"""
import json
import sys

import zarr

path = sys.argv[1]
z, y, x, value = (int(v) for v in sys.argv[2:6])
array = zarr.open_array(path, path=sys.argv[6] if len(sys.argv) > 6 else "0", mode="r+")
before = int(array[z, y, x])
array[z, y, x] = value
print(json.dumps({"before": before, "after": int(array[z, y, x])}))
