"""Writes assets/test_tile.png, the tile that the original client's test plugins
(`path.TestPathProcessor` with `tile.TestTileProcessor`) ingest at every tile position.

The original packaged a PNG of its own (ingestclient/test/data/test_tile.png); this one is ours,
made by this script, so that nothing of the original's data is shipped. 512 x 512, 8-bit grey
(the tile_size of the original's test config): a diagonal ramp 16..239 that rises twice as fast
down as across (so a transposed or flipped tile is told apart), with 255 grid lines every 64
pixels; no zeros, so a tile of it is never taken for an empty one.

usage: test-tile.py [OUT]   (default assets/test_tile.png, from the repository root)"""
import sys

import numpy as np
from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "assets/test_tile.png"
y, x = np.mgrid[0:512, 0:512]
tile = (16 + (x + 2 * y) % 224).astype(np.uint8)
tile[(x % 64 == 0) | (y % 64 == 0)] = 255
Image.fromarray(tile, mode="L").save(out, optimize=True)
