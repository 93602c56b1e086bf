#pragma once
/// Umbrella header: everything in the core (Botan + GSL only). Optional parts (KMS over HTTP,
/// TOML config, RocksDB adapter) have their own headers and CMake targets.
#include <atrest/cipher.hpp>
#include <atrest/config.hpp>
#include <atrest/dict.hpp>
#include <atrest/error.hpp>
#include <atrest/file.hpp>
#include <atrest/keywrap.hpp>
#include <atrest/master_key.hpp>
#include <atrest/diagnostics.hpp>
#include <atrest/metrics/concepts.hpp>
#include <atrest/metrics/no_metrics.hpp>
#include <atrest/metrics/prometheus_metrics.hpp>
#include <atrest/secret_bytes.hpp>
#include <atrest/version.hpp>
