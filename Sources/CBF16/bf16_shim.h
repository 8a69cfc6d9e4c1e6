// Header-only bf16 shim for PoseTensor's bf16 GEMM: the vdpbf16ps micro-kernel, the
// round-to-nearest-even fp32 -> bf16 conversion, and their scalar twins (bf16 kernel class
// "scalar": the same products, bf16 x bf16 being exact in fp32, summed pair by pair).
// The vector functions carry target attributes, so the package builds for the portable baseline
// and PoseTensor's KernelISA calls them only where the CPU has AVX512_BF16. AMX: amx_kernels.h.
#ifndef POSECLUSTER_BF16_SHIM_H
#define POSECLUSTER_BF16_SHIM_H

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif


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
/// Pairs from `p0` on (the vector version converts the ones before).
static inline void cbf16_pack_rows_from(const float *a, long lda, int height, int depth, int pairs, uint16_t *out, int p0) {
    for (int p = p0; p < pairs; p++) {
        int k = 2 * p;
        uint16_t *d = out + p * 16;
        for (int i = 0; i < 8; i++) {
            if (i < height) {
                const float *r = a + i * lda;
                d[2 * i] = k < depth ? cbf16_from_float(r[k]) : 0;
                d[2 * i + 1] = k + 1 < depth ? cbf16_from_float(r[k + 1]) : 0;
            } else {
                d[2 * i] = 0;
                d[2 * i + 1] = 0;
            }
        }
    }
}

static inline void cbf16_pack_rows_scalar(const float *a, long lda, int height, int depth, int pairs, uint16_t *out) {
    cbf16_pack_rows_from(a, lda, height, depth, pairs, out, 0);
}

#if defined(__x86_64__)
/// Full panels 16 pairs at a time: vcvtne2ps2bf16 turns 32 floats of a row into 16 pairs, which
/// are then spread to their [pair][row] slots. Same rounding as cbf16_from_float except that the
/// instruction flushes denormal inputs to zero.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static inline void cbf16_pack_rows_avx512bf16(const float *a, long lda, int height, int depth, int pairs, uint16_t *out) {
    int p0 = 0;
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
    cbf16_pack_rows_from(a, lda, height, depth, pairs, out, p0);
}
#endif

/// c[8][32] = start (+ c when load_c) + sum over pairs of a-pair (broadcast) . b-pair.
/// a: [pairs][8][2] bf16, b: [pairs][32][2] bf16 (column j's pair at 2j), fp32 accumulation.
static inline void cbf16_micro_kernel_scalar(int pairs, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                                             int load_c, const float *start) {
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
}

#if defined(__x86_64__)
/// The same with vdpbf16ps: 16 zmm accumulators, per pair two weight loads, eight broadcasts.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static inline void cbf16_micro_kernel_avx512bf16(int pairs, const uint16_t *a, const uint16_t *b, float *c, long ldc,
                                                 int load_c, const float *start) {
    __m512 s0 = _mm512_loadu_ps(start), s1 = _mm512_loadu_ps(start + 16);
    /* One named variable per accumulator: loops over an array of them stay on the stack here. */
#define CBF16_ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CBF16_DECLARE(i) __m512 x##i##0 = s0, x##i##1 = s1;
    CBF16_ROWS8(CBF16_DECLARE)
    if (load_c) {
#define CBF16_LOAD(i) x##i##0 = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc), s0); x##i##1 = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc + 16), s1);
        CBF16_ROWS8(CBF16_LOAD)
    }
    const uint32_t *pa = (const uint32_t *)a;
    for (int p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 64));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + p * 64 + 32));
#define CBF16_STEP(i) { __m512bh ai = (__m512bh)_mm512_set1_epi32((int)pa[p * 8 + i]); x##i##0 = _mm512_dpbf16_ps(x##i##0, ai, b0); x##i##1 = _mm512_dpbf16_ps(x##i##1, ai, b1); }
        CBF16_ROWS8(CBF16_STEP)
    }
#define CBF16_STORE(i) _mm512_storeu_ps(c + i * ldc, x##i##0); _mm512_storeu_ps(c + i * ldc + 16, x##i##1);
    CBF16_ROWS8(CBF16_STORE)
#undef CBF16_DECLARE
#undef CBF16_LOAD
#undef CBF16_STEP
#undef CBF16_STORE
#undef CBF16_ROWS8
}
#endif

#endif
