/*
 * A minimal third-party pfhost plugin in plain C: it captures the TRACE layer from a JSON Lines
 * file (one chat message per line), storing the file as one blob and counting its messages.
 *
 * Build:   make            (needs only a C compiler and ../../include/pf_plugin.h)
 * Use:     drop libexample-trace.so into a plugin directory in place of the trace plugin and run
 *          pfhost snapshot --plugins DIR --set trace.path=conversation.jsonl
 *
 * It shows the whole contract: one exported entry function, a static plugin table, host
 * services for config, blobs, errors and cancellation, and one set_layer call on success; and
 * restore (ABI 1.1): the blob read back through the host, written as TARGET/trace/conversation.jsonl
 * with the host's file services (which never create anything outside TARGET/trace), and the setting
 * that captures it recorded for TARGET/pfhost.json:
 *          pfhost restore REF --plugins DIR --to /agents/b
 * Check:   pfhost check-plugin libexample-trace.so --set path=conversation.jsonl
 */
#include "pf_plugin.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Counts non-empty lines, checking for cancellation between chunks. */
static int32_t count_lines(const pf_host *host, pf_ctx *ctx, const char *path, unsigned long *lines) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        char message[4200];
        snprintf(message, sizeof message, "cannot open trace.path %s", path);
        host->set_error(ctx, message);
        return PF_ERR_IO;
    }
    char buffer[65536];
    size_t n;
    int line_has_text = 0;
    *lines = 0;
    while ((n = fread(buffer, 1, sizeof buffer, file)) > 0) {
        if (host->cancelled(ctx)) {
            fclose(file);
            host->set_error(ctx, "cancelled");
            return PF_ERR_CANCELLED;
        }
        for (size_t i = 0; i < n; i++) {
            if (buffer[i] == '\n') {
                *lines += line_has_text;
                line_has_text = 0;
            } else if (buffer[i] != ' ' && buffer[i] != '\r' && buffer[i] != '\t') {
                line_has_text = 1;
            }
        }
    }
    *lines += line_has_text;
    int failed = ferror(file);
    fclose(file);
    if (failed) {
        host->set_error(ctx, "read error");
        return PF_ERR_IO;
    }
    return PF_OK;
}

static int32_t capture(const pf_host *host, pf_ctx *ctx) {
    const char *path = host->config(ctx, "path");
    if (path == NULL) {
        host->set_error(ctx, "trace.path is not set (the conversation's JSON Lines file)");
        return PF_ERR_INVALID;
    }
    unsigned long lines = 0;
    int32_t rc = count_lines(host, ctx, path, &lines);
    if (rc != PF_OK) return rc;

    char digest[PF_DIGEST_STRLEN];
    uint64_t size = 0;
    rc = host->put_file(ctx, path, "application/x-ndjson", digest, &size);
    if (rc != PF_OK) {
        host->set_error(ctx, "could not store the trace file");
        return rc;
    }
    char json[1024];
    snprintf(json, sizeof json,
             "{\"kind\":\"trace\",\"blobs\":[{\"media_type\":\"application/x-ndjson\",\"digest\":\"%s\",\"size\":%llu}],"
             "\"annotations\":{},\"messages\":\"%s\",\"message_count\":%lu}",
             digest, (unsigned long long)size, digest, lines);
    return host->set_layer(ctx, json, strlen(json));
}

/* Copies the digest after "messages":" in the layer JSON to `out`; 0 when there is none. */
static int messages_digest(const char *json, size_t len, char out[PF_DIGEST_STRLEN]) {
    const char key[] = "\"messages\":\"";
    const size_t key_len = sizeof key - 1, digest_len = PF_DIGEST_STRLEN - 1;
    for (size_t i = 0; i + key_len + digest_len <= len; i++) {
        if (memcmp(json + i, key, key_len) == 0) {
            memcpy(out, json + i + key_len, digest_len);
            out[digest_len] = 0;
            return strncmp(out, "sha256:", 7) == 0;
        }
    }
    return 0;
}

static int32_t restore(const pf_host *host, pf_ctx *ctx, const char *layer_json, size_t len) {
    /* The restore services were appended to ABI 1.1: make sure this host's table has them. */
    if (host->struct_size < offsetof(pf_host, report) + sizeof host->report) {
        host->set_error(ctx, "this host has no restore services; upgrade pfhost");
        return PF_ERR_UNSUPPORTED;
    }
    char digest[PF_DIGEST_STRLEN];
    if (!messages_digest(layer_json, len, digest)) {
        host->set_error(ctx, "the trace layer has no messages digest");
        return PF_ERR_INVALID;
    }
    /* A descriptor on the blob, its bytes already checked against the digest by the host. */
    int in = -1;
    uint64_t size = 0;
    int32_t rc = host->open_blob(ctx, digest, &in, &size);
    if (rc != PF_OK) {
        host->set_error(ctx, "cannot read the conversation blob");
        return rc;
    }
    /* Paths are relative to TARGET/trace/; the host creates the file beneath it (O_EXCL). */
    int out = -1;
    rc = host->create_file(ctx, "conversation.jsonl", 0644, &out);
    if (rc != PF_OK) {
        close(in);
        host->set_error(ctx, "cannot create conversation.jsonl");
        return rc;
    }
    char buffer[65536];
    uint64_t copied = 0;
    ssize_t n;
    while ((n = read(in, buffer, sizeof buffer)) > 0) {
        if (host->cancelled(ctx)) break;
        if (write(out, buffer, (size_t)n) != n) break;
        copied += (uint64_t)n;
    }
    close(in);
    int closed = close(out);
    if (copied != size || closed != 0) {
        host->set_error(ctx, host->cancelled(ctx) ? "cancelled" : "writing conversation.jsonl failed");
        return host->cancelled(ctx) ? PF_ERR_CANCELLED : PF_ERR_IO;
    }
    /* A capture of the restored agent reads trace.path = TARGET/trace/conversation.jsonl. */
    rc = host->set_restored_config(ctx, "path", "conversation.jsonl", 1);
    if (rc != PF_OK) host->set_error(ctx, "cannot record trace.path");
    return rc;
}

/* The settings it reads (ABI 1.1): the host refuses unknown keys and a missing path before capture
 * runs, and resolves a relative path from a config file against the file's directory. */
static const pf_setting settings[] = {
    {"path", PF_SETTING_PATH, 1, NULL, "the conversation, JSON Lines (one chat message per line)"},
};

static const pf_plugin plugin = {
    .struct_size = sizeof(pf_plugin),
    .abi_major = PF_ABI_MAJOR,
    .abi_minor = PF_ABI_MINOR,
    .kind = PF_LAYER_TRACE,
    .id = "org.example.trace.lines",
    .version = "1.0.0",
    .description = "Stores a JSON Lines conversation and counts its messages",
    .capture = capture,
    .restore = restore,
    .setting_size = sizeof(pf_setting),
    .setting_count = sizeof settings / sizeof settings[0],
    .settings = settings,
};

PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v1(void) { return &plugin; }
