#pragma once
/// Named steps inside the key manager's multi-step operations (create, remove, link, rename), so
/// a test can stop the process at exactly one of them — a real SIGKILL between two system calls —
/// and prove that every interleaving with a crash is safe. Unset (the default) it costs one
/// relaxed atomic load per operation, never anything per block.

#include <atomic>

namespace atrest::detail {

using step_hook = void (*)(const char* step);

/// The hook a test installs; called with the step's name, on the thread doing the operation.
inline std::atomic<step_hook> g_step_hook{nullptr};

inline void step(const char* name) {
    if (const step_hook hook = g_step_hook.load(std::memory_order_relaxed)) hook(name);
}

}  // namespace atrest::detail
