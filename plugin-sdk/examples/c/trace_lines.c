/*
 * A minimal third-party pfhost plugin in plain C: it captures the TRACE layer from a JSON Lines
 * file (one chat message per line), storing the file as one blob and counting its messages.
 *
 * Build:   make            (needs only a C compiler and ../../include/pf_plugin.h)
 * Use:     drop libexample-trace.so into a plugin directory in place of the trace plugin and run
 *          pfhost snapshot --plugins DIR --set trace.path=conversation.jsonl
 *
 * It shows the whole contract: one exported entry function, a static plugin table, host
 * services for config, blobs, errors and cancellation, and one set_layer call on success.
 */
#include "pf_plugin.h"

#include <stdio.h>
#include <string.h>

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

static const pf_plugin plugin = {
    .struct_size = sizeof(pf_plugin),
    .abi_major = PF_ABI_MAJOR,
    .abi_minor = PF_ABI_MINOR,
    .kind = PF_LAYER_TRACE,
    .id = "org.example.trace.lines",
    .version = "1.0.0",
    .description = "Stores a JSON Lines conversation and counts its messages",
    .capture = capture,
    .restore = NULL,
};

PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v1(void) { return &plugin; }
