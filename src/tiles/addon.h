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

/* The module's exports: the one function `name`, implemented by `callback`. */
#define EXPORT_ONE(name, callback)                                                                   \
  NAPI_MODULE_INIT() {                                                                                 \
    napi_value fn;                                                                                     \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn);                            \
    napi_set_named_property(env, exports, name, fn);                                                   \
    return exports;                                                                                    \
  }

#endif
