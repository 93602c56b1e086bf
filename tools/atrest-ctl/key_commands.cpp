// Subcommands about keys: keygen, dump-keys, rotate-master-key, rotate-data-key, collect-keys, stats.
#include "commands.hpp"

#include <chrono>
#include <iostream>
#include <set>

namespace atrest_ctl {

namespace {
std::vector<std::byte> read_or_empty(const std::filesystem::path& p) {
    return atrest::detail::posix::read_file_if_exists(p, "atrest metadata file").value_or(std::vector<std::byte>{});
}

std::uint64_t size_or_zero(const std::filesystem::path& p) { return read_or_empty(p).size(); }
}  // namespace

void keygen(const std::string& out) {
    atrest::generate_master_key_file(out);
    std::cout << "wrote a new master key to " << escaped(out) << " (mode 0600)\n";
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
    if (!flags_config(o).previous_master_key) {
        throw atrest::error(atrest::errc::invalid_argument,
                            "rotate-master-key needs the previous master key: --previous-master-key-file FILE (or a "
                            "[security.encryption.previous-master-key] section in --config)");
    }
    const auto config = open_config(o, true);
    const auto key_dict = std::filesystem::path(o.data_dir) / manager::key_dictionary_name;
    const auto before = read_or_empty(key_dict);
    // Opening re-seals under the current key when only the previous one could open key.dict.
    const auto km = atrest::open_key_manager(config, o.data_dir, warn);
    const bool resealed = read_or_empty(key_dict) != before;
    std::cout << (resealed ? "re-sealed the key dictionary under " : "the key dictionary is already sealed under ")
              << escaped(km->master_key().describe()) << "\n";
}

void rotate_data_key(const key_options& o) {
    const auto config = open_config(o, true, true);
    std::uint64_t before = 0;
    if (!config.create_if_missing) {
        auto peek = config;
        peek.read_only = true;
        before = atrest::open_key_manager(peek, o.data_dir, warn)->current_key_id();
    }
    const auto km = atrest::open_key_manager(config, o.data_dir, warn);
    // A new method (or new metadata) already made a new key at open; a second one would only add a key.
    if (km->current_key_id() == before) km->rotate_data_key();
    std::cout << "rotated the data key: " << before << " -> " << km->current_key_id() << " ("
              << atrest::to_string(km->options().data_encryption_method) << ")\n";
}

void collect_keys(const key_options& o, bool dry_run, bool json) {
    const auto km = open_manager(o, !dry_run);
    std::set<std::uint64_t> used;
    for (const auto& [name, entry] : km->files()) used.insert(entry.key_id);
    std::vector<std::uint64_t> unused;
    for (const auto& k : km->data_keys()) {
        if (k.id != km->current_key_id() && !used.contains(k.id)) unused.push_back(k.id);
    }
    if (!dry_run) {
        const auto removed = km->collect_unused_keys();
        if (removed != unused.size()) {
            throw atrest::error(atrest::errc::io_error, "collect-keys: expected to remove " + std::to_string(unused.size()) +
                                                            " keys, removed " + std::to_string(removed));
        }
    }
    if (json) {
        std::cout << nlohmann::json{{"dry_run", dry_run}, {"unused_key_ids", unused}}.dump() << "\n";
        return;
    }
    for (auto id : unused) std::cout << (dry_run ? "unused: " : "removed: ") << id << "\n";
    std::cout << (dry_run ? "would remove " : "removed ") << unused.size() << " unused data key"
              << (unused.size() == 1 ? "" : "s") << "\n";
}

void stats(const key_options& o, bool prometheus, bool json) {
    if (prometheus) {
        // The same registry an engine would scrape, filled by a read-only open.
        atrest::prometheus_metrics registry;
        (void)atrest::open_key_manager(open_config(o, false), o.data_dir, warn, registry);
        std::cout << registry.render();
        return;
    }
    const auto km = open_manager(o, false);
    const auto keys = km->data_keys();
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const atrest::data_key* current = nullptr;
    for (const auto& k : keys) {
        if (k.id == km->current_key_id()) current = &k;
    }
    const auto key_dict_bytes = size_or_zero(km->data_dir() / manager::key_dictionary_name);
    const auto file_dict_bytes = size_or_zero(km->data_dir() / manager::file_dictionary_name);
    if (json) {
        nlohmann::json out = {{"encrypted_files", km->file_count()},
                              {"data_keys", keys.size()},
                              {"current_key_id", km->current_key_id()},
                              {"key_dict_bytes", key_dict_bytes},
                              {"file_dict_bytes", file_dict_bytes}};
        if (current != nullptr) {
            out["current_key_method"] = std::string(atrest::to_string(current->method));
            out["current_key_age_seconds"] = now - current->creation_time;
        }
        std::cout << out.dump() << "\n";
        return;
    }
    std::cout << "encrypted files: " << km->file_count() << "\n"
              << "data keys: " << keys.size() << "\n"
              << "current key id: " << km->current_key_id() << "\n";
    if (current != nullptr) {
        std::cout << "current key method: " << atrest::to_string(current->method) << "\n"
                  << "current key age: " << (now - current->creation_time) << " s\n";
    }
    std::cout << "key.dict bytes: " << key_dict_bytes << "\n"
              << "file.dict bytes: " << file_dict_bytes << "\n";
}

}  // namespace atrest_ctl
