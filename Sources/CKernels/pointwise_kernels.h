// softmax, exact GELU and LayerNorm rows in AVX2 for x86-64: the same operations, lane for lane and in the
// same order, as the Swift SIMD16 kernels (PoseTensor/Kernels.swift, MathSIMD.swift), which stay
// as the portable version. Swift lowered MathSIMD.exp on a SIMD16<Float> to a call working on
// four 128-bit halves; these work on 256-bit vectors, inline, two at a time. Compiled once for
// the x86-64-v3 baseline and used by every x86 kernel variant, so fp32 bits do not depend on the
// CPU (tested bitwise against the Swift kernels: PointwiseKernelTests).
//
// Bitwise equal to the Swift code because every step is the same IEEE operation: no fused
// multiply-add where Swift has a separate multiply and add (clang does not contract intrinsics),
// fused exactly where Swift calls addingProduct, the same blends for the clamps, and the same
// sequential lane order (from -0) for the softmax sum that SIMD.sum() uses.
#ifndef POSECLUSTER_POINTWISE_KERNELS_H
#define POSECLUSTER_POINTWISE_KERNELS_H

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

/* Scalar expressions below (the softmax tail) must not become fused multiply-adds either. */
#pragma STDC FP_CONTRACT OFF

/// MathSIMD.exp on 8 lanes: x = n ln2 + r, degree-5 polynomial, scale by 2^n.
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 ck_exp_avx2(__m256 input) {
    const __m256 low = _mm256_set1_ps(-87.33654f), high = _mm256_set1_ps(88.37626f);
    __m256 raised = _mm256_blendv_ps(input, low, _mm256_cmp_ps(input, low, _CMP_LT_OQ));
    __m256 x = _mm256_blendv_ps(raised, high, _mm256_cmp_ps(raised, high, _CMP_GT_OQ));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), _mm256_set1_ps(1.0f));
    __m256i integer = _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(n, _mm256_set1_ps(12582912.0f))), _mm256_set1_epi32(0x4B400000));
    __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(integer, _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(exponent));
}

/// MathSIMD.erf on 8 lanes: x P(x^2) / Q(x^2) on [-4, 4].
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 ck_erf_avx2(__m256 input) {
    const __m256 low = _mm256_set1_ps(-4.0f), high = _mm256_set1_ps(4.0f);
    __m256 raised = _mm256_blendv_ps(input, low, _mm256_cmp_ps(input, low, _CMP_LT_OQ));
    __m256 x = _mm256_blendv_ps(raised, high, _mm256_cmp_ps(raised, high, _CMP_GT_OQ));
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_add_ps(_mm256_mul_ps(x2, _mm256_set1_ps(-2.72614225801306e-10f)), _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), _mm256_set1_ps(-1.60960333262415e-02f));
    p = _mm256_mul_ps(x, p);
    __m256 q = _mm256_add_ps(_mm256_mul_ps(x2, _mm256_set1_ps(-1.45660718464996e-05f)), _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_add_ps(_mm256_mul_ps(x2, q), _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_add_ps(_mm256_mul_ps(x2, q), _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_add_ps(_mm256_mul_ps(x2, q), _mm256_set1_ps(-1.42647390514189e-02f));
    return _mm256_div_ps(p, q);
}

/// MathSIMD.gelu on 8 lanes: (0.5 x) (1 + erf(x / sqrt 2)).
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 ck_gelu_avx2(__m256 x) {
    __m256 e = ck_erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/// Kernels.gelu: in place over rows x cols (row stride ld). Every lane is independent, so the
/// tail (a zero-padded vector) gives the same bits as Swift's zero-padded SIMD16 tail.
__attribute__((target("avx2,fma")))
static inline void ck_gelu_rows_avx2(long rows, long cols, float *x, long ld) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
        long j = 0;
        for (; j + 16 <= cols; j += 16) {
            __m256 a = _mm256_loadu_ps(row + j), b = _mm256_loadu_ps(row + j + 8);
            _mm256_storeu_ps(row + j, ck_gelu_avx2(a));
            _mm256_storeu_ps(row + j + 8, ck_gelu_avx2(b));
        }
        for (; j < cols; j += 8) {
            float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            long count = cols - j < 8 ? cols - j : 8;
            for (long t = 0; t < count; t++) tail[t] = row[j + t];
            _mm256_storeu_ps(tail, ck_gelu_avx2(_mm256_loadu_ps(tail)));
            for (long t = 0; t < count; t++) row[j + t] = tail[t];
        }
    }
}

/// Kernels.softmax: in place, each row of x * scale. The sum keeps Swift's order: 16 lane
/// accumulators over the 16-wide chunks, summed lane 0..15 from -0, then the tail in order.
__attribute__((target("avx2,fma")))
static inline void ck_softmax_rows_avx2(long rows, long cols, float *x, long ld, float scale) {
    const long vectorEnd = cols & ~15L;
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
        __m256 max0 = _mm256_set1_ps(-INFINITY), max1 = max0;
        long j = 0;
        for (; j < vectorEnd; j += 16) {
            __m256 a = _mm256_loadu_ps(row + j), b = _mm256_loadu_ps(row + j + 8);
            max0 = _mm256_blendv_ps(max0, a, _mm256_cmp_ps(max0, a, _CMP_LT_OQ));
            max1 = _mm256_blendv_ps(max1, b, _mm256_cmp_ps(max1, b, _CMP_LT_OQ));
        }
        float lanes[16];
        _mm256_storeu_ps(lanes, max0);
        _mm256_storeu_ps(lanes + 8, max1);
        float maximum = lanes[0];
        for (int i = 1; i < 16; i++) if (lanes[i] > maximum) maximum = lanes[i];
        for (; j < cols; j++) maximum = row[j] >= maximum ? row[j] : maximum;   /* Swift.max(maximum, row[j]): y >= x ? y : x */
        const float shift = maximum * scale;
        const __m256 shiftV = _mm256_set1_ps(shift), scaleV = _mm256_set1_ps(scale);
        __m256 sum0 = _mm256_setzero_ps(), sum1 = sum0;
        j = 0;
        if (scale == 1) {
            for (; j < vectorEnd; j += 16) {
                __m256 e0 = ck_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + j), shiftV));
                __m256 e1 = ck_exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + j + 8), shiftV));
                _mm256_storeu_ps(row + j, e0);
                _mm256_storeu_ps(row + j + 8, e1);
                sum0 = _mm256_add_ps(sum0, e0);
                sum1 = _mm256_add_ps(sum1, e1);
            }
        } else {
            for (; j < vectorEnd; j += 16) {
                __m256 e0 = ck_exp_avx2(_mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(row + j), scaleV), shiftV));
                __m256 e1 = ck_exp_avx2(_mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(row + j + 8), scaleV), shiftV));
                _mm256_storeu_ps(row + j, e0);
                _mm256_storeu_ps(row + j + 8, e1);
                sum0 = _mm256_add_ps(sum0, e0);
                sum1 = _mm256_add_ps(sum1, e1);
            }
        }
        _mm256_storeu_ps(lanes, sum0);
        _mm256_storeu_ps(lanes + 8, sum1);
        float sum = -0.0f;
        for (int i = 0; i < 16; i++) sum += lanes[i];
        if (j < cols) {
            float tail[16];
            for (int t = 0; t < 16; t++) tail[t] = -INFINITY;
            for (long t = 0; t < cols - j; t++) tail[t] = row[j + t] * scale - shift;
            _mm256_storeu_ps(tail, ck_exp_avx2(_mm256_loadu_ps(tail)));
            _mm256_storeu_ps(tail + 8, ck_exp_avx2(_mm256_loadu_ps(tail + 8)));
            for (long t = 0; t < cols - j; t++) { row[j + t] = tail[t]; sum += tail[t]; }
        }
        const float inverse = 1 / sum;
        const __m256 inverseV = _mm256_set1_ps(inverse);
        j = 0;
        for (; j < vectorEnd; j += 16) {
            _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inverseV));
            _mm256_storeu_ps(row + j + 8, _mm256_mul_ps(_mm256_loadu_ps(row + j + 8), inverseV));
        }
        for (; j < cols; j++) row[j] *= inverse;
    }
}

/// Sum of 16 lanes (two vectors: lanes 0-7, 8-15) in lane order from -0, as SIMD.sum() does.
__attribute__((target("avx2,fma"), always_inline))
static inline float ck_sum16_avx2(__m256 low, __m256 high) {
    float lanes[16];
    _mm256_storeu_ps(lanes, low);
    _mm256_storeu_ps(lanes + 8, high);
    float sum = -0.0f;
    for (int i = 0; i < 16; i++) sum += lanes[i];
    return sum;
}

/// Kernels.layerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias over each row, with
/// Swift's order: 16 lane sums over the 16-wide chunks, the lanes in order, then the tail; the
/// squares as fused multiply-adds per lane (addingProduct), the tail's unfused.
__attribute__((target("avx2,fma")))
static inline void ck_layer_norm_rows_avx2(long rows, long cols, const float *x, long ldx, const float *weight, const float *bias,
                                           float *y, long ldy, float eps) {
    const long vectorEnd = cols & ~15L;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        long j = 0;
        for (; j < vectorEnd; j += 16) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + j));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + j + 8));
        }
        float sum = ck_sum16_avx2(s0, s1);
        for (; j < cols; j++) sum += xr[j];
        const float mean = sum / (float)cols;
        const __m256 meanV = _mm256_set1_ps(mean);
        __m256 q0 = _mm256_setzero_ps(), q1 = q0;
        for (j = 0; j < vectorEnd; j += 16) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + j), meanV), d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + j + 8), meanV);
            q0 = _mm256_fmadd_ps(d0, d0, q0);
            q1 = _mm256_fmadd_ps(d1, d1, q1);
        }
        float squares = ck_sum16_avx2(q0, q1);
        for (; j < cols; j++) { float d = xr[j] - mean; squares += d * d; }
        const float inverse = 1 / sqrtf(squares / (float)cols + eps);
        const __m256 inverseV = _mm256_set1_ps(inverse);
        for (j = 0; j < vectorEnd; j += 8) {
            __m256 value = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), meanV), inverseV);
            _mm256_storeu_ps(yr + j, _mm256_add_ps(_mm256_mul_ps(value, _mm256_loadu_ps(weight + j)), _mm256_loadu_ps(bias + j)));
        }
        for (; j < cols; j++) yr[j] = (xr[j] - mean) * inverse * weight[j] + bias[j];
    }
}

#endif
#endif
