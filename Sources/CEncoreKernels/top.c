/* Exact top-k by dot product without scoring every song (maximum inner product search by norm
   bounds): the songs are stored in panel order sorted by the norm of their rows, largest first,
   and scored a tile at a time until the query's norm times the largest norm still to come is
   below the k-th best score so far. By Cauchy–Schwarz no song left can score above that bound, so
   the songs kept are the top k of all of them. A score is the same chain of fused multiply-adds
   as encore_panel_scores_tiles, so it has the same bits as the full scoring's. At the Million Song
   Dataset's size ALS's item norms span four orders of magnitude, and a listener's best 60 songs
   are found after about 2% of the songs (8% at the 99th percentile).
   O(scanned · d + scanned · log k); scanning everything at worst. */
#include "encore_kernels.h"
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define TILE ENCORE_PANEL_TILE

/* One tile's 16 scores (a chain of fused multiply-adds over the dimensions, as the panel kernel). */
static void tile_portable(const float *tile, size_t dims, const float *q, float *out) {
    float acc[TILE] = {0};
    for (size_t d = 0; d < dims; d++)
        for (size_t j = 0; j < TILE; j++) acc[j] = fmaf(tile[d * TILE + j], q[d], acc[j]);
    memcpy(out, acc, sizeof acc);
}

size_t encore_panel_top(const float *panel, const int32_t *order, const float *tile_bound, size_t items, size_t dims,
                        const float *query, float query_bound, const uint64_t *skip, float above, size_t depth,
                        int64_t *indices, float *scores, size_t *scanned) {
    encore_heap h = {indices, scores, 0, depth};
    size_t tiles = (items + TILE - 1) / TILE, t = 0;
    *scanned = 0;
    if (depth == 0 || dims == 0) return 0;
    int path = encore_kernels_best();
    float block[4 * TILE];
    while (t < tiles) {
        /* Stop once no song still to come can beat the worst kept (a strict bound: no ties either),
           or score above `above`. */
        float bound = query_bound * tile_bound[t];
        if ((h.count == depth && bound < h.value[0]) || bound <= above) break;
        size_t n = 1;
#ifdef ENCORE_X86
        if (path >= 2 && t + 4 <= tiles) { encore_four_tiles_avx512(panel + t * dims * TILE, dims, query, block); n = 4; }
        else if (path >= 2) encore_tile_avx512(panel + t * dims * TILE, dims, query, block);
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
            encore_heap_insert(&h, i, s);
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
