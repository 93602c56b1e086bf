#pragma once
/// The file dictionary at run time: an in-memory map that readers query under a shared lock
/// (they never wait for disk), and a writer path that group-commits. Concurrent writers queue
/// their records; one of them becomes the leader, appends the whole batch with one write and one
/// fsync, applies it to the map and wakes the others. A failed append is cut back off the file
/// (or, if even that fails, the next batch rewrites the file whole), so a full disk never leaves
/// a record that a later start would trip over.

#include <atrest/dict/dictionary_store.hpp>
#include <atrest/dict/log_format.hpp>
#include <atrest/metrics/metrics_policy.hpp>
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
    std::string path;
    file_entry entry;  ///< For `put` only.
};

struct file_dictionary_options {
    bool enable_log = true;                          ///< false: snapshot-only (version 1) format
    std::uint64_t rewrite_threshold = 1'000'000;     ///< removals that trigger a compaction
    bool read_only = false;                          ///< load only; never write the file
};

template <dictionary_store Store, metrics_policy Metrics>
class file_dictionary final {
public:
    /// Loads `existing` (verifying every record's MAC), then rewrites the file compacted in the
    /// configured format: a torn tail is dropped and a format switch (log <-> snapshot-only)
    /// takes effect here.
    file_dictionary(std::filesystem::path path, Store& store, Metrics& metrics,
                    std::shared_ptr<const secret_bytes> mac_key, file_dictionary_options options,
                    const std::optional<std::vector<std::byte>>& existing)
        : m_path(std::move(path)),
          m_store(store),
          m_metrics(metrics),
          m_mac_key(std::move(mac_key)),
          m_options(options),
          m_chain(m_mac_key->bytes(), detail::file_dict::make_header(version())) {
        if (existing) {
            auto parsed = detail::file_dict::parse_file(*existing, m_mac_key->bytes(), m_path.string());
            m_entries = std::move(parsed.entries);
            m_file_size = existing->size();
        }
        if (m_options.read_only) {
            report();
        } else {
            rewrite();
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

    /// Whether `path` or anything under `path/` has an entry (O(log n)).
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

    [[nodiscard]] std::set<std::uint64_t> referenced_key_ids() const {
        std::set<std::uint64_t> ids;
        std::shared_lock lock(m_map_mutex);
        for (const auto& [path, e] : m_entries) ids.insert(e.key_id);
        return ids;
    }

    /// Makes `ops` durable, then visible; returns only after fsync. Throws (and changes
    /// nothing visible) if the batch could not be made durable.
    void commit(std::span<const file_dictionary_op> ops) {
        request req{ops, false, nullptr};
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
        bool done = false;
        std::exception_ptr failure;
    };

    [[nodiscard]] std::uint8_t version() const noexcept {
        return m_options.enable_log ? detail::file_dict::version_log : detail::file_dict::version_snapshot;
    }

    static void apply(detail::file_dict::entry_map& map, const file_dictionary_op& op, std::uint64_t& removals) {
        using detail::file_dict::record_type;
        switch (op.type) {
            case record_type::put: map.insert_or_assign(op.path, op.entry); break;
            case record_type::remove:
                map.erase(op.path);
                ++removals;
                break;
            case record_type::remove_tree:
                detail::file_dict::erase_tree(map, op.path);
                ++removals;
                break;
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

    /// Only the leader runs this, so the log state needs no further lock.
    void write_batch(const std::vector<request*>& batch) {
        if (m_needs_rewrite) rewrite();
        if (!m_options.enable_log) {
            auto next = m_entries;  // the leader is the only writer: reading without the lock is safe
            std::uint64_t ignored = 0;
            for (const auto* r : batch)
                for (const auto& op : r->ops) apply(next, op, ignored);
            const auto bytes = detail::file_dict::encode_file(version(), next, m_mac_key->bytes());
            timed_write([&] { m_store.replace(m_path, bytes); });
            publish(std::move(next), bytes.size());
            return;
        }
        std::vector<std::byte> buf;
        const auto chain_before = m_chain.last();
        for (const auto* r : batch) {
            for (const auto& op : r->ops) {
                if (op.type == detail::file_dict::record_type::put) {
                    detail::file_dict::encode_put(buf, op.path, op.entry, m_chain);
                } else {
                    detail::file_dict::encode_remove(buf, op.type, op.path, m_chain);
                }
            }
        }
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
        {
            std::unique_lock lock(m_map_mutex);
            for (const auto* r : batch)
                for (const auto& op : r->ops) apply(m_entries, op, m_removals);
        }
        m_file_size += buf.size();
        report();
        if (m_removals > m_options.rewrite_threshold) rewrite();
    }

    /// Atomically replaces the file with one snapshot of the current map (compaction).
    void rewrite() {
        const auto bytes = detail::file_dict::encode_file(version(), m_entries, m_mac_key->bytes(), &m_chain);
        timed_write([&] { m_store.replace(m_path, bytes); });
        m_file_size = bytes.size();
        m_removals = 0;
        m_needs_rewrite = false;
        report();
    }

    void publish(detail::file_dict::entry_map next, std::uint64_t size) {
        {
            std::unique_lock lock(m_map_mutex);
            m_entries.swap(next);
        }
        m_file_size = size;
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
    file_dictionary_options m_options;

    mutable std::shared_mutex m_map_mutex;
    detail::file_dict::entry_map m_entries;

    std::mutex m_queue_mutex;
    std::condition_variable m_queue_cv;
    std::vector<request*> m_queue;
    bool m_leader_active = false;

    // Log state: touched only by the current leader (or the constructor).
    detail::file_dict::mac_chain m_chain;
    std::atomic<std::uint64_t> m_file_size{0};
    std::uint64_t m_removals = 0;
    bool m_needs_rewrite = false;
};

}  // namespace atrest
