// Arithmetic peak loops for `poseworker bench`: the machine's measured peak, per instruction
// class, that the engine's GFLOPS are compared with (instead of a figure assumed per CPU model).
//
// Each loop runs `iterations` rounds of independent multiply-adds on 12 accumulators (more than
// any x86 core's FMA latency x throughput, so the FMA pipes, not the dependency chains, bound it)
// and returns the FLOPs it did. The caller times it. Registers only: no memory traffic.
#ifndef POSECLUSTER_PEAK_KERNELS_H
#define POSECLUSTER_PEAK_KERNELS_H

#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)

/* One loop per instruction class: 12 accumulators x_i = STEP(x_i) per round, summed at the end
   into `sink` so the work is observable; returns rounds x 12 x FLOP. */
#define CK_PEAK_LOOP(NAME, TARGET, VEC, SET1, STEP, ADD, STORE, FLOP)                          \
    __attribute__((target(TARGET)))                                                            \
    static inline double NAME(long iterations, float *sink) {                                   \
        CK_PEAK_CONSTANTS                                                                      \
        VEC x0 = SET1(0.0f), x1 = SET1(1.0f), x2 = SET1(2.0f), x3 = SET1(3.0f);                 \
        VEC x4 = SET1(4.0f), x5 = SET1(5.0f), x6 = SET1(6.0f), x7 = SET1(7.0f);                 \
        VEC x8 = SET1(8.0f), x9 = SET1(9.0f), x10 = SET1(10.0f), x11 = SET1(11.0f);             \
        for (long r = 0; r < iterations; r++) {                                                \
            x0 = STEP(x0); x1 = STEP(x1); x2 = STEP(x2); x3 = STEP(x3);                         \
            x4 = STEP(x4); x5 = STEP(x5); x6 = STEP(x6); x7 = STEP(x7);                         \
            x8 = STEP(x8); x9 = STEP(x9); x10 = STEP(x10); x11 = STEP(x11);                     \
        }                                                                                      \
        VEC total = SET1(0.0f);                                                                \
        total = ADD(total, x0); total = ADD(total, x1); total = ADD(total, x2);                 \
        total = ADD(total, x3); total = ADD(total, x4); total = ADD(total, x5);                 \
        total = ADD(total, x6); total = ADD(total, x7); total = ADD(total, x8);                 \
        total = ADD(total, x9); total = ADD(total, x10); total = ADD(total, x11);               \
        STORE(sink, total);                                                                    \
        return (double)iterations * 12 * (FLOP);                                               \
    }

/// 12 x vfmadd231ps ymm per round: 16 FLOP each.
#define CK_PEAK_CONSTANTS const __m256 m = _mm256_set1_ps(0.999999f), s = _mm256_set1_ps(1e-7f);
#define CK_PEAK_STEP(x) _mm256_fmadd_ps(x, m, s)
CK_PEAK_LOOP(ck_peak_fma_avx2, "avx2,fma", __m256, _mm256_set1_ps, CK_PEAK_STEP, _mm256_add_ps, _mm256_storeu_ps, 16)
#undef CK_PEAK_STEP
#undef CK_PEAK_CONSTANTS

/// 12 x vfmadd231ps zmm per round: 32 FLOP each.
#define CK_PEAK_CONSTANTS const __m512 m = _mm512_set1_ps(0.999999f), s = _mm512_set1_ps(1e-7f);
#define CK_PEAK_STEP(x) _mm512_fmadd_ps(x, m, s)
CK_PEAK_LOOP(ck_peak_fma_avx512, "avx512f", __m512, _mm512_set1_ps, CK_PEAK_STEP, _mm512_add_ps, _mm512_storeu_ps, 32)
#undef CK_PEAK_STEP
#undef CK_PEAK_CONSTANTS

/// 12 x vdpbf16ps zmm per round: 32 lanes x 2 products x 2 FLOP = 64 FLOP each (x_i += 1*1 + 1*1).
#define CK_PEAK_CONSTANTS const __m512bh m = (__m512bh)_mm512_set1_epi16((short)0x3f80);   /* bf16 1.0 */
#define CK_PEAK_STEP(x) _mm512_dpbf16_ps(x, m, m)
CK_PEAK_LOOP(ck_peak_dpbf16_avx512, "avx512f,avx512bf16", __m512, _mm512_set1_ps, CK_PEAK_STEP, _mm512_add_ps, _mm512_storeu_ps, 64)
#undef CK_PEAK_STEP
#undef CK_PEAK_CONSTANTS

/// tdpbf16ps on 16 x 64-byte tiles: 4 accumulator tiles (tmm0..3) from 4 operand tiles already
/// loaded, 16 x 16 x 32 x 2 = 16384 FLOP each. The caller holds the tile configuration and
/// the process the AMX permission (cpu_features.h). Operands are zeros: the rate does not
/// depend on the values.
__attribute__((target("amx-tile,amx-bf16")))
static inline double ck_peak_amx_bf16(long iterations, float *sink) {
    uint8_t config[64] __attribute__((aligned(64))) = {0};
    config[0] = 1;
    for (int t = 0; t < 8; t++) { config[16 + 2 * t] = 64; config[48 + t] = 16; }
    _tile_loadconfig(config);
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    _tile_zero(4); _tile_zero(5); _tile_zero(6); _tile_zero(7);
    for (long r = 0; r < iterations; r++) {
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    float out[16 * 16] __attribute__((aligned(64)));
    _tile_stored(0, out, 64);
    _tile_release();
    sink[0] = out[0];
    return (double)iterations * 4 * 16384;
}

#endif
#endif
