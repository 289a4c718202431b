"""Reads an OME-Zarr volume with zarr-python 3 for the tests: writes the whole array ARRAY (0 when
not given) as raw C-order bytes to OUT and prints its shape, dtype, chunks and OME metadata as JSON.

usage: readback.py VOLUME OUT [ARRAY]"""
import json
import sys

import zarr

path, out = sys.argv[1], sys.argv[2]
group = zarr.open_group(path, mode="r")
array = group[sys.argv[3] if len(sys.argv) > 3 else "0"]
data = array[...]
with open(out, "wb") as f:
    f.write(data.tobytes(order="C"))
print(json.dumps({
    "zarr": zarr.__version__,
    "shape": list(array.shape),
    "dtype": str(array.dtype),
    "chunks": list(array.chunks),
    "shards": list(array.shards) if array.shards else None,
    "ome": group.attrs.asdict().get("ome"),
    "dimension_names": list(array.metadata.dimension_names or []),
}))
