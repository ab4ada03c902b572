#include <cblas.h>

/* A software prefetch for loops whose next row is known but not predictable by the hardware. */
static inline void encore_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }
