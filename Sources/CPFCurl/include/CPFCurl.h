/* pfhost's HTTP transport: libcurl, loaded with dlopen("libcurl.so.4") on first use, so that a
 * process that never pushes or pulls (pfhost --version, every snapshot) never maps it.
 * Internal to pfhost's PFRegistry module; no libcurl type crosses this header.
 *
 * Threads: pf_http_load may be called from any thread ([thread-safe]). A pf_http handle is used by
 * one thread at a time; several handles may run at once on different threads. */
#ifndef CPFCURL_H
#define CPFCURL_H

#include <stddef.h>
#include <stdint.h>

/** Loads libcurl.so.4 and resolves the calls pfhost uses, once per process ([thread-safe]).
 *  Returns 1 when libcurl is usable; 0 with the reason (dlerror's text) copied into `error`. */
int pf_http_load(char *error, size_t error_size);

/** A connection cache and its settings: one curl easy handle, reused so that requests to one
 *  registry share a kept-alive connection. NULL when libcurl is not loaded or out of memory. */
typedef struct pf_http pf_http;
pf_http *pf_http_new(void);
/** Frees the handle and closes its connections. NULL is allowed. */
void pf_http_free(pf_http *http);

/** Called with each piece of the response body; returns `size` to go on, anything else aborts. */
typedef size_t (*pf_http_sink)(void *context, const char *data, size_t size);
/** Called for each response header line (status lines included), without its CRLF. */
typedef void (*pf_http_header_sink)(void *context, const char *line, size_t size);
/** Fills `buffer` with at most `size` bytes of the request body; returns the count, 0 at the
 *  end, or (size_t)-1 to abort the request. */
typedef size_t (*pf_http_source)(void *context, char *buffer, size_t size);

/** One request. Strings are UTF-8 and NUL-terminated; the caller owns every pointer, which must
 *  stay valid during pf_http_perform. */
typedef struct pf_http_request {
    const char *method;            /* "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE" */
    const char *url;
    const char *const *headers;    /* "Name: value" lines */
    size_t header_count;
    pf_http_source body;           /* NULL: no body */
    int64_t body_size;             /* bytes `body` gives (sent as Content-Length) */
    pf_http_sink sink;             /* NULL: the body is discarded */
    pf_http_header_sink header_sink; /* may be NULL */
    void *context;                 /* passed to the three callbacks */
    long connect_timeout_seconds;  /* 0: libcurl's default */
    long stall_seconds;            /* fail when under `stall_bytes_per_second` for this long (0: never) */
    long stall_bytes_per_second;   /* the low-speed limit stall_seconds applies to */
    long deadline_seconds;         /* fail when the whole request takes longer (0: no limit) */
    int follow_redirects;          /* 1: follow 3xx (GET/HEAD of blobs served from elsewhere) */
    int verbose;                   /* 1: libcurl's trace on stderr */
    const char *ca_file;           /* PEM file of the CAs to trust instead of the system's; NULL: the system's */
} pf_http_request;

/** Runs `request`. Returns 0 with the HTTP status in `*status`, or libcurl's error code (non-zero)
 *  with its message in `error` (an aborted callback gives a code too). */
int pf_http_perform(pf_http *http, const pf_http_request *request, long *status, char *error, size_t error_size);

/** Whether a non-zero pf_http_perform result means the connection failed before any answer
 *  (refused, unresolved host): 1 or 0. A timeout is pf_http_is_timeout. */
int pf_http_is_connect_failure(int code);

/** Whether a non-zero pf_http_perform result is a time limit reached (connect timeout, low-speed
 *  limit, deadline): 1 or 0. */
int pf_http_is_timeout(int code);

/** Whether a non-zero pf_http_perform result is a redirect not followed: too many of them, or to a
 *  scheme other than http/https: 1 or 0. */
int pf_http_is_bad_redirect(int code);

/** Whether a non-zero pf_http_perform result is a TLS failure (handshake, certificate): 1 or 0.
 *  Retrying does not help; a plain-HTTP registry answers HTTPS this way. */
int pf_http_is_tls_failure(int code);

#endif
