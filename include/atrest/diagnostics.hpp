#pragma once
/// How the library reports warnings (a world-readable key file, …): to a sink the embedding
/// program provides. A library never writes to stderr.

#include <functional>
#include <string_view>

namespace atrest {

/// Warnings for the embedding program, one message per call.
using diagnostic_sink = std::function<void(std::string_view message)>;

}  // namespace atrest
