/*
 * Rows of samples copied from one buffer into another, each at its own stride: a plane of a box
 * in one call rather than one TypedArray.set (and one subarray) per row. Splitting a shard into its
 * inner chunks copied 512-byte rows that way at about the cost of compressing them.
 *
 * copyRows(src, from, srcStride, dst, at, dstStride, rowBytes, rows): bytes; throws when a row
 * would lie outside either buffer.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include "../tiles/addon.h"

static napi_value copy_rows(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) return fail(env, "copyRows(src, from, srcStride, dst, at, dstStride, rowBytes, rows)");
  uint8_t *buf[2];
  size_t len[2];
  for (int k = 0; k < 2; k++) {
    napi_typedarray_type type;
    void *raw;
    bool typed = false;
    napi_is_typedarray(env, argv[k * 3], &typed);
    if (!typed || napi_get_typedarray_info(env, argv[k * 3], &type, &len[k], &raw, NULL, NULL) != napi_ok ||
        type != napi_uint8_array)
      return fail(env, "copyRows: src and dst must be Uint8Arrays");
    buf[k] = raw;
  }
  int64_t n[6];
  const int at[6] = {1, 2, 4, 5, 6, 7};
  for (int k = 0; k < 6; k++)
    if (napi_get_value_int64(env, argv[at[k]], &n[k]) != napi_ok || n[k] < 0)
      return fail(env, "copyRows: offsets, strides and sizes must be numbers >= 0");
  const int64_t from = n[0], src_stride = n[1], to = n[2], dst_stride = n[3], row = n[4], rows = n[5];
  if (rows > 0 && (from + (rows - 1) * src_stride + row > (int64_t)len[0] ||
                   to + (rows - 1) * dst_stride + row > (int64_t)len[1]))
    return fail(env, "copyRows: a row lies outside its buffer");
  for (int64_t r = 0; r < rows; r++) memcpy(buf[1] + to + r * dst_stride, buf[0] + from + r * src_stride, (size_t)row);
  return NULL;
}

EXPORT_ONE("copyRows", copy_rows)
