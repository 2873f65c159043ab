/*
 * A configurable capture plugin for pfhost's own tests, built the way a third party builds:
 *   cc -shared -fPIC -fvisibility=hidden -I plugin-sdk/include -DPF_KIND=3 -o world.so test_plugin.c
 *
 * Compile-time switches make plugins the loader must refuse (TEST_ABI_MAJOR, TEST_ABI_MINOR,
 * TEST_STRUCT_SIZE, TEST_KIND, TEST_NO_ID, TEST_NO_VERSION, TEST_NULL_ENTRY, TEST_NO_ENTRY; TEST_ID and
 * TEST_VERSION give the id and version as string literals). TEST_SETTINGS declares settings (ABI 1.1,
 * see `settings` below), TEST_BUILD_IDENTITY="\"…\"" sets pf_plugin.build_identity.
 * PF_TEST_CONSTRUCTOR_MARKER="\"/path\"" makes loading the library create that file, so a test can tell
 * whether dlopen ever ran it (a refusal after dlopen is too late: constructors have run).
 * TEST_EXIT_AT_LOAD makes loading the library call exit(0) from a constructor; TEST_CLOSE_STDOUT_AT_LOAD
 * makes it close descriptor 1 and open a file of its own (PF_TEST_CONSTRUCTOR_MARKER), which takes the number.
 * PF_TEST_LOAD_SLEEP_MS=N makes loading the library take N ms (a constructor that sleeps).
 * PF_TEST_LOAD_LOG="\"/path\"" makes loading the library append its kind and a newline to that file:
 * a test can tell the order the plugins were loaded in.
 * PF_TEST_HANG_AT_LOAD_MARKER="\"/path\"" makes loading the library create that file, then never return
 * (for mode `dlopen-hang` of another plugin: a thread of it holds the dynamic loader for ever).
 * PF_TEST_LOAD_WAITS_FOR="\"/path\"" makes loading the library wait (at most 20 s) for that file to
 * appear, then write "seen" or "timeout" to PATH.result: a test can tell whether another plugin's
 * capture ran while this one loaded.
 * At run time the config key `mode` chooses a behaviour (see capture() below): among them `fail`,
 * `dlopen-hang` (a thread left inside dlopen of `library`, once `marker` exists the capture goes on),
 * `segv`, `hang`, `cooperative-hang`, `exit` (calls exit(0)), `scribble` (memset over its own stack),
 * and `late` (leaves a thread calling host services after capture returned; see late_calls); during
 * a restore `restore_mode` (pfhost restore --set KIND.restore_mode=…) chooses one (see restore() below).
 * Modes that count the captures of the process: `leak-fd-sometimes` (leaks a descriptor on every capture
 * but the third), `differ-on-third` (other content on the third capture only), `differ-from-third` (on
 * the third and every later one). TEST_CANCEL_AT_START looks at cancelled() first thing, then works 5 s
 * without looking again. TEST_LAZY_RESTORE captures the file `content.bin` of the working directory by
 * default (mode `file`) and restores an empty content.bin, recording no setting. TEST_CRASH_RESTORE
 * makes restore crash (SIGSEGV).
 */
#include "pf_plugin.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>

#ifndef PF_KIND
#error "define PF_KIND (1..5)"
#endif
#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR PF_ABI_MAJOR
#endif
#ifndef TEST_ABI_MINOR
#define TEST_ABI_MINOR PF_ABI_MINOR
#endif
#ifndef TEST_STRUCT_SIZE
#define TEST_STRUCT_SIZE sizeof(pf_plugin)
#endif
#ifndef TEST_KIND
#define TEST_KIND PF_KIND
#endif

static const char *const kind_names[] = {"", "model", "cache", "world", "effects", "trace"};
#define KIND_NAME (kind_names[PF_KIND])

/* A digest no test ever writes. */
#define GHOST "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* The smallest valid layer of this plugin's kind whose one blob is `digest` of `size` bytes. */
/* A layer of this plugin's kind listing blob `digest` (of `size` bytes) and whose content refers to `ref`. */
static int layer_json_referring(char *out, size_t cap, const char *kind, const char *digest, unsigned long long size,
                                const char *annotations, const char *ref) {
    char blob[256];
    snprintf(blob, sizeof blob, "{\"media_type\":\"application/octet-stream\",\"digest\":\"%s\",\"size\":%llu}", digest, size);
    switch (PF_KIND) {
    case PF_LAYER_MODEL:
        return snprintf(out, cap, "{\"kind\":\"%s\",\"blobs\":[%s],\"annotations\":%s,\"name\":\"test\",\"format\":\"raw\","
                        "\"files\":[{\"path\":\"weights.bin\",\"digest\":\"%s\",\"size\":%llu}],\"adapters\":[]}",
                        kind, blob, annotations, ref, size);
    case PF_LAYER_CACHE:
        return snprintf(out, cap, "{\"kind\":\"%s\",\"blobs\":[%s],\"annotations\":%s,\"model_fingerprint\":\"test\",\"dtype\":\"f16\","
                        "\"tokens_per_page\":16,\"num_layers\":1,\"num_heads\":1,\"head_dim\":8,\"page_bytes\":256,"
                        "\"page_count\":0,\"token_count\":0,\"sequences\":[],\"index\":\"%s\",\"packs\":[]}",
                        kind, blob, annotations, ref);
    case PF_LAYER_WORLD:
        return snprintf(out, cap, "{\"kind\":\"%s\",\"blobs\":[%s],\"annotations\":%s,\"root\":\"/\","
                        "\"tree\":{\"index\":\"%s\",\"entry_count\":0,\"total_bytes\":0}}", kind, blob, annotations, ref);
    case PF_LAYER_EFFECTS:
        return snprintf(out, cap, "{\"kind\":\"%s\",\"blobs\":[%s],\"annotations\":%s,\"ledger\":\"%s\",\"entry_count\":0,"
                        "\"pending_count\":0}", kind, blob, annotations, ref);
    default:
        return snprintf(out, cap, "{\"kind\":\"%s\",\"blobs\":[%s],\"annotations\":%s,\"messages\":\"%s\","
                        "\"message_count\":0}", kind, blob, annotations, ref);
    }
}

/* A layer of this plugin's kind listing blob `digest` and referring to it. */
static int layer_json(char *out, size_t cap, const char *kind, const char *digest, unsigned long long size,
                      const char *annotations) {
    return layer_json_referring(out, cap, kind, digest, size, annotations, digest);
}

/* Waits until `dir` holds a file per layer kind (every plugin has started), at most 20 s. */
static int barrier(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, KIND_NAME);
    FILE *mark = fopen(path, "w");
    if (mark == NULL) return 0;
    fclose(mark);
    for (int waited = 0; waited < 20000; waited += 5) {
        int count = 0;
        DIR *d = opendir(dir);
        if (d == NULL) return 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) if (e->d_name[0] != '.') count++;
        closedir(d);
        if (count >= 5) return 1;
        sleep_ms(5);
    }
    return 0;
}

/* Mode `dlopen-hang`: a thread that loads the library config `library` names and never comes back. */
static void *load_library(void *arg) {
    (void)dlopen((const char *)arg, RTLD_NOW);
    return NULL;
}

struct thread_put { const pf_host *host; pf_ctx *ctx; char digest[PF_DIGEST_STRLEN]; int32_t rc; const char *data; };

static void *put_from_thread(void *arg) {
    struct thread_put *job = arg;
    job->rc = job->host->put_blob(job->ctx, "application/octet-stream", job->data, strlen(job->data), job->digest);
    return NULL;
}

/* What a thread the plugin leaves running calls once capture has returned (mode `late`). */
struct late_job {
    const pf_host *host;
    pf_ctx *ctx;
    pf_blob_writer *writer;
    char *file;
    long ms;
};

/* The host is told of the end of a capture by its return, so every call below comes through a
 * pf_ctx (or writer) that is no longer valid, or through pointers the host never handed out. Each
 * must fail without touching freed memory; the return codes go to `job->file`. */
static void *late_calls(void *arg) {
    struct late_job *job = arg;
    sleep_ms(job->ms);
    const pf_host *h = job->host;
    char digest[PF_DIGEST_STRLEN] = "";
    uint64_t size = 0;
    size_t len = 99;
    pf_blob_writer *writer = NULL;
    int32_t put_blob = h->put_blob(job->ctx, "application/octet-stream", "late", 4, digest);
    int32_t put_file = h->put_file(job->ctx, "/etc/hostname", "application/octet-stream", digest, &size);
    int32_t blob_open = h->blob_open(job->ctx, "application/octet-stream", &writer);
    int32_t blob_write = h->blob_write(job->writer, "x", 1);
    int32_t blob_commit = h->blob_commit(job->writer, digest);
    const char *config = h->config(job->ctx, "mode");
    const char *parent = h->parent_layer(job->ctx, &len);
    int32_t set_layer = h->set_layer(job->ctx, "{}", 2);
    int32_t cancelled = h->cancelled(job->ctx);
    h->log(job->ctx, PF_LOG_ERROR, "a late log message");
    h->set_error(job->ctx, "a late error");
    h->progress(job->ctx, 1, 2);
    h->blob_abort(job->writer);
    /* Pointers the host never handed out: made up, a heap address, a writer passed as a ctx. */
    int32_t made_up = h->put_blob((pf_ctx *)(uintptr_t)0x00007f00deadbee0ull, "application/octet-stream", "x", 1, digest);
    int32_t heap = h->put_blob((pf_ctx *)job, "application/octet-stream", "x", 1, digest);
    int32_t writer_as_ctx = h->put_blob((pf_ctx *)job->writer, "application/octet-stream", "x", 1, digest);
    int32_t heap_writer = h->blob_write((pf_blob_writer *)job, "x", 1);
    char temporary[4200];
    snprintf(temporary, sizeof temporary, "%s.tmp", job->file);
    FILE *out = fopen(temporary, "w");
    if (out != NULL) {
        fprintf(out, "put_blob=%d put_file=%d blob_open=%d blob_write=%d blob_commit=%d config=%s parent=%s len=%zu "
                "set_layer=%d cancelled=%d made_up=%d heap=%d writer_as_ctx=%d heap_writer=%d\n",
                put_blob, put_file, blob_open, blob_write, blob_commit, config ? "set" : "null", parent ? "set" : "null", len,
                set_layer, cancelled, made_up, heap, writer_as_ctx, heap_writer);
        fclose(out);
        rename(temporary, job->file);
    }
    free(job->file);
    free(job);
    return NULL;
}

/* Where mode `scribble` starts writing garbage; volatile, so the compiler cannot see the bounds. */
static char *volatile scribble_at;

/* How many captures this process has run. */
static int captures;

static int32_t capture(const pf_host *host, pf_ctx *ctx) {
    int number = __atomic_add_fetch(&captures, 1, __ATOMIC_SEQ_CST);
#ifdef TEST_CANCEL_AT_START
    if (host->cancelled(ctx)) return PF_ERR_CANCELLED;
    sleep_ms(5000);
#endif
    const char *mode = host->config(ctx, "mode");
#ifdef TEST_LAZY_RESTORE
    if (mode == NULL) mode = "file";
#endif
    if (mode == NULL) mode = "ok";
    char content[256];
    const char *configured = host->config(ctx, "content");
    snprintf(content, sizeof content, "%s", configured ? configured : "");
    if (content[0] == 0) snprintf(content, sizeof content, "test content of the %s layer", KIND_NAME);

    if (strcmp(mode, "random") == 0) {
        /* Different content on every capture: not deterministic. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(content, sizeof content, "captured at %lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
    }
    if (strcmp(mode, "deaf") == 0 && host->cancelled(ctx)) {
        /* Cancelled before it starts, and takes 5 s to notice: too slow. */
        sleep_ms(5000);
        host->set_error(ctx, "noticed the cancellation late");
        return PF_ERR_CANCELLED;
    }
    if ((strcmp(mode, "differ-on-third") == 0 && number == 3) || (strcmp(mode, "differ-from-third") == 0 && number >= 3)) {
        snprintf(content, sizeof content, "capture %d of the %s layer", number, KIND_NAME);
    }
    if (strcmp(mode, "leak-fd-sometimes") == 0 && number != 3) (void)open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (strcmp(mode, "leak-fd") == 0) {
        /* A descriptor opened on every capture and never closed. */
        (void)open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    const char *delay = host->config(ctx, "delay_ms");
    if (delay != NULL) sleep_ms(atol(delay));
    if (host->config(ctx, "open_writer") != NULL) {
        /* A blob half written when whatever the mode does next happens (a temporary file in ingest/). */
        pf_blob_writer *writer = NULL;
        if (host->blob_open(ctx, "application/octet-stream", &writer) == PF_OK) host->blob_write(writer, "partial", 7);
    }

    if (strcmp(mode, "fail") == 0) {
        host->set_error(ctx, "simulated failure: the input could not be read");
        return PF_ERR_IO;
    }
    if (strcmp(mode, "segv") == 0) {
        volatile int *null = NULL;
        *null = 1;
    }
    if (strcmp(mode, "hang") == 0) {
        for (;;) pause();
    }
    if (strcmp(mode, "exit") == 0) {
        exit(0);
    }
    if (strcmp(mode, "scribble") == 0) {
        /* Garbage over this thread's stack, from this frame up through the host's frames above
         * it and on past the top of the stack (`scribble_bytes`, 16 MiB by default). */
        char here[64];
        const char *bytes = host->config(ctx, "scribble_bytes");
        scribble_at = here;
        memset(scribble_at, 0x5a, bytes ? strtoull(bytes, NULL, 10) : 16u << 20);
        return PF_OK;
    }
    if (strcmp(mode, "cooperative-hang") == 0) {
        while (!host->cancelled(ctx)) sleep_ms(5);
        host->set_error(ctx, "stopped on cancellation");
        return PF_ERR_CANCELLED;
    }
    if (strcmp(mode, "dlopen-hang") == 0) {
        /* Leaves a thread inside dlopen, holding the loader's lock, then captures as usual. */
        static char library[4096];
        const char *marker = host->config(ctx, "marker");
        snprintf(library, sizeof library, "%s", host->config(ctx, "library") ? host->config(ctx, "library") : "");
        pthread_t thread;
        pthread_create(&thread, NULL, load_library, library);
        pthread_detach(thread);
        struct stat info;
        for (int waited = 0; marker != NULL && stat(marker, &info) != 0 && waited < 10000; waited += 5) sleep_ms(5);
    }
    if (strcmp(mode, "barrier") == 0 && !barrier(host->config(ctx, "barrier_dir"))) {
        host->set_error(ctx, "the five captures did not all start within 20 s");
        return PF_ERR_INTERNAL;
    }
    if (strcmp(mode, "slow-blob") == 0) {
        /* Streams a blob forever (64 KiB every 5 ms) until cancelled: a capture to kill -9. */
        static char chunk[65536];
        pf_blob_writer *writer = NULL;
        if (host->blob_open(ctx, "application/octet-stream", &writer) != PF_OK) return PF_ERR_IO;
        while (!host->cancelled(ctx)) {
            if (host->blob_write(writer, chunk, sizeof chunk) != PF_OK) break;
            sleep_ms(5);
        }
        host->blob_abort(writer);
        host->set_error(ctx, "stopped on cancellation");
        return PF_ERR_CANCELLED;
    }
    if (strcmp(mode, "reuse-parent") == 0) {
        size_t len = 0;
        const char *parent = host->parent_layer(ctx, &len);
        if (parent == NULL) {
            host->set_error(ctx, "no parent layer");
            return PF_ERR_INVALID;
        }
        return host->set_layer(ctx, parent, len);
    }
    host->log(ctx, PF_LOG_DEBUG, "capturing");

    char digest[PF_DIGEST_STRLEN];
    unsigned long long size = strlen(content);
    int32_t rc;
    if (strcmp(mode, "stream") == 0) {
        pf_blob_writer *writer = NULL;
        rc = host->blob_open(ctx, "application/octet-stream", &writer);
        if (rc == PF_OK) rc = host->blob_write(writer, content, 5);
        if (rc == PF_OK) rc = host->blob_write(writer, content + 5, size - 5);
        if (rc == PF_OK) rc = host->blob_commit(writer, digest);
    } else if (strcmp(mode, "thread") == 0) {
        struct thread_put job = {host, ctx, {0}, PF_ERR_INTERNAL, content};
        pthread_t thread;
        pthread_create(&thread, NULL, put_from_thread, &job);
        pthread_join(thread, NULL);
        rc = job.rc;
        memcpy(digest, job.digest, sizeof digest);
    } else if (strcmp(mode, "file") == 0) {
        uint64_t file_size = 0;
        const char *path = host->config(ctx, "path");
#ifdef TEST_LAZY_RESTORE
        if (path == NULL) path = "content.bin";
#endif
        rc = host->put_file(ctx, path, "application/octet-stream", digest, &file_size);
        size = file_size;
        if (rc != PF_OK) host->set_error(ctx, "put_file failed");
#if PF_ABI_MINOR >= 1
    } else if (strcmp(mode, "fd") == 0 || strcmp(mode, "fd-invalid") == 0
               || strcmp(mode, "range") == 0 || strcmp(mode, "range-invalid") == 0) {
        /* put_fd (ABI 1.1): `path` opened here, `size` bytes ("fstat" or unset: PF_SIZE_FSTAT);
           put_fd_range (appended later in 1.1) the same from `offset`. */
        int ranged = strncmp(mode, "range", 5) == 0;
        if (!ranged && host->struct_size < offsetof(pf_host, put_fd) + sizeof host->put_fd) {
            host->set_error(ctx, "the host table does not reach put_fd");
            return PF_ERR_UNSUPPORTED;
        }
        if (ranged && host->struct_size < offsetof(pf_host, put_fd_range) + sizeof host->put_fd_range) {
            host->set_error(ctx, "the host table does not reach put_fd_range");
            return PF_ERR_UNSUPPORTED;
        }
        int fd = open(host->config(ctx, "path"), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            host->set_error(ctx, "cannot open path");
            return PF_ERR_IO;
        }
        const char *wanted = host->config(ctx, "size");
        const char *from = host->config(ctx, "offset");
        uint64_t limit = wanted == NULL || strcmp(wanted, "fstat") == 0 ? PF_SIZE_FSTAT : strtoull(wanted, NULL, 10);
        uint64_t offset = from == NULL ? 0 : strtoull(from, NULL, 10);
        uint64_t stored = 0;
        uint32_t flags = 7;
        const char *type = "application/octet-stream";
        if (strcmp(mode, "fd-invalid") == 0) {
            int32_t bad_fd = host->put_fd(ctx, -1, PF_SIZE_FSTAT, type, digest, &stored, &flags);
            int32_t bad_size = host->put_fd(ctx, fd, (uint64_t)1 << 63, type, digest, &stored, &flags);
            int32_t bad_type = host->put_fd(ctx, fd, PF_SIZE_FSTAT, NULL, digest, &stored, &flags);
            close(fd);
            char message[160];
            snprintf(message, sizeof message, "put_fd refused: fd %d, size %d, media type %d", bad_fd, bad_size, bad_type);
            host->set_error(ctx, message);
            return PF_ERR_INVALID;
        }
        if (strcmp(mode, "range-invalid") == 0) {
            int32_t bad_fd = host->put_fd_range(ctx, -1, 0, PF_SIZE_FSTAT, type, digest, &stored, &flags);
            int32_t bad_offset = host->put_fd_range(ctx, fd, (uint64_t)1 << 63, 1, type, digest, &stored, &flags);
            int32_t bad_end = host->put_fd_range(ctx, fd, (uint64_t)1 << 62, ((uint64_t)1 << 62) + 1, type, digest, &stored, &flags);
            int32_t bad_type = host->put_fd_range(ctx, fd, 0, 1, NULL, digest, &stored, &flags);
            close(fd);
            char message[160];
            snprintf(message, sizeof message, "put_fd_range refused: fd %d, offset %d, end %d, media type %d",
                     bad_fd, bad_offset, bad_end, bad_type);
            host->set_error(ctx, message);
            return PF_ERR_INVALID;
        }
        rc = ranged ? host->put_fd_range(ctx, fd, offset, limit, type, digest, &stored, &flags)
                    : host->put_fd(ctx, fd, limit, type, digest, &stored, &flags);
        /* The host neither closes nor moves the descriptor. */
        if (rc == PF_OK && lseek(fd, 0, SEEK_CUR) != 0) {
            host->set_error(ctx, "put_fd moved the file offset");
            rc = PF_ERR_INTERNAL;
        }
        close(fd);
        size = stored;
        if (rc == PF_OK) {
            char json[4096];
            layer_json(json, sizeof json, KIND_NAME, digest, size, (flags & PF_PUT_CHANGED) ? "{\"changed\":\"yes\"}" : "{\"changed\":\"no\"}");
            return host->set_layer(ctx, json, strlen(json));
        }
#endif
    } else {
        rc = host->put_blob(ctx, "application/octet-stream", content, size, digest);
    }
    if (rc != PF_OK) return rc;
    if (strcmp(mode, "late") == 0) {
        /* A thread that outlives capture, calling through ctx and a writer left open. */
        struct late_job *job = calloc(1, sizeof *job);
        const char *file = host->config(ctx, "late_file");
        const char *ms = host->config(ctx, "late_ms");
        if (job == NULL || file == NULL) {
            host->set_error(ctx, "mode late needs late_file");
            return PF_ERR_INVALID;
        }
        job->host = host;
        job->ctx = ctx;
        job->file = strdup(file);
        job->ms = ms ? atol(ms) : 300;
        if (host->blob_open(ctx, "application/octet-stream", &job->writer) == PF_OK) host->blob_write(job->writer, "x", 1);
        pthread_t thread;
        pthread_create(&thread, NULL, late_calls, job);
        pthread_detach(thread);
    }
    if (strcmp(mode, "leak-writer") == 0) {
        pf_blob_writer *writer = NULL;
        if (host->blob_open(ctx, "application/octet-stream", &writer) == PF_OK) host->blob_write(writer, "x", 1);
    }
    if (strcmp(mode, "huge-progress") == 0) {
        /* Progress figures near 2^64, more done than the total, and a zero total: the host's
         * progress line (drawn at most every 100 ms) must show them, not overflow on them. */
        host->progress(ctx, UINT64_MAX, 3);
        sleep_ms(150);
        host->progress(ctx, UINT64_MAX - 1, UINT64_MAX);
        sleep_ms(150);
        host->progress(ctx, UINT64_MAX, 0);
        sleep_ms(150);
    }
    host->progress(ctx, 1, 1);

    if (strcmp(mode, "no-layer") == 0) return PF_OK;

    char annotations[512] = "{}";
#if PF_ABI_MINOR >= 1
    if (strcmp(mode, "restore-services") == 0) {
        /* The restore services during a capture: each must say PF_ERR_UNSUPPORTED. */
        int fd = -1;
        uint64_t blob_size = 0;
        host->report(ctx, "key", "value");
        snprintf(annotations, sizeof annotations, "{\"restore_services\":\"%d %d %d %d %d %d\"}",
                 host->open_blob(ctx, digest, &fd, &blob_size), host->make_directory(ctx, "d", 0755),
                 host->create_file(ctx, "f", 0644, &fd), host->make_symlink(ctx, "t", "l"),
                 host->set_attributes(ctx, "f", PF_KEEP_MODE, 0), host->set_restored_config(ctx, "path", ".", 1));
    }
#endif

    char json[4096];
    const char *kind = KIND_NAME;
    if (strcmp(mode, "wrong-kind") == 0) kind = PF_KIND == PF_LAYER_TRACE ? "model" : "trace";
    if (strcmp(mode, "ghost") == 0) layer_json(json, sizeof json, kind, GHOST, 5, "{}");
    else if (strcmp(mode, "wrong-size") == 0) layer_json(json, sizeof json, kind, digest, size + 1, "{}");
    else if (strcmp(mode, "unlisted") == 0) layer_json_referring(json, sizeof json, kind, digest, size, "{}", GHOST);
    else if (strcmp(mode, "invalid-json") == 0) snprintf(json, sizeof json, "{\"kind\": \"%s\", ", kind);
    else if (strcmp(mode, "not-a-layer") == 0) snprintf(json, sizeof json, "{\"kind\":\"%s\",\"blobs\":[]}", kind);
    else if (PF_KIND == PF_LAYER_MODEL && (strcmp(mode, "model-chunks-short") == 0 || strcmp(mode, "model-escape") == 0)) {
        /* Schema-valid model layers restore would refuse: chunks one byte short of the file, a path leading out. */
        int chunked = strcmp(mode, "model-chunks-short") == 0;
        snprintf(json, sizeof json, "{\"kind\":\"model\",\"blobs\":[{\"media_type\":\"application/octet-stream\",\"digest\":\"%s\","
                 "\"size\":%llu}],\"annotations\":{},\"name\":\"test\",\"format\":\"raw\",\"files\":[{\"path\":\"%s\","
                 "\"%s\":%s%s%s,\"size\":%llu}],\"adapters\":[]}", digest, size, chunked ? "weights.bin" : "../../x",
                 chunked ? "chunks" : "digest", chunked ? "[\"" : "\"", digest, chunked ? "\"]" : "\"", size + (chunked ? 1 : 0));
    }
    else if (strcmp(mode, "show-config") == 0) {
        /* The values `config` returns for some keys, as annotations ("-" for NULL). */
        static const char *const keys[] = {"path", "db", "root", "count", "flag", "names"};
        char shown[1024] = "{";
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *value = host->config(ctx, keys[i]);
            size_t used = strlen(shown);
            snprintf(shown + used, sizeof shown - used, "%s\"%s\":\"%s\"", i ? "," : "", keys[i], value ? value : "-");
        }
        strncat(shown, "}", sizeof shown - strlen(shown) - 1);
        layer_json(json, sizeof json, kind, digest, size, shown);
    } else if (strcmp(mode, "unknown-field") == 0) {
        /* A field no schema has, appended: the host refuses it rather than dropping it. */
        int n = layer_json(json, sizeof json, kind, digest, size, annotations);
        snprintf(json + n - 1, sizeof json - (size_t)n + 1, ",\"extra\":1}");
    } else if (strcmp(mode, "bad-head") == 0 && PF_KIND == PF_LAYER_EFFECTS) {
        /* An effects layer whose head is not 64 hex digits (the schema's pattern). */
        int n = layer_json(json, sizeof json, kind, digest, size, annotations);
        snprintf(json + n - 1, sizeof json - (size_t)n + 1, ",\"head\":\"XYZ\"}");
    }
    else layer_json(json, sizeof json, kind, digest, size, annotations);

    rc = host->set_layer(ctx, json, strlen(json));
    if (strcmp(mode, "twice") == 0) host->set_layer(ctx, json, strlen(json));
    /* Says it failed, then that it succeeded: the host believes neither. */
    if (strcmp(mode, "error-ok") == 0) host->set_error(ctx, "something went wrong");
    return rc == PF_OK ? PF_OK : rc;
}

#if PF_ABI_MINOR >= 1
/* The first "sha256:…" digest in `json` (the layer's one blob), copied to `out`. */
static int first_digest(const char *json, size_t len, char out[PF_DIGEST_STRLEN]) {
    const char *found = NULL;
    for (size_t i = 0; i + PF_DIGEST_STRLEN - 1 <= len; i++) {
        if (memcmp(json + i, "sha256:", 7) == 0) {
            found = json + i;
            break;
        }
    }
    if (found == NULL) return 0;
    memcpy(out, found, PF_DIGEST_STRLEN - 1);
    out[PF_DIGEST_STRLEN - 1] = 0;
    return 1;
}

/*
 * Restores the layer's one blob as KIND/content.bin (mode 0640, mtime 2001-09-09) and says that
 * a capture of it is `mode=file path=content.bin`, so a snapshot of the restored directory gives
 * the same blob. `restore_mode`:
 *   fail     fails with a message;
 *   escape   tries every way out of KIND/ a careless plugin could take, reports each return code
 *            as `escape`, and still succeeds (nothing may have been created outside);
 *   ghost    opens a blob the layer does not list;
 *   report   also reports pending=fx-1,fx-2;
 *   config-undeclared, config-wrong-type, config-not-utf8   records a setting the plugin does not declare,
 *            a value not of its declared type, or bytes that are not UTF-8 (and fails if refused);
 *   pause-after-open   once the blob is open, creates ROOT/opened and waits (20 s at most) for ROOT/go
 *            (ROOT: the `root` setting), so a test can write into the blob file meanwhile.
 */
static int32_t restore(const pf_host *host, pf_ctx *ctx, const char *layer, size_t len) {
    const char *mode = host->config(ctx, "restore_mode");
    if (mode == NULL) mode = "ok";
#ifdef TEST_CRASH_RESTORE
    volatile int *null = NULL;
    *null = 1;
#endif
#ifdef TEST_LAZY_RESTORE
    int lazy = -1;
    if (host->create_file(ctx, "content.bin", 0644, &lazy) == PF_OK) close(lazy);
    return PF_OK;
#endif
    /* Settings the next snapshot would refuse (or bytes that are not text): the host must refuse them. */
    const char *bad_key = NULL, *bad_value = NULL;
    if (strcmp(mode, "config-undeclared") == 0) bad_key = "undeclared", bad_value = "x";
    if (strcmp(mode, "config-wrong-type") == 0) bad_key = "count", bad_value = "many";
    if (strcmp(mode, "config-not-utf8") == 0) bad_key = "content", bad_value = "\xff\xfe";
    if (bad_key != NULL) {
        int32_t refused = host->set_restored_config(ctx, bad_key, bad_value, 0);
        if (refused != PF_OK) return refused;
    }
    if (strcmp(mode, "fail") == 0) {
        host->set_error(ctx, "simulated restore failure");
        return PF_ERR_IO;
    }
    if (strcmp(mode, "escape") == 0) {
        int fd = -1;
        char codes[256];
        int32_t dotdot = host->create_file(ctx, "../escaped-dotdot", 0644, &fd);
        int32_t absolute = host->create_file(ctx, "/tmp/pfhost-escaped-absolute", 0644, &fd);
        int32_t inner = host->create_file(ctx, "a/../../escaped-inner", 0644, &fd);
        int32_t directory = host->make_directory(ctx, "../escaped-directory", 0755);
        int32_t link = host->make_symlink(ctx, "..", "up");
        int32_t through = host->create_file(ctx, "up/escaped-through-link", 0644, &fd);
        int32_t through_dir = host->make_directory(ctx, "up/escaped-directory", 0755);
        int32_t attributes = host->set_attributes(ctx, "up", 0777, 0);
        int32_t config = host->set_restored_config(ctx, "path", "../x", 1);
        int32_t key = host->set_restored_config(ctx, "content", "x", 1);
        snprintf(codes, sizeof codes, "%d %d %d %d %d %d %d %d %d %d", dotdot, absolute, inner, directory, link, through,
                 through_dir, attributes, config, key);
        host->report(ctx, "escape", codes);
        return PF_OK;
    }
    char digest[PF_DIGEST_STRLEN];
    if (strcmp(mode, "ghost") == 0) {
        snprintf(digest, sizeof digest, "%s", GHOST);
    } else if (!first_digest(layer, len, digest)) {
        host->set_error(ctx, "the layer names no blob");
        return PF_ERR_INVALID;
    }
    int in = -1, out = -1;
    uint64_t size = 0;
    int32_t rc = host->open_blob(ctx, digest, &in, &size);
    if (rc != PF_OK) {
        char message[200];
        snprintf(message, sizeof message, "cannot read blob %s (%d)", digest, rc);
        host->set_error(ctx, message);
        return rc;
    }
    if (strcmp(mode, "pause-after-open") == 0) {
        /* Tells the test the blob is open (hashed and handed out: ROOT/opened), then waits for ROOT/go. */
        const char *dir = host->config(ctx, "root");
        char mark_path[4096];
        snprintf(mark_path, sizeof mark_path, "%s/opened", dir ? dir : ".");
        FILE *mark = fopen(mark_path, "w");
        if (mark != NULL) fclose(mark);
        snprintf(mark_path, sizeof mark_path, "%s/go", dir ? dir : ".");
        for (int waited = 0; waited < 20000 && access(mark_path, F_OK) != 0; waited += 5) sleep_ms(5);
    }
    rc = host->create_file(ctx, "content.bin", 0600, &out);
    if (rc != PF_OK) {
        close(in);
        host->set_error(ctx, "cannot create content.bin");
        return rc;
    }
    char buffer[65536];
    ssize_t n;
    uint64_t copied = 0;
    while ((n = read(in, buffer, sizeof buffer)) > 0) {
        if (write(out, buffer, (size_t)n) != n) break;
        copied += (uint64_t)n;
    }
    close(in);
    close(out);
    if (copied != size) {
        host->set_error(ctx, "short copy of the blob");
        return PF_ERR_IO;
    }
    rc = host->set_attributes(ctx, "content.bin", 0640, 1000000000000000000LL);
    if (rc == PF_OK) rc = host->set_restored_config(ctx, "mode", "file", 0);
    if (rc == PF_OK) rc = host->set_restored_config(ctx, "path", "content.bin", 1);
    if (rc != PF_OK) {
        host->set_error(ctx, "cannot finish content.bin");
        return rc;
    }
    host->report(ctx, "restored", "content.bin");
    if (strcmp(mode, "report") == 0) host->report(ctx, "pending", "fx-1,fx-2");
    return PF_OK;
}
#else
/* A 1.0 plugin's restore: a host never calls it (ABI 1.0 has no restore services). */
static int32_t restore(const pf_host *host, pf_ctx *ctx, const char *layer, size_t len) {
    (void)layer;
    (void)len;
    host->set_error(ctx, "a host called the restore of an ABI 1.0 plugin");
    return PF_ERR_INTERNAL;
}
#endif

#ifdef TEST_EXIT_AT_LOAD
__attribute__((constructor)) static void exit_at_load(void) {
    exit(0);
}
#endif

#if defined(TEST_CLOSE_STDOUT_AT_LOAD) && defined(PF_TEST_CONSTRUCTOR_MARKER)
__attribute__((constructor)) static void close_stdout_at_load(void) {
    close(1);
    (void)open(PF_TEST_CONSTRUCTOR_MARKER ".stdout", O_WRONLY | O_CREAT | O_TRUNC, 0644);
}
#endif

#ifdef PF_TEST_HANG_AT_LOAD_MARKER
__attribute__((constructor)) static void hang_at_load(void) {
    FILE *marker = fopen(PF_TEST_HANG_AT_LOAD_MARKER, "w");
    if (marker != NULL) fclose(marker);
    for (;;) pause();
}
#endif

#ifdef PF_TEST_LOAD_SLEEP_MS
__attribute__((constructor)) static void sleep_at_load(void) {
    sleep_ms(PF_TEST_LOAD_SLEEP_MS);
}
#endif

#ifdef PF_TEST_LOAD_WAITS_FOR
__attribute__((constructor)) static void wait_at_load(void) {
    struct stat info;
    int seen = 0;
    for (int waited = 0; waited < 20000 && !seen; waited += 5) {
        seen = stat(PF_TEST_LOAD_WAITS_FOR, &info) == 0;
        if (!seen) sleep_ms(5);
    }
    FILE *result = fopen(PF_TEST_LOAD_WAITS_FOR ".result", "w");
    if (result == NULL) return;
    fputs(seen ? "seen" : "timeout", result);
    fclose(result);
}
#endif

#ifdef PF_TEST_LOAD_LOG
__attribute__((constructor)) static void log_load(void) {
    FILE *log = fopen(PF_TEST_LOAD_LOG, "a");
    if (log != NULL) {
        fprintf(log, "%s\n", KIND_NAME);
        fclose(log);
    }
}
#endif

#ifdef PF_TEST_CONSTRUCTOR_MARKER
__attribute__((constructor)) static void leave_marker(void) {
    FILE *marker = fopen(PF_TEST_CONSTRUCTOR_MARKER, "w");
    if (marker != NULL) fclose(marker);
}
#endif

#if PF_ABI_MINOR >= 1 && defined(TEST_SETTINGS)
/* TEST_SETTINGS: declared settings (ABI 1.1); TEST_SETTINGS_REQUIRED adds a required one. */
static const pf_setting settings[] = {
    {"mode", PF_SETTING_STRING, 0, "ok", "what the test plugin does"},
    {"content", PF_SETTING_STRING, 0, NULL, "the bytes of the blob"},
    {"path", PF_SETTING_PATH, 0, NULL, "a file, for modes file and fd"},
    {"db", PF_SETTING_PATH, 0, NULL, "a path whose key the name rule would miss"},
    {"root", PF_SETTING_STRING, 0, NULL, "a string whose key the name rule would take for a path"},
    {"count", PF_SETTING_INT, 0, "3", "a number"},
    {"flag", PF_SETTING_BOOL, 0, NULL, "a switch"},
    {"names", PF_SETTING_LIST, 0, NULL, "comma-separated names"},
    {"restore_mode", PF_SETTING_STRING, 0, NULL, "what restore does"},
#ifdef TEST_SETTINGS_REQUIRED
    {"needed", PF_SETTING_STRING, 1, NULL, "something the capture cannot do without"},
#endif
};
#endif

static const pf_plugin plugin = {
    .struct_size = TEST_STRUCT_SIZE,
    .abi_major = TEST_ABI_MAJOR,
    .abi_minor = TEST_ABI_MINOR,
    .kind = TEST_KIND,
#if defined(TEST_NO_ID)
    .id = NULL,
#elif defined(TEST_ID)
    .id = TEST_ID,
#else
    .id = "org.pfhost.test.plugin",
#endif
#if defined(TEST_NO_VERSION)
    .version = "",
#elif defined(TEST_VERSION)
    .version = TEST_VERSION,
#else
    .version = "1.0.0",
#endif
    .description = "pfhost test plugin",
    .capture = capture,
#ifdef TEST_NO_RESTORE
    .restore = NULL,
#else
    .restore = restore,
#endif
#if PF_ABI_MINOR >= 1
#ifdef TEST_SETTINGS
    .setting_size = sizeof(pf_setting),
    .setting_count = sizeof settings / sizeof settings[0],
    .settings = settings,
#endif
#ifdef TEST_BUILD_IDENTITY
    .build_identity = TEST_BUILD_IDENTITY,
#endif
#endif
};

#ifdef TEST_NO_ENTRY
/* Exported under another name: a host must not find it. */
PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v2(void) { return &plugin; }
#else
PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v1(void) {
#ifdef TEST_NULL_ENTRY
    (void)&plugin;
    return NULL;
#else
    return &plugin;
#endif
}
#endif
