/* libcurl through dlopen: see CPFCurl.h. <curl/curl.h> gives the constants and prototypes only;
 * nothing here links against libcurl. */
#define _GNU_SOURCE
#include "CPFCurl.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The libcurl calls pfhost uses, resolved once. */
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[512];
static int loaded;

#define RESOLVE(handle, field, name)                                                  \
    do {                                                                              \
        *(void **)(&curl.field) = dlsym(handle, name);                                \
        if (!curl.field) {                                                            \
            snprintf(load_error, sizeof load_error, "libcurl.so.4 lacks %s", name);   \
            return;                                                                   \
        }                                                                             \
    } while (0)

static void load(void) {
    void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "%s", reason ? reason : "dlopen(libcurl.so.4) failed");
        return;
    }
    RESOLVE(handle, global_init, "curl_global_init");
    RESOLVE(handle, easy_init, "curl_easy_init");
    RESOLVE(handle, easy_cleanup, "curl_easy_cleanup");
    RESOLVE(handle, easy_reset, "curl_easy_reset");
    RESOLVE(handle, easy_setopt, "curl_easy_setopt");
    RESOLVE(handle, easy_perform, "curl_easy_perform");
    RESOLVE(handle, easy_getinfo, "curl_easy_getinfo");
    RESOLVE(handle, easy_strerror, "curl_easy_strerror");
    RESOLVE(handle, slist_append, "curl_slist_append");
    RESOLVE(handle, slist_free_all, "curl_slist_free_all");
    /* Not thread-safe in old libcurls: done here, under pthread_once, before any handle exists. */
    CURLcode code = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed: %s", curl.easy_strerror(code));
        return;
    }
    loaded = 1;
}

int pf_http_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (!loaded && error && error_size > 0) snprintf(error, error_size, "%s", load_error);
    return loaded;
}

struct pf_http {
    CURL *easy;
};

pf_http *pf_http_new(void) {
    if (!pf_http_load(NULL, 0)) return NULL;
    pf_http *http = calloc(1, sizeof *http);
    if (!http) return NULL;
    http->easy = curl.easy_init();
    if (!http->easy) {
        free(http);
        return NULL;
    }
    return http;
}

void pf_http_free(pf_http *http) {
    if (!http) return;
    curl.easy_cleanup(http->easy);
    free(http);
}

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    const pf_http_request *request = user;
    size_t total = size * count;
    if (!request->sink) return total;
    return request->sink(request->context, data, total);
}

static size_t on_header(char *data, size_t size, size_t count, void *user) {
    const pf_http_request *request = user;
    size_t total = size * count;
    if (request->header_sink) {
        size_t length = total;
        while (length > 0 && (data[length - 1] == '\n' || data[length - 1] == '\r')) length--;
        request->header_sink(request->context, data, length);
    }
    return total;
}

static size_t on_read(char *buffer, size_t size, size_t count, void *user) {
    const pf_http_request *request = user;
    size_t given = request->body(request->context, buffer, size * count);
    return given == (size_t)-1 ? CURL_READFUNC_ABORT : given;
}

int pf_http_perform(pf_http *http, const pf_http_request *request, long *status, char *error, size_t error_size) {
    CURL *easy = http->easy;
    /* Options go back to their defaults; the connection cache and DNS cache stay. */
    curl.easy_reset(easy);
    char message[CURL_ERROR_SIZE] = {0};
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < request->header_count; i++) {
        struct curl_slist *grown = curl.slist_append(headers, request->headers[i]);
        if (!grown) {
            curl.slist_free_all(headers);
            snprintf(error, error_size, "out of memory");
            return CURLE_OUT_OF_MEMORY;
        }
        headers = grown;
    }
    /* libcurl would wait for "100 Continue" before larger bodies: one round trip lost per upload. */
    struct curl_slist *grown = curl.slist_append(headers, "Expect:");
    if (grown) headers = grown;

    curl.easy_setopt(easy, CURLOPT_URL, request->url);
    curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, message);
    curl.easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(easy, CURLOPT_WRITEDATA, (void *)request);
    curl.easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl.easy_setopt(easy, CURLOPT_HEADERDATA, (void *)request);
    curl.easy_setopt(easy, CURLOPT_USERAGENT, "pfhost");
    if (request->verbose) curl.easy_setopt(easy, CURLOPT_VERBOSE, 1L);
    if (request->ca_file) curl.easy_setopt(easy, CURLOPT_CAINFO, request->ca_file);
    if (request->connect_timeout_seconds > 0) curl.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, request->connect_timeout_seconds);
    if (request->stall_seconds > 0) {
        curl.easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, request->stall_bytes_per_second > 0 ? request->stall_bytes_per_second : 1L);
        curl.easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, request->stall_seconds);
    }
    if (request->deadline_seconds > 0) curl.easy_setopt(easy, CURLOPT_TIMEOUT, request->deadline_seconds);
    if (request->follow_redirects) {
        curl.easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        curl.easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
        curl.easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (strcmp(request->method, "HEAD") == 0) {
        curl.easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (request->body) {
        curl.easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        curl.easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
        curl.easy_setopt(easy, CURLOPT_READDATA, (void *)request);
        curl.easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)request->body_size);
        curl.easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request->method);
    } else if (strcmp(request->method, "GET") != 0) {
        curl.easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request->method);
        if (strcmp(request->method, "POST") == 0 || strcmp(request->method, "PUT") == 0 || strcmp(request->method, "PATCH") == 0) {
            /* An empty body, sent with Content-Length: 0 (registries ask for it). */
            curl.easy_setopt(easy, CURLOPT_POSTFIELDS, "");
            curl.easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
        }
    }
    CURLcode code = curl.easy_perform(easy);
    curl.slist_free_all(headers);
    if (code != CURLE_OK) {
        snprintf(error, error_size, "%s", message[0] ? message : curl.easy_strerror(code));
        return (int)code;
    }
    long response = 0;
    curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response);
    *status = response;
    return 0;
}

int pf_http_is_connect_failure(int code) {
    return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY;
}

int pf_http_is_timeout(int code) {
    return code == CURLE_OPERATION_TIMEDOUT;
}

int pf_http_is_tls_failure(int code) {
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM
        || code == CURLE_SSL_CIPHER || code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_ISSUER_ERROR;
}

int pf_http_is_bad_redirect(int code) {
    return code == CURLE_TOO_MANY_REDIRECTS || code == CURLE_UNSUPPORTED_PROTOCOL;
}
