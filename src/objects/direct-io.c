/*
 * A new file written past the page cache (O_DIRECT), on writer threads of its own: see direct-io.ts.
 *
 * writeNew(path, buffers): a Promise, settled once the file holds the buffers one after the other,
 * rejected with { errno, syscall } (a positive errno) when a call fails. The file is created (it
 * must not exist, as open's O_EXCL). The buffers are copied a piece at a time into an aligned
 * staging buffer the writer thread keeps (O_DIRECT needs aligned memory, offsets and lengths), and
 * written from there; the last piece's bytes past its last whole 4 KiB go through the page cache. A
 * filesystem that refuses O_DIRECT gets the whole file through the page cache. The buffers stay
 * referenced until the call settles; the caller must not change them meanwhile.
 *
 * The writes run on up to WRITERS threads of the process (every worker thread's calls share them),
 * not on libuv's: a write holds its thread until the disk has the bytes, and on libuv's four
 * threads the z-index slices' decodes and the LZ4 compression (png-stream.c, lz4-blocks.c) waited
 * behind the writes while the cores idled (about a tenth of their ticks in iowait on the bench's
 * 16k sections).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include "../tiles/addon.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* O_DIRECT's alignment of memory, file offsets and lengths: the largest logical block in use. */
#define ALIGN 4096
/* The staging buffer each writer thread keeps: files are written through it a piece at a time. */
#define STAGE (8u << 20)
/* Writer threads, started as calls find none idle: the disk's queue, not the cores, bounds them. */
#define WRITERS 8

typedef struct Call {
  struct Call *next;
  napi_threadsafe_function done;
  napi_deferred deferred;
  napi_ref *refs;
  const uint8_t **data;
  size_t *length;
  size_t count;
  char *path;
  int error;
  const char *syscall;
} Call;

static __thread uint8_t *staging;

static int write_all(int fd, const uint8_t *from, size_t length) {
  while (length > 0) {
    const ssize_t n = write(fd, from, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    from += n;
    length -= (size_t)n;
  }
  return 0;
}

/* Writes the buffers through the stage: whole stages, then the last piece's whole blocks with
   O_DIRECT, and what is left (under a block) through the page cache. */
static int write_staged(int fd, Call *c, int direct) {
  size_t buffer = 0, at = 0, filled = 0;
  for (;;) {
    while (filled < STAGE && buffer < c->count) {
      size_t n = c->length[buffer] - at;
      if (n > STAGE - filled) n = STAGE - filled;
      memcpy(staging + filled, c->data[buffer] + at, n);
      filled += n;
      at += n;
      if (at == c->length[buffer]) {
        buffer++;
        at = 0;
      }
    }
    const int last = buffer == c->count;
    const size_t whole = last ? filled / ALIGN * ALIGN : filled;
    int error = write_all(fd, staging, direct ? whole : filled);
    if (error) return error;
    if (last) {
      if (!direct || whole == filled) return 0;
      const int flags = fcntl(fd, F_GETFL);
      if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_DIRECT) < 0) return errno;
      return write_all(fd, staging + whole, filled - whole);
    }
    filled = 0;
  }
}

static void execute(Call *c) {
  if (!staging) {
    void *p = NULL;
    if (posix_memalign(&p, ALIGN, STAGE) != 0) {
      c->error = ENOMEM;
      c->syscall = "posix_memalign";
      return;
    }
    staging = p;
  }
  int direct = 1;
  int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, 0666);
  if (fd < 0 && errno == EINVAL) {
    /* The filesystem has no direct I/O (tmpfs before Linux 6.6, some FUSE ones). */
    direct = 0;
    fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  }
  if (fd < 0) {
    c->error = errno;
    c->syscall = "open";
    return;
  }
  c->error = write_staged(fd, c, direct);
  if (c->error) c->syscall = "write";
  if (close(fd) < 0 && !c->error) {
    c->error = errno;
    c->syscall = "close";
  }
}

/* `env` NULL: the calling thread's environment is gone, and its references with it. */
static void free_call(napi_env env, Call *c) {
  if (env)
    for (size_t i = 0; i < c->count; i++) napi_delete_reference(env, c->refs[i]);
  free(c->refs);
  free(c->data);
  free(c->length);
  free(c->path);
  free(c);
}

/* On the calling thread, once the file is written (or failed). */
static void settle(napi_env env, napi_value callback, void *context, void *data) {
  (void)callback;
  (void)context;
  Call *c = data;
  if (!env) {
    free_call(NULL, c);
    return;
  }
  if (c->error == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, c->deferred, undefined);
  } else {
    napi_value error, code, syscall;
    napi_create_object(env, &error);
    napi_create_int32(env, c->error, &code);
    napi_create_string_utf8(env, c->syscall ? c->syscall : "write", NAPI_AUTO_LENGTH, &syscall);
    napi_set_named_property(env, error, "errno", code);
    napi_set_named_property(env, error, "syscall", syscall);
    napi_reject_deferred(env, c->deferred, error);
  }
  free_call(env, c);
}

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER;
static Call *first, *last;
static int writers, idle;

static void *writer(void *unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (!first) {
      idle++;
      pthread_cond_wait(&queued, &queue_lock);
      idle--;
    }
    Call *c = first;
    first = c->next;
    if (!first) last = NULL;
    pthread_mutex_unlock(&queue_lock);
    execute(c);
    /* The call may be freed once handed over: keep its function to release it. */
    napi_threadsafe_function done = c->done;
    if (napi_call_threadsafe_function(done, c, napi_tsfn_blocking) != napi_ok) free_call(NULL, c);
    napi_release_threadsafe_function(done, napi_tsfn_release);
  }
  return NULL;
}

/* Queues the call; false when no writer thread could be had. */
static int enqueue(Call *c) {
  int ok = 1;
  pthread_mutex_lock(&queue_lock);
  if (idle == 0 && writers < WRITERS) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, writer, NULL) == 0) {
      pthread_detach(thread);
      writers++;
    } else if (writers == 0) {
      ok = 0;
    }
  }
  if (ok) {
    if (last) last->next = c;
    else first = c;
    last = c;
    pthread_cond_signal(&queued);
  }
  pthread_mutex_unlock(&queue_lock);
  return ok;
}

static napi_value write_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t path_length = 0;
  bool array = false;
  uint32_t count = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &path_length) != napi_ok ||
      napi_is_array(env, argv[1], &array) != napi_ok || !array ||
      napi_get_array_length(env, argv[1], &count) != napi_ok)
    return fail(env, "writeNew(path, buffers): a path and an array of Uint8Arrays");
  Call *c = calloc(1, sizeof *c);
  if (!c) return fail(env, "out of memory");
  c->path = malloc(path_length + 1);
  c->refs = calloc(count + 1, sizeof *c->refs);
  c->data = calloc(count + 1, sizeof *c->data);
  c->length = calloc(count + 1, sizeof *c->length);
  if (!c->path || !c->refs || !c->data || !c->length) {
    free_call(env, c);
    return fail(env, "out of memory");
  }
  napi_get_value_string_utf8(env, argv[0], c->path, path_length + 1, &path_length);
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    uint8_t *raw = NULL;
    size_t length = 0;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok || !bytes_of(env, item, &raw, &length) ||
        napi_create_reference(env, item, 1, &c->refs[i]) != napi_ok) {
      free_call(env, c);
      return fail(env, "writeNew: buffers must be Uint8Arrays");
    }
    c->data[i] = raw;
    c->length[i] = length;
    c->count = i + 1;
  }
  napi_value promise, name;
  napi_create_string_utf8(env, "boss-ingest direct io", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &c->deferred, &promise) != napi_ok ||
      napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, settle, &c->done) != napi_ok) {
    free_call(env, c);
    return fail(env, "writeNew: could not queue the work");
  }
  if (!enqueue(c)) {
    napi_release_threadsafe_function(c->done, napi_tsfn_abort);
    free_call(env, c);
    return fail(env, "writeNew: no writer thread could be started");
  }
  return promise;
}

EXPORT_ONE("writeNew", write_new)
