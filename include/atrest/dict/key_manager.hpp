#pragma once
/// `atrest::key_manager` owns a data directory's encryption metadata: the sealed key dictionary
/// (`key.dict`) and the authenticated file dictionary (`file.dict`). It hands storage engines the
/// {method, data key, IV} of each file, rotates data keys, re-seals on master-key rotation, and
/// keeps both files crash-safe. Policies: master-key source, dictionary store, clock, metrics.
///
/// It is also the one owner of a file's identity: every call that names a file takes a
/// `std::filesystem::path` and `name_of` alone turns it into the dictionary's name (relative to
/// the data directory when inside it, else absolute; lexically normal), so one file reached as
/// `x`, `./x`, `a/../x` or an absolute path from any working directory is one entry.
///
/// Two layers: engines that are not RocksDB create, open, rename, link and remove files through
/// it (`create`, `open`, `rename`, `link`, `remove`) and keep the owning `data_file` it returns;
/// adapters that do their own file I/O (the RocksDB `FileSystem`) use the dictionary calls TiKV
/// names (`new_file`, `get_file`, `delete_file`, `link_file`, `rename_file`) in the documented
/// order. docs/format.md says what each order guarantees after a crash.

#include <atrest/cipher/methods.hpp>
#include <atrest/detail/posix.hpp>
#include <atrest/detail/random.hpp>
#include <atrest/detail/steps.hpp>
#include <atrest/dict/system_clock.hpp>
#include <atrest/dict/posix_store.hpp>
#include <atrest/dict/file_dictionary.hpp>
#include <atrest/dict/file_info.hpp>
#include <atrest/dict/key_dictionary.hpp>
#include <atrest/dict/options.hpp>
#include <atrest/file/data_file.hpp>
#include <atrest/file/posix_file.hpp>
#include <atrest/master_key/sealed_blob.hpp>
#include <atrest/metrics/no_metrics.hpp>
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

template <master_key_source MasterKey, dictionary_store Store = posix_store, clock_policy Clock = system_clock_policy,
          metrics_policy Metrics = no_metrics>
class key_manager final {
public:
    static constexpr std::string_view key_dictionary_name = "key.dict";
    static constexpr std::string_view file_dictionary_name = "file.dict";
    /// Held (flock) by a writable open so a second writer cannot interleave file.dict records.
    static constexpr std::string_view lock_file_name = "atrest.lock";

    /// Opens (or, with `create_if_missing`, creates) the metadata in `data_dir`. Before it
    /// returns: stale temp files are gone, renames a crash left half done are settled, a key
    /// dictionary opened by a previous master key is re-sealed under the current one, a due
    /// data-key rotation has happened, and the file dictionary is compacted in the configured
    /// format.
    key_manager(std::filesystem::path data_dir, MasterKey master_key, key_manager_options options = {},
                Store store = Store{}, Clock clock = Clock{}, Metrics metrics = Metrics{})
        : m_dir(absolute_normal(data_dir)),
          m_dir_resolved(detail::posix::resolved(m_dir)),
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

    // ---- names

    /// The dictionary's name for `path`: relative to the data directory (as given, or with its
    /// symbolic links resolved) when the path lies inside it, so the directory can be moved or
    /// restored as a unit; else absolute. Lexical: `.`/`..`/`//`/a trailing `/` are normalised,
    /// a relative path is taken from the working directory, and links below the data directory
    /// are not followed (a link is a name of its own). "." names the data directory itself. An
    /// empty path is `errc::invalid_argument`.
    [[nodiscard]] std::string name_of(const std::filesystem::path& path) const {
        if (path.empty()) throw error(errc::invalid_argument, "an empty path names no file");
        std::filesystem::path p = path.is_absolute() ? path : detail::posix::current_directory() / path;
        p = p.lexically_normal();
        if (!p.has_filename() && p != p.root_path()) p = p.parent_path();
        for (const auto* root : {&m_dir, &m_dir_resolved}) {
            const auto rel = p.lexically_relative(*root);
            if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
        }
        return p.generic_string();
    }

    /// Where the file a dictionary name refers to lies.
    [[nodiscard]] std::filesystem::path path_of(std::string_view name) const {
        if (!name.empty() && name.front() == '/') return std::filesystem::path(name);
        return name == "." ? m_dir : m_dir / name;
    }

    // ---- files, owned: for engines that keep open files in their own tables

    /// Creates `path` exclusively, then registers it under the current data key and a fresh IV,
    /// then makes the new name durable (directory fsync). A failure leaves neither file nor entry
    /// and never touches another file's entry: an existing `path` is `errc::already_exists`, its
    /// file and entry untouched. A crash in between can leave an empty file without an entry,
    /// which reads as an empty plaintext file.
    [[nodiscard]] data_file create(const std::filesystem::path& path) {
        require_writable("create");
        const std::string name = name_of(path);
        require_file_name(name, "create");
        const auto real = path_of(name);
        posix_file file(real, open_flags::create_exclusive);
        detail::step("create:file-created");
        file_info info;
        try {
            info = new_file_named(name);
            detail::step("create:entry-committed");
            detail::posix::fsync_dir(real.parent_path());
        } catch (...) {
            (void)detail::posix::unlink_path(real);
            try {
                if (info.encrypted()) commit({remove_op(name)});
            } catch (...) {  // an entry without a file is harmless: the next create replaces it
            }
            throw;
        }
        return data_file(info, std::move(file), access::append);
    }

    /// Opens an existing file as its entry says (a path the dictionary does not know is a
    /// plaintext file). `access::append` continues the file's keystream where the file ends.
    [[nodiscard]] data_file open(const std::filesystem::path& path, access mode = access::read) const {
        const std::string name = name_of(path);
        const file_info info = get_file_named(name);
        posix_file file(path_of(name), mode == access::read ? open_flags::read_only : open_flags::read_write);
        return data_file(info, std::move(file), mode);
    }

    /// Renames the file and its entry (replacing `dst` and its entry if present), crash-safe at
    /// every step (see `rename_file`); the directory is fsynced before the outcome is recorded.
    void rename(const std::filesystem::path& src, const std::filesystem::path& dst) {
        bool dir_synced = true;
        std::filesystem::path dst_dir;
        rename_file(src, dst, [&] {
            const auto from = path_of(name_of(src));
            const auto to = path_of(name_of(dst));
            detail::posix::rename_path(from, to);
            detail::step("rename:file-renamed");
            dst_dir = to.parent_path();
            try {  // the rename happened: a failed fsync must not record it as not done
                detail::posix::fsync_dir(dst_dir);
                if (from.parent_path() != dst_dir) detail::posix::fsync_dir(from.parent_path());
            } catch (...) {
                dir_synced = false;
            }
        });
        if (!dir_synced) detail::posix::fsync_dir(dst_dir);  // report it now
    }

    /// A hard link `dst` to `src`, sharing its entry (same bytes, same key and IV). `dst` must not
    /// exist (`errc::already_exists`), so no live file's entry is ever replaced.
    void link(const std::filesystem::path& src, const std::filesystem::path& dst) {
        const auto to = path_of(name_of(dst));
        link_file(src, dst, [&] {
            detail::posix::link_path(path_of(name_of(src)), to);
            detail::step("link:file-linked");
        });
        detail::posix::fsync_dir(to.parent_path());
    }

    /// Removes the file, then its entry (a crash in between leaves a stale entry without a file,
    /// which the next create of the name replaces). Returns whether a file was there.
    bool remove(const std::filesystem::path& path) {
        require_writable("remove");
        const std::string name = name_of(path);
        require_file_name(name, "remove");
        const auto real = path_of(name);
        const bool existed = detail::posix::unlink_path(real);
        if (existed) detail::posix::fsync_dir(real.parent_path());
        detail::step("remove:file-removed");
        delete_file(path);
        return existed;
    }

    // ---- the dictionary alone: for adapters that do their own file I/O

    /// Registers a new (or recreated) file under the current data key and a fresh random IV.
    /// Durable before it returns. With method plaintext, any stale entry is dropped instead.
    /// Replaces an existing entry: call it only for a file that is new or was just truncated
    /// (the RocksDB adapter creates or truncates the file first), or use `create`.
    file_info new_file(const std::filesystem::path& path) {
        require_writable("new_file");
        const std::string name = name_of(path);
        require_file_name(name, "new_file");
        return new_file_named(name);
    }

    /// The file's encryption; an unknown path is a plaintext file (as TiKV and RocksDB expect).
    [[nodiscard]] file_info get_file(const std::filesystem::path& path) const { return get_file_named(name_of(path)); }

    /// Drops the entry for `path`, or for every file under it when it is a directory (the data
    /// directory itself: every relative entry). Unknown paths are fine and cost no I/O. For a
    /// file: delete the file first, then its entry.
    void delete_file(const std::filesystem::path& path) {
        require_writable("delete_file");
        const std::string name = name_of(path);
        if (!m_files->has_tree(name)) return;
        commit({op(detail::file_dict::record_type::remove_tree, name)});
    }

    /// `dst` gets `src`'s entry (a hard link shares the bytes, so it shares key and IV), then
    /// `do_link` makes the link; if it throws, `dst`'s previous entry is restored. `dst` must not
    /// exist as a file. A crash between the steps leaves an entry without a file (harmless).
    template <class LinkFn>
    void link_file(const std::filesystem::path& src, const std::filesystem::path& dst, LinkFn&& do_link) {
        require_writable("link_file");
        const std::string s = name_of(src);
        const std::string d = name_of(dst);
        require_file_name(d, "link_file");
        std::shared_lock collect(m_collect_mutex);  // src's key must outlive the copy of its entry
        const auto entry = m_files->get(s);
        const auto previous = m_files->get(d);
        detail::step("link:entry-read");
        if (entry) {
            commit({op(detail::file_dict::record_type::put, d, *entry)});
        } else if (previous) {
            commit({remove_op(d)});
        }
        detail::step("link:entry-committed");
        try {
            std::forward<LinkFn>(do_link)();
        } catch (...) {
            try {
                if (previous) {
                    commit({op(detail::file_dict::record_type::put, d, *previous)}, commit_mode::owed);
                } else if (entry) {
                    commit({remove_op(d)}, commit_mode::owed);
                }
            } catch (...) {  // restored in memory; the record is written ahead of the next one
            }
            throw;
        }
    }

    /// Crash-safe rename of `src` onto `dst` (which may exist and have an entry, like RocksDB's
    /// CURRENT): (1) a durable "rename begins" record naming both and `src`'s (device, inode) —
    /// entries unchanged; (2) `do_rename` renames the file (it must throw only if the file was not
    /// renamed, and should make the rename durable before it returns); (3) a "rename done" record
    /// gives `dst` `src`'s entry and drops `src`'s (or, if step 2 threw, an "aborted" record). A
    /// kill at any point leaves the begin record alone, and the next open settles it by looking
    /// where the file is: at `dst` with the recorded identity (done) or still at `src` (not done).
    template <class RenameFn>
    void rename_file(const std::filesystem::path& src, const std::filesystem::path& dst, RenameFn&& do_rename) {
        require_writable("rename_file");
        const std::string s = name_of(src);
        const std::string d = name_of(dst);
        require_file_name(s, "rename_file");
        require_file_name(d, "rename_file");
        if (s == d) {  // rename(2) of a path onto itself changes nothing
            std::forward<RenameFn>(do_rename)();
            return;
        }
        const auto identity = detail::posix::identity_of(path_of(s));
        if (identity && identity == detail::posix::identity_of(path_of(d))) {
            // Two hard links of one file: rename(2) leaves both names in place, and both already
            // have the file's entry. Recording a move would strand src's name without one.
            std::forward<RenameFn>(do_rename)();
            return;
        }
        std::shared_lock collect(m_collect_mutex);  // src's key stays while dst takes its entry
        file_dictionary_op step{detail::file_dict::record_type::rename_begin, {}, {}, {s, d, identity}};
        commit({step});
        detail::step("rename:begun");
        try {
            std::forward<RenameFn>(do_rename)();
        } catch (...) {
            step.type = detail::file_dict::record_type::rename_abort;
            try {
                commit({step}, commit_mode::owed);
            } catch (...) {  // settled in memory; the record is written ahead of the next one
            }
            throw;
        }
        step.type = detail::file_dict::record_type::rename_commit;
        commit({step}, commit_mode::owed);  // the file moved: dst's entry follows even if this throws
        detail::step("rename:committed");
    }

    // ---- data keys

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
    /// stays. Returns how many were removed; their ids are never handed out again. Waits for
    /// creates, links and renames in flight, so a key being copied into an entry is never lost.
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
    /// Renames begun and not yet recorded as done or aborted (only while one is in progress).
    [[nodiscard]] detail::file_dict::pending_list pending_renames() const { return m_files->pending_renames(); }
    /// The data directory, absolute and lexically normal.
    [[nodiscard]] const std::filesystem::path& data_dir() const noexcept { return m_dir; }
    [[nodiscard]] const key_manager_options& options() const noexcept { return m_options; }
    [[nodiscard]] Metrics& metrics() noexcept { return m_metrics; }
    [[nodiscard]] MasterKey& master_key() noexcept { return m_master; }

private:
    [[nodiscard]] static std::filesystem::path absolute_normal(const std::filesystem::path& dir) {
        if (dir.empty()) throw error(errc::invalid_argument, "an empty path names no data directory");
        auto p = (dir.is_absolute() ? dir : detail::posix::current_directory() / dir).lexically_normal();
        if (!p.has_filename() && p != p.root_path()) p = p.parent_path();
        return p;
    }

    void require_writable(const char* operation) const {
        if (m_options.read_only) {
            throw error(errc::invalid_argument, std::string(operation) + ": the key manager for '" + m_dir.string() +
                                                    "' was opened read-only");
        }
    }

    /// "." (the data directory) and "/" name directories, never a file of their own.
    void require_file_name(const std::string& name, const char* operation) const {
        if (name == "." || name == "/") {
            throw error(errc::invalid_argument, std::string(operation) + ": '" + path_of(name).string() +
                                                    "' is a directory (the data directory or the root), not a file");
        }
    }

    [[nodiscard]] static file_dictionary_op op(detail::file_dict::record_type type, std::string name,
                                               file_entry entry = {}) {
        return {type, std::move(name), entry, {}};
    }
    [[nodiscard]] static file_dictionary_op remove_op(std::string name) {
        return op(detail::file_dict::record_type::remove, std::move(name));
    }

    void commit(std::initializer_list<file_dictionary_op> ops, commit_mode mode = commit_mode::durable) {
        m_files->commit(std::span(ops.begin(), ops.size()), mode);
    }

    file_info new_file_named(const std::string& name) {
        std::shared_lock guard(m_collect_mutex);  // the key we hand out stays until the entry is durable
        const auto keys = current_keys();
        if (m_options.data_encryption_method == method::plaintext) {
            if (m_files->get(name)) commit({remove_op(name)});
            return {};
        }
        const data_key& key = *keys->current();
        const method m = method_for_file(m_options, key.method, name);
        file_entry entry{key.id, m, {}};
        if (is_authenticated(m)) {
            entry.iv = iv_for_segment_size(segment_size_for_file(m_options, name));  // the salt is in the file
        } else {
            detail::fill_random(entry.iv);
        }
        commit({op(detail::file_dict::record_type::put, name, entry)});
        return {m, key.id, key.key, entry.iv};
    }

    [[nodiscard]] file_info get_file_named(std::string_view name) const {
        const auto entry = m_files->get(name);
        if (!entry || entry->method == method::plaintext) return {};
        const auto keys = snapshot();
        const auto it = keys->keys.find(entry->key_id);
        if (it == keys->keys.end()) {
            throw error(errc::not_found, m_file_path.string() + ": entry for '" + std::string(name) +
                                             "' uses data key " + std::to_string(entry->key_id) + ", which " +
                                             m_key_path.string() + " does not contain");
        }
        return {entry->method, entry->key_id, it->second.key, entry->iv};
    }

    /// Settles a rename a crash interrupted: did the file move from src to dst?
    [[nodiscard]] bool rename_happened(const detail::file_dict::pending_rename& r) const {
        const auto at_src = detail::posix::identity_of(path_of(r.src));
        if (r.identity) {
            if (detail::posix::identity_of(path_of(r.dst)) == r.identity) return true;
            if (at_src == r.identity) return false;
        }
        return !at_src.has_value();
    }

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

    [[nodiscard]] error no_metadata_error() const {
        return error(errc::not_found,
                     "no atrest metadata in '" + m_dir.string() + "': neither " + std::string(key_dictionary_name) +
                         " nor " + std::string(file_dictionary_name) +
                         " exists (a mistyped or emptied data directory?); only an engine's first start creates "
                         "them" +
                         (m_options.read_only ? " (this open is read-only)" : " (create_if_missing is off)"));
    }

    void open();

    std::filesystem::path m_dir;
    std::filesystem::path m_dir_resolved;
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
    std::shared_mutex m_collect_mutex;      ///< new/link/rename (shared) vs collect_unused_keys (exclusive)
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
    if (m_options.authenticated_files != authenticated_files::none || is_authenticated(m_options.data_encryption_method)) {
        file_stream::check_segment_size(m_options.authenticated_segment_size);
        file_stream::check_segment_size(m_options.authenticated_log_segment_size);
    }
    const bool may_create = m_options.create_if_missing && !m_options.read_only;
    if (!may_create && !m_store.read(m_key_path) && !m_store.read(m_file_path)) throw no_metadata_error();
    if (!m_options.read_only) {
        if (may_create) detail::posix::create_directories(m_dir);
        if constexpr (lockable_store<Store>) m_store.lock(m_dir / lock_file_name);
        m_store.remove_temporaries(m_key_path);  // left by a crash mid-replace
        m_store.remove_temporaries(m_file_path);
    }

    const auto key_bytes = timed_read(meta_file::key_dictionary, m_key_path);
    auto file_bytes = timed_read(meta_file::file_dictionary, m_file_path);
    auto state = std::make_shared<key_state>();
    bool write_keys = false;
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
            if (!may_create) throw no_metadata_error();
            file_bytes.reset();  // an interrupted first start: begin again
        } else if (!may_create) {
            throw no_metadata_error();
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
    m_files = std::make_unique<file_dictionary<Store, Metrics>>(
        m_file_path, m_store, m_metrics, state->file_dictionary_mac_key, m_options, file_bytes,
        [this](const detail::file_dict::pending_rename& r) { return rename_happened(r); });
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
