#include <cblas.h>

/* A software prefetch for loops whose next row is known but not predictable by the hardware. */
static inline void encore_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }

/* LAPACK (shipped inside OpenBLAS): Cholesky factorisation and inverse of a symmetric positive
   definite matrix. Column-major Fortran interface; Encore passes symmetric matrices, so the
   row-major layout is the same matrix. */
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
