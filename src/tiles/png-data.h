/*
 * A PNG's image data held whole: its IDAT chunks found and checked (every chunk's CRC) up to IEND,
 * joined, and inflated at once by libdeflate into the filtered rows (each row's filter byte, then
 * its bytes). Shared by the whole-image decoder (png-grey.c) and the row stream's whole mode
 * (png-stream.c). Each failure comes with a code the stream's callers know: TRUNCATED, CORRUPT
 * (a CRC) or DECODE.
 */
#ifndef BOSS_INGEST_PNG_DATA_H
#define BOSS_INGEST_PNG_DATA_H
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t png_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

typedef struct {
  const char *code;
  const char *message;
} PngFailure;

/* Transparency or a palette: decoders turn them into channels, the general path's to do. */
#define PNG_NOT_GREY ((const char *)1)

/*
 * The image data of the chunks from `at` (a chunk's start) of `png` through IEND: *zdata and
 * *zlength, in `*joined` (the caller frees it) when it came in more than one IDAT chunk, unless
 * `in_place` (the same bytes as `png`, the caller's to change) says to join them at its start.
 * Measured first and joined once: writers cut it in chunks of 8 KiB (libpng's default), and
 * growing a buffer chunk by chunk cost a 4096x4096 slice's 1,650 IDATs a tenth of its decode in
 * realloc's copies. Returns 1, or 0 with *why set; why->code is PNG_NOT_GREY for a tRNS or PLTE
 * chunk.
 */
static int png_image_data(const uint8_t *png, size_t length, size_t at, uint8_t *in_place, const uint8_t **zdata,
                          size_t *zlength, uint8_t **joined, PngFailure *why) {
  size_t total = 0, idats = 0, first_idat = 0;
  *joined = NULL;
  for (int ended = 0; !ended;) {
    if (at + 12 > length) return *why = (PngFailure){"TRUNCATED", "the file ends before its last chunk"}, 0;
    const uint32_t n = png_be32(png + at);
    const uint8_t *kind = png + at + 4;
    if (n > length - at - 12) return *why = (PngFailure){"TRUNCATED", "the file ends before its last chunk"}, 0;
    if (libdeflate_crc32(0, kind, 4 + (size_t)n) != png_be32(png + at + 8 + n))
      return *why = (PngFailure){"CORRUPT", "a chunk's CRC does not match"}, 0;
    if (memcmp(kind, "IDAT", 4) == 0) {
      if (idats++ == 0) first_idat = at;
      total += n;
    } else if (memcmp(kind, "IEND", 4) == 0) {
      ended = 1;
    } else if (memcmp(kind, "tRNS", 4) == 0 || memcmp(kind, "PLTE", 4) == 0) {
      return *why = (PngFailure){PNG_NOT_GREY, "the PNG has a palette or transparency"}, 0;
    } else if (!(kind[0] & 0x20)) {
      return *why = (PngFailure){"DECODE", "the PNG has a critical chunk this decoder does not know"}, 0;
    }
    at += 12 + (size_t)n;
  }
  if (total == 0) return *why = (PngFailure){"DECODE", "the PNG has no image data"}, 0;
  *zlength = total;
  if (idats == 1) {
    *zdata = png + first_idat + 8;
    return 1;
  }
  uint8_t *out = in_place ? in_place : malloc(total);
  if (!out) return *why = (PngFailure){"DECODE", "out of memory"}, 0;
  /*
   * The chunks were all checked above: only their lengths and types are read again, each before
   * anything is moved over it (in place, a payload moves only towards the start, past what was read).
   */
  for (size_t k = first_idat, put = 0; put < total;) {
    const uint32_t n = png_be32(png + k);
    const int idat = memcmp(png + k + 4, "IDAT", 4) == 0;
    const size_t next = k + 12 + (size_t)n;
    if (idat) {
      memmove(out + put, png + k + 8, n);
      put += n;
    }
    k = next;
  }
  if (!in_place) *joined = out;
  *zdata = out;
  return 1;
}

/* One decompressor per thread: the calls come from one thread at a time, each its own. */
static _Thread_local struct libdeflate_decompressor *png_inflater;

/* The zlib stream inflated into exactly `filtered_length` bytes of `filtered`: 1, or 0 with *why set. */
static int png_inflate(const uint8_t *zdata, size_t zlength, uint8_t *filtered, size_t filtered_length,
                       PngFailure *why) {
  if (!png_inflater) png_inflater = libdeflate_alloc_decompressor();
  if (!png_inflater) return *why = (PngFailure){"DECODE", "out of memory"}, 0;
  size_t actual = 0;
  enum libdeflate_result r =
      libdeflate_zlib_decompress(png_inflater, zdata, zlength, filtered, filtered_length, &actual);
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
    return *why = (PngFailure){"DECODE", "the image data holds more than the image's rows"}, 0;
  if (r != LIBDEFLATE_SUCCESS) return *why = (PngFailure){"DECODE", "the image data is corrupt (zlib)"}, 0;
  if (actual != filtered_length)
    return *why = (PngFailure){"TRUNCATED", "the image data holds fewer bytes than the image's rows"}, 0;
  return 1;
}

#endif
