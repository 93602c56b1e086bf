// Subcommands about authenticated streams and objects: seal-stream, open-stream, verify-stream,
// put-object, get-object, verify-object, rotate-object. Keys come from files, never the command
// line.
#include "commands.hpp"

#include <atrest/aead.hpp>
#include <atrest/object.hpp>

#include <iostream>
#include <variant>

namespace atrest_ctl {

namespace {

namespace posix = atrest::detail::posix;

constexpr std::size_t chunk_size = std::size_t{1} << 20;

/// Runs `f` with the stream format `o.format` names (AES-256-GCM in both) and its options.
template <class F>
void with_format(const stream_options& o, F&& f) {
    if (o.format == "tink") {
        f(atrest::tink_streaming{}, atrest::tink_streaming::options{o.segment_size, {}});
    } else if (o.format == "dare") {
        if (o.segment_size_given) {
            throw atrest::error(atrest::errc::invalid_argument, "--segment-size is for --format tink (DARE's packages are 64 KiB)");
        }
        f(atrest::dare{}, atrest::dare::options{});
    } else {
        throw atrest::error(atrest::errc::invalid_argument, "--format " + escaped(o.format) + ": accepted: tink, dare");
    }
}

/// The key from --key-file, scrubbed when it goes.
atrest::secret_bytes stream_key(const std::string& path) {
    auto bytes = read_key_file(path);
    atrest::secret_bytes key(bytes);
    atrest::detail::botan_compat::secure_scrub(bytes.data(), bytes.size());
    return key;
}

/// Copies plaintext bytes [offset, offset + length) of a reader to a new file `out`.
template <class Reader>
std::uint64_t copy_out(Reader& r, const byte_range& range, const std::string& out, const std::string& label) {
    const std::uint64_t size = r.size();
    if (range.offset > size) {
        throw atrest::error(atrest::errc::invalid_argument, "--offset " + std::to_string(range.offset) +
                                                                " is past the end (" + std::to_string(size) + " bytes)");
    }
    const std::uint64_t end = range.length ? std::min(size, range.offset + std::min(*range.length, size)) : size;
    output_file created(out);
    progress bar(label, end - range.offset);
    std::vector<std::byte> chunk(chunk_size);
    for (std::uint64_t at = range.offset; at < end;) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), end - at));
        const auto n = r.read_at(at, std::span(chunk).first(want));
        created.write(std::span(chunk).first(n));
        at += n;
        bar.update(at - range.offset);
    }
    created.finish();
    return end - range.offset;
}

/// Appends all of `in` to `w`.
template <class Writer>
void copy_in(Writer& w, const std::string& in, const std::string& label) {
    const auto in_fd = posix::open_regular_for_reading(in, "input file");
    progress bar(label, posix::file_size(in_fd.get(), in));
    std::vector<std::byte> chunk(chunk_size);
    for (std::uint64_t done = 0;;) {
        const auto n = posix::pread_full(in_fd.get(), chunk, done, in);
        if (n == 0) break;
        w.append(std::span(chunk).first(n));
        done += n;
        bar.update(done);
    }
}

using key_source = std::variant<atrest::client_key, atrest::kms_data_key<atrest::any_master_key>>;

/// SSE-C from --key-file, or SSE-S3 (SSE-KMS with --sse-kms) from --master-key-file or --config.
key_source make_source(const object_key_options& o, std::string_view prefix) {
    const int given = int(!o.key_file.empty()) + int(!o.master_key_file.empty()) + int(!o.config.empty());
    if (given != 1) {
        throw atrest::error(atrest::errc::invalid_argument,
                            "give exactly one of --" + std::string(prefix) + "key-file (SSE-C), --" + std::string(prefix) +
                                "master-key-file or --" + std::string(prefix) + "config (SSE-S3)");
    }
    if (!o.key_file.empty()) {
        if (o.sse_kms) throw atrest::error(atrest::errc::invalid_argument, "--sse-kms needs a master key or --config, not a client key");
        return atrest::client_key(stream_key(o.key_file).bytes());
    }
    key_options k;
    k.config = o.config;
    k.master_key_file = o.master_key_file;
    auto config = flags_config(k);
    atrest::validate(config);
    return atrest::kms_data_key<atrest::any_master_key>(atrest::make_master_key(config, warn),
                                                        o.sse_kms ? atrest::sse_type::sse_kms : atrest::sse_type::sse_s3);
}

atrest::object_metadata read_metadata(const std::string& path) {
    const auto bytes = posix::read_file_if_exists(path, "metadata file");
    if (!bytes) throw atrest::error(atrest::errc::not_found, "metadata file '" + path + "' does not exist");
    return atrest::object_metadata::from_text(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()),
                                              "metadata file '" + path + "'");
}

std::span<const std::byte> text_bytes(const std::string& text) {
    return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace

void seal_stream(const stream_options& o, const std::string& in, const std::string& out) {
    const auto key = stream_key(o.key_file);
    with_format(o, [&]<class F>(F, const typename F::options& opts) {
        (void)F::template layout<atrest::aes256_gcm>(opts);  // a bad segment size fails before OUT exists
        atrest::posix_file file(out, atrest::open_flags::create_exclusive, 0600);
        removal_guard guard(out);
        auto w = atrest::sealed_stream_writer<atrest::aes256_gcm, F>::create(std::move(file), key.bytes(), opts);
        copy_in(w, in, "seal-stream");
        w.finish();
        w.sync();
        guard.keep();
        std::cout << "sealed " << escaped(in) << " -> " << escaped(out) << " (" << F::name << ", " << w.size()
                  << " bytes)\n";
    });
}

void open_stream(const stream_options& o, const std::string& in, const std::string& out, const byte_range& range) {
    const auto key = stream_key(o.key_file);
    with_format(o, [&]<class F>(F, const typename F::options& opts) {
        atrest::sealed_stream_reader<atrest::aes256_gcm, F> r(atrest::posix_file(in), key.bytes(), opts);
        const auto n = copy_out(r, range, out, "open-stream");
        std::cout << "opened " << escaped(in) << " -> " << escaped(out) << " (" << F::name << ", " << n << " of "
                  << r.size() << " bytes)\n";
    });
}

void verify_stream(const stream_options& o, const std::string& in) {
    const auto key = stream_key(o.key_file);
    with_format(o, [&]<class F>(F, const typename F::options& opts) {
        atrest::sealed_stream_reader<atrest::aes256_gcm, F> r(atrest::posix_file(in), key.bytes(), opts);
        r.verify();
        std::cout << "ok " << escaped(in) << " (" << F::name << ", " << r.size() << " bytes, " << r.segments()
                  << " segments)\n";
    });
}

void put_object(const object_args& a, const object_key_options& k, const std::string& in, const std::string& out) {
    auto source = make_source(k, "");
    std::visit(
        [&](auto& s) {
            (void)atrest::object_path(a.bucket, a.object);  // a bad name fails before any file exists
            output_file meta(a.metadata);                    // both outputs new, or neither is written
            atrest::posix_file file(out, atrest::open_flags::create_exclusive, 0600);
            removal_guard guard(out);
            auto w = atrest::sealed_object_writer<>::create(std::move(file), s, a.bucket, a.object);
            copy_in(w, in, "put-object");
            w.finish();
            w.sync();
            meta.write(text_bytes(w.metadata().to_text()));
            meta.finish();
            guard.keep();
            std::cout << "put " << escaped(atrest::object_path(a.bucket, a.object)) << ": " << escaped(out) << " + "
                      << escaped(a.metadata) << " (" << atrest::domain_of(w.metadata().type) << ", " << w.size()
                      << " bytes)\n";
        },
        source);
}

void get_object(const object_args& a, const object_key_options& k, const std::string& in, const std::string& out,
                const byte_range& range) {
    const auto m = read_metadata(a.metadata);
    auto source = make_source(k, "");
    std::visit(
        [&](auto& s) {
            atrest::sealed_object_reader<> r(atrest::posix_file(in), s, m, a.bucket, a.object);
            const auto n = copy_out(r, range, out, "get-object");
            std::cout << "got " << escaped(atrest::object_path(a.bucket, a.object)) << " -> " << escaped(out) << " ("
                      << n << " of " << r.size() << " bytes)\n";
        },
        source);
}

void verify_object(const object_args& a, const object_key_options& k, const std::string& in) {
    const auto m = read_metadata(a.metadata);
    auto source = make_source(k, "");
    std::visit(
        [&](auto& s) {
            atrest::sealed_object_reader<> r(atrest::posix_file(in), s, m, a.bucket, a.object);
            r.verify();
            std::cout << "ok " << escaped(atrest::object_path(a.bucket, a.object)) << " (" << atrest::domain_of(m.type)
                      << ", " << r.size() << " bytes)\n";
        },
        source);
}

void rotate_object(const object_args& a, const object_key_options& from, const object_key_options& to) {
    const auto m = read_metadata(a.metadata);
    auto old_source = make_source(from, "");
    auto new_source = make_source(to, "new-");
    const auto rotated = std::visit(
        [&](auto& f, auto& t) { return atrest::reseal_object_key(f, t, m, a.bucket, a.object); }, old_source, new_source);
    posix::atomic_replace(a.metadata, text_bytes(rotated.to_text()));
    std::cout << "rotated " << escaped(atrest::object_path(a.bucket, a.object)) << ": " << escaped(a.metadata) << " ("
              << atrest::domain_of(m.type) << " -> " << atrest::domain_of(rotated.type) << "; object data unchanged)\n";
}

}  // namespace atrest_ctl
