/*
 * Grey JPEG decoding with the system's libjpeg-turbo, called synchronously on the thread that
 * asks (a chunk thread): the same library and default settings as Pillow (islow IDCT), without
 * libvips' pipeline and libuv's thread hop around each 512x512 tile, which made sharp's decode of
 * such tiles take 2-3x libjpeg's own time. Built by scripts/build-native.mjs; jpeg.ts
 * falls back to sharp where it could not be built.
 *
 * decodeGrey(bytes, samples?, start?, rowBytes?, width?, height?, bytesPerSample?): { width, height,
 * bitDepth, data } for an 8-bit one-component JPEG: the rows written where the caller placed the
 * tile (see addon.h's rows_out; data undefined), else into a new Buffer, data;
 * throws with libjpeg's message on an error or on any warning (corrupt or truncated data), as sharp
 * does by default, so a damaged tile is never ingested with made-up samples.
 */
#include <node_api.h>
#include "addon.h"
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>

struct failure {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo) {
  struct failure *f = (struct failure *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, f->message);
  longjmp(f->jump, 1);
}

/* Level -1 is a warning about the data (corrupt or premature end): fail on it. */
static void on_message(j_common_ptr cinfo, int level) {
  if (level < 0) on_error(cinfo);
}

static napi_value decode_grey(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
    return fail(env, "decodeGrey takes the JPEG's bytes");
  napi_typedarray_type type;
  size_t length;
  void *bytes;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, NULL, NULL) != napi_ok ||
      type != napi_uint8_array)
    return fail(env, "decodeGrey takes a Uint8Array");

  struct jpeg_decompress_struct cinfo;
  struct failure failure;
  cinfo.err = jpeg_std_error(&failure.mgr);
  failure.mgr.error_exit = on_error;
  failure.mgr.emit_message = on_message;
  failure.message[0] = 0;
  if (setjmp(failure.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return fail(env, failure.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, (const unsigned char *)bytes, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components != 1 || cinfo.data_precision != 8) {
    jpeg_destroy_decompress(&cinfo);
    return fail(env, "not an 8-bit one-component JPEG");
  }
  cinfo.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress(&cinfo);
  size_t width = cinfo.output_width, height = cinfo.output_height;
  napi_value buffer;
  uint8_t *out;
  size_t stride;
  if (!rows_out(env, argc, argv, 1, (uint32_t)width, (uint32_t)height, 1, &out, &stride, &buffer)) {
    jpeg_destroy_decompress(&cinfo);
    return fail(env, "no memory for the decoded image");
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[16];
    unsigned n = cinfo.output_height - cinfo.output_scanline;
    if (n > 16) n = 16;
    for (unsigned i = 0; i < n; i++)
      rows[i] = (JSAMPROW)out + (size_t)(cinfo.output_scanline + i) * stride;
    jpeg_read_scanlines(&cinfo, rows, n);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);

  return decoded_tile(env, (uint32_t)width, (uint32_t)height, 8, buffer);
}

EXPORT_ONE("decodeGrey", decode_grey)
