/* Exact top-k by dot product without scoring every song (maximum inner product search by norm
   bounds): the songs are stored in panel order sorted by the norm of their rows, largest first,
   and scored a tile at a time until the query's norm times the largest norm still to come is
   below the k-th best score so far. By Cauchy–Schwarz no song left can score above that bound, so
   the songs kept are the top k of all of them. A score is the same chain of fused multiply-adds
   as encore_panel_scores, so it has the same bits as the full scoring's. At the Million Song
   Dataset's size ALS's item norms span four orders of magnitude, and a listener's best 60 songs
   are found after about 2% of the songs (8% at the 99th percentile).
   O(scanned · d + scanned · log k); scanning everything at worst. */
#include "encore_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ENCORE_X86 1
#endif

#define TILE ENCORE_PANEL_TILE

/* The kept songs: a min-heap on "better" (score descending, song ascending), worst at the root. */
typedef struct {
    int64_t *index;
    float *score;
    size_t count, capacity;
} top_heap;

static inline int better(float sa, int64_t ia, float sb, int64_t ib) { return sa != sb ? sa > sb : ia < ib; }

static inline void swap_entries(top_heap *h, size_t x, size_t y) {
    int64_t i = h->index[x]; h->index[x] = h->index[y]; h->index[y] = i;
    float s = h->score[x]; h->score[x] = h->score[y]; h->score[y] = s;
}

static void top_insert(top_heap *h, int64_t index, float score) {
    if (h->count < h->capacity) {
        size_t c = h->count++;
        h->index[c] = index; h->score[c] = score;
        while (c > 0) {
            size_t p = (c - 1) / 2;
            if (!better(h->score[p], h->index[p], h->score[c], h->index[c])) break;
            swap_entries(h, c, p);
            c = p;
        }
        return;
    }
    if (!better(score, index, h->score[0], h->index[0])) return;
    h->index[0] = index; h->score[0] = score;
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->count && better(h->score[m], h->index[m], h->score[l], h->index[l])) m = l;
        if (r < h->count && better(h->score[m], h->index[m], h->score[r], h->index[r])) m = r;
        if (m == i) return;
        swap_entries(h, i, m);
        i = m;
    }
}

/* One tile's 16 scores (a chain of fused multiply-adds over the dimensions, as the panel kernel). */
static void tile_portable(const float *tile, size_t dims, const float *q, float *out) {
    float acc[TILE] = {0};
    for (size_t d = 0; d < dims; d++)
        for (size_t j = 0; j < TILE; j++) acc[j] = fmaf(tile[d * TILE + j], q[d], acc[j]);
    memcpy(out, acc, sizeof acc);
}

#ifdef ENCORE_X86
/* Four tiles' scores at once (four chains overlap). */
__attribute__((target("avx512f")))
static void four_tiles_avx512(const float *p, size_t dims, const float *q, float *out) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t d = 0; d < dims; d++) {
        __m512 b = _mm512_set1_ps(q[d]);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(p + d * TILE), b, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(p + (dims + d) * TILE), b, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(p + (2 * dims + d) * TILE), b, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(p + (3 * dims + d) * TILE), b, a3);
    }
    _mm512_storeu_ps(out, a0);
    _mm512_storeu_ps(out + TILE, a1);
    _mm512_storeu_ps(out + 2 * TILE, a2);
    _mm512_storeu_ps(out + 3 * TILE, a3);
}

__attribute__((target("avx512f")))
static void tile_avx512(const float *tile, size_t dims, const float *q, float *out) {
    __m512 a = _mm512_setzero_ps();
    for (size_t d = 0; d < dims; d++) a = _mm512_fmadd_ps(_mm512_loadu_ps(tile + d * TILE), _mm512_set1_ps(q[d]), a);
    _mm512_storeu_ps(out, a);
}
#endif

size_t encore_panel_top(const float *panel, const int32_t *order, const float *tile_bound, size_t items, size_t dims,
                        const float *query, float query_bound, const uint64_t *skip, float above, size_t depth,
                        int64_t *indices, float *scores, size_t *scanned) {
    top_heap h = {indices, scores, 0, depth};
    size_t tiles = (items + TILE - 1) / TILE, t = 0;
    *scanned = 0;
    if (depth == 0 || dims == 0) return 0;
    int path = encore_kernels_best();
    float block[4 * TILE];
    while (t < tiles) {
        /* Stop once no song still to come can beat the worst kept (a strict bound: no ties either),
           or score above `above`. */
        float bound = query_bound * tile_bound[t];
        if ((h.count == depth && bound < h.score[0]) || bound <= above) break;
        size_t n = 1;
#ifdef ENCORE_X86
        if (path >= 2 && t + 4 <= tiles) { four_tiles_avx512(panel + t * dims * TILE, dims, query, block); n = 4; }
        else if (path >= 2) tile_avx512(panel + t * dims * TILE, dims, query, block);
        else tile_portable(panel + t * dims * TILE, dims, query, block);
#else
        tile_portable(panel + t * dims * TILE, dims, query, block);
        (void)path;
#endif
        for (size_t j = 0; j < n * TILE; j++) {
            size_t pos = t * TILE + j;
            if (pos >= items) break;
            int64_t i = order[pos];
            float s = block[j];
            if (!(s > above)) continue; /* neither NaN nor a score at or below `above` can rank */
            if (skip && ((skip[i >> 6] >> (i & 63)) & 1)) continue;
            top_insert(&h, i, s);
        }
        t += n;
    }
    *scanned = t * TILE < items ? t * TILE : items;
    return h.count;
}

static void rows_dot_portable(const float *rows, size_t dims, const int64_t *items, size_t count, const float *query, float *out) {
    for (size_t k = 0; k < count; k++) {
        const float *v = rows + (size_t)items[k] * dims;
        float acc = 0;
        for (size_t d = 0; d < dims; d++) acc = fmaf(v[d], query[d], acc);
        out[k] = acc;
    }
}

#ifdef ENCORE_X86
/* Eight rows at a time: eight independent chains keep the multiply-add units busy. */
__attribute__((target("fma")))
static void rows_dot_fma(const float *rows, size_t dims, const int64_t *items, size_t count, const float *query, float *out) {
    size_t k = 0;
    for (; k + 8 <= count; k += 8) {
        const float *v[8];
        float acc[8] = {0};
        for (size_t r = 0; r < 8; r++) v[r] = rows + (size_t)items[k + r] * dims;
        for (size_t d = 0; d < dims; d++) {
            float x = query[d];
            for (size_t r = 0; r < 8; r++) acc[r] = __builtin_fmaf(v[r][d], x, acc[r]);
        }
        for (size_t r = 0; r < 8; r++) out[k + r] = acc[r];
    }
    for (; k < count; k++) {
        const float *v = rows + (size_t)items[k] * dims;
        float acc = 0;
        for (size_t d = 0; d < dims; d++) acc = __builtin_fmaf(v[d], query[d], acc);
        out[k] = acc;
    }
}
#endif

void encore_rows_dot(const float *rows, size_t dims, const int64_t *items, size_t count, const float *query, float *out) {
#ifdef ENCORE_X86
    if (encore_kernels_best() >= 1) { rows_dot_fma(rows, dims, items, count, query, out); return; }
#endif
    rows_dot_portable(rows, dims, items, count, query, out);
}
