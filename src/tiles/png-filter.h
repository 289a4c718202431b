/* PNG's scanline filters undone (PNG spec, section 9), and rows made samples: shared by the whole-image and the streaming decoders. */
#ifndef BOSS_INGEST_PNG_FILTER_H
#define BOSS_INGEST_PNG_FILTER_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
  int p = (int)a + b - c;
  int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  return (pa <= pb && pa <= pc) ? a : pb <= pc ? b : c;
}

/* Unfilters one row of `n` bytes in place; `prior` is the row above (unfiltered), NULL for the first. */
static int unfilter(uint8_t type, uint8_t *row, const uint8_t *prior, size_t n, size_t bpp) {
  size_t i;
  switch (type) {
  case 0:
    return 1;
  case 1:
    for (i = bpp; i < n; i++) row[i] += row[i - bpp];
    return 1;
  case 2:
    if (prior)
      for (i = 0; i < n; i++) row[i] += prior[i];
    return 1;
  case 3:
    for (i = 0; i < n; i++) {
      unsigned left = i >= bpp ? row[i - bpp] : 0, up = prior ? prior[i] : 0;
      row[i] += (uint8_t)((left + up) >> 1);
    }
    return 1;
  case 4:
    for (i = 0; i < n; i++) {
      uint8_t left = i >= bpp ? row[i - bpp] : 0, up = prior ? prior[i] : 0;
      uint8_t diag = prior && i >= bpp ? prior[i - bpp] : 0;
      row[i] += paeth(left, up, diag);
    }
    return 1;
  default:
    return 0;
  }
}

/*
 * `n` bytes of an unfiltered row as samples at `dst`: 16-bit ones (bps 2) from the file's
 * big-endian order to the machine's, four samples at a time (swapped byte by byte, this loop was
 * 6% of the 16-bit bench stack's worker).
 */
static inline void put_samples(uint8_t *dst, const uint8_t *src, size_t n, size_t bps) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (bps == 2) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t v;
      memcpy(&v, src + i, 8);
      v = ((v & 0x00ff00ff00ff00ffull) << 8) | ((v >> 8) & 0x00ff00ff00ff00ffull);
      memcpy(dst + i, &v, 8);
    }
    for (; i + 1 < n; i += 2) {
      dst[i] = src[i + 1];
      dst[i + 1] = src[i];
    }
    return;
  }
#endif
  memcpy(dst, src, n);
}

#endif
