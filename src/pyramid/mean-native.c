/*
 * The uint8 mean of 2x2 (2x2x2) blocks, read straight from a level-k chunk's samples and written
 * straight into the level-(k+1) chunk's (or its part's), wherever either lies: the wasm kernels
 * (mean.wat) need both copied into and out of their own memory, and those copies, row by row into
 * a held chunk, cost several times the kernel itself. Built by scripts/build-native.mjs;
 * downsample.ts falls back to the wasm kernels where it could not be built.
 *
 * mean(src, srcPlaneStep, X, Y, depth, dst, dstStart, dstRowStride, dstPlaneStep, width, rows, planes):
 * for each of `planes` output planes p and `rows` output rows r, the `width` voxels at
 * dst[dstStart + p * dstPlaneStep + r * dstRowStride + i] are floor(sum / count) of the block of
 * src rows 2r and 2r + 1 (of X bytes each, in planes of X * Y bytes starting at p * srcPlaneStep),
 * columns 2i and 2i + 1, and with depth 2 the same in the plane after. Every index is checked
 * against the arrays' lengths before anything is written.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/* Pairs of neighbouring bytes summed into 16-bit lanes: 16 bytes give 8 sums. */
#ifdef __SSE2__
static inline __m128i pairs(const uint8_t *p) {
  const __m128i v = _mm_loadu_si128((const __m128i *)p);
  const __m128i low = _mm_set1_epi16(0x00ff);
  return _mm_add_epi16(_mm_and_si128(v, low), _mm_srli_epi16(v, 8));
}
#endif

static void mean_row(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d, uint8_t *out,
                     size_t width) {
  size_t i = 0;
#ifdef __SSE2__
  for (; i + 16 <= width; i += 16) {
    const uint8_t *pa = a + 2 * i, *pb = b + 2 * i;
    __m128i lo = _mm_add_epi16(pairs(pa), pairs(pb));
    __m128i hi = _mm_add_epi16(pairs(pa + 16), pairs(pb + 16));
    if (c) {
      const uint8_t *pc = c + 2 * i, *pd = d + 2 * i;
      lo = _mm_srli_epi16(_mm_add_epi16(lo, _mm_add_epi16(pairs(pc), pairs(pd))), 3);
      hi = _mm_srli_epi16(_mm_add_epi16(hi, _mm_add_epi16(pairs(pc + 16), pairs(pd + 16))), 3);
    } else {
      lo = _mm_srli_epi16(lo, 2);
      hi = _mm_srli_epi16(hi, 2);
    }
    _mm_storeu_si128((__m128i *)(out + i), _mm_packus_epi16(lo, hi));
  }
#endif
  for (; i < width; i++) {
    unsigned sum = a[2 * i] + a[2 * i + 1] + b[2 * i] + b[2 * i + 1];
    out[i] = c ? (uint8_t)((sum + c[2 * i] + c[2 * i + 1] + d[2 * i] + d[2 * i + 1]) >> 3) : (uint8_t)(sum >> 2);
  }
}

static int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  size_t count, offset;
  napi_value buffer;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, &count, &raw, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    return 0;
  *data = raw;
  *length = count;
  return 1;
}

static napi_value mean(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 12) return fail(env, "mean: 12 arguments expected");
  uint8_t *src, *dst;
  size_t srcLength, dstLength;
  if (!bytes_of(env, argv[0], &src, &srcLength) || !bytes_of(env, argv[5], &dst, &dstLength))
    return fail(env, "mean: src and dst must be Uint8Arrays");
  int64_t n[12];
  for (int k = 1; k < 12; k++) {
    if (k == 5) continue;
    if (napi_get_value_int64(env, argv[k], &n[k]) != napi_ok || n[k] < 0)
      return fail(env, "mean: sizes must be numbers of at least 0");
  }
  const int64_t srcPlaneStep = n[1], X = n[2], Y = n[3], depth = n[4];
  const int64_t dstStart = n[6], dstRowStride = n[7], dstPlaneStep = n[8], width = n[9], rows = n[10],
                planes = n[11];
  if (depth != 1 && depth != 2) return fail(env, "mean: depth must be 1 or 2");
  if (width == 0 || rows == 0 || planes == 0) return NULL;
  if (2 * width > X || 2 * rows > Y) return fail(env, "mean: the blocks do not fit a plane");
  /* The last byte each side touches, in 64-bit arithmetic: the sizes are at most about 2^32. */
  const int64_t srcLast = (planes - 1) * srcPlaneStep + (depth - 1) * X * Y + (2 * rows - 1) * X + 2 * width - 1;
  const int64_t dstLast = dstStart + (planes - 1) * dstPlaneStep + (rows - 1) * dstRowStride + width - 1;
  if (srcLast >= (int64_t)srcLength || dstLast >= (int64_t)dstLength)
    return fail(env, "mean: the blocks lie outside the arrays");
  for (int64_t p = 0; p < planes; p++)
    for (int64_t r = 0; r < rows; r++) {
      const uint8_t *a = src + p * srcPlaneStep + 2 * r * X;
      const uint8_t *b = a + X;
      const uint8_t *c = depth == 2 ? a + X * Y : NULL;
      const uint8_t *d = depth == 2 ? b + X * Y : NULL;
      mean_row(a, b, c, d, dst + dstStart + p * dstPlaneStep + r * dstRowStride, (size_t)width);
    }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mean", NAPI_AUTO_LENGTH, mean, NULL, &fn);
  napi_set_named_property(env, exports, "mean", fn);
  return exports;
}
