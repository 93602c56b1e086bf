#include <benchmark/benchmark.h>
#include <atrest/cipher.hpp>
BENCHMARK_MAIN();
