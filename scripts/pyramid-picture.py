"""One slice of a boss-ingest OME-Zarr volume at every level of its pyramid, side by side, each
level drawn at its own size (so the halving shows), for the README.

usage: pyramid-picture.py VOLUME OUT.png [--z Z]

Z is a level-0 slice (default: the middle of the volume); level k shows the slice that holds it
(z / 2^k for an isotropic pyramid). Made for docs/pyramid.png from the demo stack:
  boss-ingest run examples/demo/catmaid.json --output /tmp/demo.ome.zarr -f --multiscale
  python scripts/pyramid-picture.py /tmp/demo.ome.zarr docs/pyramid.png
"""
import argparse
import json
import os

import numpy as np
import zarr
from PIL import Image, ImageDraw

GAP = 16
LABEL = 22


def main():
    p = argparse.ArgumentParser()
    p.add_argument("volume")
    p.add_argument("out")
    p.add_argument("--z", type=int)
    args = p.parse_args()
    with open(os.path.join(args.volume, "zarr.json")) as f:
        attributes = json.load(f)["attributes"]
    multiscale = attributes["ome"]["multiscales"][0]
    group = zarr.open_group(args.volume, mode="r")
    levels = []
    for dataset in multiscale["datasets"]:
        array = group[dataset["path"]]
        scale = next(t["scale"] for t in dataset["coordinateTransformations"] if t["type"] == "scale")
        levels.append((dataset["path"], array, scale))
    level0 = levels[0][1]
    z0 = args.z if args.z is not None else level0.shape[-3] // 2
    base_z = levels[0][2][-3]
    slices = []
    for path, array, scale in levels:
        z = min(array.shape[-3] - 1, int(z0 * base_z // scale[-3]))
        plane = np.asarray(array[(0,) * (array.ndim - 3) + (z,)])
        if plane.dtype != np.uint8:
            top = max(1, int(plane.max()))
            plane = (plane.astype(np.float64) * 255 / top).astype(np.uint8)
        slices.append((path, z, plane))
    width = sum(s[2].shape[1] for s in slices) + GAP * (len(slices) - 1)
    height = max(s[2].shape[0] for s in slices) + LABEL
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    x = 0
    for path, z, plane in slices:
        canvas.paste(Image.fromarray(plane), (x, LABEL))
        draw.text((x, 4), f"level {path}: {plane.shape[1]}x{plane.shape[0]}, z {z}", fill=0)
        x += plane.shape[1] + GAP
    canvas.save(args.out, optimize=True)
    print(f"{args.out}: {len(slices)} levels, {width}x{height}")


if __name__ == "__main__":
    main()
