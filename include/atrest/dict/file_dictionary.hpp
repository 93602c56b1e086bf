#pragma once
/// The file dictionary at run time: an in-memory map that readers query under a shared lock
/// (they never wait for disk), and a writer path that group-commits. Concurrent writers queue
/// their records; one of them becomes the leader, appends the whole batch with one write and one
/// fsync, applies it to the map and wakes the others.
///
/// Failure rules (docs/format.md, "Crash safety"):
/// - A failed append is cut back off the file (or, if even that fails, the next batch rewrites
///   the file whole), so a full disk never leaves a record that a later start would trip over,
///   and the in-memory MAC chain always matches the file.
/// - A compaction only replaces the file; it never fails an operation that was already durable.
///   If it cannot be written (ENOSPC), the log simply grows and compaction is tried again later.
/// - Records that must take effect whether or not they reach the disk (the outcome of a rename
///   whose file already moved) are applied in memory and written before anything else.

#include <atrest/dict/posix_store.hpp>
#include <atrest/dict/log_format.hpp>
#include <atrest/dict/options.hpp>
#include <atrest/metrics/no_metrics.hpp>
#include <atrest/secret_bytes.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrest {

/// One change to the file dictionary.
struct file_dictionary_op {
    detail::file_dict::record_type type = detail::file_dict::record_type::put;
    std::string path;                          ///< put, remove, remove_tree
    file_entry entry;                          ///< put
    detail::file_dict::pending_rename rename;  ///< rename_begin, rename_commit, rename_abort
};

/// Whether a failed commit leaves its records undone (`durable`), or applies them in memory anyway
/// and writes them ahead of the next batch (`owed`): for facts that already happened on disk.
enum class commit_mode : bool { durable, owed };

template <dictionary_store Store, metrics_policy Metrics>
class file_dictionary final {
public:
    /// Loads `existing` (verifying every record's MAC), settles every rename it left pending by
    /// asking `rename_happened(pending)`, then (unless read-only) rewrites the file compacted in
    /// the configured format: a torn tail is dropped and a format switch (log <-> snapshot-only)
    /// takes effect here. If that rewrite cannot be written (a full disk), a file already in the
    /// configured format is kept: its torn tail is cut off (which needs no space) and the outcome
    /// of each pending rename is appended.
    template <class RenameHappened>
    file_dictionary(std::filesystem::path path, Store& store, Metrics& metrics,
                    std::shared_ptr<const secret_bytes> mac_key, const key_manager_options& options,
                    const std::optional<std::vector<std::byte>>& existing, RenameHappened&& rename_happened)
        : m_path(std::move(path)),
          m_store(store),
          m_metrics(metrics),
          m_mac_key(std::move(mac_key)),
          m_log(options.enable_file_dictionary_log),
          m_threshold(options.file_dictionary_rewrite_threshold),
          m_next_compaction(options.file_dictionary_rewrite_threshold),
          m_chain(m_mac_key->bytes(), detail::file_dict::make_header(version())) {
        detail::file_dict::parse_result parsed;
        if (existing) {
            parsed = detail::file_dict::parse_file(*existing, m_mac_key->bytes(), m_path.string());
            m_entries = std::move(parsed.entries);
            m_file_size = existing->size();
        }
        std::vector<file_dictionary_op> outcomes;
        for (const auto& pending : parsed.pending) {
            const bool happened = rename_happened(pending);
            file_dictionary_op op{happened ? detail::file_dict::record_type::rename_commit
                                           : detail::file_dict::record_type::rename_abort,
                                  {}, {}, pending};
            apply(m_entries, m_pending, op, m_removals);
            outcomes.push_back(std::move(op));
        }
        if (options.read_only) {
            report();
            return;
        }
        try {
            rewrite();
        } catch (const error&) {
            if (!existing || parsed.version != version() || (!outcomes.empty() && !m_log)) throw;
            if (parsed.torn_tail) m_store.truncate(m_path, parsed.valid_length);
            m_chain.reset_to(parsed.last_mac);
            m_file_size = parsed.valid_length;
            m_removals = parsed.removals;
            if (!outcomes.empty()) {
                std::vector<std::byte> buf;
                const auto chain_before = m_chain.last();
                for (const auto& op : outcomes) encode(buf, op);
                append_durably(buf, chain_before);
            }
            report();
        }
    }

    file_dictionary(const file_dictionary&) = delete;
    file_dictionary& operator=(const file_dictionary&) = delete;

    [[nodiscard]] std::optional<file_entry> get(std::string_view path) const {
        std::shared_lock lock(m_map_mutex);
        const auto it = m_entries.find(path);
        if (it == m_entries.end()) return std::nullopt;
        return it->second;
    }

    /// Whether `path` or anything under it has an entry (O(log n)); "." and "/" as in `erase_tree`.
    [[nodiscard]] bool has_tree(std::string_view path) const {
        std::shared_lock lock(m_map_mutex);
        return detail::file_dict::has_tree(m_entries, path);
    }

    [[nodiscard]] std::size_t size() const {
        std::shared_lock lock(m_map_mutex);
        return m_entries.size();
    }

    /// Sorted copy, for tools and tests.
    [[nodiscard]] std::vector<std::pair<std::string, file_entry>> entries() const {
        std::shared_lock lock(m_map_mutex);
        return {m_entries.begin(), m_entries.end()};
    }

    /// Renames begun and not finished (normally empty; a rename in progress on another thread).
    [[nodiscard]] detail::file_dict::pending_list pending_renames() const {
        std::shared_lock lock(m_map_mutex);
        return m_pending;
    }

    [[nodiscard]] std::set<std::uint64_t> referenced_key_ids() const {
        std::set<std::uint64_t> ids;
        std::shared_lock lock(m_map_mutex);
        for (const auto& [path, e] : m_entries) ids.insert(e.key_id);
        return ids;
    }

    /// `durable`: makes `ops` durable, then visible; returns only after fsync, and throws having
    /// changed nothing visible if they could not be made durable. `owed`: the same when the write
    /// succeeds; when it fails, `ops` still take effect in memory and are written ahead of the next
    /// batch (or by the next full rewrite), and the failure is rethrown.
    void commit(std::span<const file_dictionary_op> ops, commit_mode mode = commit_mode::durable) {
        request req{ops, mode, false, nullptr};
        std::unique_lock lock(m_queue_mutex);
        m_queue.push_back(&req);
        while (!req.done) {
            if (m_leader_active) {
                m_queue_cv.wait(lock);
                continue;
            }
            m_leader_active = true;
            std::vector<request*> batch;
            batch.swap(m_queue);
            lock.unlock();
            std::exception_ptr failure;
            try {
                write_batch(batch);
            } catch (...) {
                failure = std::current_exception();
            }
            lock.lock();
            for (auto* r : batch) {
                r->failure = failure;
                r->done = true;
            }
            m_leader_active = false;
            m_queue_cv.notify_all();
        }
        if (req.failure) std::rethrow_exception(req.failure);
    }

    /// Bytes of the file as last written.
    [[nodiscard]] std::uint64_t file_size() const noexcept { return m_file_size.load(); }

private:
    struct request {
        std::span<const file_dictionary_op> ops;
        commit_mode mode;
        bool done = false;
        std::exception_ptr failure;
    };

    [[nodiscard]] std::uint8_t version() const noexcept {
        return m_log ? detail::file_dict::version_log : detail::file_dict::version_snapshot;
    }

    static void apply(detail::file_dict::entry_map& map, detail::file_dict::pending_list& pending,
                      const file_dictionary_op& op, std::uint64_t& removals) {
        if (detail::file_dict::apply_change(map, pending, op.type, op.path, &op.entry, &op.rename)) ++removals;
    }

    void encode(std::vector<std::byte>& buf, const file_dictionary_op& op) {
        using detail::file_dict::record_type;
        switch (op.type) {
            case record_type::put: detail::file_dict::encode_put(buf, op.path, op.entry, m_chain); break;
            case record_type::remove:
            case record_type::remove_tree: detail::file_dict::encode_remove(buf, op.type, op.path, m_chain); break;
            case record_type::rename_begin:
            case record_type::rename_commit:
            case record_type::rename_abort: detail::file_dict::encode_rename(buf, op.type, op.rename, m_chain); break;
            case record_type::snapshot: break;
        }
    }

    template <class F>
    void timed_write(F&& f) {
        const auto start = std::chrono::steady_clock::now();
        f();
        m_metrics.observe_meta_duration(meta_file::file_dictionary, meta_operation::write,
                                        std::chrono::steady_clock::now() - start);
    }

    /// Appends `buf` (records encoded on `m_chain`) and fsyncs. On failure the chain is rewound and
    /// the partial bytes are cut off again; if even that fails, the next write rewrites the file.
    void append_durably(std::span<const std::byte> buf, const std::array<std::byte, detail::file_dict::mac_size>& chain_before) {
        try {
            timed_write([&] {
                m_store.append(m_path, buf);
                m_store.sync(m_path);
            });
        } catch (...) {
            m_chain.reset_to(chain_before);
            try {
                m_store.truncate(m_path, m_file_size.load());
            } catch (...) {
                m_needs_rewrite = true;  // cannot cut the partial record off: rewrite before the next append
            }
            throw;
        }
        m_file_size += buf.size();
    }

    /// Only the leader runs this, so the log state needs no further lock.
    void write_batch(const std::vector<request*>& batch) {
        try {
            if (m_needs_rewrite) rewrite();
            if (!m_log) {
                auto next = m_entries;  // the leader is the only writer: reading without the lock is safe
                auto next_pending = m_pending;
                std::uint64_t ignored = 0;
                for (const auto* r : batch)
                    for (const auto& op : r->ops) apply(next, next_pending, op, ignored);
                const auto encoded = detail::file_dict::encode_file(version(), next, next_pending, m_mac_key->bytes());
                timed_write([&] { m_store.replace(m_path, encoded.bytes); });
                {
                    std::unique_lock lock(m_map_mutex);
                    m_entries.swap(next);
                    m_pending.swap(next_pending);
                }
                m_file_size = encoded.bytes.size();
                m_owed.clear();
                report();
                return;
            }
            std::vector<std::byte> buf;
            const auto chain_before = m_chain.last();
            for (const auto& op : m_owed) encode(buf, op);
            for (const auto* r : batch)
                for (const auto& op : r->ops) encode(buf, op);
            append_durably(buf, chain_before);
            m_owed.clear();
            {
                std::unique_lock lock(m_map_mutex);
                for (const auto* r : batch)
                    for (const auto& op : r->ops) apply(m_entries, m_pending, op, m_removals);
            }
            report();
        } catch (...) {
            // Facts that already happened on disk take effect anyway; the file learns them next.
            std::unique_lock lock(m_map_mutex);
            for (const auto* r : batch) {
                if (r->mode != commit_mode::owed) continue;
                for (const auto& op : r->ops) {
                    apply(m_entries, m_pending, op, m_removals);
                    m_owed.push_back(op);
                }
            }
            throw;
        }
        maybe_compact();
    }

    /// Compaction after a durable batch: best effort, never an error for the batch's callers.
    void maybe_compact() noexcept {
        if (m_removals <= m_next_compaction) return;
        try {
            rewrite();
        } catch (...) {
            m_next_compaction = m_removals + m_threshold;  // a full disk: try again after as many more
        }
    }

    /// Atomically replaces the file with one snapshot of the current map (compaction). The MAC
    /// chain, size and counters change only once the new file is in place.
    void rewrite() {
        const auto encoded = detail::file_dict::encode_file(version(), m_entries, m_pending, m_mac_key->bytes());
        timed_write([&] { m_store.replace(m_path, encoded.bytes); });
        m_chain.reset_to(encoded.last_mac);
        m_file_size = encoded.bytes.size();
        m_removals = 0;
        m_next_compaction = m_threshold;
        m_needs_rewrite = false;
        m_owed.clear();
        report();
    }

    void report() {
        m_metrics.set_meta_file_size(meta_file::file_dictionary, m_file_size.load());
        m_metrics.set_encrypted_file_count(size());
    }

    std::filesystem::path m_path;
    Store& m_store;
    Metrics& m_metrics;
    std::shared_ptr<const secret_bytes> m_mac_key;
    bool m_log;
    std::uint64_t m_threshold;

    mutable std::shared_mutex m_map_mutex;
    detail::file_dict::entry_map m_entries;
    detail::file_dict::pending_list m_pending;

    std::mutex m_queue_mutex;
    std::condition_variable m_queue_cv;
    std::vector<request*> m_queue;
    bool m_leader_active = false;

    // Log state: touched only by the current leader (or the constructor).
    std::uint64_t m_removals = 0;
    std::uint64_t m_next_compaction;
    detail::file_dict::mac_chain m_chain;
    std::atomic<std::uint64_t> m_file_size{0};
    bool m_needs_rewrite = false;
    std::vector<file_dictionary_op> m_owed;
};

}  // namespace atrest
