#pragma once
/// Library version, kept in step with `project(atrest VERSION …)` in CMakeLists.txt.

#define ATREST_VERSION_MAJOR 0
#define ATREST_VERSION_MINOR 1
#define ATREST_VERSION_PATCH 0

namespace atrest {
inline constexpr int version_major = ATREST_VERSION_MAJOR;
inline constexpr int version_minor = ATREST_VERSION_MINOR;
inline constexpr int version_patch = ATREST_VERSION_PATCH;
inline constexpr const char* version_string = "0.1.0";
}  // namespace atrest
