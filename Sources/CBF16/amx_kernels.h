// AMX-BF16 block kernel for PoseTensor's bf16 GEMM (bf16 kernel class "amx"), and its scalar
// emulation, which runs the very same tile program on plain memory so the packing, tiling and
// tile-config logic is tested on machines without AMX (AMXTests).
//
// One call computes a 32 x 32 block of C in four 16 x 16 fp32 accumulator tiles (tmm0..3) from
// two A tiles (tmm4, 5: 16 rows x 16 bf16 pairs each) and two B tiles (tmm6, 7: 16 pairs x 16
// columns, the pair-interleaved layout of PackedBF16Matrix read with a 128-byte row stride):
// per 16 pairs of K, four tile loads and four tdpbf16ps. C starts from `acc` (32 x 32 floats: the
// bias, or C + bias) and ends there. A rows are bf16 row-major (`a_stride` bytes), zero-padded to a
// multiple of 32 values; B panels are zero-padded to a multiple of 16 pairs.
#ifndef POSECLUSTER_AMX_KERNELS_H
#define POSECLUSTER_AMX_KERNELS_H

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include "bf16_shim.h"

/// The tile program, written once and instantiated for the hardware and for the emulation.
#define CBF16_AMX_BLOCK(LOAD, DP, STORE)                                                    \
    LOAD(0, acc, 128);                                                                      \
    LOAD(1, acc + 16, 128);                                                                 \
    LOAD(2, acc + 16 * 32, 128);                                                            \
    LOAD(3, acc + 16 * 32 + 16, 128);                                                       \
    for (long p = 0; p < pairs; p += 16) {                                                  \
        LOAD(4, (const char *)a + p * 4, a_stride);                                         \
        LOAD(5, (const char *)a + 16 * a_stride + p * 4, a_stride);                         \
        LOAD(6, b + p * 64, 128);                                                           \
        LOAD(7, b + p * 64 + 32, 128);                                                      \
        DP(0, 4, 6);                                                                        \
        DP(1, 4, 7);                                                                        \
        DP(2, 5, 6);                                                                        \
        DP(3, 5, 7);                                                                        \
    }                                                                                       \
    STORE(0, acc, 128);                                                                     \
    STORE(1, acc + 16, 128);                                                                \
    STORE(2, acc + 16 * 32, 128);                                                           \
    STORE(3, acc + 16 * 32 + 16, 128);

/// The 64-byte tile configuration (palette 1): eight tiles of 16 rows x 64 bytes.
static inline void cbf16_amx_config(uint8_t config[64]) {
    memset(config, 0, 64);
    config[0] = 1;                        /* palette */
    for (int t = 0; t < 8; t++) {
        config[16 + 2 * t] = 64;          /* bytes per row (little-endian uint16) */
        config[48 + t] = 16;              /* rows */
    }
}

/* ---- emulation: eight 1 KiB tiles in memory, tdpbf16ps as Intel's pseudo-code defines it ---- */

typedef struct { uint8_t t[8][16][64]; } cbf16_amx_tiles;

static inline void cbf16_emu_load(cbf16_amx_tiles *tiles, int t, const void *p, long stride) {
    for (int r = 0; r < 16; r++) memcpy(tiles->t[t][r], (const char *)p + r * stride, 64);
}

static inline void cbf16_emu_store(cbf16_amx_tiles *tiles, int t, void *p, long stride) {
    for (int r = 0; r < 16; r++) memcpy((char *)p + r * stride, tiles->t[t][r], 64);
}

/// c[m][n] += sum over pairs k of a[m][k].bf16[0] * b[k][n].bf16[0] + a[m][k].bf16[1] * b[k][n].bf16[1].
static inline void cbf16_emu_dpbf16ps(cbf16_amx_tiles *tiles, int c, int a, int b) {
    for (int m = 0; m < 16; m++) {
        float row[16];
        memcpy(row, tiles->t[c][m], 64);
        for (int k = 0; k < 16; k++) {
            uint16_t a0, a1;
            memcpy(&a0, &tiles->t[a][m][4 * k], 2);
            memcpy(&a1, &tiles->t[a][m][4 * k + 2], 2);
            for (int n = 0; n < 16; n++) {
                uint16_t b0, b1;
                memcpy(&b0, &tiles->t[b][k][4 * n], 2);
                memcpy(&b1, &tiles->t[b][k][4 * n + 2], 2);
                row[n] += cbf16_to_float(a0) * cbf16_to_float(b0);
                row[n] += cbf16_to_float(a1) * cbf16_to_float(b1);
            }
        }
        memcpy(tiles->t[c][m], row, 64);
    }
}

static inline void cbf16_amx_block_emulated(long pairs, const uint16_t *a, long a_stride, const uint16_t *b, float *acc) {
    cbf16_amx_tiles tiles;
    uint8_t config[64];
    cbf16_amx_config(config);   /* what the hardware would load; the emulation's tiles are fixed at 16 x 64 */
#define CBF16_EMU_LOAD(t, p, s) cbf16_emu_load(&tiles, t, p, s)
#define CBF16_EMU_DP(c, a_, b_) cbf16_emu_dpbf16ps(&tiles, c, a_, b_)
#define CBF16_EMU_STORE(t, p, s) cbf16_emu_store(&tiles, t, p, s)
    CBF16_AMX_BLOCK(CBF16_EMU_LOAD, CBF16_EMU_DP, CBF16_EMU_STORE)
#undef CBF16_EMU_LOAD
#undef CBF16_EMU_DP
#undef CBF16_EMU_STORE
}

/* ---- hardware ---- */

#if defined(__x86_64__)
/// Loads the tile configuration on this thread (tile state is per thread); pair with
/// cbf16_amx_release. The process must have been granted AMX (ck_request_amx_permission).
__attribute__((target("amx-tile")))
static inline void cbf16_amx_begin(void) {
    uint8_t config[64] __attribute__((aligned(64)));
    cbf16_amx_config(config);
    _tile_loadconfig(config);
}

__attribute__((target("amx-tile")))
static inline void cbf16_amx_release(void) { _tile_release(); }

__attribute__((target("amx-tile,amx-bf16")))
static inline void cbf16_amx_block(long pairs, const uint16_t *a, long a_stride, const uint16_t *b, float *acc) {
#define CBF16_HW_LOAD(t, p, s) _tile_loadd(t, p, s)
#define CBF16_HW_DP(c, a_, b_) _tile_dpbf16ps(c, a_, b_)
#define CBF16_HW_STORE(t, p, s) _tile_stored(t, p, s)
    CBF16_AMX_BLOCK(CBF16_HW_LOAD, CBF16_HW_DP, CBF16_HW_STORE)
#undef CBF16_HW_LOAD
#undef CBF16_HW_DP
#undef CBF16_HW_STORE
}

/// fp32 -> bf16 (round to nearest even, as cbf16_from_float, NaN kept NaN) for `count` values;
/// AVX-512F, which every AMX CPU has.
__attribute__((target("avx512f")))
static inline void cbf16_convert_avx512(const float *x, uint16_t *out, long count) {
    long i = 0;
    const __m512i rounding = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
    const __m512i absMask = _mm512_set1_epi32(0x7fffffff), infinity = _mm512_set1_epi32(0x7f800000);
    for (; i + 16 <= count; i += 16) {
        __m512i u = _mm512_loadu_si512((const void *)(x + i));
        __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, absMask), infinity);
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
        __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(rounding, lsb)), 16);
        __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
        rounded = _mm512_mask_mov_epi32(rounded, nan, quiet);
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(rounded));
    }
    for (; i < count; i++) out[i] = cbf16_from_float(x[i]);
}
#endif

/// The same conversion, plain C.
static inline void cbf16_convert_scalar(const float *x, uint16_t *out, long count) {
    for (long i = 0; i < count; i++) out[i] = cbf16_from_float(x[i]);
}

#endif
