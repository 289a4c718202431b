/*
 * Grey PNG decoding (8 or 16-bit samples, not interlaced) with libdeflate, called synchronously
 * on the thread that asks (a chunk thread): the image data's zlib stream is inflated whole, then
 * unfiltered row by row into the samples, 16-bit ones in the machine's byte order. Every
 * chunk's CRC and the stream's Adler-32 are checked, as the png crate does, so a damaged tile is
 * refused, never ingested with made-up samples. Built by scripts/build-native.mjs; png.ts falls
 * back to @napi-rs/image for what this does not cover and where it could not be built.
 *
 * decodeGrey(bytes, samples?, start?, rowBytes?, width?, height?, bytesPerSample?): { width, height,
 * bitDepth, data }: the rows written where the caller placed the tile (see addon.h's rows_out; data
 * undefined), else into a new Buffer, data;
 * null for a PNG this path does not cover (colour, palette, other depths, interlaced); throws
 * with the reason for a damaged one.
 */
#include <node_api.h>
#include "addon.h"
#include "png-filter.h"
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static const uint8_t SIGNATURE[8] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a};

/* One decompressor per thread: the calls come from one thread at a time, each its own. */
static _Thread_local struct libdeflate_decompressor *inflater;

static napi_value decode_grey(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return fail(env, "decodeGrey: no bytes");
  bool is_typed;
  napi_is_typedarray(env, argv[0], &is_typed);
  if (!is_typed) return fail(env, "decodeGrey: bytes must be a Uint8Array");
  napi_typedarray_type type;
  size_t length, offset;
  void *raw;
  napi_value arraybuffer;
  napi_get_typedarray_info(env, argv[0], &type, &length, &raw, &arraybuffer, &offset);
  const uint8_t *png = raw;
  if (type != napi_uint8_array) return fail(env, "decodeGrey: bytes must be a Uint8Array");

  napi_value null;
  napi_get_null(env, &null);
  if (length < 33 || memcmp(png, SIGNATURE, 8) != 0 || be32(png + 8) != 13 || memcmp(png + 12, "IHDR", 4) != 0)
    return fail(env, "not a PNG: no IHDR header");
  const uint32_t width = be32(png + 16), height = be32(png + 20);
  const uint8_t depth = png[24], colour = png[25], interlace = png[28];
  if (libdeflate_crc32(0, png + 12, 17) != be32(png + 29)) return fail(env, "the IHDR chunk's CRC does not match");
  if (colour != 0 || (depth != 8 && depth != 16) || interlace != 0 || png[26] != 0 || png[27] != 0) return null;
  if (width == 0 || height == 0 || width > 1u << 24 || height > 1u << 24) return fail(env, "the PNG's size is not valid");

  /*
   * The image data: the IDAT chunks' contents, each chunk's CRC checked. Measured first and joined
   * in one buffer after (none when there is one IDAT): writers cut it in chunks of 8 KiB (libpng's
   * default), and growing a buffer chunk by chunk cost a 4096x4096 slice's 1,650 IDATs a tenth of
   * its decode in realloc's copies.
   */
  size_t at = 33, zlength = 0, idats = 0, first_idat = 0;
  int ended = 0;
  const char *error = NULL;
  while (!ended) {
    if (at + 12 > length) { error = "the PNG is truncated"; break; }
    const uint32_t n = be32(png + at);
    const uint8_t *kind = png + at + 4;
    if (n > length - at - 12) { error = "the PNG is truncated"; break; }
    if (libdeflate_crc32(0, kind, 4 + (size_t)n) != be32(png + at + 8 + n)) {
      error = "a chunk's CRC does not match";
      break;
    }
    if (memcmp(kind, "IDAT", 4) == 0) {
      if (idats++ == 0) first_idat = at;
      zlength += n;
    } else if (memcmp(kind, "IEND", 4) == 0) {
      ended = 1;
    } else if (memcmp(kind, "tRNS", 4) == 0 || memcmp(kind, "PLTE", 4) == 0) {
      return null; /* decoders turn transparency into an alpha channel: the general path's */
    } else if (!(kind[0] & 0x20)) {
      error = "the PNG has a critical chunk this decoder does not know";
      break;
    }
    at += 12 + (size_t)n;
  }
  if (!error && zlength == 0) error = "the PNG has no image data";
  const uint8_t *zdata = NULL;
  uint8_t *joined = NULL;
  if (!error && idats == 1) {
    zdata = png + first_idat + 8;
  } else if (!error) {
    joined = malloc(zlength);
    if (!joined) error = "out of memory";
    /* The chunks were all checked above: only their lengths and types are read again. */
    for (size_t k = first_idat, put = 0; joined && put < zlength; k += 12 + (size_t)be32(png + k)) {
      const uint32_t n = be32(png + k);
      if (memcmp(png + k + 4, "IDAT", 4) != 0) continue;
      memcpy(joined + put, png + k + 8, n);
      put += n;
    }
    zdata = joined;
  }

  const size_t bpp = depth / 8;
  const size_t stride = (size_t)width * bpp;
  const size_t filtered_length = (stride + 1) * height;
  uint8_t *filtered = error ? NULL : malloc(filtered_length);
  if (!error && !filtered) error = "out of memory";
  if (!error) {
    if (!inflater) inflater = libdeflate_alloc_decompressor();
    size_t actual = 0;
    enum libdeflate_result r =
        inflater ? libdeflate_zlib_decompress(inflater, zdata, zlength, filtered, filtered_length, &actual)
                 : LIBDEFLATE_INSUFFICIENT_SPACE;
    if (!inflater) error = "out of memory";
    else if (r == LIBDEFLATE_INSUFFICIENT_SPACE) error = "the image data holds more than the image's rows";
    else if (r != LIBDEFLATE_SUCCESS) error = "the image data is corrupt (zlib)";
    else if (actual != filtered_length) error = "the image data holds fewer bytes than the image's rows";
  }
  free(joined);
  if (error) {
    free(filtered);
    return fail(env, error);
  }

  /* The samples: where the caller placed the tile, else a new buffer. */
  uint8_t *out;
  size_t out_stride;
  napi_value data;
  if (!rows_out(env, argc, argv, 1, width, height, bpp, &out, &out_stride, &data)) {
    free(filtered);
    return fail(env, "out of memory");
  }
  /* Each row is unfiltered where it lies in `filtered` (after its filter byte), against the row above. */
  for (uint32_t y = 0; y < height; y++) {
    uint8_t *row = filtered + (size_t)y * (stride + 1);
    const uint8_t *prior = y > 0 ? row - stride : NULL;
    if (!unfilter(row[0], row + 1, prior, stride, bpp)) {
      free(filtered);
      return fail(env, "a row has an unknown filter type");
    }
    uint8_t *dst = out + (size_t)y * out_stride;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bpp == 2)
      for (size_t i = 0; i < stride; i += 2) {
        dst[i] = row[1 + i + 1]; /* big-endian in the file, the machine's order here */
        dst[i + 1] = row[1 + i];
      }
    else
#endif
      memcpy(dst, row + 1, stride);
  }
  free(filtered);

  return decoded_tile(env, width, height, depth, data);
}

EXPORT_ONE("decodeGrey", decode_grey)
