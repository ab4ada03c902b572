#!/usr/bin/env bash
# Prints OpenBLAS's name for the best kernels this CPU's flags allow (SkylakeX for
# AVX-512, Haswell for AVX2+FMA), or nothing. OpenBLAS picks kernels from the CPU model, and a
# virtual CPU that reports a generic model gets Prescott's SSE3 kernels, 2-3 times slower. The
# encore binary does the same by itself; make uses this for the test runner.
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx512f && has avx512bw && has avx512vl && has avx512dq && has avx512cd; then
  echo SkylakeX
elif has avx2 && has fma; then
  echo Haswell
fi
