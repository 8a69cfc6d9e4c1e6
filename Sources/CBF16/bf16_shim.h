// Header-only bf16 shim for PoseTensor's opt-in bf16 GEMM: the vdpbf16ps micro-kernel, the
// round-to-nearest-even fp32 -> bf16 conversion and a cpuid check for AVX512_BF16.
// Static inline, so it compiles with the importing Swift target's clang flags (-march=native in
// release, Package.swift). Without __AVX512BF16__ (debug builds, other CPUs) a scalar twin computes
// the same products (bf16 x bf16 is exact in fp32) with a different summation order.
#ifndef POSECLUSTER_BF16_SHIM_H
#define POSECLUSTER_BF16_SHIM_H

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#endif

/// 1 when the instructions were compiled in (the build targets a CPU with AVX512_BF16).
static inline int cbf16_compiled_with_avx512bf16(void) {
#if defined(__AVX512BF16__) && defined(__AVX512F__)
    return 1;
#else
    return 0;
#endif
}

/// 1 when the running CPU reports AVX512_BF16 (CPUID leaf 7 subleaf 1, EAX bit 5) and AVX512F.
static inline int cbf16_cpu_has_avx512bf16(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (!(b & (1u << 16))) return 0;            /* AVX512F */
    __cpuid_count(7, 1, a, b, c, d);
    return (a & (1u << 5)) ? 1 : 0;
#else
    return 0;
#endif
}

/// fp32 -> bf16, round to nearest even (what vcvtne2ps2bf16 does); NaN stays NaN.
static inline uint16_t cbf16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float cbf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/// Converts 8 rows x 2*pairs columns of fp32 (row stride lda) into the A panel layout
/// [pair][row 0..7][2] bf16; columns at or past `depth` and rows at or past `height` are zero.
static inline void cbf16_pack_rows(const float *a, long lda, int height, int depth, int pairs, uint16_t *out) {
    int p0 = 0;
#if defined(__AVX512BF16__) && defined(__AVX512F__)
    /* Full panels, 16 pairs at a time: vcvtne2ps2bf16 turns 32 floats of a row into 16 pairs,
       which are then spread to their [pair][row] slots. Same rounding as cbf16_from_float
       except that the instruction flushes denormal inputs to zero. */
    if (height == 8) {
        uint32_t *out32 = (uint32_t *)out;
        for (; p0 + 16 <= pairs && 2 * (p0 + 16) <= depth; p0 += 16) {
            for (int i = 0; i < 8; i++) {
                const float *r = a + i * lda + 2 * p0;
                __m512i row = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(r + 16), _mm512_loadu_ps(r));
                uint32_t tmp[16];
                _mm512_storeu_si512((void *)tmp, row);
                for (int p = 0; p < 16; p++) out32[(p0 + p) * 8 + i] = tmp[p];
            }
        }
    }
#endif
    for (int p = p0; p < pairs; p++) {
        int k = 2 * p;
        uint16_t *d = out + p * 16;
        for (int i = 0; i < 8; i++) {
            if (i < height) {
                const float *r = a + i * lda;
                d[2 * i] = cbf16_from_float(r[k]);
                d[2 * i + 1] = k + 1 < depth ? cbf16_from_float(r[k + 1]) : 0;
            } else {
                d[2 * i] = 0;
                d[2 * i + 1] = 0;
            }
        }
    }
}

/// c[8][32] = start (+ c when load_c) + sum over pairs of a-pair (broadcast) . b-pair.
/// a: [pairs][8][2] bf16, b: [pairs][32][2] bf16 (column j's pair at 2j), fp32 accumulation.
static inline void cbf16_micro_kernel(int pairs, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                                      int load_c, const float *start) {
#if defined(__AVX512BF16__) && defined(__AVX512F__)
    __m512 s0 = _mm512_loadu_ps(start), s1 = _mm512_loadu_ps(start + 16);
    __m512 x[8][2];
    for (int i = 0; i < 8; i++) {
        x[i][0] = s0;
        x[i][1] = s1;
        if (load_c) {
            x[i][0] = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc), s0);
            x[i][1] = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc + 16), s1);
        }
    }
    const uint32_t *pa = (const uint32_t *)a;
    for (int p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 64));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 64 + 32));
        for (int i = 0; i < 8; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32((int)pa[p * 8 + i]);
            x[i][0] = _mm512_dpbf16_ps(x[i][0], ai, b0);
            x[i][1] = _mm512_dpbf16_ps(x[i][1], ai, b1);
        }
    }
    for (int i = 0; i < 8; i++) {
        _mm512_storeu_ps(c + i * ldc, x[i][0]);
        _mm512_storeu_ps(c + i * ldc + 16, x[i][1]);
    }
#else
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 32; j++) {
            float acc = load_c ? c[i * ldc + j] + start[j] : start[j];
            for (int p = 0; p < pairs; p++) {
                float a0 = cbf16_to_float(a[p * 16 + 2 * i]), a1 = cbf16_to_float(a[p * 16 + 2 * i + 1]);
                float b0 = cbf16_to_float(b[p * 64 + 2 * j]), b1 = cbf16_to_float(b[p * 64 + 2 * j + 1]);
                acc += a0 * b0 + a1 * b1;
            }
            c[i * ldc + j] = acc;
        }
    }
#endif
}

#endif
