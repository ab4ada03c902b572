/* The blend's best songs in one pass (PolicyEngine's blend mode, through BlendRanking): a song's
   total is Σ over the terms, in order, of v·a + b for a dense term's finite score v (f when it
   is not finite), or of a constant c for a sparse term outside its songs. The pass keeps a
   bounded heap of the best totals (descending, ties to the lower index) of the songs not marked
   in a skip bitmap. The multiply and the add round separately (no fused multiply-add), as
   Swift's `v * a + b` does, so the totals have the bits of PolicyEngine's full blend.
   O(n · terms + n · log depth) at worst; nearly every song is rejected by one comparison. */
#include "encore_kernels.h"
#include "internal.h"

#include <math.h>
#include <stdint.h>

#pragma clang fp contract(off)

static inline int skipped(const uint64_t *skip, size_t i) { return skip && ((skip[i >> 6] >> (i & 63)) & 1); }

/* Songs come in index order, so one no better than the worst kept is out (a tie goes to the lower index, kept first). */
static inline void consider(encore_heap *h, const uint64_t *skip, size_t i, float total, float *worst) {
    if (!(total > *worst) || skipped(skip, i)) return;
    encore_heap_insert(h, (int64_t)i, total);
    if (h->count == h->capacity) *worst = h->value[0];
}

static inline float song_total(const encore_blend_term *terms, size_t m, int constant_ranked, size_t i) {
    float t = 0.0f;
    int ranked = constant_ranked;
    for (size_t k = 0; k < m; k++) {
        if (terms[k].scores) {
            float v = terms[k].scores[i];
            if (isfinite(v)) { float p = v * terms[k].a; t += p + terms[k].b; ranked = 1; }
            else t += terms[k].f;
        } else {
            t += terms[k].c;
        }
    }
    return ranked ? t : -INFINITY;
}

static void top_portable(size_t from, size_t n, const encore_blend_term *terms, size_t m, int constant_ranked,
                         const uint64_t *skip, encore_heap *h, float *worst) {
    for (size_t i = from; i < n; i++) consider(h, skip, i, song_total(terms, m, constant_ranked, i), worst);
}

#ifdef ENCORE_X86
#define MAX_VECTOR_TERMS 16
__attribute__((target("avx512f")))
static size_t top_avx512(size_t n, const encore_blend_term *terms, size_t m, int constant_ranked,
                         const uint64_t *skip, encore_heap *h, float *worst) {
    __m512 a[MAX_VECTOR_TERMS], b[MAX_VECTOR_TERMS], f[MAX_VECTOR_TERMS], c[MAX_VECTOR_TERMS];
    for (size_t k = 0; k < m; k++) {
        a[k] = _mm512_set1_ps(terms[k].a); b[k] = _mm512_set1_ps(terms[k].b);
        f[k] = _mm512_set1_ps(terms[k].f); c[k] = _mm512_set1_ps(terms[k].c);
    }
    const __m512 inf = _mm512_set1_ps(INFINITY), none = _mm512_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 t = _mm512_setzero_ps();
        __mmask16 ranked = constant_ranked ? 0xFFFF : 0;
        for (size_t k = 0; k < m; k++) {
            if (terms[k].scores) {
                __m512 v = _mm512_loadu_ps(terms[k].scores + i);
                __mmask16 finite = _mm512_cmp_ps_mask(_mm512_abs_ps(v), inf, _CMP_LT_OQ);
                __m512 p = _mm512_mul_ps(v, a[k]);
                t = _mm512_add_ps(t, _mm512_mask_blend_ps(finite, f[k], _mm512_add_ps(p, b[k])));
                ranked |= finite;
            } else {
                t = _mm512_add_ps(t, c[k]);
            }
        }
        t = _mm512_mask_blend_ps(ranked, none, t);
        __mmask16 over = _mm512_cmp_ps_mask(t, _mm512_set1_ps(*worst), _CMP_GT_OQ);
        if (over) {
            float lanes[16];
            _mm512_storeu_ps(lanes, t);
            for (size_t l = 0; l < 16; l++) if ((over >> l) & 1) consider(h, skip, i + l, lanes[l], worst);
        }
    }
    return i;
}
#endif

size_t encore_blend_top(size_t n, const encore_blend_term *terms, size_t m, int constant_ranked,
                        const uint64_t *skip, size_t depth, int64_t *indices, float *totals) {
    encore_heap h = {indices, totals, 0, depth};
    if (depth == 0 || m == 0) return 0;
    float worst = -INFINITY;
    size_t from = 0;
#ifdef ENCORE_X86
    if (m <= MAX_VECTOR_TERMS && encore_kernels_best() >= 2) from = top_avx512(n, terms, m, constant_ranked, skip, &h, &worst);
#endif
    top_portable(from, n, terms, m, constant_ranked, skip, &h, &worst);
    return h.count;
}

/* Moments of the finite values, for a source's z-scores: blocks of 1,024 values are summed in 16
   Float lanes (value j of a block in lane j mod 16), each block's lanes added into Doubles in
   lane order, so the vector and portable paths give the same bits. */
#define MOMENT_BLOCK 1024

static void moments_block_portable(const float *v, size_t length, float *sum, float *squares, int64_t *finite, float *lowest) {
    for (size_t j = 0; j < length; j++) {
        float x = v[j];
        if (!isfinite(x)) continue;
        sum[j % 16] += x;
        float x2 = x * x;
        squares[j % 16] += x2;
        *finite += 1;
        if (x < *lowest) *lowest = x;
    }
}

#ifdef ENCORE_X86
__attribute__((target("avx512f")))
static size_t moments_block_avx512(const float *v, size_t length, float *sum, float *squares, int64_t *finite, float *lowest) {
    const __m512 inf = _mm512_set1_ps(INFINITY), zero = _mm512_setzero_ps();
    __m512 s = zero, q = zero, lo = inf;
    size_t j = 0;
    for (; j + 16 <= length; j += 16) {
        __m512 x = _mm512_loadu_ps(v + j);
        __mmask16 ok = _mm512_cmp_ps_mask(_mm512_abs_ps(x), inf, _CMP_LT_OQ);
        s = _mm512_mask_add_ps(s, ok, s, x);
        q = _mm512_mask_add_ps(q, ok, q, _mm512_mul_ps(x, x));
        lo = _mm512_mask_min_ps(lo, ok, lo, x);
        *finite += __builtin_popcount((unsigned)ok);
    }
    _mm512_storeu_ps(sum, s);
    _mm512_storeu_ps(squares, q);
    float lanes[16];
    _mm512_storeu_ps(lanes, lo);
    for (size_t l = 0; l < 16; l++) if (lanes[l] < *lowest) *lowest = lanes[l];
    return j;
}
#endif

void encore_moments(const float *v, size_t n, double *sum, double *squares, int64_t *finite, float *lowest) {
    *sum = 0; *squares = 0; *finite = 0; *lowest = INFINITY;
    int vector = encore_kernels_best() >= 2;
    for (size_t start = 0; start < n; start += MOMENT_BLOCK) {
        size_t length = n - start < MOMENT_BLOCK ? n - start : MOMENT_BLOCK;
        float s[16] = {0}, q[16] = {0};
        size_t done = 0;
#ifdef ENCORE_X86
        if (vector) done = moments_block_avx512(v + start, length, s, q, finite, lowest);
#endif
        /* The rest of the block (all of it on the portable path) into the same lanes: j - done ≡ j mod 16, as done is a multiple of 16. */
        moments_block_portable(v + start + done, length - done, s, q, finite, lowest);
        for (size_t l = 0; l < 16; l++) { *sum += (double)s[l]; *squares += (double)q[l]; }
    }
    (void)vector;
}
