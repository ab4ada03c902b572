/* Encore's hand-written kernels in C, compiled for the machine's widest vectors at run time
   (AVX-512, else AVX2 with FMA, else portable C), where OpenBLAS has no call that fits. */
#ifndef ENCORE_KERNELS_H
#define ENCORE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Items per tile of a panel. */
#define ENCORE_PANEL_TILE 16

/* Floats a panel of `items` rows of `dims` takes: whole tiles, the last one padded with zeros. */
size_t encore_panel_length(size_t items, size_t dims);

/* Copies a row-major items × dims matrix into panel order: tiles of 16 items, each stored
   dimension-major (the 16 items' first values, then their second, …), the last tile zero-padded. */
void encore_panel_pack(const float *rows, size_t items, size_t dims, float *panel);

/* outs[q][i] = Σ_d row_i[d] · queries[q·dims + d] for the songs of tiles first..<last (tile t holds
   songs 16t..<16t+16: a thread's share) and each of nq queries, the sum taken in order of d with
   one fused multiply-add per term, so every path gives the same bits. One pass over the panel
   serves all queries: blocks of tiles that fit the L2 cache are read once and scored against the
   queries eight at a time in registers. On `path` 0 (portable), 1 (AVX2 with FMA) or 2 (AVX-512),
   -1 for the widest this machine runs; returns -1 when it cannot run the path asked for. */
int encore_panel_scores_tiles(int path, const float *panel, size_t items, size_t dims, size_t first, size_t last,
                              const float *queries, size_t nq, float *const *outs);

/* The widest path this machine runs (0, 1 or 2 as above). */
int encore_kernels_best(void);

/* One term of a blend. A dense term (scores not NULL) adds v·a + b for a song's finite score v and
   f otherwise; a sparse term (scores NULL) adds c to every song the pass reads. */
typedef struct {
    const float *scores;
    float a, b, f, c;
} encore_blend_term;

/* The best `depth` of songs 0..<n, skipping those marked in `skip` (bit i of word i/64; NULL:
   none): a song's total is Σ of the m terms in order, −∞ (out) when no dense term's score is
   finite unless constant_ranked. Writes the kept songs and totals, unordered; returns how many. */
size_t encore_blend_top(size_t n, const encore_blend_term *terms, size_t m, int constant_ranked,
                        const uint64_t *skip, size_t depth, int64_t *indices, float *totals);

/* The sum, the sum of squares, the count and the lowest of the finite values among v[0..<n]
   (lowest +∞ when none); the same bits on every path. */
void encore_moments(const float *v, size_t n, double *sum, double *squares, int64_t *finite, float *lowest);

/* The best `depth` songs scoring above `above` (−∞: any) by dot product with `query` (score
   descending, song ascending), skipping the songs marked in `skip` (NULL: none), over a panel
   whose rows are sorted by norm, largest first: `order[p]` is the song at panel row p,
   `tile_bound[t]` bounds the norms of tile t's songs and the later tiles', `query_bound` the
   query's norm (both rounded up). Scans tiles until no song left can beat the worst kept or
   score above `above`. Writes the kept songs and scores, unordered; returns how many; `scanned`
   is how many songs were scored. */
size_t encore_panel_top(const float *panel, const int32_t *order, const float *tile_bound, size_t items, size_t dims,
                        const float *query, float query_bound, const uint64_t *skip, float above, size_t depth,
                        int64_t *indices, float *scores, size_t *scanned);

/* out[k] = rows[items[k]] · query for a row-major matrix, the same chain of fused multiply-adds as
   the panel kernels (the same bits as the song's score there). */
void encore_rows_dot(const float *rows, size_t dims, const int64_t *items, size_t count, const float *query, float *out);

#endif
