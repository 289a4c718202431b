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
#include "png-data.h"
#include "png-filter.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t SIGNATURE[8] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a};

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
  if (length < 33 || memcmp(png, SIGNATURE, 8) != 0 || png_be32(png + 8) != 13 || memcmp(png + 12, "IHDR", 4) != 0)
    return fail(env, "not a PNG: no IHDR header");
  const uint32_t width = png_be32(png + 16), height = png_be32(png + 20);
  const uint8_t depth = png[24], colour = png[25], interlace = png[28];
  if (libdeflate_crc32(0, png + 12, 17) != png_be32(png + 29)) return fail(env, "the IHDR chunk's CRC does not match");
  if (colour != 0 || (depth != 8 && depth != 16) || interlace != 0 || png[26] != 0 || png[27] != 0) return null;
  if (width == 0 || height == 0 || width > 1u << 24 || height > 1u << 24) return fail(env, "the PNG's size is not valid");

  /* The image data from the chunk after IHDR, joined and inflated (png-data.h). */
  const size_t bpp = depth / 8;
  const size_t stride = (size_t)width * bpp;
  const size_t filtered_length = (stride + 1) * height;
  const uint8_t *zdata;
  size_t zlength;
  uint8_t *joined, *filtered = NULL;
  PngFailure why = {NULL, NULL};
  if (png_image_data(png, length, 33, NULL, &zdata, &zlength, &joined, &why)) {
    filtered = malloc(filtered_length);
    if (!filtered) why = (PngFailure){"DECODE", "out of memory"};
    else png_inflate(zdata, zlength, filtered, filtered_length, &why);
    free(joined);
  }
  if (why.code == PNG_NOT_GREY) return null;
  if (why.code) {
    free(filtered);
    return fail(env, why.message);
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
    put_samples(out + (size_t)y * out_stride, row + 1, stride, bpp);
  }
  free(filtered);

  return decoded_tile(env, width, height, depth, data);
}

EXPORT_ONE("decodeGrey", decode_grey)
