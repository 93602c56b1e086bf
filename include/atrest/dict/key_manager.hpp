#pragma once
/// `atrest::key_manager` owns a data directory's encryption metadata: the sealed key dictionary
/// (`key.dict`) and the authenticated file dictionary (`file.dict`). It hands storage engines the
/// {method, data key, IV} of each file, rotates data keys, re-seals on master-key rotation, and
/// keeps both files crash-safe. Policies: master-key source, dictionary store, clock, metrics.

#include <atrest/cipher/cipher_policy.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/dict/clock_policy.hpp>
#include <atrest/dict/dictionary_store.hpp>
#include <atrest/dict/file_dictionary.hpp>
#include <atrest/dict/file_info.hpp>
#include <atrest/dict/key_dictionary.hpp>
#include <atrest/master_key/master_key_source.hpp>
#include <atrest/metrics/metrics_policy.hpp>
#include <atrest/secret_bytes.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest {

/// TiKV's `[security.encryption]` settings, with TiKV's defaults.
struct key_manager_options {
    atrest::method data_encryption_method = method::plaintext;
    std::chrono::seconds data_key_rotation_period = std::chrono::hours(168);
    bool enable_file_dictionary_log = true;
    std::uint64_t file_dictionary_rewrite_threshold = 1'000'000;
    /// Encryption with a plaintext master key leaves data keys readable on disk; refused unless set.
    bool allow_insecure_master_key = false;
    /// Inspect without changing a byte: no compaction, rotation, re-seal or temp-file cleanup at
    /// open, and every mutating call throws. For tools run beside a live engine.
    bool read_only = false;
};

template <master_key_source MasterKey, dictionary_store Store = posix_store, clock_policy Clock = system_clock_policy,
          metrics_policy Metrics = no_metrics>
class key_manager final {
public:
    static constexpr std::string_view key_dictionary_name = "key.dict";
    static constexpr std::string_view file_dictionary_name = "file.dict";
    /// Held (flock) by a writable open so a second writer cannot interleave file.dict records.
    static constexpr std::string_view lock_file_name = "atrest.lock";

    /// Opens (or creates) the metadata in `data_dir`. Before it returns: stale temp files are
    /// gone, a key dictionary opened by a previous master key is re-sealed under the current one,
    /// a due data-key rotation has happened, and the file dictionary is compacted in the
    /// configured format.
    key_manager(std::filesystem::path data_dir, MasterKey master_key, key_manager_options options = {},
                Store store = Store{}, Clock clock = Clock{}, Metrics metrics = Metrics{})
        : m_dir(std::move(data_dir)),
          m_key_path(m_dir / key_dictionary_name),
          m_file_path(m_dir / file_dictionary_name),
          m_options(options),
          m_master(std::move(master_key)),
          m_store(std::move(store)),
          m_clock(std::move(clock)),
          m_metrics(std::move(metrics)) {
        open();
    }

    key_manager(const key_manager&) = delete;
    key_manager& operator=(const key_manager&) = delete;

    /// Registers a new (or recreated) file under the current data key and a fresh random IV.
    /// Durable before it returns. With method plaintext, any stale entry is dropped instead.
    file_info new_file(std::string_view path) {
        require_writable("new_file");
        std::shared_lock guard(m_collect_mutex);  // the key we hand out stays until the entry is durable
        const auto keys = current_keys();
        if (m_options.data_encryption_method == method::plaintext) {
            if (m_files->get(path)) commit({op(detail::file_dict::record_type::remove, path)});
            return {};
        }
        const data_key& key = *keys->current();
        file_entry entry{key.id, key.method, {}};
        detail::fill_random(entry.iv);
        commit({op(detail::file_dict::record_type::put, path, entry)});
        return {key.method, key.id, key.key, entry.iv};
    }

    /// The file's encryption; an unknown path is a plaintext file (as TiKV and RocksDB expect).
    [[nodiscard]] file_info get_file(std::string_view path) const {
        const auto entry = m_files->get(path);
        if (!entry || entry->method == method::plaintext) return {};
        const auto keys = snapshot();
        const auto it = keys->keys.find(entry->key_id);
        if (it == keys->keys.end()) {
            throw error(errc::not_found, m_file_path.string() + ": entry for '" + std::string(path) +
                                             "' uses data key " + std::to_string(entry->key_id) + ", which " +
                                             m_key_path.string() + " does not contain");
        }
        return {entry->method, entry->key_id, it->second.key, entry->iv};
    }

    /// Drops the entry for `path`, or for every file under it when it is a directory. Unknown
    /// paths are fine and cost no I/O.
    void delete_file(std::string_view path) {
        require_writable("delete_file");
        if (!m_files->has_tree(path)) return;
        commit({op(detail::file_dict::record_type::remove_tree, path)});
    }

    /// `dst` gets `src`'s entry (a hard link shares the bytes, so it shares key and IV).
    void link_file(std::string_view src, std::string_view dst) {
        require_writable("link_file");
        if (const auto entry = m_files->get(src)) {
            commit({op(detail::file_dict::record_type::put, dst, *entry)});
        } else if (m_files->get(dst)) {
            commit({op(detail::file_dict::record_type::remove, dst)});
        }
    }

    /// Crash-safe rename in the order adapters must follow: link the entry to `dst`, rename the
    /// file (`do_rename`), drop `src`'s entry. A crash between steps leaves an extra entry, never
    /// a file without one. If `do_rename` throws, `dst`'s previous entry is restored.
    template <class RenameFn>
    void rename_file(std::string_view src, std::string_view dst, RenameFn&& do_rename) {
        require_writable("rename_file");
        if (src == dst) {  // rename(2) of a path onto itself changes nothing
            std::forward<RenameFn>(do_rename)();
            return;
        }
        const auto previous_dst = m_files->get(dst);
        link_file(src, dst);
        try {
            std::forward<RenameFn>(do_rename)();
        } catch (...) {
            if (previous_dst) {
                commit({op(detail::file_dict::record_type::put, dst, *previous_dst)});
            } else if (m_files->get(dst)) {
                commit({op(detail::file_dict::record_type::remove, dst)});
            }
            throw;
        }
        if (m_files->get(src)) commit({op(detail::file_dict::record_type::remove, src)});
    }

    /// The dictionary half of a rename, for callers that moved the file themselves.
    void rename_file(std::string_view src, std::string_view dst) {
        rename_file(src, dst, [] {});
    }

    /// Rotates the data key if the period passed, the method changed, the clock went backwards,
    /// or the key was exposed and the master key is now secure. Returns whether it rotated.
    bool rotate_if_due() {
        require_writable("rotate_if_due");
        const auto before = snapshot()->current_key_id;
        return current_keys()->current_key_id != before;
    }

    /// Makes a new current data key now (e.g. `atrest-ctl rotate-data-key`).
    void rotate_data_key() {
        require_writable("rotate_data_key");
        if (m_options.data_encryption_method == method::plaintext) {
            throw error(errc::invalid_argument, "cannot rotate the data key: data-encryption-method is plaintext");
        }
        std::lock_guard writer(m_key_write_mutex);
        auto next = std::make_shared<key_state>(*snapshot());
        add_data_key(*next);
        store_keys(next);
    }

    /// Removes data keys that no file uses any more (TiKV keeps them forever). The current key
    /// stays. Returns how many were removed; their ids are never handed out again.
    std::size_t collect_unused_keys() {
        require_writable("collect_unused_keys");
        std::unique_lock guard(m_collect_mutex);
        std::lock_guard writer(m_key_write_mutex);
        const auto used = m_files->referenced_key_ids();
        auto next = std::make_shared<key_state>(*snapshot());
        std::size_t removed = 0;
        for (auto it = next->keys.begin(); it != next->keys.end();) {
            if (it->first != next->current_key_id && !used.contains(it->first)) {
                next->retired_ids.push_back(it->first);
                it = next->keys.erase(it);
                ++removed;
            } else {
                ++it;
            }
        }
        if (removed > 0) store_keys(next);
        return removed;
    }

    // ---- introspection (tools, tests, metrics)
    [[nodiscard]] std::uint64_t current_key_id() const { return snapshot()->current_key_id; }
    [[nodiscard]] std::vector<data_key> data_keys() const {
        const auto keys = snapshot();
        std::vector<data_key> out;
        for (const auto& [id, k] : keys->keys) out.push_back(k);
        return out;
    }
    [[nodiscard]] std::vector<std::pair<std::string, file_entry>> files() const { return m_files->entries(); }
    [[nodiscard]] std::size_t file_count() const { return m_files->size(); }
    [[nodiscard]] const std::filesystem::path& data_dir() const noexcept { return m_dir; }
    [[nodiscard]] const key_manager_options& options() const noexcept { return m_options; }
    [[nodiscard]] Metrics& metrics() noexcept { return m_metrics; }
    [[nodiscard]] MasterKey& master_key() noexcept { return m_master; }

private:
    void require_writable(const char* operation) const {
        if (m_options.read_only) {
            throw error(errc::invalid_argument, std::string(operation) + ": the key manager for '" + m_dir.string() +
                                                    "' was opened read-only");
        }
    }

    [[nodiscard]] static file_dictionary_op op(detail::file_dict::record_type type, std::string_view path,
                                               file_entry entry = {}) {
        return {type, std::string(path), entry};
    }

    void commit(std::initializer_list<file_dictionary_op> ops) { m_files->commit(std::span(ops.begin(), ops.size())); }

    [[nodiscard]] std::shared_ptr<const key_state> snapshot() const {
        std::lock_guard lock(m_state_mutex);
        return m_keys;
    }

    [[nodiscard]] std::int64_t now_seconds() const {
        return std::chrono::duration_cast<std::chrono::seconds>(m_clock.now().time_since_epoch()).count();
    }

    /// Why the current data key must be replaced, or nullptr when it is fine.
    [[nodiscard]] const char* rotation_reason(const key_state& keys, std::int64_t now) const {
        if (m_options.data_encryption_method == method::plaintext) return nullptr;
        const data_key* current = keys.current();
        if (current == nullptr) return "no data key yet";
        if (current->method != m_options.data_encryption_method) return "encryption method changed";
        if (current->creation_time > now) return "clock went backwards";
        if (now - current->creation_time >= m_options.data_key_rotation_period.count()) return "rotation period passed";
        if (current->was_exposed && m_master.is_secure()) return "key was exposed and the master key is now secure";
        return nullptr;
    }

    /// The key state with a usable current key, rotating first when due.
    [[nodiscard]] std::shared_ptr<const key_state> current_keys() {
        auto keys = snapshot();
        if (rotation_reason(*keys, now_seconds()) == nullptr) return keys;
        std::lock_guard writer(m_key_write_mutex);
        keys = snapshot();  // another thread may have rotated meanwhile
        if (rotation_reason(*keys, now_seconds()) == nullptr) return keys;
        auto next = std::make_shared<key_state>(*keys);
        add_data_key(*next);
        store_keys(next);
        return next;
    }

    /// A random, non-zero id that no key ever had (a collision once lost data: TiKV #14585).
    void add_data_key(key_state& keys) const {
        data_key k;
        do {
            k.id = detail::random_u64();
        } while (k.id == 0 || keys.id_ever_used(k.id));
        k.method = m_options.data_encryption_method;
        k.creation_time = now_seconds();
        k.was_exposed = !m_master.is_secure();
        k.key = std::make_shared<const secret_bytes>(secret_bytes::random(key_size_of(k.method)));
        keys.current_key_id = k.id;
        keys.keys.emplace(k.id, std::move(k));
    }

    /// Seals and atomically replaces key.dict, then publishes the new state.
    void store_keys(std::shared_ptr<key_state> next) {
        const auto aad = detail::key_dict::associated_data(detail::key_dict::make_header(0));
        const auto plain = detail::key_dict::serialize(*next);
        const auto sealed = m_master.seal(plain.bytes(), aad);
        const auto bytes = detail::key_dict::encode_file(detail::key_dict::make_header(sealed.size()), sealed);
        const auto start = std::chrono::steady_clock::now();
        m_store.replace(m_key_path, bytes);
        m_metrics.observe_meta_duration(meta_file::key_dictionary, meta_operation::write,
                                        std::chrono::steady_clock::now() - start);
        m_metrics.set_meta_file_size(meta_file::key_dictionary, bytes.size());
        m_metrics.set_data_key_count(next->keys.size());
        std::lock_guard lock(m_state_mutex);
        m_keys = std::move(next);
    }

    [[nodiscard]] std::optional<std::vector<std::byte>> timed_read(meta_file which, const std::filesystem::path& path) {
        const auto start = std::chrono::steady_clock::now();
        auto bytes = m_store.read(path);
        m_metrics.observe_meta_duration(which, meta_operation::read, std::chrono::steady_clock::now() - start);
        return bytes;
    }

    void open();

    std::filesystem::path m_dir;
    std::filesystem::path m_key_path;
    std::filesystem::path m_file_path;
    key_manager_options m_options;
    MasterKey m_master;
    Store m_store;
    Clock m_clock;
    Metrics m_metrics;

    mutable std::mutex m_state_mutex;       ///< guards the m_keys pointer only
    std::shared_ptr<const key_state> m_keys;
    std::mutex m_key_write_mutex;           ///< one key.dict writer at a time
    std::shared_mutex m_collect_mutex;      ///< new_file (shared) vs collect_unused_keys (exclusive)
    std::unique_ptr<file_dictionary<Store, Metrics>> m_files;
};

template <master_key_source MasterKey, dictionary_store Store, clock_policy Clock, metrics_policy Metrics>
void key_manager<MasterKey, Store, Clock, Metrics>::open() {
    if (!m_master.is_secure() && m_options.data_encryption_method != method::plaintext &&
        !m_options.allow_insecure_master_key) {
        throw error(errc::insecure, "data-encryption-method is " + std::string(to_string(m_options.data_encryption_method)) +
                                        " but the master key is " + m_master.describe() +
                                        ", which stores data keys unprotected; allow insecure mode explicitly to do this");
    }
    if (!m_options.read_only) {
        std::error_code ec;
        std::filesystem::create_directories(m_dir, ec);
        if (ec) throw error(errc::io_error, "create directory '" + m_dir.string() + "': " + ec.message());
        if constexpr (lockable_store<Store>) m_store.lock(m_dir / lock_file_name);
        m_store.remove(detail::posix::temp_path_for(m_key_path));  // left by a crash mid-replace
        m_store.remove(detail::posix::temp_path_for(m_file_path));
    }

    const auto key_bytes = timed_read(meta_file::key_dictionary, m_key_path);
    auto file_bytes = timed_read(meta_file::file_dictionary, m_file_path);
    auto state = std::make_shared<key_state>();
    bool write_keys = false;
    if (!key_bytes && m_options.read_only) {
        throw error(errc::not_found, m_key_path.string() + " does not exist (nothing to open read-only)");
    }
    if (!key_bytes) {
        if (file_bytes) {
            // First start writes file.dict before key.dict. A file.dict with entries but no key.dict
            // is not that: the data keys are gone, and starting over would hide it.
            const auto parsed = detail::file_dict::parse_file(*file_bytes, {}, m_file_path.string());
            if (!parsed.entries.empty()) {
                throw error(errc::not_found, m_key_path.string() + " is missing but " + m_file_path.string() + " lists " +
                                                 std::to_string(parsed.entries.size()) +
                                                 " encrypted files whose data keys it held; restore it from a backup");
            }
            file_bytes.reset();  // an interrupted first start: begin again
        }
        state->file_dictionary_mac_key =
            std::make_shared<const secret_bytes>(secret_bytes::random(detail::key_dict::mac_key_size));
        write_keys = true;
    } else {
        if (!file_bytes) {
            throw error(errc::not_found, m_file_path.string() + " is missing but " + m_key_path.string() +
                                             " exists; starting with an empty file dictionary would make every encrypted "
                                             "file unreadable; restore it from a backup");
        }
        const auto sealed = detail::key_dict::decode_file(*key_bytes, m_key_path.string());
        const auto aad = detail::key_dict::associated_data(std::span(*key_bytes).first(detail::key_dict::header_size));
        auto opened = m_master.open(sealed, aad);
        *state = detail::key_dict::parse(opened.data.bytes(), m_key_path.string());
        write_keys = opened.needs_reseal;  // master-key rotation: re-seal under the new key now
        const bool stored_in_clear = sealed[0] == static_cast<std::byte>(sealed_backend::plaintext);
        if (stored_in_clear && m_master.is_secure()) {
            for (auto& [id, k] : state->keys) k.was_exposed = true;
            write_keys = true;
        }
    }
    if (m_options.read_only) {
        write_keys = false;
    } else if (rotation_reason(*state, now_seconds()) != nullptr) {
        add_data_key(*state);
        write_keys = true;
    }
    file_dictionary_options file_options{m_options.enable_file_dictionary_log, m_options.file_dictionary_rewrite_threshold,
                                         m_options.read_only};
    m_files = std::make_unique<file_dictionary<Store, Metrics>>(m_file_path, m_store, m_metrics,
                                                                state->file_dictionary_mac_key, file_options, file_bytes);
    if (write_keys) {
        store_keys(state);
    } else {
        m_metrics.set_meta_file_size(meta_file::key_dictionary, key_bytes->size());
        m_metrics.set_data_key_count(state->keys.size());
        std::lock_guard lock(m_state_mutex);
        m_keys = std::move(state);
    }
    m_metrics.set_initialized(true);
}

}  // namespace atrest
