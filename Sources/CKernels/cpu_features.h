// What the running CPU and OS can execute, for PoseTensor's kernel dispatch (KernelISA.swift).
// Header-only: every function is static inline and compiles with the importer's flags (the
// portable x86-64-v3 baseline); nothing here executes an instruction the baseline lacks.
//
// A feature counts only when both the CPU reports it (cpuid) and the OS saves its registers on a
// context switch (XCR0, read with xgetbv); AMX's tile data additionally needs Linux's permission,
// asked once with arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA).
#ifndef POSECLUSTER_CPU_FEATURES_H
#define POSECLUSTER_CPU_FEATURES_H

#include <stdint.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <unistd.h>
#include <sys/syscall.h>
#endif

/// One bit per capability the engine has a kernel for.
enum {
    CK_AVX2_FMA = 1,      /* AVX, AVX2, FMA, F16C + OS saves ymm */
    CK_AVX512 = 2,        /* AVX512 F, BW, DQ, VL + OS saves zmm and opmask */
    CK_AVX512_BF16 = 4,   /* vdpbf16ps */
    CK_AMX_BF16 = 8       /* AMX-TILE + AMX-BF16 + OS saves tiles + Linux permission granted */
};

#if defined(__x86_64__)
static inline uint64_t ck_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/// Asks Linux for the AMX tile-data state (needed once per process before any tile instruction);
/// 1 when granted. ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18.
static inline int ck_request_amx_permission(void) {
#if defined(__x86_64__) && defined(SYS_arch_prctl)
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0 ? 1 : 0;
#else
    return 0;
#endif
}

/// The CK_* bits this CPU and OS support. Asks for the AMX permission when the CPU has AMX.
static inline int ck_cpu_features(void) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    int features = 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid(1, a, b, c, d);
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    uint64_t xcr0 = ck_xgetbv0();
    __cpuid_count(7, 0, a, b, c, d);
    unsigned leaf7b = b, leaf7d = d;
    int avx2 = (leaf7b >> 5) & 1;
    if (avx && avx2 && fma && f16c && (xcr0 & 0x6) == 0x6) features |= CK_AVX2_FMA;
    int avx512 = ((leaf7b >> 16) & 1) && ((leaf7b >> 17) & 1) && ((leaf7b >> 30) & 1) && ((leaf7b >> 31) & 1);
    if ((features & CK_AVX2_FMA) && avx512 && (xcr0 & 0xe6) == 0xe6) features |= CK_AVX512;
    __cpuid_count(7, 1, a, b, c, d);
    if ((features & CK_AVX512) && ((a >> 5) & 1)) features |= CK_AVX512_BF16;
    int amx = ((leaf7d >> 24) & 1) && ((leaf7d >> 22) & 1);
    if ((features & CK_AVX512) && amx && (xcr0 & 0x60000) == 0x60000 && ck_request_amx_permission()) features |= CK_AMX_BF16;
    return features;
#else
    return 0;
#endif
}

/// Data cache size in bytes at `level` (1 or 2) from cpuid (AMD leaf 0x8000001D, Intel leaf 4);
/// 0 when the CPU does not say. Used to size GEMM blocks.
static inline long ck_data_cache_bytes(int level) {
#if defined(__x86_64__)
    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    int amd = b == 0x68747541u;  /* "Auth" */
    unsigned leaf = amd ? 0x8000001Du : 4u;
    if (amd) {
        __cpuid(0x80000000u, a, b, c, d);
        if (a < 0x8000001Du) return 0;
    } else if (__get_cpuid_max(0, 0) < 4) {
        return 0;
    }
    for (unsigned i = 0; i < 16; i++) {
        __cpuid_count(leaf, i, a, b, c, d);
        unsigned type = a & 0x1f;
        if (type == 0) break;
        if ((type == 1 || type == 3) && (int)((a >> 5) & 7) == level) {
            long ways = ((b >> 22) & 0x3ff) + 1, partitions = ((b >> 12) & 0x3ff) + 1, line = (b & 0xfff) + 1;
            return ways * partitions * line * ((long)c + 1);
        }
    }
#endif
    (void)level;
    return 0;
}

#endif
