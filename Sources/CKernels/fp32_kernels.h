// fp32 GEMM micro-kernels per instruction set, peers of the portable Swift kernel
// (GEMM.swift, `GEMM.portableMicroKernel`); KernelISA.swift chooses one at run time.
//
// Each function carries its own target attribute, so the package builds for the portable
// x86-64-v3 baseline and the AVX-512 code runs only where the CPU has it.
//
// Every kernel computes the same 8 x 32 tile of C from an 8-row A panel ([k][8]) and a 32-column
// B panel ([k][32]) with the same arithmetic per element: start from `init`, then one fused
// multiply-add per k in order. Only the register blocking differs, so every variant gives the
// same bits (tested: KernelISATests).
#ifndef POSECLUSTER_FP32_KERNELS_H
#define POSECLUSTER_FP32_KERNELS_H

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// Where the accumulators start: the 32 `start` values (the bias, first K block), C + start
/// (first K block of a residual update), or C (later K blocks: the FMA chain just continues).
enum { CK_INIT_START = 0, CK_INIT_C_PLUS_START = 1, CK_INIT_C = 2 };

#if defined(__x86_64__)

/* The register blocking is spelled out (one named variable per accumulator): clang's codegen of
   header functions imported into Swift does not unroll loops over accumulator arrays, which then
   live on the stack. */
#define CK_ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CK_ROWS4(X) X(0) X(1) X(2) X(3)

/// 8 x 32 with 16 zmm accumulators: per k two weight loads, eight broadcasts, 16 FMAs.
__attribute__((target("avx512f")))
static inline void ck_fp32_kernel_avx512(long depth, const float *a, const float *b, float *c, long ldc, int init,
                                         const float *start) {
    __m512 s0 = _mm512_loadu_ps(start), s1 = _mm512_loadu_ps(start + 16);
#define CK_DECLARE(i) __m512 x##i##0 = s0, x##i##1 = s1;
    CK_ROWS8(CK_DECLARE)
#undef CK_DECLARE
    if (init == CK_INIT_C_PLUS_START) {
#define CK_LOAD(i) x##i##0 = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc), s0); x##i##1 = _mm512_add_ps(_mm512_loadu_ps(c + i * ldc + 16), s1);
        CK_ROWS8(CK_LOAD)
#undef CK_LOAD
    } else if (init == CK_INIT_C) {
#define CK_LOAD(i) x##i##0 = _mm512_loadu_ps(c + i * ldc); x##i##1 = _mm512_loadu_ps(c + i * ldc + 16);
        CK_ROWS8(CK_LOAD)
#undef CK_LOAD
    }
    for (long k = 0; k < depth; k++) {
        __m512 b0 = _mm512_loadu_ps(b + 32 * k), b1 = _mm512_loadu_ps(b + 32 * k + 16);
#define CK_STEP(i) { __m512 s = _mm512_set1_ps(a[8 * k + i]); x##i##0 = _mm512_fmadd_ps(s, b0, x##i##0); x##i##1 = _mm512_fmadd_ps(s, b1, x##i##1); }
        CK_ROWS8(CK_STEP)
#undef CK_STEP
    }
#define CK_STORE(i) _mm512_storeu_ps(c + i * ldc, x##i##0); _mm512_storeu_ps(c + i * ldc + 16, x##i##1);
    CK_ROWS8(CK_STORE)
#undef CK_STORE
}

/// 4 rows x 16 columns of the tile with 8 ymm accumulators (AVX2 has 16 registers: a full
/// 8 x 32 tile would spill): per k two weight loads, four broadcasts, 8 FMAs.
__attribute__((target("avx2,fma")))
static inline void ck_fp32_quarter_avx2(long depth, const float *a, const float *b, float *c, long ldc, int init,
                                        const float *start) {
    __m256 s0 = _mm256_loadu_ps(start), s1 = _mm256_loadu_ps(start + 8);
#define CK_DECLARE(i) __m256 x##i##0 = s0, x##i##1 = s1;
    CK_ROWS4(CK_DECLARE)
#undef CK_DECLARE
    if (init == CK_INIT_C_PLUS_START) {
#define CK_LOAD(i) x##i##0 = _mm256_add_ps(_mm256_loadu_ps(c + i * ldc), s0); x##i##1 = _mm256_add_ps(_mm256_loadu_ps(c + i * ldc + 8), s1);
        CK_ROWS4(CK_LOAD)
#undef CK_LOAD
    } else if (init == CK_INIT_C) {
#define CK_LOAD(i) x##i##0 = _mm256_loadu_ps(c + i * ldc); x##i##1 = _mm256_loadu_ps(c + i * ldc + 8);
        CK_ROWS4(CK_LOAD)
#undef CK_LOAD
    }
    for (long k = 0; k < depth; k++) {
        __m256 b0 = _mm256_loadu_ps(b + 32 * k), b1 = _mm256_loadu_ps(b + 32 * k + 8);
#define CK_STEP(i) { __m256 s = _mm256_broadcast_ss(a + 8 * k + i); x##i##0 = _mm256_fmadd_ps(s, b0, x##i##0); x##i##1 = _mm256_fmadd_ps(s, b1, x##i##1); }
        CK_ROWS4(CK_STEP)
#undef CK_STEP
    }
#define CK_STORE(i) _mm256_storeu_ps(c + i * ldc, x##i##0); _mm256_storeu_ps(c + i * ldc + 8, x##i##1);
    CK_ROWS4(CK_STORE)
#undef CK_STORE
}

/// The 8 x 32 tile as four 4 x 16 quarters.
__attribute__((target("avx2,fma")))
static inline void ck_fp32_kernel_avx2(long depth, const float *a, const float *b, float *c, long ldc, int init,
                                       const float *start) {
    ck_fp32_quarter_avx2(depth, a, b, c, ldc, init, start);
    ck_fp32_quarter_avx2(depth, a, b + 16, c + 16, ldc, init, start + 16);
    ck_fp32_quarter_avx2(depth, a + 4, b, c + 4 * ldc, ldc, init, start);
    ck_fp32_quarter_avx2(depth, a + 4, b + 16, c + 4 * ldc + 16, ldc, init, start + 16);
}

#endif

/// 1 when this build contains the x86 kernels above.
static inline int ck_fp32_kernels_compiled(void) {
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}

#endif
