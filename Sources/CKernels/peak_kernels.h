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

#define CK_PEAK_ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

#if defined(__x86_64__)

/// 12 x vfmadd231ps ymm per round: 16 FLOP each.
__attribute__((target("avx2,fma")))
static inline double ck_peak_fma_avx2(long iterations, float *sink) {
    const __m256 m = _mm256_set1_ps(0.999999f), s = _mm256_set1_ps(1e-7f);
#define CK_PEAK_DECLARE(i) __m256 x##i = _mm256_set1_ps((float)i);
    CK_PEAK_ACC12(CK_PEAK_DECLARE)
#undef CK_PEAK_DECLARE
    for (long r = 0; r < iterations; r++) {
#define CK_PEAK_STEP(i) x##i = _mm256_fmadd_ps(x##i, m, s);
        CK_PEAK_ACC12(CK_PEAK_STEP)
#undef CK_PEAK_STEP
    }
    __m256 total = _mm256_setzero_ps();
#define CK_PEAK_SUM(i) total = _mm256_add_ps(total, x##i);
    CK_PEAK_ACC12(CK_PEAK_SUM)
#undef CK_PEAK_SUM
    _mm256_storeu_ps(sink, total);
    return (double)iterations * 12 * 16;
}

/// 12 x vfmadd231ps zmm per round: 32 FLOP each.
__attribute__((target("avx512f")))
static inline double ck_peak_fma_avx512(long iterations, float *sink) {
    const __m512 m = _mm512_set1_ps(0.999999f), s = _mm512_set1_ps(1e-7f);
#define CK_PEAK_DECLARE(i) __m512 x##i = _mm512_set1_ps((float)i);
    CK_PEAK_ACC12(CK_PEAK_DECLARE)
#undef CK_PEAK_DECLARE
    for (long r = 0; r < iterations; r++) {
#define CK_PEAK_STEP(i) x##i = _mm512_fmadd_ps(x##i, m, s);
        CK_PEAK_ACC12(CK_PEAK_STEP)
#undef CK_PEAK_STEP
    }
    __m512 total = _mm512_setzero_ps();
#define CK_PEAK_SUM(i) total = _mm512_add_ps(total, x##i);
    CK_PEAK_ACC12(CK_PEAK_SUM)
#undef CK_PEAK_SUM
    _mm512_storeu_ps(sink, total);
    return (double)iterations * 12 * 32;
}

/// 12 x vdpbf16ps zmm per round: 32 lanes x 2 products x 2 FLOP = 64 FLOP each.
__attribute__((target("avx512f,avx512bf16")))
static inline double ck_peak_dpbf16_avx512(long iterations, float *sink) {
    const __m512bh m = (__m512bh)_mm512_set1_epi16((short)0x3f80);   /* bf16 1.0 */
#define CK_PEAK_DECLARE(i) __m512 x##i = _mm512_set1_ps((float)i);
    CK_PEAK_ACC12(CK_PEAK_DECLARE)
#undef CK_PEAK_DECLARE
    for (long r = 0; r < iterations; r++) {
#define CK_PEAK_STEP(i) x##i = _mm512_dpbf16_ps(x##i, m, m);
        CK_PEAK_ACC12(CK_PEAK_STEP)
#undef CK_PEAK_STEP
    }
    __m512 total = _mm512_setzero_ps();
#define CK_PEAK_SUM(i) total = _mm512_add_ps(total, x##i);
    CK_PEAK_ACC12(CK_PEAK_SUM)
#undef CK_PEAK_SUM
    _mm512_storeu_ps(sink, total);
    return (double)iterations * 12 * 64;
}

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
