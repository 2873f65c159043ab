/* Multi-buffer SHA-256 (see CPFMultiBufferSHA256.h). Section numbers are FIPS 180-4's.
 *
 * Each kernel keeps one SHA-256 computation per 32-bit lane: the working variables a…h and the
 * message schedule W are vectors whose lane l belongs to message l, so every instruction of a
 * round (§6.2.2 step 3) advances all the messages at once. The lanes' blocks are gathered word by
 * word (word t of every lane into one vector: the transposition), byte-swapped (§3.1: words are
 * big-endian), and run through the 64 rounds; the kernels are compiled for their instruction set
 * function by function (`target` attributes) and chosen at run time, so this file builds and runs
 * on any x86-64 and on other architectures, where only libcrypto hashes. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_CTX: resuming from a lane's hash values */
#include "CPFMultiBufferSHA256.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define PF_MB_X86 1
#endif

/* §4.2.2: the 64 round constants. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* The block an empty lane hashes (its result is never read), so that a kernel never branches on
 * a lane. */
static const uint8_t empty_block[64];

#if PF_MB_X86

/* A mask for (v)pshufb that reverses the bytes of every 32-bit word. */
#define PF_BSWAP32_BYTES 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12

/* ---- 16 lanes: AVX-512F (vprord rotates, vpternlogd for three-input functions), AVX-512BW (vpshufb) ---- */

#define AVX512 __attribute__((target("avx512f,avx512bw")))

/* vpternlogd truth tables over (x, y, z) = (0xF0, 0xCC, 0xAA): x ^ y ^ z, Ch (§4.1.2 (4.2)), Maj (4.3). */
#define TERN_XOR3 0x96
#define TERN_CH 0xCA
#define TERN_MAJ 0xE8

static inline AVX512 __m512i x16_xor3(__m512i x, __m512i y, __m512i z) { return _mm512_ternarylogic_epi32(x, y, z, TERN_XOR3); }
/* §4.1.2 (4.4)–(4.7): Σ0, Σ1, σ0, σ1. */
static inline AVX512 __m512i x16_S0(__m512i x) { return x16_xor3(_mm512_ror_epi32(x, 2), _mm512_ror_epi32(x, 13), _mm512_ror_epi32(x, 22)); }
static inline AVX512 __m512i x16_S1(__m512i x) { return x16_xor3(_mm512_ror_epi32(x, 6), _mm512_ror_epi32(x, 11), _mm512_ror_epi32(x, 25)); }
static inline AVX512 __m512i x16_s0(__m512i x) { return x16_xor3(_mm512_ror_epi32(x, 7), _mm512_ror_epi32(x, 18), _mm512_srli_epi32(x, 3)); }
static inline AVX512 __m512i x16_s1(__m512i x) { return x16_xor3(_mm512_ror_epi32(x, 17), _mm512_ror_epi32(x, 19), _mm512_srli_epi32(x, 10)); }

/* The 16 lanes' current blocks as W0…W15 (word t of every lane in W[t]), big-endian to native.
 * Gathers (vpgatherqd) would cost half the kernel's time on this kind of CPU; a register transpose
 * does it in 64 shuffles: each lane's block is one register (a row), and four stages of
 * interleaving (32-bit, 64-bit, then two of 128-bit blocks) turn the 16 rows into 16 columns. */
static inline AVX512 void x16_load_words(__m512i W[16], const uint64_t pointers[16]) {
    const __m512i bswap = _mm512_broadcast_i32x4(_mm_setr_epi8(PF_BSWAP32_BYTES));
    __m512i r[16], t[16];
    for (int l = 0; l < 16; l++) r[l] = _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)(uintptr_t)pointers[l]), bswap);
    /* Rows 2i and 2i+1 interleaved by words: in each 128-bit block k, words 4k, 4k+1 (lo) or 4k+2, 4k+3 (hi). */
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    /* Then by pairs of words: r[4j + m]'s block k is word 4k + m of rows 4j…4j+3. */
    for (int j = 0; j < 4; j++) {
        r[4 * j] = _mm512_unpacklo_epi64(t[4 * j], t[4 * j + 2]);
        r[4 * j + 1] = _mm512_unpackhi_epi64(t[4 * j], t[4 * j + 2]);
        r[4 * j + 2] = _mm512_unpacklo_epi64(t[4 * j + 1], t[4 * j + 3]);
        r[4 * j + 3] = _mm512_unpackhi_epi64(t[4 * j + 1], t[4 * j + 3]);
    }
    /* Then a 4 × 4 transpose of 128-bit blocks among r[m], r[4+m], r[8+m], r[12+m]: word 4k + m of
     * all 16 rows is block k of each of them, in the order of the row groups. */
    for (int m = 0; m < 4; m++) {
        __m512i v0 = _mm512_shuffle_i32x4(r[m], r[4 + m], 0x44), v1 = _mm512_shuffle_i32x4(r[m], r[4 + m], 0xEE);
        __m512i v2 = _mm512_shuffle_i32x4(r[8 + m], r[12 + m], 0x44), v3 = _mm512_shuffle_i32x4(r[8 + m], r[12 + m], 0xEE);
        W[m] = _mm512_shuffle_i32x4(v0, v2, 0x88);
        W[4 + m] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
        W[8 + m] = _mm512_shuffle_i32x4(v1, v3, 0x88);
        W[12 + m] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
    }
}

static AVX512 void sha256_x16(uint32_t *state, const uint64_t pointers[16], const uint64_t strides[16], size_t blocks) {
    __m512i H[8];
    for (int i = 0; i < 8; i++) H[i] = _mm512_loadu_si512(state + 16 * i);
    uint64_t at[16];
    memcpy(at, pointers, sizeof at);
    for (size_t block = 0; block < blocks; block++) {
        /* §6.2.2 step 1: W0…W15 are the block's words; W16…W63 are computed in place, W[t mod 16]. */
        __m512i W[16];
        x16_load_words(W, at);
        for (int l = 0; l < 16; l++) at[l] += strides[l];
        /* Step 2: the working variables start from the hash values. */
        __m512i a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
        /* Step 3: 64 rounds. */
        for (int t = 0; t < 64; t++) {
            if (t >= 16) {
                W[t & 15] = _mm512_add_epi32(_mm512_add_epi32(W[t & 15], x16_s0(W[(t - 15) & 15])),
                                             _mm512_add_epi32(W[(t - 7) & 15], x16_s1(W[(t - 2) & 15])));
            }
            __m512i T1 = _mm512_add_epi32(_mm512_add_epi32(h, x16_S1(e)),
                                          _mm512_add_epi32(_mm512_ternarylogic_epi32(e, f, g, TERN_CH),
                                                           _mm512_add_epi32(_mm512_set1_epi32((int)K[t]), W[t & 15])));
            __m512i T2 = _mm512_add_epi32(x16_S0(a), _mm512_ternarylogic_epi32(a, b, c, TERN_MAJ));
            h = g; g = f; f = e; e = _mm512_add_epi32(d, T1);
            d = c; c = b; b = a; a = _mm512_add_epi32(T1, T2);
        }
        /* Step 4: the intermediate hash value. */
        H[0] = _mm512_add_epi32(H[0], a); H[1] = _mm512_add_epi32(H[1], b);
        H[2] = _mm512_add_epi32(H[2], c); H[3] = _mm512_add_epi32(H[3], d);
        H[4] = _mm512_add_epi32(H[4], e); H[5] = _mm512_add_epi32(H[5], f);
        H[6] = _mm512_add_epi32(H[6], g); H[7] = _mm512_add_epi32(H[7], h);
    }
    for (int i = 0; i < 8; i++) _mm512_storeu_si512(state + 16 * i, H[i]);
}

/* ---- 8 lanes: AVX2 (rotates as two shifts and an or) ----
 * Here the rounds alone are twice the instructions of AVX-512's (no rotate, no three-input logic)
 * over half the lanes, so gathering the words costs little (measured: 2 %) and stays. */

#define AVX2 __attribute__((target("avx2")))

static inline AVX2 __m256i x8_ror(__m256i x, int n) { return _mm256_or_si256(_mm256_srli_epi32(x, n), _mm256_slli_epi32(x, 32 - n)); }
static inline AVX2 __m256i x8_xor3(__m256i x, __m256i y, __m256i z) { return _mm256_xor_si256(_mm256_xor_si256(x, y), z); }
static inline AVX2 __m256i x8_S0(__m256i x) { return x8_xor3(x8_ror(x, 2), x8_ror(x, 13), x8_ror(x, 22)); }
static inline AVX2 __m256i x8_S1(__m256i x) { return x8_xor3(x8_ror(x, 6), x8_ror(x, 11), x8_ror(x, 25)); }
static inline AVX2 __m256i x8_s0(__m256i x) { return x8_xor3(x8_ror(x, 7), x8_ror(x, 18), _mm256_srli_epi32(x, 3)); }
static inline AVX2 __m256i x8_s1(__m256i x) { return x8_xor3(x8_ror(x, 17), x8_ror(x, 19), _mm256_srli_epi32(x, 10)); }
/* Ch = (e ∧ f) ⊕ (¬e ∧ g) = ((f ⊕ g) ∧ e) ⊕ g; Maj = (a ∧ b) ∨ ((a ∨ b) ∧ c). */
static inline AVX2 __m256i x8_ch(__m256i e, __m256i f, __m256i g) { return _mm256_xor_si256(_mm256_and_si256(_mm256_xor_si256(f, g), e), g); }
static inline AVX2 __m256i x8_maj(__m256i a, __m256i b, __m256i c) { return _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(_mm256_or_si256(a, b), c)); }
static inline AVX2 __m256i x8_add(__m256i x, __m256i y) { return _mm256_add_epi32(x, y); }

static inline AVX2 __m256i x8_word(__m256i pointers_lo, __m256i pointers_hi, int t) {
    const __m256i offset = _mm256_set1_epi64x(4 * t);
    __m128i lo = _mm256_i64gather_epi32(NULL, _mm256_add_epi64(pointers_lo, offset), 1);
    __m128i hi = _mm256_i64gather_epi32(NULL, _mm256_add_epi64(pointers_hi, offset), 1);
    const __m256i bswap = _mm256_setr_epi8(PF_BSWAP32_BYTES, PF_BSWAP32_BYTES);
    return _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), bswap);
}

static AVX2 void sha256_x8(uint32_t *state, const uint64_t pointers[8], const uint64_t strides[8], size_t blocks) {
    __m256i H[8];
    for (int i = 0; i < 8; i++) H[i] = _mm256_loadu_si256((const __m256i *)(state + 8 * i));
    __m256i lo = _mm256_loadu_si256((const __m256i *)pointers), hi = _mm256_loadu_si256((const __m256i *)(pointers + 4));
    const __m256i step_lo = _mm256_loadu_si256((const __m256i *)strides), step_hi = _mm256_loadu_si256((const __m256i *)(strides + 4));
    for (size_t block = 0; block < blocks; block++) {
        /* The same steps as sha256_x16. */
        __m256i W[16];
        for (int t = 0; t < 16; t++) W[t] = x8_word(lo, hi, t);
        __m256i a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
        for (int t = 0; t < 64; t++) {
            if (t >= 16) {
                W[t & 15] = x8_add(x8_add(W[t & 15], x8_s0(W[(t - 15) & 15])), x8_add(W[(t - 7) & 15], x8_s1(W[(t - 2) & 15])));
            }
            __m256i T1 = x8_add(x8_add(h, x8_S1(e)), x8_add(x8_ch(e, f, g), x8_add(_mm256_set1_epi32((int)K[t]), W[t & 15])));
            __m256i T2 = x8_add(x8_S0(a), x8_maj(a, b, c));
            h = g; g = f; f = e; e = x8_add(d, T1);
            d = c; c = b; b = a; a = x8_add(T1, T2);
        }
        H[0] = x8_add(H[0], a); H[1] = x8_add(H[1], b); H[2] = x8_add(H[2], c); H[3] = x8_add(H[3], d);
        H[4] = x8_add(H[4], e); H[5] = x8_add(H[5], f); H[6] = x8_add(H[6], g); H[7] = x8_add(H[7], h);
        lo = _mm256_add_epi64(lo, step_lo);
        hi = _mm256_add_epi64(hi, step_hi);
    }
    for (int i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)(state + 8 * i), H[i]);
}

#endif /* PF_MB_X86 */

int pf_sha256_mb_supported(int lanes) {
#if PF_MB_X86
    __builtin_cpu_init();
    if (lanes == 16) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    if (lanes == 8) return __builtin_cpu_supports("avx2");
#else
    (void)lanes;
#endif
    return 0;
}

/* Whether the CPU has the SHA extensions (CPUID leaf 7, EBX bit 29): then libcrypto hashes one
 * stream about as fast as the 16 lanes together, with no tail to finish, and is used alone. */
static int has_sha_extensions(void) {
#if PF_MB_X86
    unsigned int eax, ebx, ecx, edx;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & (1u << 29)) != 0;
#else
    return 1;
#endif
}

int pf_sha256_mb_default_lanes(void) {
    const char *forced = getenv("PFHOST_SHA256_KERNEL");
    if (forced != NULL && forced[0] != '\0') {
        int lanes = strcmp(forced, "avx512") == 0 ? 16 : strcmp(forced, "avx2") == 0 ? 8 : 0;
        return pf_sha256_mb_supported(lanes) ? lanes : 0;
    }
    if (has_sha_extensions()) return 0;
    if (pf_sha256_mb_supported(16)) return 16;
    if (pf_sha256_mb_supported(8)) return 8;
    return 0;
}

void pf_sha256_mb_blocks(int lanes, uint32_t *state, const uint8_t *const *data, size_t blocks) {
    /* An empty lane reads the empty block over and over: stride 0. */
    uint64_t pointers[PF_SHA256_MB_MAX_LANES], strides[PF_SHA256_MB_MAX_LANES];
    for (int l = 0; l < lanes && l < PF_SHA256_MB_MAX_LANES; l++) {
        pointers[l] = (uint64_t)(uintptr_t)(data[l] != NULL ? data[l] : empty_block);
        strides[l] = data[l] != NULL ? 64 : 0;
    }
#if PF_MB_X86
    if (lanes == 16) { sha256_x16(state, pointers, strides, blocks); return; }
    if (lanes == 8) { sha256_x8(state, pointers, strides, blocks); return; }
#else
    (void)state; (void)blocks;
#endif
    abort(); /* a kernel this CPU lacks: the caller did not ask pf_sha256_mb_supported */
}

/* ---- Resuming with libcrypto: its SHA256_CTX holds the hash values and the length so far. ---- */

struct pf_sha256_resumed { SHA256_CTX context; };

pf_sha256_resumed *pf_sha256_resume(const uint32_t h[8], uint64_t bytes) {
    if (bytes % 64 != 0 || bytes > UINT64_MAX / 8) return NULL;
    pf_sha256_resumed *state = malloc(sizeof *state);
    if (state == NULL) return NULL;
    SHA256_Init(&state->context);
    memcpy(state->context.h, h, 8 * sizeof(uint32_t));
    /* The message length in bits so far (§5.1.1's ℓ), as two 32-bit halves; no partial block. */
    uint64_t bits = bytes * 8;
    state->context.Nl = (SHA_LONG)(bits & 0xffffffffu);
    state->context.Nh = (SHA_LONG)(bits >> 32);
    state->context.num = 0;
    return state;
}

void pf_sha256_resumed_update(pf_sha256_resumed *state, const void *data, size_t len) {
    SHA256_Update(&state->context, data, len);
}

void pf_sha256_resumed_final(pf_sha256_resumed *state, uint8_t out[32]) {
    SHA256_Final(out, &state->context);
    free(state);
}

void pf_sha256_resumed_free(pf_sha256_resumed *state) { free(state); }
