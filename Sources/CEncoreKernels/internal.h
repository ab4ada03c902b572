/* What the kernels' files share and do not export: the bounded heap of (song, value) pairs that
   keeps the best values (descending, ties to the lower song), and the AVX-512 tile scoring. */
#ifndef ENCORE_KERNELS_INTERNAL_H
#define ENCORE_KERNELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "encore_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ENCORE_X86 1
#endif

/* A min-heap on "better", so the root is the worst kept; the caller owns the arrays. */
typedef struct {
    int64_t *index;
    float *value;
    size_t count, capacity;
} encore_heap;

static inline int encore_better(float va, int64_t ia, float vb, int64_t ib) { return va != vb ? va > vb : ia < ib; }

static inline void encore_heap_swap(encore_heap *h, size_t x, size_t y) {
    int64_t i = h->index[x]; h->index[x] = h->index[y]; h->index[y] = i;
    float v = h->value[x]; h->value[x] = h->value[y]; h->value[y] = v;
}

/* Keeps (index, value) if it is among the best `capacity` seen. */
static inline void encore_heap_insert(encore_heap *h, int64_t index, float value) {
    if (h->count < h->capacity) {
        size_t c = h->count++;
        h->index[c] = index; h->value[c] = value;
        while (c > 0) {
            size_t p = (c - 1) / 2;
            if (!encore_better(h->value[p], h->index[p], h->value[c], h->index[c])) break;
            encore_heap_swap(h, c, p);
            c = p;
        }
        return;
    }
    if (!encore_better(value, index, h->value[0], h->index[0])) return;
    h->index[0] = index; h->value[0] = value;
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->count && encore_better(h->value[m], h->index[m], h->value[l], h->index[l])) m = l;
        if (r < h->count && encore_better(h->value[m], h->index[m], h->value[r], h->index[r])) m = r;
        if (m == i) return;
        encore_heap_swap(h, i, m);
        i = m;
    }
}

#ifdef ENCORE_X86
/* Four consecutive tiles' scores for one query (four chains of fused multiply-adds overlap),
   64 values into out. */
__attribute__((target("avx512f")))
static inline void encore_four_tiles_avx512(const float *p, size_t dims, const float *q, float *out) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t d = 0; d < dims; d++) {
        __m512 b = _mm512_set1_ps(q[d]);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p + d * ENCORE_PANEL_TILE), b, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(p + (dims + d) * ENCORE_PANEL_TILE), b, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(p + (2 * dims + d) * ENCORE_PANEL_TILE), b, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(p + (3 * dims + d) * ENCORE_PANEL_TILE), b, a3);
    }
    _mm512_storeu_ps(out, a0);
    _mm512_storeu_ps(out + ENCORE_PANEL_TILE, a1);
    _mm512_storeu_ps(out + 2 * ENCORE_PANEL_TILE, a2);
    _mm512_storeu_ps(out + 3 * ENCORE_PANEL_TILE, a3);
}

/* One tile's 16 scores for one query. */
__attribute__((target("avx512f")))
static inline void encore_tile_avx512(const float *tile, size_t dims, const float *q, float *out) {
    __m512 a = _mm512_setzero_ps();
    for (size_t d = 0; d < dims; d++) a = _mm512_fmadd_ps(_mm512_loadu_ps(tile + d * ENCORE_PANEL_TILE), _mm512_set1_ps(q[d]), a);
    _mm512_storeu_ps(out, a);
}
#endif

#endif
