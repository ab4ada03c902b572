/* Panel scoring: every item's dot product with a few query vectors, the core of batched ALS and
   BPR serving (scores = V · Qᵀ for V items × d, Q b × d). A row-major V makes each score a
   horizontal reduction (OpenBLAS's sgemv: about 22 GFLOP/s from the L2 cache on this project's
   machine); the panel layout puts 16 items in the lanes of one vector, so a score is a chain of
   fused multiply-adds with the query's values broadcast, no reduction. Blocks of 64 tiles
   (256 KiB at d = 64) stay in the L2 cache while eight queries at a time are scored against them.
   O(b · n · d) flops; the panel is read once per call. */
#include "encore_kernels.h"
#include "internal.h"

#include <math.h>
#include <string.h>

#define TILE ENCORE_PANEL_TILE
/* Tiles per cache block and queries per register pass. */
#define BLOCK_TILES 64
#define QUERIES 8

size_t encore_panel_length(size_t items, size_t dims) {
    return (items + TILE - 1) / TILE * TILE * dims;
}

void encore_panel_pack(const float *rows, size_t items, size_t dims, float *panel) {
    size_t tiles = (items + TILE - 1) / TILE;
    for (size_t t = 0; t < tiles; t++) {
        float *tile = panel + t * dims * TILE;
        for (size_t j = 0; j < TILE; j++) {
            size_t i = t * TILE + j;
            for (size_t d = 0; d < dims; d++) tile[d * TILE + j] = i < items ? rows[i * dims + d] : 0.0f;
        }
    }
}

/* Writes the tile's n ≤ 16 scores of one query. */
static inline void store_tile(float *out, const float *acc, size_t n) { memcpy(out, acc, n * sizeof(float)); }

static void scores_portable(const float *panel, size_t items, size_t dims, size_t first, size_t last, const float *queries, size_t nq, float *const *outs) {
    for (size_t t = first; t < last; t++) {
        const float *tile = panel + t * dims * TILE;
        size_t n = items - t * TILE < TILE ? items - t * TILE : TILE;
        for (size_t q = 0; q < nq; q++) {
            float acc[TILE] = {0};
            const float *x = queries + q * dims;
            for (size_t d = 0; d < dims; d++)
                for (size_t j = 0; j < TILE; j++) acc[j] = fmaf(tile[d * TILE + j], x[d], acc[j]);
            store_tile(outs[q] + t * TILE, acc, n);
        }
    }
}

#ifdef ENCORE_X86
/* Stores a tile's scores: n ≤ 16 lanes. */
__attribute__((target("avx512f")))
static inline void store16(float *out, __m512 a, size_t n) {
    if (n == TILE) _mm512_storeu_ps(out, a);
    else _mm512_mask_storeu_ps(out, (__mmask16)((1u << n) - 1), a);
}

/* One query against tiles t0..<t1: four tiles at a time, so four chains of multiply-adds overlap. */
__attribute__((target("avx512f")))
static void one_query_avx512(const float *panel, size_t items, size_t dims, size_t t0, size_t t1, const float *x, float *out) {
    float block[4 * TILE];
    for (size_t t = t0; t < t1;) {
        size_t n = t + 4 <= t1 ? 4 : 1;
        if (n == 4) encore_four_tiles_avx512(panel + t * dims * TILE, dims, x, block);
        else encore_tile_avx512(panel + t * dims * TILE, dims, x, block);
        size_t first = t * TILE, last = first + n * TILE < items ? first + n * TILE : items;
        memcpy(out + first, block, (last - first) * sizeof(float));
        t += n;
    }
}

/* Eight queries (rows of x, dims apart) against tiles t0..<t1: each tile value loaded once feeds
   eight multiply-adds. Stores the first m ≤ 8 queries' scores (the others are padding). */
__attribute__((target("avx512f")))
static void eight_queries_avx512(const float *panel, size_t items, size_t dims, size_t t0, size_t t1, const float *x, size_t m,
                                 float *const *outs) {
    for (size_t t = t0; t < t1; t++) {
        const float *tile = panel + t * dims * TILE;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (size_t d = 0; d < dims; d++) {
            __m512 v = _mm512_loadu_ps(tile + d * TILE);
            a0 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[d]), a0);
            a1 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[dims + d]), a1);
            a2 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[2 * dims + d]), a2);
            a3 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[3 * dims + d]), a3);
            a4 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[4 * dims + d]), a4);
            a5 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[5 * dims + d]), a5);
            a6 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[6 * dims + d]), a6);
            a7 = _mm512_fmadd_ps(v, _mm512_set1_ps(x[7 * dims + d]), a7);
        }
        size_t n = items - t * TILE < TILE ? items - t * TILE : TILE;
        __m512 all[QUERIES] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (size_t r = 0; r < m; r++) store16(outs[r] + t * TILE, all[r], n);
    }
}

__attribute__((target("avx512f")))
static void scores_avx512(const float *panel, size_t items, size_t dims, size_t first, size_t last, const float *queries, size_t nq, float *const *outs) {
    /* The last 2..7 queries go as a group of eight padded with zero queries: scoring is bound by
       reading the panel, so a padded pass costs about what a full one does, where one pass per
       query would read each block again. A lone last query goes by itself. */
    size_t full = nq / QUERIES * QUERIES, rest = nq - full;
    float padded[QUERIES * 512];
    int pad = rest > 1 && dims <= 512;
    if (pad) {
        memset(padded, 0, sizeof(float) * QUERIES * dims);
        memcpy(padded, queries + full * dims, sizeof(float) * rest * dims);
    }
    for (size_t t0 = first; t0 < last; t0 += BLOCK_TILES) {
        size_t t1 = t0 + BLOCK_TILES < last ? t0 + BLOCK_TILES : last;
        for (size_t q0 = 0; q0 < full; q0 += QUERIES)
            eight_queries_avx512(panel, items, dims, t0, t1, queries + q0 * dims, QUERIES, outs + q0);
        if (pad) eight_queries_avx512(panel, items, dims, t0, t1, padded, rest, outs + full);
        else for (size_t q0 = full; q0 < nq; q0++) one_query_avx512(panel, items, dims, t0, t1, queries + q0 * dims, outs[q0]);
    }
}

__attribute__((target("avx2,fma")))
static void scores_avx2(const float *panel, size_t items, size_t dims, size_t first, size_t last, const float *queries, size_t nq, float *const *outs) {
    for (size_t t0 = first; t0 < last; t0 += BLOCK_TILES) {
        size_t t1 = t0 + BLOCK_TILES < last ? t0 + BLOCK_TILES : last;
        for (size_t q0 = 0; q0 < nq; q0 += 4) {
            size_t m = nq - q0 < 4 ? nq - q0 : 4;
            const float *x = queries + q0 * dims;
            for (size_t t = t0; t < t1; t++) {
                const float *tile = panel + t * dims * TILE;
                __m256 lo[4], hi[4];
                for (size_t r = 0; r < 4; r++) { lo[r] = _mm256_setzero_ps(); hi[r] = _mm256_setzero_ps(); }
                for (size_t d = 0; d < dims; d++) {
                    __m256 v0 = _mm256_loadu_ps(tile + d * TILE), v1 = _mm256_loadu_ps(tile + d * TILE + 8);
                    for (size_t r = 0; r < m; r++) {
                        __m256 b = _mm256_set1_ps(x[r * dims + d]);
                        lo[r] = _mm256_fmadd_ps(v0, b, lo[r]);
                        hi[r] = _mm256_fmadd_ps(v1, b, hi[r]);
                    }
                }
                size_t n = items - t * TILE < TILE ? items - t * TILE : TILE;
                for (size_t r = 0; r < m; r++) {
                    float acc[TILE];
                    _mm256_storeu_ps(acc, lo[r]);
                    _mm256_storeu_ps(acc + 8, hi[r]);
                    store_tile(outs[q0 + r] + t * TILE, acc, n);
                }
            }
        }
    }
}
#endif

typedef void (*scores_fn)(const float *, size_t, size_t, const float *, size_t, float *const *);

/* The widest path this machine runs: 2 AVX-512, 1 AVX2 with FMA, 0 portable. */
static int best_path(void) {
#ifdef ENCORE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

int encore_kernels_best(void) { return best_path(); }

int encore_panel_scores_tiles(int path, const float *panel, size_t items, size_t dims, size_t first, size_t last,
                              const float *queries, size_t nq, float *const *outs) {
    if (path < 0) path = best_path();
    if (path > best_path()) return -1;
    size_t tiles = (items + TILE - 1) / TILE;
    if (last > tiles) last = tiles;
    if (items == 0 || dims == 0 || nq == 0 || first >= last) return 0;
    switch (path) {
#ifdef ENCORE_X86
    case 2: scores_avx512(panel, items, dims, first, last, queries, nq, outs); return 0;
    case 1: scores_avx2(panel, items, dims, first, last, queries, nq, outs); return 0;
#endif
    default: scores_portable(panel, items, dims, first, last, queries, nq, outs); return 0;
    }
}
