/*
 * A grey PNG (8 or 16-bit samples, not interlaced) read row by row in one pass, its rows placed
 * straight where they go: ISA-L inflates the image data a row at a time, each row is unfiltered
 * against the one above and copied, piece by piece, into the buffers the caller names (the chunks
 * of a z-index slab, or one band of rows). Memory is two rows, 1 MiB of the file, 1 MiB of image
 * data for the inflate and its 85 KiB of state, whatever the image's height (in the stream's whole mode, below, the image's rows). Each call runs on libuv's threads, so the slices of a slab decode side by side
 * while the chunk thread that asked goes on. The file is read with pread on the caller's open
 * descriptor; every IDAT chunk's CRC is checked, and the stream's Adler-32 by ISA-L, to the end of
 * the stream. ISA-L's inflate (Debian: libisal-dev) is Intel's, in assembly: fed 1 MiB at a time,
 * it decodes the bench's 16k stack (16 sections of 16384x16384) row by row in 6.9 s on two
 * threads, where Node's zlib took 9.6 s and libdeflate, each section inflated whole, 7.0 s.
 *
 * openRows(fd, idat, width, height, bitDepth, whole?): a stream whose image data starts with the IDAT
 * chunk at file offset `idat`. `whole`: the image data is read and inflated at once by libdeflate
 * (png-data.h) on the first call, and each call unfilters its rows from there: faster than a
 * row at a time, for the price of the image's rows in memory until the last of them is taken
 * (the slab holds its slices whole only when the band fits; see slab.ts).
 * decodeRows(stream, count, targets, segments): a Promise for the next `count` rows, each written
 * to the targets (Uint8Arrays) as `segments` say, five numbers a piece: the target's index, the
 * first pixel of the row and how many, the byte offset of the band's first row in the target, and
 * the bytes from one row to the next there. Rejects with an Error whose code is TRUNCATED, CORRUPT
 * (a CRC), DECODE (the data itself) or an errno name.
 * closeRows(stream): frees it; the caller closes the descriptor.
 * keep(bytes), release(idleMs): whole mode's buffers kept for the next streams (see take_buffer).
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <node_api.h>
#include "addon.h"
#include "png-data.h"
#include "png-filter.h"
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h> /* crc32: Node's own */

/* File bytes read at a time: a PNG's image data comes in many small chunks (8 KiB from libpng). */
#define READ_PIECE (1 << 20)
/* Image data handed to the inflate at a time. */
#define INFLATE_IN (1 << 20)

typedef struct {
  int fd;
  off_t file_at;
  uint8_t *raw, *zin;
  size_t raw_len, raw_at;
  /* Inside an IDAT chunk: its payload bytes left and the running CRC of its type and payload. */
  int in_chunk;
  uint32_t chunk_left;
  uLong crc;
  /* The chunk after the last IDAT was reached. */
  int idat_done;
  /* Streaming mode's inflate (about 85 KiB of state), and whether its stream has ended. */
  struct inflate_state *inf;
  int z_ended;
  uint8_t *cur, *prev;
  /* Whole mode: every row, filter byte first, once the first call has inflated them. */
  int whole;
  uint8_t *filtered;
  size_t filtered_capacity;
  size_t stride, bps;
  uint32_t width, height, delivered;
  int busy, closed;
  /* The call in flight. */
  uint32_t count;
  uint8_t **targets;
  size_t *target_lengths;
  napi_ref *refs;
  size_t ntargets;
  double *segments;
  size_t nsegments;
  const char *code;
  char message[200];
  napi_deferred deferred;
  napi_async_work work;
  napi_ref self;
} Stream;

static int failed(Stream *s, const char *code, const char *message) {
  s->code = code;
  snprintf(s->message, sizeof s->message, "%s", message);
  return 0;
}

/* A failed read: the code is errno's name. */
static int read_failed(Stream *s) {
  const char *name = strerrorname_np(errno);
  return failed(s, name ? name : "EIO", strerror(errno));
}

/* More file bytes when all read are used; 0 with s->code set on an error, -1 at the end of the file. */
static int refill(Stream *s) {
  if (s->raw_at < s->raw_len) return 1;
  ssize_t got;
  do got = pread(s->fd, s->raw, READ_PIECE, s->file_at);
  while (got < 0 && errno == EINTR);
  if (got < 0) return read_failed(s);
  if (got == 0) return -1;
  s->raw_len = (size_t)got;
  s->raw_at = 0;
  s->file_at += got;
  return 1;
}

/* The next `n` file bytes into `out` (a chunk's length, type or CRC). */
static int take(Stream *s, uint8_t *out, size_t n) {
  while (n > 0) {
    int r = refill(s);
    if (r <= 0) return r == 0 ? 0 : failed(s, "TRUNCATED", "the image data ends early");
    size_t k = s->raw_len - s->raw_at < n ? s->raw_len - s->raw_at : n;
    memcpy(out, s->raw + s->raw_at, k);
    s->raw_at += k;
    out += k;
    n -= k;
  }
  return 1;
}

/* Steps past the IDAT chunk just read (its CRC checked) to the next one; s->idat_done when it is not one. */
static int next_chunk(Stream *s) {
  uint8_t head[8];
  if (s->in_chunk) {
    if (!take(s, head, 4)) return 0;
    if (png_be32(head) != (uint32_t)s->crc) return failed(s, "CORRUPT", "an IDAT chunk fails its CRC");
    s->in_chunk = 0;
  }
  if (!take(s, head, 8)) return 0;
  if (memcmp(head + 4, "IDAT", 4) != 0) {
    s->idat_done = 1;
    return 1;
  }
  s->in_chunk = 1;
  s->chunk_left = png_be32(head);
  s->crc = crc32(0, head + 4, 4);
  return 1;
}

/*
 * Hands the inflate the next image data, up to INFLATE_IN bytes of it joined from the IDAT chunks
 * (ISA-L slows down at each end of its input: fed a chunk at a time, 8 KiB from libpng, it
 * inflated the bench's 16k sections slower than Node's zlib); with none left, s->idat_done. Where
 * the file ends early, what was gathered before the end is handed on first.
 */
static int feed(Stream *s) {
  size_t filled = 0;
  while (filled < INFLATE_IN && !s->idat_done) {
    int r = 1;
    if (!s->in_chunk || s->chunk_left == 0) r = next_chunk(s);
    else if ((r = refill(s)) < 0) r = failed(s, "TRUNCATED", "the image data ends early");
    if (r == 0) {
      if (filled == 0 || strcmp(s->code, "TRUNCATED") != 0) return 0;
      s->code = NULL; /* said by the next call, which meets the same end */
      break;
    }
    if (s->idat_done || !s->in_chunk || s->chunk_left == 0) continue;
    size_t n = s->raw_len - s->raw_at;
    if (n > s->chunk_left) n = s->chunk_left;
    if (n > INFLATE_IN - filled) n = INFLATE_IN - filled;
    s->crc = crc32(s->crc, s->raw + s->raw_at, (uInt)n);
    memcpy(s->zin + filled, s->raw + s->raw_at, n);
    s->raw_at += n;
    s->chunk_left -= (uint32_t)n;
    filled += n;
  }
  s->inf->next_in = s->zin;
  s->inf->avail_in = (uint32_t)filled;
  return 1;
}

/*
 * Whether the IDAT chunk being read fails its CRC, checked through to its end: zlib may stumble on
 * a damaged byte before the chunk's CRC is reached, and the CRC tells damage from a bad encoder.
 */
static int chunk_damaged(Stream *s) {
  if (!s->in_chunk) return 0;
  while (s->chunk_left > 0) {
    if (refill(s) <= 0) return 0;
    size_t n = s->raw_len - s->raw_at < s->chunk_left ? s->raw_len - s->raw_at : s->chunk_left;
    s->crc = crc32(s->crc, s->raw + s->raw_at, (uInt)n);
    s->raw_at += n;
    s->chunk_left -= (uint32_t)n;
  }
  uint8_t stored[4];
  return take(s, stored, 4) && png_be32(stored) != (uint32_t)s->crc;
}

/* What an ISA-L inflate error means. */
static const char *inflate_error(int r) {
  switch (r) {
  case ISAL_INVALID_BLOCK: return "an invalid deflate block";
  case ISAL_INVALID_SYMBOL: return "an invalid code";
  case ISAL_INVALID_LOOKBACK: return "a distance too far back";
  case ISAL_INVALID_WRAPPER: return "an invalid zlib header";
  case ISAL_UNSUPPORTED_METHOD: return "a compression method other than deflate";
  case ISAL_INCORRECT_CHECKSUM: return "an Adler-32 checksum that does not match";
  case ISAL_NEED_DICT: return "a preset dictionary, which PNG does not allow";
  default: return "an inflate error";
  }
}

/*
 * Inflates into out[0, length) until it is full, the stream ends or the image data does: the bytes
 * written, or -1 with s->code set on an error.
 */
static int64_t inflate_into(Stream *s, uint8_t *out, uint32_t length) {
  struct inflate_state *z = s->inf;
  z->next_out = out;
  z->avail_out = length;
  while (z->avail_out > 0 && !s->z_ended) {
    if (z->avail_in == 0 && !s->idat_done && !feed(s)) return -1;
    const uint32_t in = z->avail_in, room = z->avail_out;
    int r = isal_inflate(z);
    if (r < 0 || r == ISAL_NEED_DICT) {
      if (chunk_damaged(s)) return failed(s, "CORRUPT", "an IDAT chunk fails its CRC") - 1;
      char why[160];
      snprintf(why, sizeof why, "the image data is corrupt (%s)", inflate_error(r));
      return failed(s, "DECODE", why) - 1;
    }
    if (z->block_state == ISAL_BLOCK_FINISH) s->z_ended = 1;
    /* No input left to give and none taken: what it held back is out too, so the data ends here. */
    if (z->avail_in == 0 && s->idat_done && in == 0 && room == z->avail_out) break;
  }
  return (int64_t)(length - z->avail_out);
}

/* The next row, filter byte first, into s->cur. */
static int inflate_row(Stream *s) {
  const int64_t got = inflate_into(s, s->cur, (uint32_t)(s->stride + 1));
  if (got < 0) return 0;
  if ((size_t)got < s->stride + 1) {
    char why[120];
    snprintf(why, sizeof why, "the image data ends at row %u of %u", s->delivered, s->height);
    return failed(s, "TRUNCATED", why);
  }
  return 1;
}

/*
 * After the last row: the rest of the stream, so that its Adler-32 is checked (the rows may all be
 * out before the inflate reaches it). Bytes past the last row are let be, as libpng does.
 */
static int finish_stream(Stream *s) {
  uint8_t spare[4096];
  while (!s->z_ended) {
    const int64_t got = inflate_into(s, spare, sizeof spare);
    if (got < 0) return 0;
    if (got == 0 && !s->z_ended) return failed(s, "TRUNCATED", "the image data ends before its checksum");
  }
  return 1;
}

/*
 * Whole mode's buffers (a slice's file, its inflated rows) kept when let go, for the next slices:
 * a fresh one is paged in by the kernel as it is first written, which cost the 4k z-index bench
 * job's worker about a tenth of its time (pages touched for the first time: 7% of its samples).
 * At most keep(bytes) are kept (the slabs' budget for slices held whole, slab.ts), and all of them
 * are let go by release(idleMs) once no buffer has been taken for that long; a buffer is taken
 * for a size it exceeds by at most a quarter. (Giving the kept pages back to the kernel with
 * MADV_FREE instead cost more than it saved: 2.09 against 2.02 CPU-s a job.)
 */
typedef struct Kept {
  struct Kept *next;
  size_t capacity;
} Kept;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static Kept *pool;
static size_t pool_bytes, pool_limit;
/* CLOCK_MONOTONIC seconds of the last take. */
static double last_take;

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static uint8_t *take_buffer(size_t size, size_t *capacity) {
  pthread_mutex_lock(&pool_lock);
  last_take = now_seconds();
  for (Kept **at = &pool; *at; at = &(*at)->next) {
    Kept *k = *at;
    if (k->capacity >= size && k->capacity - size <= size / 4) {
      *at = k->next;
      pool_bytes -= k->capacity;
      pthread_mutex_unlock(&pool_lock);
      *capacity = k->capacity;
      return (uint8_t *)k;
    }
  }
  pthread_mutex_unlock(&pool_lock);
  *capacity = size < sizeof(Kept) ? sizeof(Kept) : size;
  return malloc(*capacity);
}

static void give_buffer(uint8_t *buffer, size_t capacity) {
  if (!buffer) return;
  pthread_mutex_lock(&pool_lock);
  if (pool_bytes + capacity <= pool_limit) {
    Kept *k = (Kept *)buffer;
    k->capacity = capacity;
    k->next = pool;
    pool = k;
    pool_bytes += capacity;
    buffer = NULL;
  }
  pthread_mutex_unlock(&pool_lock);
  free(buffer);
}

static void drop_filtered(Stream *s) {
  give_buffer(s->filtered, s->filtered_capacity);
  s->filtered = NULL;
}

/* Whole mode: the rest of the file from the first IDAT read, its image data inflated into s->filtered. */
static int inflate_whole(Stream *s) {
  struct stat st;
  if (fstat(s->fd, &st) != 0) return read_failed(s);
  if (st.st_size <= s->file_at) return failed(s, "TRUNCATED", "the image data ends early");
  const size_t length = (size_t)(st.st_size - s->file_at);
  size_t file_capacity;
  uint8_t *file = take_buffer(length, &file_capacity);
  if (!file) return failed(s, "DECODE", "out of memory");
  size_t have = 0;
  while (have < length) {
    ssize_t got = pread(s->fd, file + have, length - have, s->file_at + (off_t)have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      give_buffer(file, file_capacity);
      return read_failed(s);
    }
    if (got == 0) break;
    have += (size_t)got;
  }
  const uint8_t *zdata;
  size_t zlength;
  uint8_t *joined;
  PngFailure why = {NULL, NULL};
  /* The image data joined where the file was read: it is not needed after. */
  if (png_image_data(file, have, 0, file, &zdata, &zlength, &joined, &why)) {
    const size_t filtered_length = (s->stride + 1) * s->height;
    s->filtered = take_buffer(filtered_length, &s->filtered_capacity);
    if (!s->filtered) why = (PngFailure){"DECODE", "out of memory"};
    else if (!png_inflate(zdata, zlength, s->filtered, filtered_length, &why)) drop_filtered(s);
  }
  give_buffer(file, file_capacity);
  /* A palette or transparency after the image data: not a grey PNG, past where that was asked. */
  if (why.code) return failed(s, why.code == PNG_NOT_GREY ? "DECODE" : why.code, why.message);
  return 1;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Stream *s = data;
  if (s->whole && !s->filtered && s->count > 0 && !inflate_whole(s)) return;
  for (uint32_t i = 0; i < s->count; i++) {
    uint8_t *line;
    const uint8_t *prior;
    if (s->whole) {
      line = s->filtered + (size_t)s->delivered * (s->stride + 1);
      prior = s->delivered > 0 ? line - s->stride : NULL;
    } else {
      if (!inflate_row(s)) return;
      line = s->cur;
      prior = s->delivered > 0 ? s->prev + 1 : NULL;
    }
    if (!unfilter(line[0], line + 1, prior, s->stride, s->bps)) {
      char why[80];
      snprintf(why, sizeof why, "row %u has filter type %u", s->delivered, line[0]);
      failed(s, "DECODE", why);
      return;
    }
    const uint8_t *row = line + 1;
    for (size_t k = 0; k < s->nsegments; k++) {
      const double *g = s->segments + 5 * k;
      const size_t x0 = (size_t)g[1], n = (size_t)g[2];
      uint8_t *dst = s->targets[(size_t)g[0]] + (size_t)g[3] + (size_t)i * (size_t)g[4];
      put_samples(dst, row + x0 * s->bps, n * s->bps, s->bps);
    }
    if (!s->whole) {
      uint8_t *t = s->prev;
      s->prev = s->cur;
      s->cur = t;
    }
    s->delivered++;
  }
  if (!s->whole && s->delivered == s->height && !finish_stream(s)) return;
  /* The last row taken: the image's rows are not needed again. */
  if (s->whole && s->delivered == s->height) drop_filtered(s);
}

/* Lets go of what a call held: its targets, their references and the stream's own. */
static void drop_call(napi_env env, Stream *s) {
  for (size_t k = 0; k < s->ntargets; k++)
    if (s->refs && s->refs[k]) napi_delete_reference(env, s->refs[k]);
  free(s->targets);
  free(s->target_lengths);
  free(s->refs);
  free(s->segments);
  s->targets = NULL;
  s->target_lengths = NULL;
  s->refs = NULL;
  s->segments = NULL;
  s->ntargets = s->nsegments = 0;
  if (s->self) napi_delete_reference(env, s->self);
  s->self = NULL;
}

static void release_call(napi_env env, Stream *s) {
  drop_call(env, s);
  napi_delete_async_work(env, s->work);
  s->busy = 0;
}

static void complete(napi_env env, napi_status status, void *data) {
  Stream *s = data;
  napi_deferred deferred = s->deferred;
  const char *code = status == napi_ok ? s->code : "ECANCELED";
  char message[sizeof s->message];
  snprintf(message, sizeof message, "%s", status == napi_ok ? s->message : "cancelled");
  s->code = NULL;
  release_call(env, s);
  napi_value result;
  if (!code) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, deferred, result);
    return;
  }
  napi_value c, m;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &result);
  napi_reject_deferred(env, deferred, result);
}

/* Lets go of everything the stream holds but the struct itself. */
static void free_buffers(Stream *s) {
  free(s->inf);
  free(s->zin);
  free(s->raw);
  free(s->cur);
  free(s->prev);
  s->inf = NULL;
  s->zin = s->raw = s->cur = s->prev = NULL;
  drop_filtered(s);
}

static void free_stream(Stream *s) {
  free_buffers(s);
  free(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free_stream(data);
}

/* The call's `n` arguments, the first a stream that is open and idle, or NULL. */
static Stream *idle_stream(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < n || napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  Stream *s = data;
  return s->closed || s->busy ? NULL : s;
}

static napi_value open_rows(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) return fail(env, "openRows(fd, idat, width, height, bitDepth, whole?)");
  bool whole = false;
  if (argc >= 6 && napi_get_value_bool(env, argv[5], &whole) != napi_ok)
    return fail(env, "openRows: whole must be a boolean");
  int64_t fd, idat;
  uint32_t width, height, depth;
  if (napi_get_value_int64(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &idat) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &width) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &height) != napi_ok || napi_get_value_uint32(env, argv[4], &depth) != napi_ok)
    return fail(env, "openRows: arguments must be numbers");
  if ((depth != 8 && depth != 16) || width == 0 || height == 0 || width > 1u << 24)
    return fail(env, "openRows: only 8 or 16-bit grey images of a valid size");
  Stream *s = calloc(1, sizeof *s);
  if (!s) return fail(env, "out of memory");
  s->fd = (int)fd;
  s->file_at = (off_t)idat;
  s->width = width;
  s->height = height;
  s->bps = depth / 8;
  s->stride = (size_t)width * s->bps;
  s->whole = whole;
  if (!whole) {
    s->raw = malloc(READ_PIECE);
    s->cur = malloc(s->stride + 1);
    s->prev = malloc(s->stride + 1);
    s->zin = malloc(INFLATE_IN);
    s->inf = malloc(sizeof *s->inf);
    if (!s->raw || !s->zin || !s->cur || !s->prev || !s->inf) {
      free_stream(s);
      return fail(env, "out of memory");
    }
    isal_inflate_init(s->inf);
    s->inf->crc_flag = ISAL_ZLIB;
  }
  napi_value external;
  if (napi_create_external(env, s, finalize, NULL, &external) != napi_ok) {
    free_stream(s);
    return fail(env, "openRows: no external");
  }
  return external;
}

static napi_value decode_rows(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Stream *s = idle_stream(env, info, 4, argv);
  if (!s) return fail(env, "decodeRows(stream, count, targets, segments): a stream open and not decoding");
  uint32_t count, ntargets;
  bool is_array;
  if (napi_get_value_uint32(env, argv[1], &count) != napi_ok) return fail(env, "decodeRows: count must be a number");
  if ((uint64_t)s->delivered + count > s->height) return fail(env, "decodeRows: past the image's last row");
  napi_is_array(env, argv[2], &is_array);
  if (!is_array || napi_get_array_length(env, argv[2], &ntargets) != napi_ok)
    return fail(env, "decodeRows: targets must be an array");
  napi_typedarray_type type;
  size_t seg_length;
  void *seg_raw;
  bool typed = false;
  napi_is_typedarray(env, argv[3], &typed);
  if (!typed || napi_get_typedarray_info(env, argv[3], &type, &seg_length, &seg_raw, NULL, NULL) != napi_ok ||
      type != napi_float64_array || seg_length % 5 != 0)
    return fail(env, "decodeRows: segments must be a Float64Array of five numbers a piece");

  s->ntargets = ntargets;
  s->nsegments = seg_length / 5;
  s->targets = calloc(ntargets ? ntargets : 1, sizeof *s->targets);
  s->target_lengths = calloc(ntargets ? ntargets : 1, sizeof *s->target_lengths);
  s->refs = calloc(ntargets ? ntargets : 1, sizeof *s->refs);
  s->segments = malloc((seg_length ? seg_length : 1) * sizeof(double));
  const char *error = (!s->targets || !s->target_lengths || !s->refs || !s->segments) ? "out of memory" : NULL;
  for (uint32_t k = 0; !error && k < ntargets; k++) {
    napi_value target;
    void *raw;
    size_t length;
    typed = false;
    napi_get_element(env, argv[2], k, &target);
    napi_is_typedarray(env, target, &typed);
    if (!typed || napi_get_typedarray_info(env, target, &type, &length, &raw, NULL, NULL) != napi_ok ||
        type != napi_uint8_array)
      error = "decodeRows: every target must be a Uint8Array";
    else if (napi_create_reference(env, target, 1, &s->refs[k]) != napi_ok)
      error = "decodeRows: no reference";
    s->targets[k] = raw;
    s->target_lengths[k] = length;
  }
  if (!error) memcpy(s->segments, seg_raw, seg_length * sizeof(double));
  /* Every piece of every row lies inside the image row and inside its target. */
  for (size_t k = 0; !error && k < s->nsegments; k++) {
    const double *g = s->segments + 5 * k;
    for (int j = 0; j < 5; j++)
      if (!(g[j] >= 0 && g[j] <= 9007199254740991.0 && g[j] == (double)(uint64_t)g[j])) error = "decodeRows: a segment holds a bad number";
    if (error) break;
    if (g[0] >= ntargets || g[1] + g[2] > s->width) error = "decodeRows: a segment lies outside the image row";
    else if (count > 0 && g[3] + (count - 1) * g[4] + g[2] * s->bps > s->target_lengths[(size_t)g[0]])
      error = "decodeRows: a segment lies outside its target";
  }
  napi_value promise, name;
  if (!error && napi_create_reference(env, argv[0], 1, &s->self) != napi_ok) error = "decodeRows: no reference";
  if (!error && napi_create_promise(env, &s->deferred, &promise) != napi_ok) error = "decodeRows: no promise";
  napi_create_string_utf8(env, "boss-ingest png rows", NAPI_AUTO_LENGTH, &name);
  if (!error && napi_create_async_work(env, NULL, name, execute, complete, s, &s->work) != napi_ok)
    error = "decodeRows: no async work";
  if (error) {
    drop_call(env, s);
    return fail(env, error);
  }
  s->count = count;
  s->code = NULL;
  s->busy = 1;
  napi_queue_async_work(env, s->work);
  return promise;
}

static napi_value close_rows(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Stream *s = idle_stream(env, info, 1, argv);
  if (!s) return fail(env, "closeRows(stream): a stream open and not decoding");
  /* What the stream holds goes now; the external's finalizer then has only the struct to free. */
  free_buffers(s);
  s->closed = 1;
  return NULL;
}

/* keep(bytes): whole mode's buffers are kept up to `bytes` from now on (0 keeps none). */
static napi_value keep(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  double bytes;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_double(env, argv[0], &bytes) != napi_ok || !(bytes >= 0))
    return fail(env, "keep(bytes): a number of bytes");
  pthread_mutex_lock(&pool_lock);
  pool_limit = (size_t)bytes;
  pthread_mutex_unlock(&pool_lock);
  return NULL;
}

/*
 * release(idleMs): lets go of every kept buffer when none has been taken for `idleMs`: the bytes let
 * go; else minus the milliseconds until then.
 */
static napi_value release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  double idle_ms;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_double(env, argv[0], &idle_ms) != napi_ok)
    return fail(env, "release(idleMs): a number of milliseconds");
  Kept *freed = NULL;
  pthread_mutex_lock(&pool_lock);
  const double idle = (now_seconds() - last_take) * 1000;
  double bytes = idle - idle_ms < -1 ? idle - idle_ms : -1;
  if (idle >= idle_ms) {
    freed = pool;
    bytes = (double)pool_bytes;
    pool = NULL;
    pool_bytes = 0;
  }
  pthread_mutex_unlock(&pool_lock);
  while (freed) {
    Kept *next = freed->next;
    free(freed);
    freed = next;
  }
  napi_create_double(env, bytes, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
      {"openRows", NULL, open_rows, NULL, NULL, NULL, napi_default, NULL},
      {"decodeRows", NULL, decode_rows, NULL, NULL, NULL, napi_default, NULL},
      {"closeRows", NULL, close_rows, NULL, NULL, NULL, napi_default, NULL},
      {"keep", NULL, keep, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, release, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
