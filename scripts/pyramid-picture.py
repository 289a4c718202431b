"""One slice of a boss-ingest OME-Zarr volume at every level of its pyramid, side by side, each
level drawn at its own size (so the halving shows), for the README.

usage: pyramid-picture.py VOLUME OUT.png [--z Z] [--zoom N]

Z is a level-0 slice (default: the middle of the volume); level k shows the slice that holds it
(z / 2^k for an isotropic pyramid). Every level is drawn N times its size (default 1; nearest
neighbour, so a level's voxels show as blocks). Grey values are stretched between the 0.5th and
99.8th percentiles of the level-0 slice, the same window at every level, so levels compare.
docs/pyramid.png is made from a real microscopy stack by scripts/nuclei-stack.py (its docstring
gives the commands), with --zoom 2.
"""
import argparse
import json
import os

import numpy as np
import zarr
from PIL import Image, ImageDraw

GAP = 16
LABEL = 22


def grey(plane, low, high):
    """8-bit grey of a plane, low and below black, high and above white."""
    scaled = (plane.astype(np.float64) - low) * 255 / (high - low)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("volume")
    p.add_argument("out")
    p.add_argument("--z", type=int)
    p.add_argument("--zoom", type=int, default=1)
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
        # the ratio of scales, rounded: 30 * 0.29 // 0.29 is 29 in floating point
        z = min(array.shape[-3] - 1, z0 // round(scale[-3] / base_z))
        slices.append((path, z, np.asarray(array[(0,) * (array.ndim - 3) + (z,)])))
    low, high = np.percentile(slices[0][2], [0.5, 99.8])
    high = max(high, low + 1)
    slices = [
        (path, z, plane.shape, grey(plane, low, high).repeat(args.zoom, 0).repeat(args.zoom, 1))
        for path, z, plane in slices
    ]
    width = sum(s[3].shape[1] for s in slices) + GAP * (len(slices) - 1)
    height = max(s[3].shape[0] for s in slices) + LABEL
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    x = 0
    for path, z, shape, picture in slices:
        canvas.paste(Image.fromarray(picture), (x, LABEL))
        draw.text((x, 4), f"level {path}: {shape[1]}x{shape[0]}, z {z}", fill=0)
        x += picture.shape[1] + GAP
    canvas.save(args.out, optimize=True)
    print(f"{args.out}: {len(slices)} levels, {width}x{height}")


if __name__ == "__main__":
    main()
