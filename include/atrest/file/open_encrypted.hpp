#pragma once
/// Runtime selection: a file's method comes from its dictionary entry, so it is known only at
/// open. `open_encrypted` switches on it once and hands the caller an `encrypted_file<C, File>`
/// of the matching policy; everything the caller does with it (the whole I/O path) is compiled
/// per policy and never branches on the method again.

#include <atrest/cipher/methods.hpp>
#include <atrest/dict/file_info.hpp>
#include <atrest/file/authenticated_file.hpp>
#include <atrest/file/encrypted_file.hpp>
#include <atrest/file/concepts.hpp>

#include <functional>
#include <span>
#include <utility>

namespace atrest {

/// Opens `file` as an encrypted file of method `m` and calls `f(encrypted_file<C, File>&)` — or,
/// for an authenticated method, `f(authenticated_file<C, File>&)`, which has the same calls
/// (plus `flush`), so a generic `f` (`[](auto& file)`) serves both;
/// returns what `f` returns (the same type for every method). `f` may move the file out, e.g.
/// into a `std::unique_ptr` of an adapter templated on the file type. An unknown method is
/// `errc::unknown_method`, a key or IV of the wrong size `errc::invalid_key_size` /
/// `errc::invalid_iv_size`; in each case the file on disk is left untouched. `f` must not
/// return a reference to the file: it lives only for the call.
template <random_access_file File, class F>
decltype(auto) open_encrypted(method m, File file, std::span<const std::byte> key, std::span<const std::byte> iv,
                              write_mode mode, F&& f) {
    return visit_method(m, [&]<cipher_policy C>(C) -> decltype(auto) {
        if constexpr (authenticated_policy<C>) {
            authenticated_file<C, File> opened(std::move(file), key, iv, mode);
            return std::invoke(std::forward<F>(f), opened);
        } else {
            encrypted_file<C, File> opened(std::move(file), key, iv, mode);
            return std::invoke(std::forward<F>(f), opened);
        }
    });
}

/// The usual call: open `file` as its dictionary entry says (`key_manager::new_file` /
/// `get_file`). A plaintext entry — including every path the dictionary does not know — opens as
/// `encrypted_file<plaintext, File>`, so the engine needs no special case for unencrypted files.
template <random_access_file File, class F>
decltype(auto) open_encrypted(const file_info& info, File file, write_mode mode, F&& f) {
    return open_encrypted(info.method, std::move(file), info.key_bytes(), info.iv_bytes(), mode, std::forward<F>(f));
}

}  // namespace atrest
