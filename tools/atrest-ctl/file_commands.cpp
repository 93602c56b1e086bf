// Subcommands about files: dump-files, encrypt-file, decrypt-file, cleanup, crypt.
#include "commands.hpp"

#include <iostream>

namespace atrest_ctl {

namespace {

namespace posix = atrest::detail::posix;

constexpr std::size_t chunk_size = std::size_t{1} << 20;

}  // namespace

void dump_files(const key_options& o, const std::string& path, bool json) {
    const auto km = open_manager(o, false);
    auto files = km->files();
    if (!path.empty()) {
        const std::string name = km->name_of(path);
        std::erase_if(files, [&](const auto& kv) { return kv.first != name; });
        if (files.empty()) {
            throw atrest::error(atrest::errc::not_found, "no dictionary entry for '" + path + "' (dictionary name '" +
                                                             name + "'): a plaintext file, or not a file of this directory");
        }
    }
    if (json) {
        nlohmann::json out = {{"files", nlohmann::json::array()}};
        for (const auto& [p, e] : files) {
            nlohmann::json entry = {{"key_id", e.key_id}, {"method", std::string(atrest::to_string(e.method))},
                                    {"iv", to_hex(e.iv)}};
            put_path(entry, p);
            out["files"].push_back(std::move(entry));
        }
        std::cout << out.dump() << "\n";
        return;
    }
    for (const auto& [p, e] : files) {
        std::cout << escaped(p) << "\tkey_id=" << e.key_id << "\tmethod=" << atrest::to_string(e.method)
                  << "\tiv=" << to_hex(e.iv) << "\n";
    }
}

void encrypt_file(const key_options& o, const std::string& in, const std::string& out) {
    const auto km = open_manager(o, true, true);
    const auto in_fd = posix::open_regular_for_reading(in, "input file");
    const auto total = posix::file_size(in_fd.get(), in);
    auto file = km->create(out);  // the file first, then its entry: never another file's entry
    try {
        progress bar("encrypt-file", total);
        std::vector<std::byte> chunk(chunk_size);
        for (std::uint64_t done = 0;;) {
            const auto n = posix::pread_full(in_fd.get(), chunk, done, in);
            if (n == 0) break;
            file.append_in_place(std::span(chunk).first(n));
            done += n;
            bar.update(done);
        }
        file.sync();
    } catch (...) {
        try {
            km->remove(out);
        } catch (...) {  // the first failure is the one to report
        }
        throw;
    }
    std::cout << "encrypted " << escaped(in) << " -> " << escaped(out) << " ("
              << atrest::to_string(file.method()) << ", key " << km->get_file(out).key_id << ")\n";
}

void decrypt_file(const key_options& o, const std::string& path, const std::string& out, bool allow_plaintext) {
    const auto km = open_manager(o, false);
    const auto name = km->name_of(path);
    const auto entries = km->files();
    const bool has_entry = std::any_of(entries.begin(), entries.end(), [&](const auto& kv) { return kv.first == name; });
    if (!has_entry && !allow_plaintext) {
        throw atrest::error(atrest::errc::not_found,
                            "no dictionary entry for '" + path + "' (dictionary name '" + name +
                                "'): it is not an encrypted file of this directory; to copy it as plaintext anyway, "
                                "add --allow-plaintext");
    }
    const auto file = km->open(path);
    output_file created(out);
    progress bar("decrypt-file", file.size());
    std::vector<std::byte> chunk(chunk_size);
    for (std::uint64_t done = 0;;) {
        const auto n = file.read(done, std::span(chunk));
        if (n == 0) break;
        created.write(std::span(chunk).first(n));
        done += n;
        bar.update(done);
    }
    created.finish();
    std::cout << "decrypted " << escaped(path) << " -> " << escaped(out) << " (" << atrest::to_string(file.method())
              << ")\n";
}

void cleanup(const key_options& o, bool dry_run, bool force, bool json) {
    const auto km = open_manager(o, !dry_run);
    const auto files = km->files();
    std::vector<std::string> stale;
    {
        progress bar("cleanup", files.size());
        std::size_t seen = 0;
        for (const auto& [name, entry] : files) {
            // The entry's file, where the key manager says it lies — never relative to the shell.
            if (!posix::exists(km->path_of(name))) stale.push_back(name);
            bar.update(++seen);
        }
    }
    if (!dry_run && !force && !stale.empty() && stale.size() == files.size()) {
        throw atrest::error(atrest::errc::invalid_argument,
                            "every one of the " + std::to_string(files.size()) + " entries has no file under '" +
                                km->data_dir().string() +
                                "': is --data-dir the engine's data directory? (--dry-run lists them; --force "
                                "removes them all)");
    }
    if (!dry_run) {
        for (const auto& name : stale) km->delete_file(km->path_of(name));
    }
    if (json) {
        nlohmann::json out = {{"dry_run", dry_run}, {"entries", files.size()}, {"stale", nlohmann::json::array()}};
        for (const auto& name : stale) {
            nlohmann::json entry;
            put_path(entry, name);
            out["stale"].push_back(std::move(entry));
        }
        std::cout << out.dump() << "\n";
        return;
    }
    for (const auto& name : stale) std::cout << (dry_run ? "stale: " : "removed: ") << escaped(name) << "\n";
    std::cout << (dry_run ? "would remove " : "removed ") << stale.size() << " stale entr"
              << (stale.size() == 1 ? "y" : "ies") << " of " << files.size() << "\n";
}

void crypt(const std::string& method, const std::string& key_file, const std::string& iv_hex, std::uint64_t offset,
           const std::string& in, const std::string& out) {
    auto key = read_key_file(key_file);
    const auto iv = from_hex(iv_hex, "--iv-hex");
    atrest::visit_method(atrest::parse_method(method), [&]<class C>(C) {
        if constexpr (atrest::authenticated_policy<C>) {
            throw atrest::error(atrest::errc::unsupported,
                                "crypt applies a CTR keystream; " + std::string(C::name) +
                                    " files are authenticated streams (read them through the key manager)");
        } else {
        const atrest::ctr_stream<C> stream(key, iv);  // bad sizes fail before OUT exists
        atrest::detail::botan_compat::secure_scrub(key.data(), key.size());
        const auto in_fd = posix::open_regular_for_reading(in, "input file");
        output_file created(out);
        progress bar("crypt", posix::file_size(in_fd.get(), in));
        std::vector<std::byte> chunk(chunk_size);
        for (std::uint64_t done = 0;;) {
            const auto n = posix::pread_full(in_fd.get(), chunk, done, in);
            if (n == 0) break;
            const auto part = std::span(chunk).first(n);
            stream.apply(offset + done, part);
            created.write(part);
            done += n;
            bar.update(done);
        }
        created.finish();
        }
    });
}

}  // namespace atrest_ctl
