/*
 * pf_plugin.h — the pfhost layer-capture plugin ABI, version 1.1.
 *
 * A plugin is a shared object (.so) that captures ONE layer of an agent's state
 * (model, cache, world, effects or trace) into the pfhost content-addressed store.
 * It is built against this header alone and exports exactly one symbol:
 *
 *     PF_PLUGIN_EXPORT const pf_plugin *pf_plugin_entry_v1(void);
 *
 * Rules of the ABI
 *  - The ABI major is part of the entry symbol's name; a future major gets a new symbol,
 *    so one host can find plugins of several majors.
 *  - Within a major, structs only grow at their end (append-only). Each struct carries its
 *    own size in `struct_size`; a reader touches a field only when `struct_size` covers it.
 *    Adding fields is a minor bump.
 *  - The host accepts a plugin whose abi_major equals the host's and whose abi_minor is not
 *    newer than the host's. A plugin built against this header (1.1) therefore needs a 1.1 host;
 *    a 1.0 plugin keeps loading in a 1.1 host, which reads only the fields its struct_size covers.
 *  - Fields marked [1.1] were appended in ABI 1.1 (plugin-sdk/README.md has the table of what
 *    each minor added). A plugin that wants to run on an older host declares the older minor,
 *    and then must not touch a [1.1] field of pf_host unless pf_host.struct_size covers it.
 *  - Nothing allocated on one side is freed by the other. Strings are NUL-terminated UTF-8.
 *  - The host never dlclose()s a plugin: its code and static data live as long as the process.
 *  - Digests cross the boundary as "sha256:<64 lowercase hex>" strings, written by the host
 *    into caller-provided buffers of PF_DIGEST_STRLEN bytes (NUL included).
 *
 * Threads
 *  - The host calls `capture` once per snapshot, on a thread of its own (one thread per
 *    plugin, all plugins concurrently). It never calls the same plugin's `capture` twice at once.
 *    `restore` likewise: once per layer restored, on a thread of its own.
 *  - [thread-safe] Every host service below may be called from any thread, including threads
 *    the plugin starts itself, but only while `capture` (or `restore`) has not yet returned:
 *    the ctx pointer is invalid afterwards. (pfhost checks ctx and writer pointers on every call:
 *    an invalid one gets PF_ERR_INVALID, or NULL, and a warning; strings it returned are freed.)
 *
 * This file is C99 and C++ compatible and has no dependency but <stddef.h> and <stdint.h>.
 */
#ifndef PF_PLUGIN_H
#define PF_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI this header describes. */
#define PF_ABI_MAJOR 1
#define PF_ABI_MINOR 1

/**
 * The sizes of the ABI 1.0 structs, written down (not sizeof of today's structs, which grow):
 * a host refuses a plugin table smaller than PF_PLUGIN_SIZE_1_0, and a plugin may rely on every
 * 1.0 field of a pf_host at least PF_HOST_SIZE_1_0 bytes long. 56 and 120 bytes on LP64.
 */
#define PF_PLUGIN_SIZE_1_0 (4 * sizeof(uint32_t) + 5 * sizeof(void *))
#define PF_HOST_SIZE_1_0 (4 * sizeof(uint32_t) + 13 * sizeof(void *))

/** [1.1] pf_host.put_fd's `size` meaning "the size fstat gives when the call starts". */
#define PF_SIZE_FSTAT 0xFFFFFFFFFFFFFFFFull /* UINT64_MAX */

/** [1.1] pf_host.set_attributes's `mode` meaning "leave the mode as it is". */
#define PF_KEEP_MODE 0xFFFFFFFFu

/** [1.1] Flags pf_host.put_fd reports. */
enum {
    /** The file changed while it was read: the blob holds the prefix that was read (see put_fd). */
    PF_PUT_CHANGED = 1
};

/** The name of the one symbol a plugin exports (see pf_plugin_entry_fn). */
#define PF_ENTRY_SYMBOL "pf_plugin_entry_v1"

/** Bytes of a digest string buffer: "sha256:" + 64 hex digits + NUL. */
#define PF_DIGEST_STRLEN 72

/**
 * Marks the entry function as exported. Build plugins with -fvisibility=hidden so that
 * this function is the only symbol the .so exports.
 */
#if defined(_WIN32)
#define PF_PLUGIN_EXPORT __declspec(dllexport)
#else
#define PF_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/** The five layers of an agent's state. A plugin declares exactly one in pf_plugin.kind. */
enum {
    PF_LAYER_MODEL = 1,   /* weights and adapters */
    PF_LAYER_CACHE = 2,   /* the paged KV cache */
    PF_LAYER_WORLD = 3,   /* filesystem, environment, processes, browser DOM */
    PF_LAYER_EFFECTS = 4, /* the ledger of side effects already caused */
    PF_LAYER_TRACE = 5    /* chat and tool messages */
};

/** Return codes. Every int32_t-returning function below returns one of these. */
enum {
    PF_OK = 0,               /* success */
    PF_ERR_INVALID = -1,     /* bad argument or bad input (malformed file, wrong JSON, NULL pointer) */
    PF_ERR_IO = -2,          /* reading or writing failed (missing file, disk full, store error) */
    PF_ERR_CANCELLED = -3,   /* the host asked to stop (deadline passed); return promptly */
    PF_ERR_UNSUPPORTED = -4, /* the operation is not supported by this plugin or host */
    PF_ERR_INTERNAL = -5     /* a bug; the message says what */
};

/** Log levels for pf_host.log. */
enum { PF_LOG_DEBUG = 0, PF_LOG_INFO = 1, PF_LOG_WARN = 2, PF_LOG_ERROR = 3 };

/** Opaque per-call context the host passes to capture/restore. Valid until that call returns. */
typedef struct pf_ctx pf_ctx;

/** Opaque streaming blob writer, from pf_host.blob_open. Owned by the host. */
typedef struct pf_blob_writer pf_blob_writer;

/**
 * Services the host offers a plugin during capture/restore.
 * Owned by the host; valid until capture/restore returns. All functions are [thread-safe].
 */
typedef struct pf_host {
    /** sizeof(pf_host) as the host built it. Read a field only if struct_size covers it. */
    uint32_t struct_size;
    /** The host's ABI version. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /** Zero. */
    uint32_t reserved;

    /**
     * The configuration value for `key` in this plugin's layer section: from
     * `--set KIND.KEY=VALUE` on the command line, else from the config file's section for the
     * plugin's kind. Returns NULL when unset. The string is owned by the host and valid until
     * capture returns. Relative paths from a config file are already resolved against the
     * config file's directory.
     */
    const char *(*config)(pf_ctx *ctx, const char *key);

    /**
     * Stores `len` bytes at `data` as one blob of `media_type` (e.g. "application/json") and
     * writes its digest to `digest_out`. An existing identical blob is not written again.
     * Returns PF_OK, PF_ERR_INVALID (NULL argument), PF_ERR_IO or PF_ERR_CANCELLED.
     */
    int32_t (*put_blob)(pf_ctx *ctx, const char *media_type, const void *data, size_t len,
                        char digest_out[PF_DIGEST_STRLEN]);

    /**
     * Stores the regular file at `path` (absolute, or relative to the host's working
     * directory) as one blob, streaming it (memory use does not grow with its size). The path
     * is opened as given, symlinks followed: for files under a directory the plugin walks, use
     * put_fd [1.1] on a descriptor it opened itself without following symlinks.
     * Writes the digest to `digest_out` and the size to `*size_out`. The host may skip
     * re-hashing a file it has seen unchanged. Returns PF_OK, PF_ERR_INVALID, PF_ERR_IO
     * (missing or unreadable file, not a regular file) or PF_ERR_CANCELLED.
     */
    int32_t (*put_file)(pf_ctx *ctx, const char *path, const char *media_type,
                        char digest_out[PF_DIGEST_STRLEN], uint64_t *size_out);

    /**
     * Opens a streaming blob writer for content too large or too incremental for put_blob.
     * On PF_OK `*writer_out` is owned by the host until blob_commit or blob_abort is called
     * on it (exactly one of the two must be; a writer left open when capture returns is
     * aborted). A writer must not be used by two threads at once.
     */
    int32_t (*blob_open)(pf_ctx *ctx, const char *media_type, pf_blob_writer **writer_out);

    /** Appends `len` bytes to the blob. PF_OK, PF_ERR_IO or PF_ERR_CANCELLED. */
    int32_t (*blob_write)(pf_blob_writer *writer, const void *data, size_t len);

    /**
     * Finishes the blob, writes its digest to `digest_out` and releases the writer (also on
     * failure). PF_OK, PF_ERR_IO or PF_ERR_CANCELLED.
     */
    int32_t (*blob_commit)(pf_blob_writer *writer, char digest_out[PF_DIGEST_STRLEN]);

    /** Discards the blob and releases the writer. */
    void (*blob_abort)(pf_blob_writer *writer);

    /**
     * The JSON of this plugin's layer in the first parent snapshot (NULL for a root snapshot,
     * with *len_out set to 0), so the plugin can reuse unchanged blobs by digest. The bytes
     * are owned by the host, valid until capture returns, and NUL-terminated; `len_out` may
     * be NULL. It is the parent's layer of this kind whichever plugin captured it: its
     * `plugin` member ({"id": …, "version": …}) says which. Trust what it records about your
     * input (stat data, keys, a ledger's head) only when that is your own id and version;
     * another plugin, or another version of yours, may have recorded it from other input.
     */
    const char *(*parent_layer)(pf_ctx *ctx, size_t *len_out);

    /**
     * Hands back the layer descriptor: a JSON object of the plugin's kind (see
     * plugin-sdk/schema/). Must be called exactly once before capture returns PF_OK. The host
     * copies the bytes and checks them: valid JSON, `kind` equal to the declared kind, valid
     * against plugin-sdk/schema/layer-KIND.schema.json, decodes as that kind's layer, every
     * entry of `blobs` exists in the store with that exact size, and every blob the content
     * refers to (its digest fields, such as a trace's `messages`; docs/store-format.md) is
     * listed in `blobs` (text the agent controls, like an environment value, may hold any
     * string). A plugin that finds its input unchanged may pass the bytes parent_layer gave,
     * as given (or without their `plugin` member): the host then takes the parent's layer,
     * skips the schema walk, and stores the snapshot's layer as the parent's config.
     * Returns PF_OK or PF_ERR_INVALID (a second call, or JSON that fails the checks; the
     * reason is recorded as the plugin's error).
     */
    int32_t (*set_layer)(pf_ctx *ctx, const char *json, size_t len);

    /** Records why capture is failing; the host copies it and reports it with the plugin's file. */
    void (*set_error)(pf_ctx *ctx, const char *message);

    /** Logs a message at one of the PF_LOG_* levels; the host copies it. */
    void (*log)(pf_ctx *ctx, int32_t level, const char *message);

    /** Reports progress in plugin-defined units (bytes, files); `total` 0 means unknown. */
    void (*progress)(pf_ctx *ctx, uint64_t done, uint64_t total);

    /**
     * Non-zero once the host wants the capture to stop (its deadline passed). A plugin
     * checks it in long loops and then returns PF_ERR_CANCELLED. After that point blob
     * writes fail with PF_ERR_CANCELLED.
     */
    int32_t (*cancelled)(pf_ctx *ctx);

    /* ---- ABI 1.1: fields below exist only when struct_size covers them. ---- */

    /**
     * [1.1] Stores the open regular file `fd` as one blob, streaming it from offset 0 with
     * pread: the descriptor's file offset is neither used nor moved, and the host does not close
     * it. Exactly `size` bytes are stored, or fewer if the file ends first; PF_SIZE_FSTAT stores
     * the size fstat reports when the call starts. Reading is bounded by that size, so a file
     * that keeps growing cannot make the capture read forever.
     *
     * The plugin opens `fd` itself, beneath the directory it was pointed at and following no
     * symlink (openat with O_NOFOLLOW on every component, or openat2 with RESOLVE_BENEATH |
     * RESOLVE_NO_SYMLINKS; add O_NONBLOCK so a FIFO swapped in cannot block the open), so what is
     * stored is what the plugin walked, never a file a symlink race substituted.
     *
     * Writes the digest to `digest_out`, the number of bytes stored to `*size_out`, and, when
     * `flags_out` is not NULL, PF_PUT_CHANGED to `*flags_out` if the file changed while it was
     * read: it ended before `size`, its size, mtime or ctime differ between the start and the
     * end of the read, or `size` differs from its size (0 otherwise). The host may skip reading
     * a file whose fstat data (device, inode, size, mtime, ctime) match a file it stored before.
     *
     * Returns PF_OK, PF_ERR_INVALID (a NULL argument, a negative fd, a size over INT64_MAX that
     * is not PF_SIZE_FSTAT), PF_ERR_IO (`fd` unreadable or not a regular file, as for put_file)
     * or PF_ERR_CANCELLED.
     * [thread-safe]; `fd` must stay open until the call returns.
     */
    int32_t (*put_fd)(pf_ctx *ctx, int fd, uint64_t size, const char *media_type,
                      char digest_out[PF_DIGEST_STRLEN], uint64_t *size_out, uint32_t *flags_out);

    /* ---- [1.1] Restore services. ----
     *
     * Valid only inside restore(); during capture they return PF_ERR_UNSUPPORTED (report does
     * nothing). Every `path` argument is relative to the layer's restore directory (TARGET/<kind>/
     * while restoring): bytes separated by '/', never absolute, with no empty, "." or ".." component;
     * anything else is PF_ERR_INVALID. The host creates everything beneath that directory's
     * descriptor following no symlink (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or an
     * O_NOFOLLOW walk of every component on kernels without it), so no plugin, however careless,
     * and no snapshot, however hostile, writes outside it: `link/passwd` after a symlink
     * `link -> /etc` fails with PF_ERR_IO. Failures are PF_ERR_IO (the host logs the cause and
     * names it in the restore's error when the plugin fails) unless said otherwise.
     * [thread-safe]: a plugin may restore from several threads at once.
     */

    /**
     * [1.1] Opens the blob `digest` ("sha256:<hex>"), which must be one of the layer's `blobs`, for
     * reading. Its size is checked to be the one the layer lists. A blob of at most 16 MiB (what a
     * plugin parses: indexes, ledgers, conversations) is checked to hash to `digest` before the
     * descriptor is handed out (the host hashes each blob once per restore, usually on another
     * thread ahead of the plugin); a larger one (weights, packs: bytes a plugin copies) is hashed
     * while the plugin reads it, and wrong bytes fail the whole restore once the plugins return,
     * before TARGET appears: TARGET never holds a wrong byte, though the plugin may have read some.
     * Parse what you read as input from elsewhere either way: a snapshot's bytes hash to their digests
     * but may have been written by anyone. `*fd_out` is a read-only descriptor at offset 0 (O_CLOEXEC), owned by the plugin, which
     * closes it; `*size_out` is its size. Use pread, or copy_file_range to a descriptor from
     * create_file. PF_ERR_INVALID for a digest the layer does not list; PF_ERR_IO for a blob that is
     * missing or damaged (the restore's error names the blob).
     */
    int32_t (*open_blob)(pf_ctx *ctx, const char *digest, int *fd_out, uint64_t *size_out);

    /**
     * [1.1] Creates the directory `path` with `mode` (& 07777, less the umask; give 0700 and set the
     * recorded mode with set_attributes once it is filled). Its parent must exist. An existing
     * directory is PF_OK; anything else already there (a file, a symlink) is PF_ERR_IO.
     */
    int32_t (*make_directory)(pf_ctx *ctx, const char *path, uint32_t mode);

    /**
     * [1.1] Creates the regular file `path` (O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, `mode` & 07777
     * less the umask) and writes its descriptor to `*fd_out`. The parent must exist and nothing may
     * be at `path` yet (a symlink there is not followed: PF_ERR_IO). The plugin owns the descriptor:
     * it writes the content and closes it, then calls set_attributes for the recorded mode and mtime.
     */
    int32_t (*create_file)(pf_ctx *ctx, const char *path, uint32_t mode, int *fd_out);

    /**
     * [1.1] Creates the symlink `path` pointing at `target`, stored verbatim (any bytes but NUL; it
     * may be absolute or lead outside: the host never follows a link while restoring, and a later
     * path through it fails). The parent must exist and nothing may be at `path` yet.
     */
    int32_t (*make_symlink)(pf_ctx *ctx, const char *target, const char *path);

    /**
     * [1.1] Sets the mode (`mode` & 07777, PF_KEEP_MODE to leave it; ignored for symlinks, which have
     * none on Linux) and the mtime (and atime) of `path`, in ns since 1970, without following a
     * symlink at `path` (AT_SYMLINK_NOFOLLOW). Call it on a file after closing its descriptor, and on
     * a directory after everything in it was created (creating entries changes its mtime; a mode
     * without write or search permission would stop the filling), deepest first. Unless the user
     * asked to keep them (`pfhost restore --keep-setid`), the host clears the setuid and setgid bits
     * of anything but a directory, here and in create_file, and reports it to the user itself: the
     * call still succeeds.
     */
    int32_t (*set_attributes)(pf_ctx *ctx, const char *path, uint32_t mode, int64_t mtime_ns);

    /**
     * [1.1] Records a setting for this kind's section of TARGET/pfhost.json, the config the restored
     * agent is snapshotted with (`pfhost snapshot --config TARGET/pfhost.json`): what a capture of the
     * restored layer reads. With `is_path` non-zero, `value` is a path relative to the layer's restore
     * directory ("." for the directory itself, else as `path` above) and the host writes it relative
     * to TARGET ("tree" in the world layer becomes "world/tree"); then `key` must be one the config
     * loader resolves against the file's directory: "path", "root", "dom", or ending in "_path",
     * "_dir" or "_file" (PF_ERR_INVALID otherwise). A plugin that declares settings may record only
     * keys it declares, each value of its declared type (PF_ERR_INVALID otherwise, so the written
     * pfhost.json is never one the next snapshot refuses), and `key` and `value` must be UTF-8
     * (PF_ERR_INVALID: pfhost.json holds text; nothing is replaced). A second call for a key replaces
     * the value. The host copies both strings.
     */
    int32_t (*set_restored_config)(pf_ctx *ctx, const char *key, const char *value, int32_t is_path);

    /**
     * [1.1] Tells the user a fact about the restore, e.g. ("pending_effects", "fx-2,fx-7") or
     * ("not_recreated", "processes, env (recorded in world/env.json)"): printed on stderr as
     * `pfhost: KIND: KEY: VALUE` and included in `restore --json` under the layer. The host copies
     * both strings; a second report of a key replaces the first.
     */
    void (*report)(pf_ctx *ctx, const char *key, const char *value);

    /* ---- [1.1] Storing part of a file (appended after report, same minor). ---- */

    /**
     * [1.1] Stores `size` bytes of the open regular file `fd` starting at `offset` as one blob, as
     * put_fd stores a whole file (put_fd is this call with offset 0 and the file's size): read with
     * pread, the descriptor's offset neither used nor moved, the descriptor not closed. PF_SIZE_FSTAT
     * stores from `offset` to the end fstat reports when the call starts. It lets a plugin store a
     * large file as chunks, which hash side by side: pfhost verifies blobs of up to 16 MiB many at a
     * time (restore, verify --all), so a 10 GB file kept as 4 MiB chunks verifies about five times
     * faster than one kept as a single blob (SHA-256 of one stream runs on one core's one lane).
     *
     * Writes the digest to `digest_out`, the number of bytes stored to `*size_out`, and, when
     * `flags_out` is not NULL, PF_PUT_CHANGED to `*flags_out` if the file changed while it was read:
     * it ended before `offset + size`, or its size, mtime or ctime differ between the start and the
     * end of the read (a file longer than `offset + size` is not a change: storing its first part is
     * the point; an `offset` past the end stores an empty blob and sets PF_PUT_CHANGED). The
     * host may skip reading a range whose fstat data (device, inode, size, mtime, ctime), offset and
     * size match one it stored before.
     *
     * Returns PF_OK, PF_ERR_INVALID (a NULL argument, a negative fd, `offset` or `size` over
     * INT64_MAX (`size` unless PF_SIZE_FSTAT), `offset + size` over INT64_MAX), PF_ERR_IO (as put_fd)
     * or PF_ERR_CANCELLED. A host built before this call has a shorter pf_host: check
     * `host->struct_size >= offsetof(pf_host, put_fd_range) + sizeof host->put_fd_range`, else store
     * the file whole with put_fd.
     * [thread-safe]; `fd` must stay open until the call returns.
     */
    int32_t (*put_fd_range)(pf_ctx *ctx, int fd, uint64_t offset, uint64_t size, const char *media_type,
                            char digest_out[PF_DIGEST_STRLEN], uint64_t *size_out, uint32_t *flags_out);
} pf_host;

/** [1.1] The type of a declared setting (pf_setting.type): what the host accepts as its value. */
enum {
    PF_SETTING_STRING = 1, /* any text */
    PF_SETTING_BOOL = 2,   /* "true" or "false" (a config file may give a JSON boolean) */
    PF_SETTING_INT = 3,    /* a decimal integer within int64_t (a config file may give a JSON integer) */
    PF_SETTING_PATH = 4,   /* a file or directory: a relative value from a config file is resolved against the
                              config file's directory before the plugin sees it; from --set, it is left as given
                              (relative to the host's working directory) */
    PF_SETTING_LIST = 5    /* comma-separated text (a config file may give a JSON array of strings, joined with ",") */
};

/**
 * [1.1] One setting a plugin declares (pf_plugin.settings). Static storage, never changed; read by the
 * host when it loads the plugin, on any thread. Strings are NUL-terminated UTF-8.
 */
typedef struct pf_setting {
    /** The key after the kind, e.g. "root" for world.root: 1 to 64 of [a-z0-9_], starting with a letter. */
    const char *key;
    /** One of PF_SETTING_*. */
    uint32_t type;
    /** Non-zero: the capture cannot run without it (the host refuses the snapshot, exit 78, when it is unset
        and has no default). */
    uint32_t required;
    /** The value `config` returns when the setting is unset (of the setting's type), or NULL for none. */
    const char *default_value;
    /** One line for humans, shown by `pfhost plugins` and in errors. Required. */
    const char *help;
} pf_setting;

/** [1.1] sizeof(pf_setting) as first published (32 bytes on LP64): the smallest pf_plugin.setting_size. */
#define PF_SETTING_SIZE_1_1 (2 * sizeof(uint32_t) + 3 * sizeof(void *))

/**
 * What a plugin is. Returned by the entry function; must be in static storage (valid for
 * the life of the process) and never change.
 */
typedef struct pf_plugin {
    /** sizeof(pf_plugin) as the plugin was built. */
    uint32_t struct_size;
    /** The ABI the plugin was built against: PF_ABI_MAJOR and PF_ABI_MINOR. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /** One of PF_LAYER_*. */
    uint32_t kind;
    /** Reverse-DNS identifier, e.g. "org.example.world.fs". Required. */
    const char *id;
    /** Semantic version of the plugin, e.g. "1.2.0". Required. */
    const char *version;
    /** One line for humans; may be NULL. */
    const char *description;

    /**
     * Captures the layer. Called once per snapshot on a host-owned thread. Writes blobs
     * through `host`, calls host->set_layer exactly once, and returns PF_OK; or calls
     * host->set_error and returns a negative code. `host` and `ctx` are valid until it returns.
     */
    int32_t (*capture)(const pf_host *host, pf_ctx *ctx);

    /**
     * Restores the layer described by `layer_json` (`len` bytes, NUL-terminated, owned by the host,
     * valid until the call returns): the layer as the snapshot's manifest holds it, `plugin` filled.
     * Optional: NULL means this plugin cannot restore. Called by `pfhost restore` once per layer, on a
     * host-owned thread (all plugins concurrently, like capture), with the [1.1] restore services of
     * `host` working relative to TARGET/<kind>/, which exists and is empty when restore starts. Reads
     * blobs with open_blob, creates the layer in the form its capture reads with make_directory,
     * create_file, make_symlink and set_attributes, says which settings capture that form with
     * set_restored_config, tells the user what could not be re-created with report, and returns PF_OK;
     * or calls set_error (naming the entry or blob) and returns a negative code. `host->config` gives
     * the restore settings (`pfhost restore --set KIND.KEY=VALUE`). Check `host->cancelled` in loops.
     * A plugin declaring abi_minor 0 is never asked to restore: ABI 1.0 has no restore services.
     */
    int32_t (*restore)(const pf_host *host, pf_ctx *ctx, const char *layer_json, size_t len);

    /* ---- [1.1] Declared settings and build identity: read only when struct_size covers them. ---- */

    /**
     * [1.1] sizeof(pf_setting) as the plugin was built (at least PF_SETTING_SIZE_1_1), so the array can
     * grow at its elements' end in a later minor. Zero when the plugin declares no settings.
     */
    uint32_t setting_size;
    /** [1.1] How many entries `settings` has (at most 256). */
    uint32_t setting_count;
    /**
     * [1.1] The settings the plugin reads with host->config, in static storage; NULL (with setting_count 0)
     * declares none, and the host then behaves as for a 1.0 plugin: every key is passed through unchecked,
     * relative paths are resolved by the name rule (path, root, dom, *_path, *_dir, *_file), and a key the
     * capture never read is warned about. A plugin that declares (even one setting) gets the host's checks:
     * an unknown key or a value of the wrong type refuses the snapshot (exit 78) naming the key, the valid
     * keys and the nearest one; a required setting unset is refused the same way; `config` returns the
     * default of an unset setting; PF_SETTING_PATH values from a config file are resolved against its
     * directory (and only those: the name rule no longer applies). Read once, at load, on any thread.
     */
    const pf_setting *settings;
    /**
     * [1.1] What the plugin was built with, when that constrains the host it can run in (like PostgreSQL's
     * PG_MODULE_MAGIC): NULL or "" for a plugin that needs nothing but this header (C, Rust). A Swift plugin
     * gives "swift-" and the Swift runtime version it was compiled with ("swift-6.3.1"; PFPluginKit fills it):
     * Swift has no stable ABI on Linux and the plugin uses the host process's libswiftCore, so a host
     * built with another Swift refuses it, naming both versions. Static storage; read at load.
     */
    const char *build_identity;
} pf_plugin;

/** The type of pf_plugin_entry_v1. It may be called more than once and from any thread. */
typedef const pf_plugin *(*pf_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* PF_PLUGIN_H */
