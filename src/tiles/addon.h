/*
 * What the Node-API addons share: throwing an error, a Uint8Array argument's bytes, the decoded
 * tile the decoders return, and the one function each exports.
 */
#ifndef BOSS_INGEST_ADDON_H
#define BOSS_INGEST_ADDON_H
#include <node_api.h>
#include <stdint.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* The Uint8Array argument's bytes, or false. */
static int bytes_of(napi_env env, napi_value value, uint8_t **raw, size_t *length) {
  bool typed = false;
  napi_typedarray_type type;
  return napi_is_typedarray(env, value, &typed) == napi_ok && typed &&
         napi_get_typedarray_info(env, value, &type, length, (void **)raw, NULL, NULL) == napi_ok &&
         type == napi_uint8_array;
}

/* { width, height, bitDepth, data }: `data` holds the samples from its start, undefined (NULL here) when placed. */
static napi_value decoded_tile(napi_env env, uint32_t width, uint32_t height, uint32_t bit_depth, napi_value data) {
  napi_value result, w, h, d;
  if (!data) napi_get_undefined(env, &data);
  napi_create_object(env, &result);
  napi_create_uint32(env, width, &w);
  napi_create_uint32(env, height, &h);
  napi_create_uint32(env, bit_depth, &d);
  napi_set_named_property(env, result, "width", w);
  napi_set_named_property(env, result, "height", h);
  napi_set_named_property(env, result, "bitDepth", d);
  napi_set_named_property(env, result, "data", data);
  return result;
}

/*
 * Where the decoded rows go. Arguments at..at+5 may place the tile in a chunk being assembled
 * (samples, start, rowBytes, width, height, bytesPerSample: see TilePlace in tile.ts); the rows go
 * there when the image is exactly that size and sample width and the rows lie inside the samples,
 * and `*data` is then NULL. Otherwise they go end to end into a new Buffer, `*data`. False when no
 * memory could be had.
 */
static int rows_out(napi_env env, size_t argc, napi_value *argv, size_t at, uint32_t width, uint32_t height,
                    size_t bytes_per_sample, uint8_t **out, size_t *stride, napi_value *data) {
  const size_t row = (size_t)width * bytes_per_sample;
  bool typed = false;
  if (argc >= at + 6 && napi_is_typedarray(env, argv[at], &typed) == napi_ok && typed) {
    napi_typedarray_type type;
    size_t length;
    void *raw;
    int64_t n[5];
    int ok = napi_get_typedarray_info(env, argv[at], &type, &length, &raw, NULL, NULL) == napi_ok &&
             type == napi_uint8_array;
    for (int k = 0; ok && k < 5; k++) ok = napi_get_value_int64(env, argv[at + 1 + k], &n[k]) == napi_ok && n[k] >= 0;
    /* start, rowBytes, width, height, bytesPerSample */
    if (ok && n[2] == width && n[3] == height && (size_t)n[4] == bytes_per_sample && (size_t)n[1] >= row &&
        (size_t)n[0] + (size_t)n[1] * (height - 1) + row <= length) {
      *out = (uint8_t *)raw + n[0];
      *stride = (size_t)n[1];
      *data = NULL;
      return 1;
    }
  }
  void *fresh;
  if (napi_create_buffer(env, row * height, &fresh, data) != napi_ok) return 0;
  *out = fresh;
  *stride = row;
  return 1;
}

/* The module's exports: the one function `name`, implemented by `callback`. */
#define EXPORT_ONE(name, callback)                                                                   \
  NAPI_MODULE_INIT() {                                                                                 \
    napi_value fn;                                                                                     \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn);                            \
    napi_set_named_property(env, exports, name, fn);                                                   \
    return exports;                                                                                    \
  }

#endif
