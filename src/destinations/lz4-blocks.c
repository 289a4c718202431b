/*
 * The blocks of a blosc 1 frame compressed with liblz4, on libuv's threads (see blosc.ts, which
 * writes the frame's header and reads frames back). liblz4 compressed the bench's 16k sections at
 * 1,780-2,060 MiB/s on one thread where lz4-napi (lz4_flex, a fresh buffer a block) gave 670-710;
 * and off the chunk thread, a slab's 32 chunks compress on every core while its slices decode.
 *
 * compressBlocks(data, blockSize, probe, acceleration): null when no block's probe compresses, else a Promise
 * for the frame, a Buffer, or for null when it would not spare a 32nd of the data stored as is.
 * The frame holds 16 bytes left for the header, the blocks' offsets, then each block as a 4-byte
 * little-endian size and its LZ4 block, or the block as is when LZ4 does not shrink it by a 32nd
 * or when its first `probe` bytes do not shrink by a 32nd (noisy voxels, where compressing the
 * rest would be time lost). blosc.ts's fallback on lz4-napi keeps the same rules. `data` stays referenced until
 * the call settles; the caller must not change it meanwhile. The frame's memory is allocated here,
 * off the JS heap, and only kept when the frame is: a chunk of noise costs no frame-sized buffer
 * (allocating one in JS for every chunk cost the bench's noisy 8-bit stack 18% more CPU).
 */
#include <node_api.h>
#include "../tiles/addon.h"
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 16

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref data_ref;
  const uint8_t *data;
  size_t length;
  /* Per block: whether its probe said it compresses. */
  uint8_t *worth;
  uint8_t *frame;
  size_t block;
  size_t probe;
  /* LZ4_compress_fast's: c-blosc's for the level the frame's metadata declares (blosc.ts). */
  int acceleration;
  int64_t size;
} Call;

static void put32(uint8_t *at, uint32_t v) {
  at[0] = v & 0xff;
  at[1] = (v >> 8) & 0xff;
  at[2] = (v >> 16) & 0xff;
  at[3] = v >> 24;
}

/* What a block's LZ4 stream, or a whole frame, must spare to be kept: a 32nd, and a byte at least,
   since a stream as large as its block reads as stored. For less, every later read (pyramid,
   verify, merge) would pay a decompression where a stored frame is read in place. */
static size_t spared(size_t n) { return n / 32 > 0 ? n / 32 : 1; }

/* Whether the block's first `probe` bytes shrink by at least a 32nd. */
static int worth_compressing(const uint8_t *block, size_t length, size_t probe, int acceleration, char *scratch) {
  if (length <= 2 * probe) return 1;
  const int packed =
      LZ4_compress_fast((const char *)block, scratch, (int)probe, LZ4_compressBound((int)probe), acceleration);
  return packed > 0 && (size_t)packed < probe - probe / 32;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Call *c = data;
  const size_t blocks = (c->length + c->block - 1) / c->block;
  /* The largest frame kept: one that spares what spared() asks of the data stored as is. */
  const size_t limit = HEADER + c->length - spared(c->length);
  /* Room for every block as is, with its size and offset: untouched pages cost nothing. */
  c->frame = malloc(HEADER + 8 * blocks + c->length);
  /* The blocks kept as is and where they go: copied only once the frame is known to be kept,
     since a chunk of noise ends up stored whole and its frame thrown away. */
  struct {
    size_t block, at;
  } *as_is = malloc(blocks * sizeof *as_is);
  size_t at = HEADER + 4 * blocks, kept = 0;
  c->size = -1;
  if (!as_is || !c->frame) {
    free(as_is);
    free(c->frame);
    c->frame = NULL;
    c->size = -2;
    return;
  }
  for (size_t b = 0; b < blocks && at <= limit; b++) {
    const uint8_t *block = c->data + b * c->block;
    const size_t n = b + 1 < blocks ? c->block : c->length - b * c->block;
    put32(c->frame + HEADER + 4 * b, (uint32_t)at);
    /* Room for the block as is, always: the frame is sized for every block stored. */
    int packed = 0;
    if (c->worth[b])
      packed = LZ4_compress_fast((const char *)block, (char *)c->frame + at + 4, (int)n, (int)(n - spared(n)),
                                 c->acceleration);
    if (packed <= 0) {
      as_is[kept].block = b;
      as_is[kept++].at = at + 4;
      packed = (int)n;
    }
    put32(c->frame + at, (uint32_t)packed);
    at += 4 + (size_t)packed;
  }
  if (at <= limit) {
    for (size_t k = 0; k < kept; k++) {
      const size_t b = as_is[k].block;
      const size_t n = b + 1 < blocks ? c->block : c->length - b * c->block;
      memcpy(c->frame + as_is[k].at, c->data + b * c->block, n);
    }
    c->size = (int64_t)at;
  }
  free(as_is);
  if (c->size < 0) {
    free(c->frame);
    c->frame = NULL;
  }
}

static void free_frame(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void complete(napi_env env, napi_status status, void *data) {
  Call *c = data;
  napi_value result = NULL;
  const char *error = status != napi_ok ? "compressBlocks: cancelled" : c->size == -2 ? "out of memory" : NULL;
  napi_delete_reference(env, c->data_ref);
  napi_delete_async_work(env, c->work);
  free(c->worth);
  if (!error && !c->frame) napi_get_null(env, &result);
  else if (!error && napi_create_external_buffer(env, (size_t)c->size, c->frame, free_frame, NULL, &result) != napi_ok)
    error = "compressBlocks: no buffer";
  if (error) {
    free(c->frame);
    napi_value message;
    napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, c->deferred, result);
  } else {
    napi_resolve_deferred(env, c->deferred, result);
  }
  free(c);
}

static napi_value compress_blocks(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return fail(env, "compressBlocks(data, blockSize, probe, acceleration)");
  uint8_t *data;
  size_t length;
  uint32_t block, probe, acceleration;
  if (!bytes_of(env, argv[0], &data, &length)) return fail(env, "compressBlocks: data must be a Uint8Array");
  if (napi_get_value_uint32(env, argv[1], &block) != napi_ok || napi_get_value_uint32(env, argv[2], &probe) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &acceleration) != napi_ok)
    return fail(env, "compressBlocks: blockSize, probe and acceleration must be numbers");
  if (block == 0 || block > LZ4_MAX_INPUT_SIZE || probe == 0 || probe > block || length == 0 ||
      length > INT32_MAX - HEADER)
    return fail(env, "compressBlocks: a block size of 1 byte to 2 GiB, a probe no larger, data of 1 byte to 2 GiB");
  /* The probes here, on the calling thread: they cost a 16th of compressing, and a chunk none of
     whose blocks compress (noise, the common case) is then stored without a hop to another thread. */
  const size_t blocks = (length + block - 1) / block;
  uint8_t *worth = malloc(blocks);
  char *scratch = malloc((size_t)LZ4_compressBound((int)probe));
  int any = 0;
  for (size_t b = 0; worth && scratch && b < blocks; b++) {
    const size_t n = b + 1 < blocks ? block : length - b * block;
    any |= worth[b] = worth_compressing(data + b * block, n, probe, (int)acceleration, scratch);
  }
  free(scratch);
  if (!worth || !scratch) {
    free(worth);
    return fail(env, "out of memory");
  }
  if (!any) {
    free(worth);
    napi_value none;
    napi_get_null(env, &none);
    return none;
  }
  Call *c = calloc(1, sizeof *c);
  if (!c) {
    free(worth);
    return fail(env, "out of memory");
  }
  *c = (Call){.data = data,
              .length = length,
              .worth = worth,
              .block = block,
              .probe = probe,
              .acceleration = (int)acceleration};
  napi_value promise, name;
  napi_create_string_utf8(env, "boss-ingest lz4 blocks", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[0], 1, &c->data_ref) != napi_ok ||
      napi_create_promise(env, &c->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, c, &c->work) != napi_ok) {
    if (c->data_ref) napi_delete_reference(env, c->data_ref);
    free(worth);
    free(c);
    return fail(env, "compressBlocks: could not queue the work");
  }
  napi_queue_async_work(env, c->work);
  return promise;
}

EXPORT_ONE("compressBlocks", compress_blocks)
