#pragma once
/// RocksDB reports failures as `IOStatus` values and must never see an exception escape a
/// FileSystem call (it is compiled as if none could), so every adapter entry point runs through
/// `guarded`, which turns an `atrest::error` into the closest IOStatus kind and keeps its message.

#include <atrest/error.hpp>

#include <rocksdb/io_status.h>

#include <cerrno>
#include <exception>
#include <new>
#include <string>
#include <utility>

namespace atrest::rocks {

/// The IOStatus kind RocksDB reacts to correctly: NoSpace for a full disk (RocksDB can resume),
/// NotSupported for refused keystream reuse and unsupported modes, Corruption for metadata or an
/// authenticated data file that does not verify, InvalidArgument for bad configuration, IOError for the rest.
[[nodiscard]] inline ::rocksdb::IOStatus to_io_status(const error& e) {
    const std::string what = std::string("atrest: ") + e.what();
    switch (e.kind()) {
        case errc::io_error:
            if (e.os_errno() == ENOSPC) return ::rocksdb::IOStatus::NoSpace(what);
            return ::rocksdb::IOStatus::IOError(what);
        case errc::keystream_reuse:
        case errc::unsupported: return ::rocksdb::IOStatus::NotSupported(what);
        case errc::invalid_argument:
        case errc::unknown_method:
        case errc::invalid_key_size:
        case errc::invalid_iv_size:
        case errc::config:
        case errc::insecure: return ::rocksdb::IOStatus::InvalidArgument(what);
        case errc::wrong_key:
        case errc::corrupt:
        case errc::unknown_version:
        case errc::tampered:
        case errc::integrity:
        case errc::truncated:
        case errc::not_found: return ::rocksdb::IOStatus::Corruption(what);
        default: return ::rocksdb::IOStatus::IOError(what);
    }
}

/// Runs `f` (which returns an IOStatus) and converts anything it throws.
template <class F>
[[nodiscard]] ::rocksdb::IOStatus guarded(F&& f) noexcept {
    try {
        return std::forward<F>(f)();
    } catch (const error& e) {
        return to_io_status(e);
    } catch (const std::bad_alloc&) {
        return ::rocksdb::IOStatus::IOError("atrest: out of memory");
    } catch (const std::exception& e) {
        return ::rocksdb::IOStatus::IOError(std::string("atrest: ") + e.what());
    } catch (...) {
        return ::rocksdb::IOStatus::IOError("atrest: unknown exception");
    }
}

}  // namespace atrest::rocks
