/* A trace plugin that misuses the host the ways an outside tester found crashed it, chosen by one
 * -D definition: HOSTILE_LENGTHS (lengths beyond
 * INT64_MAX to put_blob, blob_write and set_layer, as a -1 from a failed read passed on would be),
 * HOSTILE_BIG_LAYER (a 17 MiB layer), HOSTILE_UNTERMINATED_ID (an id with no NUL in its first
 * 300 bytes). Without one it is a well-behaved trace plugin. Built by the tests with the SDK header. */
#include "pf_plugin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t capture(const pf_host *host, pf_ctx *ctx) {
    char digest[PF_DIGEST_STRLEN];
#ifdef HOSTILE_LENGTHS
    const char *text = "x";
    int32_t codes[3];
    codes[0] = host->put_blob(ctx, "application/octet-stream", text, (size_t)-1, digest);
    pf_blob_writer *writer = NULL;
    if (host->blob_open(ctx, "application/octet-stream", &writer) != PF_OK) return PF_ERR_IO;
    codes[1] = host->blob_write(writer, text, (size_t)-1);
    host->blob_abort(writer);
    codes[2] = host->set_layer(ctx, "{}", (size_t)-1);
    for (int i = 0; i < 3; i++) {
        if (codes[i] != PF_ERR_INVALID) {
            char message[64];
            snprintf(message, sizeof message, "call %d returned %d, not PF_ERR_INVALID", i, codes[i]);
            host->set_error(ctx, message);
            return PF_ERR_IO;
        }
    }
#endif
    const char *messages = "{\"role\":\"user\",\"id\":\"m1\",\"content\":\"hi\"}\n";
    int32_t rc = host->put_blob(ctx, "application/x-ndjson", messages, strlen(messages), digest);
    if (rc != PF_OK) return rc;
    char json[512];
    int length = snprintf(json, sizeof json,
        "{\"kind\":\"trace\",\"blobs\":[{\"media_type\":\"application/x-ndjson\",\"digest\":\"%s\",\"size\":%zu}],"
        "\"annotations\":{},\"messages\":\"%s\",\"message_count\":1}", digest, strlen(messages), digest);
#ifdef HOSTILE_BIG_LAYER
    size_t big = (size_t)17 << 20;
    char *padded = malloc(big);
    if (padded == NULL) return PF_ERR_IO;
    memset(padded, ' ', big);
    memcpy(padded, json, (size_t)length);
    rc = host->set_layer(ctx, padded, big);
    free(padded);
    return rc;
#else
    return host->set_layer(ctx, json, (size_t)length);
#endif
}

#ifdef HOSTILE_UNTERMINATED_ID
static char hostile_id[300];
#endif

static pf_plugin table = {
    .struct_size = sizeof(pf_plugin),
    .abi_major = PF_ABI_MAJOR,
    .abi_minor = PF_ABI_MINOR,
    .kind = PF_LAYER_TRACE,
    .id = "org.pfhost.test.hostile",
    .version = "1.0.0",
    .description = "misuses the host",
    .capture = capture,
};

PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v1(void) {
#ifdef HOSTILE_UNTERMINATED_ID
    memset(hostile_id, 'a', sizeof hostile_id);
    table.id = hostile_id;
#endif
    return &table;
}
