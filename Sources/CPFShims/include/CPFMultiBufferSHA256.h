/* Multi-buffer SHA-256: the compression function (FIPS 180-4 §6.2.2) of 16 or 8 independent
 * messages at once, one message per 32-bit lane of an AVX-512 or AVX2 register. SHA-256 of one
 * message is serial (each block needs the state the previous one left), but the blobs a restore
 * checks are independent, so a CPU without SHA extensions can hash several of them in the time
 * libcrypto hashes one. Internal to pfhost; PFModel's MultiBufferSHA256 drives it. */
#ifndef CPFMULTIBUFFERSHA256_H
#define CPFMULTIBUFFERSHA256_H

#include <stddef.h>
#include <stdint.h>

/** The most lanes a kernel has. */
#define PF_SHA256_MB_MAX_LANES 16

/**
 * Whether the kernel of `lanes` lanes runs on this CPU: 16 (AVX-512F and AVX-512BW), 8 (AVX2);
 * 0 for any other number. Asked of the CPU at run time (the code is compiled for these
 * instruction sets function by function, so the library runs on any x86-64, and on other
 * architectures neither kernel exists).
 */
int pf_sha256_mb_supported(int lanes);

/**
 * The lanes of the kernel to use: the environment variable PFHOST_SHA256_KERNEL when set
 * (`avx512`, `avx2` or `scalar`, for tests and measurements; a kernel this CPU lacks gives 0),
 * else 0 on a CPU with SHA extensions (libcrypto's one stream is then as fast as the lanes), else
 * the widest kernel this CPU runs; 0 means no kernel: hash with libcrypto.
 */
int pf_sha256_mb_default_lanes(void);

/**
 * Runs `blocks` 64-byte blocks of each lane through the compression function.
 *
 * `state` holds the lanes' hash values word-major: word i (H0…H7) of lane l at `state[i * lanes + l]`
 * (8 × `lanes` words), updated in place. `data[l]` points at lane l's next `blocks` × 64 bytes (no
 * alignment needed), or is NULL for a lane with no message, whose state is then garbage afterwards.
 * `lanes` must be a supported kernel's (pf_sha256_mb_supported). Thread-safe: no shared state.
 */
void pf_sha256_mb_blocks(int lanes, uint32_t *state, const uint8_t *const *data, size_t blocks);

/** A SHA-256 computation resumed from a lane's hash values, continued by libcrypto. */
typedef struct pf_sha256_resumed pf_sha256_resumed;

/**
 * Resumes a computation whose first `bytes` bytes (a multiple of 64) left the hash values `h`
 * (H0…H7): libcrypto then hashes the rest as if it had hashed those bytes itself. NULL when
 * out of memory or `bytes` is not a multiple of 64.
 */
pf_sha256_resumed *pf_sha256_resume(const uint32_t h[8], uint64_t bytes);
/** Feeds `len` more bytes. */
void pf_sha256_resumed_update(pf_sha256_resumed *state, const void *data, size_t len);
/** Writes the 32-byte digest to `out` and frees the state. */
void pf_sha256_resumed_final(pf_sha256_resumed *state, uint8_t out[32]);
/** Frees a state not finalised. NULL is allowed. */
void pf_sha256_resumed_free(pf_sha256_resumed *state);

#endif
