"""Decodes an 8-bit grey image with Pillow (not boss-ingest's decoder): writes its samples, row by
row, as raw bytes to OUT and prints its width and height as JSON.

usage: pillow_decode.py IMAGE OUT"""
import json
import sys

import numpy as np
from PIL import Image

image = Image.open(sys.argv[1])
if image.mode != "L":
    sys.exit(f"{sys.argv[1]}: mode {image.mode}, not 8-bit grey")
samples = np.asarray(image)
with open(sys.argv[2], "wb") as f:
    f.write(samples.tobytes(order="C"))
print(json.dumps({"width": image.width, "height": image.height}))
