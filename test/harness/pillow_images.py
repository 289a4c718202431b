"""Writes test images into DIR and, beside each, the samples Pillow decodes from it (what a user's
Python script would see), for the decoder exactness tests. Prints a JSON manifest.

PNGs whose filter types and interlacing the tests need are assembled here (Pillow chooses its own
filters and does not write interlaced PNGs); Pillow still decodes every one of them, and the script
fails if that decode differs from the samples that were encoded."""
import json
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)
manifest = []


def textured(h, w, bits, channels=1):
    """Smooth gradients, blobs and noise: every filter type has something to predict."""
    y, x = np.mgrid[0:h, 0:w]
    top = 255 if bits == 8 else 65535
    planes = []
    for c in range(channels):
        blob = np.sin(x / 7.0 + c) * np.cos(y / 5.0 - c)
        v = (0.5 + 0.4 * blob) * top + rng.integers(0, top // 16, size=(h, w)) + (x + y) * 3
        planes.append(np.clip(v, 0, top))
    a = np.stack(planes, axis=-1) if channels > 1 else planes[0]
    return a.astype(np.uint8 if bits == 8 else np.uint16)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filter_rows(rows, bpp, filters):
    """PNG scanline filtering of a (h, stride) uint8 array, filter type filters(y) for row y."""
    h, stride = rows.shape
    prev = np.zeros(stride, dtype=np.int32)
    lines = []
    for yy in range(h):
        cur = rows[yy].astype(np.int32)
        left = np.concatenate([np.zeros(bpp, np.int32), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
        f = filters(yy)
        pred = [0, left, prev, (left + prev) // 2, paeth(left, prev, upleft)][f]
        lines.append(bytes([f]) + ((cur - pred) % 256).astype(np.uint8).tobytes())
        prev = cur
    return b"".join(lines)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    body = kind + data
    return len(data).to_bytes(4, "big") + body + (zlib.crc32(body) & 0xFFFFFFFF).to_bytes(4, "big")


def write_png(path, samples, colour_type, filters, interlaced):
    h, w = samples.shape[:2]
    bits = 16 if samples.dtype == np.uint16 else 8
    big = samples.astype(">u2") if bits == 16 else samples
    channels = 1 if samples.ndim == 2 else samples.shape[2]
    bpp = channels * bits // 8
    if interlaced:
        parts = []
        for x0, y0, dx, dy in ADAM7:
            sub = big[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                rows = np.ascontiguousarray(sub).reshape(sub.shape[0], -1).view(np.uint8)
                parts.append(filter_rows(rows, bpp, filters))
        raw = b"".join(parts)
    else:
        raw = filter_rows(np.ascontiguousarray(big).reshape(h, -1).view(np.uint8), bpp, filters)
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([bits, colour_type, 0, 0, 1 if interlaced else 0])
    # Two IDAT chunks: decoders must join them.
    z = zlib.compress(raw, 6)
    half = len(z) // 2
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", z[:half]) + chunk(b"IDAT", z[half:])
    path.write_bytes(data + chunk(b"IEND", b""))


def pillow_samples(path, channel=None):
    im = Image.open(path)
    im.load()
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    a = np.asarray(im)
    if im.mode in ("I;16", "I;16B", "I"):
        a = a.astype(np.uint16)
    if channel is not None and a.ndim == 3:
        a = a[:, :, channel]
    return np.ascontiguousarray(a)


def record(name, path, expected, channel=None):
    raw = out / (name + ".expected")
    raw.write_bytes(expected.astype(expected.dtype.newbyteorder("<")).tobytes())
    manifest.append({
        "name": name,
        "file": str(path),
        "expected": str(raw),
        "width": int(expected.shape[1]),
        "height": int(expected.shape[0]),
        "datatype": str(expected.dtype),
        **({"channel": channel} if channel is not None else {}),
    })


FILTERS = {f"filter{f}": (lambda f: lambda y: f)(f) for f in range(5)}
FILTERS["mixed"] = lambda y: y % 5
COLOUR_TYPES = {"grey": (0, 1), "rgb": (2, 3), "greyalpha": (4, 2), "rgba": (6, 4)}

for bits in (8, 16):
    for size in ((512, 512), (23, 37)):
        for fname, filters in FILTERS.items():
            for interlaced in (False, True):
                if interlaced and fname != "mixed":
                    continue
                for cname, (ctype, channels) in COLOUR_TYPES.items():
                    if cname != "grey" and (fname != "mixed" or size != (23, 37)):
                        continue
                    samples = textured(*size, bits, channels)
                    name = f"png-{cname}{bits}-{size[1]}x{size[0]}-{fname}{'-adam7' if interlaced else ''}"
                    path = out / (name + ".png")
                    write_png(path, samples, ctype, filters, interlaced)
                    # Pillow reduces 16-bit colour to 8 bits: there the encoded samples are the truth.
                    if bits == 8 or channels == 1:
                        decoded = pillow_samples(path)
                        if not np.array_equal(decoded, samples):
                            sys.exit(f"Pillow does not decode {path} to the samples written")
                    for c in range(channels) if channels > 1 else [None]:
                        truth = samples if c is None else np.ascontiguousarray(samples[:, :, c])
                        record(name + (f"-channel{c}" if c is not None else ""), path, truth, c)

# Files Pillow writes itself: its own PNG filters, a palette, JPEG (grey and colour), TIFF.
grey8 = textured(512, 512, 8)
grey16 = textured(300, 200, 16)
colour = textured(64, 48, 8, 3)
for name, image, kwargs in [
    ("pillow-grey8.png", Image.fromarray(grey8), {}),
    ("pillow-grey16.png", Image.fromarray(grey16), {}),
    ("pillow-palette.png", Image.fromarray(colour).quantize(colors=50), {}),
    ("pillow-grey.jpg", Image.fromarray(grey8), {"quality": 90}),
    ("pillow-grey-odd.jpg", Image.fromarray(grey8[:37, :23]), {"quality": 75}),
    ("pillow-grey-progressive.jpg", Image.fromarray(grey8), {"quality": 85, "progressive": True}),
    ("pillow-colour420.jpg", Image.fromarray(colour), {"quality": 90}),
    ("pillow-grey8.tif", Image.fromarray(grey8), {}),
    ("pillow-grey8-lzw.tif", Image.fromarray(grey8), {"compression": "tiff_lzw"}),
    ("pillow-grey16.tif", Image.fromarray(grey16), {}),
    ("pillow-grey16-deflate.tif", Image.fromarray(grey16), {"compression": "tiff_adobe_deflate"}),
]:
    path = out / name
    image.save(path, **kwargs)
    stem = path.stem + path.suffix.replace(".", "-")
    if image.mode in ("P", "RGB"):
        for c in range(3):
            record(f"{stem}-channel{c}", path, pillow_samples(path, c), c)
    else:
        record(stem, path, pillow_samples(path))

print(json.dumps(manifest))
