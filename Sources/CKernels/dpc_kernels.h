// The per-row loops of DPC-kNN's lower-triangle scores (FTPPose/DensityPeaks.swift) in AVX2 C for
// x86-64: distances from the Gram row, the k nearest distances of every token, and the distance
// to the nearest denser token. Swift lowered these SIMD16 loops to 128-bit halves. Bit for bit
// the Swift loops (which stay for other architectures; a test compares both with the
// full-matrix twin): the distance is the same IEEE operations in the same order, and the rest
// only selects and compares (the k smallest values and the minima are the same sets whatever the
// visiting order).
#ifndef POSECLUSTER_DPC_KERNELS_H
#define POSECLUSTER_DPC_KERNELS_H

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#pragma STDC FP_CONTRACT OFF

/// Inserts `value` into token j's ascending list of its k smallest distances (heap + j*k),
/// keeping worst[j] = the list's last entry.
static inline void ck_dpc_insert(float value, long j, long k, float *heap, float *worst) {
    float *base = heap + j * k;
    if (!(value < base[k - 1])) return;
    long slot = k - 1;
    while (slot > 0 && base[slot - 1] > value) { base[slot] = base[slot - 1]; slot--; }
    base[slot] = value;
    worst[j] = base[k - 1];
}

/// Rows 0..<n of the lower triangle: on entry dist[i*n + j] (j <= i) holds the Gram value
/// x_i.x_j; on exit the distance sqrt(max(sq_i + sq_j - 2 g, 0)) / inverse_scale, and every pair
/// has fed the k-nearest lists of both tokens (heap: n*k floats, +inf = empty; worst: n floats).
/// Returns the largest distance.
__attribute__((target("avx2,fma")))
static inline float ck_dpc_knn_rows_avx2(long n, long k, const float *sq, float *dist, float inverse_scale,
                                         float *heap, float *worst) {
    const __m256 zero = _mm256_setzero_ps(), two = _mm256_set1_ps(2.0f), scaleV = _mm256_set1_ps(inverse_scale);
    __m256 largestV = zero;
    float largest = 0;
    for (long i = 0; i < n; i++) {
        float *row = dist + i * n;
        const long count = i + 1;
        const __m256 own = _mm256_set1_ps(sq[i]);
        long j = 0;
        for (; j + 8 <= count; j += 8) {
            /* Swift: max(own + sq[j] - 2 * row[j], 0).squareRoot() / inverseScale, max(x, y) = y >= x ? y : x */
            __m256 v = _mm256_sub_ps(_mm256_add_ps(own, _mm256_loadu_ps(sq + j)), _mm256_mul_ps(two, _mm256_loadu_ps(row + j)));
            v = _mm256_blendv_ps(v, zero, _mm256_cmp_ps(zero, v, _CMP_GE_OQ));
            _mm256_storeu_ps(row + j, _mm256_div_ps(_mm256_sqrt_ps(v), scaleV));
        }
        for (; j < count; j++) {
            float v = sq[i] + sq[j] - 2 * row[j];
            v = 0 >= v ? 0 : v;
            row[j] = sqrtf(v) / inverse_scale;
        }
        /* The k-nearest lists: chunks of 8 where no entry can enter list i or any list j are skipped. */
        j = 0;
        for (; j + 8 <= count; j += 8) {
            __m256 values = _mm256_loadu_ps(row + j);
            largestV = _mm256_max_ps(largestV, values);
            __m256 forRow = _mm256_cmp_ps(values, _mm256_set1_ps(worst[i]), _CMP_LT_OQ);
            __m256 forColumns = _mm256_cmp_ps(values, _mm256_loadu_ps(worst + j), _CMP_LT_OQ);
            int mask = _mm256_movemask_ps(_mm256_or_ps(forRow, forColumns));
            while (mask) {
                int lane = __builtin_ctz(mask);
                mask &= mask - 1;
                float value = row[j + lane];
                ck_dpc_insert(value, i, k, heap, worst);
                if (j + lane != i) ck_dpc_insert(value, j + lane, k, heap, worst);
            }
        }
        for (; j < count; j++) {
            float value = row[j];
            largest = value > largest ? value : largest;
            ck_dpc_insert(value, i, k, heap, worst);
            if (j != i) ck_dpc_insert(value, j, k, heap, worst);
        }
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, largestV);
    for (int t = 0; t < 8; t++) largest = lanes[t] > largest ? lanes[t] : largest;
    return largest;
}

/// delta: for every pair j < i, j is denser than i exactly when rho_j >= rho_i (the index
/// tie-break favours j); the denser one's distance is a candidate for the other's delta.
/// delta holds n floats, +inf on entry; tokens with no denser one keep +inf.
__attribute__((target("avx2,fma")))
static inline void ck_dpc_delta_rows_avx2(long n, const float *dist, const float *rho, float *delta) {
    const __m256 infinity = _mm256_set1_ps(INFINITY);
    for (long i = 1; i < n; i++) {
        const float *row = dist + i * n;
        const __m256 ownV = _mm256_set1_ps(rho[i]);
        __m256 bestV = infinity;
        long j = 0;
        for (; j + 8 <= i; j += 8) {
            __m256 values = _mm256_loadu_ps(row + j);
            __m256 jDenser = _mm256_cmp_ps(_mm256_loadu_ps(rho + j), ownV, _CMP_GE_OQ);
            bestV = _mm256_min_ps(bestV, _mm256_blendv_ps(infinity, values, jDenser));
            __m256 current = _mm256_loadu_ps(delta + j);
            __m256 replace = _mm256_andnot_ps(jDenser, _mm256_cmp_ps(values, current, _CMP_LT_OQ));
            _mm256_storeu_ps(delta + j, _mm256_blendv_ps(current, values, replace));
        }
        float best = delta[i];
        float lanes[8];
        _mm256_storeu_ps(lanes, bestV);
        for (int t = 0; t < 8; t++) best = lanes[t] < best ? lanes[t] : best;
        for (; j < i; j++) {
            float value = row[j];
            if (rho[j] >= rho[i]) best = value < best ? value : best;
            else delta[j] = value < delta[j] ? value : delta[j];
        }
        delta[i] = best;
    }
}

#endif
#endif
