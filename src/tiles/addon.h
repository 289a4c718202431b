/*
 * What the tile decoders' Node-API addons share: throwing an error, the decoded tile they return,
 * and the one function each exports.
 */
#ifndef BOSS_INGEST_ADDON_H
#define BOSS_INGEST_ADDON_H
#include <node_api.h>
#include <stdint.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* { width, height, bitDepth, data }: `data` holds the samples from its start. */
static napi_value decoded_tile(napi_env env, uint32_t width, uint32_t height, uint32_t bit_depth, napi_value data) {
  napi_value result, w, h, d;
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
 * Where `bytes` of samples go: `into` (argument `at`, when the caller gave a Uint8Array of exactly
 * that length: a place in a chunk's samples) or a new Buffer. `out` is the memory, `data` the value
 * to return; false when no memory could be had.
 */
static int samples_out(napi_env env, size_t argc, napi_value *argv, size_t at, size_t bytes, uint8_t **out,
                       napi_value *data) {
  bool typed = false;
  if (argc > at && napi_is_typedarray(env, argv[at], &typed) == napi_ok && typed) {
    napi_typedarray_type type;
    size_t length;
    void *raw;
    if (napi_get_typedarray_info(env, argv[at], &type, &length, &raw, NULL, NULL) == napi_ok &&
        type == napi_uint8_array && length == bytes) {
      *out = raw;
      *data = argv[at];
      return 1;
    }
  }
  void *fresh;
  if (napi_create_buffer(env, bytes, &fresh, data) != napi_ok) return 0;
  *out = fresh;
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
