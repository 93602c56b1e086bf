// Subcommands about files: dump-files, encrypt-file, decrypt-file, cleanup, crypt.
#include "commands.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace atrest_ctl {

namespace {

namespace posix = atrest::detail::posix;

/// Copies `in` to a new file `out` (never overwrites), passing every chunk through `stream` as
/// the bytes at `offset + position`.
template <class Stream>
void transform_file(const std::string& in, const std::string& out, const Stream& stream, std::uint64_t offset,
                    posix::unique_fd out_fd, const std::string& label) {
    const auto in_fd = posix::open_file(in, O_RDONLY);
    const auto total = posix::file_size(in_fd.get(), in);
    progress bar(label, total);
    std::vector<std::byte> chunk(1 << 20);
    std::uint64_t done = 0;
    for (;;) {
        const auto n = posix::pread_full(in_fd.get(), chunk, done, in);
        if (n == 0) break;
        const auto part = std::span(chunk).first(n);
        stream.apply(offset + done, part);
        posix::write_all(out_fd.get(), part, out);
        done += n;
        bar.update(done);
    }
    posix::fsync_fd(out_fd.get(), out);
}

posix::unique_fd create_new(const std::string& path) { return posix::open_file(path, O_WRONLY | O_CREAT | O_EXCL, 0600); }

/// The output file a command created, removed again unless the command finishes: a failed run
/// leaves no half-written file behind (and no file that looks like a finished copy).
class output_file final {
public:
    explicit output_file(std::string path) : m_path(std::move(path)), m_fd(create_new(m_path)) {}
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;
    ~output_file() {
        if (m_keep) return;
        std::error_code ignored;
        std::filesystem::remove(m_path, ignored);
    }
    [[nodiscard]] posix::unique_fd take_fd() { return std::move(m_fd); }
    void keep() noexcept { m_keep = true; }

private:
    std::string m_path;
    posix::unique_fd m_fd;
    bool m_keep = false;
};

/// Runs `transform_file` with the stream for `info`'s method, chosen once.
void transform_with(const atrest::file_info& info, const std::string& in, const std::string& out, posix::unique_fd out_fd,
                    const std::string& label) {
    atrest::visit_method(info.method, [&]<class C>(C) {
        if constexpr (std::is_same_v<C, atrest::plaintext>) {
            transform_file(in, out, atrest::ctr_stream<C>(), 0, std::move(out_fd), label);
        } else {
            transform_file(in, out, atrest::ctr_stream<C>(info.key->bytes(), info.iv), 0, std::move(out_fd), label);
        }
    });
}

}  // namespace

void dump_files(const key_options& o, const std::string& path, bool json) {
    const auto km = open_manager(o, false);
    auto files = km->files();
    if (!path.empty()) {
        std::erase_if(files, [&](const auto& kv) { return kv.first != path; });
        if (files.empty()) throw atrest::error(atrest::errc::not_found, "no dictionary entry for '" + path + "' (a plaintext file)");
    }
    if (json) {
        nlohmann::json out = {{"files", nlohmann::json::array()}};
        for (const auto& [p, e] : files) {
            out["files"].push_back({{"path", p}, {"key_id", e.key_id}, {"method", std::string(atrest::to_string(e.method))},
                                    {"iv", to_hex(e.iv)}});
        }
        std::cout << out.dump() << "\n";
        return;
    }
    for (const auto& [p, e] : files) {
        std::cout << p << "\tkey_id=" << e.key_id << "\tmethod=" << atrest::to_string(e.method) << "\tiv=" << to_hex(e.iv)
                  << "\n";
    }
}

void encrypt_file(const key_options& o, const std::string& in, const std::string& out) {
    output_file created(out);  // before the entry exists: never replace another file's entry
    const auto km = open_manager(o, true);
    const auto info = km->new_file(out);
    try {
        transform_with(info, in, out, created.take_fd(), "encrypt-file");
    } catch (...) {
        km->delete_file(out);
        throw;
    }
    created.keep();
    std::cout << "encrypted " << in << " -> " << out << " (" << atrest::to_string(info.method) << ", key " << info.key_id
              << ")\n";
}

void decrypt_file(const key_options& o, const std::string& file, const std::string& out) {
    const auto km = open_manager(o, false);
    const auto info = km->get_file(file);
    output_file created(out);
    transform_with(info, file, out, created.take_fd(), "decrypt-file");
    created.keep();
    std::cout << "decrypted " << file << " -> " << out << " (" << atrest::to_string(info.method) << ")\n";
}

void cleanup(const key_options& o) {
    const auto km = open_manager(o, true);
    const auto files = km->files();
    progress bar("cleanup", files.size());
    std::size_t removed = 0, seen = 0;
    for (const auto& [path, entry] : files) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec) && !ec) {
            km->delete_file(path);
            ++removed;
        }
        bar.update(++seen);
    }
    std::cout << "removed " << removed << " stale entr" << (removed == 1 ? "y" : "ies") << " of " << files.size() << "\n";
}

void crypt(const std::string& method, const std::string& key_hex, const std::string& iv_hex, std::uint64_t offset,
           const std::string& in, const std::string& out) {
    const auto key = from_hex(key_hex, "--key-hex");
    const auto iv = from_hex(iv_hex, "--iv-hex");
    atrest::visit_method(atrest::parse_method(method), [&]<class C>(C) {
        const atrest::ctr_stream<C> stream(key, iv);  // bad sizes fail before OUT exists
        output_file created(out);
        transform_file(in, out, stream, offset, created.take_fd(), "crypt");
        created.keep();
    });
}

}  // namespace atrest_ctl
