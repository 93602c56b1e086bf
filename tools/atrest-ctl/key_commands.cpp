// Subcommands about keys: keygen, dump-keys, rotate-master-key, rotate-data-key, stats.
#include "commands.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>

namespace atrest_ctl {

namespace {
std::vector<std::byte> read_or_empty(const std::filesystem::path& p) {
    return atrest::detail::posix::read_file_if_exists(p).value_or(std::vector<std::byte>{});
}
}  // namespace

void keygen(const std::string& out) {
    atrest::generate_master_key_file(out);
    std::cout << "wrote a new master key to " << out << " (mode 0600)\n";
}

void dump_keys(const key_options& o, bool ids_only, bool json, bool consent) {
    if (!consent && !ids_only) {
        throw atrest::error(atrest::errc::insecure,
                            "dump-keys prints data keys in the clear; add --i-consent if you accept that (or --ids "
                            "for ids and methods only)");
    }
    const auto km = open_manager(o, false);
    const auto keys = km->data_keys();
    if (json) {
        nlohmann::json out = {{"current_key_id", km->current_key_id()}, {"keys", nlohmann::json::array()}};
        for (const auto& k : keys) {
            nlohmann::json entry = {{"id", k.id},
                                    {"method", std::string(atrest::to_string(k.method))},
                                    {"creation_time", k.creation_time},
                                    {"was_exposed", k.was_exposed}};
            if (!ids_only) entry["key"] = to_hex(k.key->bytes());
            out["keys"].push_back(std::move(entry));
        }
        std::cout << out.dump() << "\n";
        return;
    }
    std::cout << "current key id: " << km->current_key_id() << "\n";
    for (const auto& k : keys) {
        std::cout << k.id << "\tmethod=" << atrest::to_string(k.method) << "\tcreated=" << k.creation_time
                  << "\texposed=" << (k.was_exposed ? "yes" : "no");
        if (!ids_only) std::cout << "\tkey=" << to_hex(k.key->bytes());
        std::cout << "\n";
    }
}

void rotate_master_key(const key_options& o) {
    if (o.data_dir.empty()) throw atrest::error(atrest::errc::invalid_argument, "--data-dir is required");
    if (!flags_config(o).previous_master_key) {
        throw atrest::error(atrest::errc::invalid_argument,
                            "rotate-master-key needs the previous master key: --previous-master-key-file FILE (or a "
                            "[security.encryption.previous-master-key] section in --config)");
    }
    const auto key_dict = std::filesystem::path(o.data_dir) / "key.dict";
    const auto before = read_or_empty(key_dict);
    // Opening re-seals under the current key when only the previous one could open key.dict.
    const auto km = atrest::open_key_manager(open_config(o, true), o.data_dir, settings(true));
    const bool resealed = read_or_empty(key_dict) != before;
    std::cout << (resealed ? "re-sealed the key dictionary under " : "the key dictionary is already sealed under ")
              << km->master_key().describe() << "\n";
}

void rotate_data_key(const key_options& o) {
    if (o.data_dir.empty()) throw atrest::error(atrest::errc::invalid_argument, "--data-dir is required");
    const auto config = open_config(o, true);
    const auto before = atrest::open_key_manager(config, o.data_dir, settings(false))->current_key_id();
    const auto km = atrest::open_key_manager(config, o.data_dir, settings(true));
    // A new method already made a new key at open; a second one would only add a key.
    if (km->current_key_id() == before) km->rotate_data_key();
    std::cout << "rotated the data key: " << before << " -> " << km->current_key_id() << " ("
              << atrest::to_string(km->options().data_encryption_method) << ")\n";
}

void stats(const key_options& o, bool prometheus) {
    if (o.data_dir.empty()) throw atrest::error(atrest::errc::invalid_argument, "--data-dir is required");
    if (prometheus) {
        // The same registry an engine would scrape, filled by a read-only open.
        atrest::prometheus_metrics registry;
        (void)atrest::open_key_manager(open_config(o, false), o.data_dir, settings(false), registry);
        std::cout << registry.render();
        return;
    }
    const auto km = open_manager(o, false);
    const auto keys = km->data_keys();
    const auto dir = std::filesystem::path(o.data_dir);
    std::cout << "encrypted files: " << km->file_count() << "\n"
              << "data keys: " << keys.size() << "\n"
              << "current key id: " << km->current_key_id() << "\n";
    for (const auto& k : keys) {
        if (k.id != km->current_key_id()) continue;
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
        std::cout << "current key method: " << atrest::to_string(k.method) << "\n"
                  << "current key age: " << (now - k.creation_time) << " s\n";
    }
    std::cout << "key.dict bytes: " << std::filesystem::file_size(dir / "key.dict") << "\n"
              << "file.dict bytes: " << std::filesystem::file_size(dir / "file.dict") << "\n";
}

}  // namespace atrest_ctl
