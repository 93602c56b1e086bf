#pragma once
/// A master-key source chosen at run time — from a config file's `type = "file" | "kms" |
/// "plaintext"` or a tool's flags — so one `key_manager<any_master_key>` type serves every
/// configuration. The virtual call happens only when the key dictionary is opened or re-sealed,
/// never in the I/O path.

#include <atrest/master_key/sealed_blob.hpp>

#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace atrest {

class any_master_key final {
public:
    template <master_key_source Source>
        requires(!std::is_same_v<std::remove_cvref_t<Source>, any_master_key>)
    explicit any_master_key(Source source) : m_impl(std::make_unique<model<Source>>(std::move(source))) {}

    [[nodiscard]] std::vector<std::byte> seal(std::span<const std::byte> data, std::span<const std::byte> aad) {
        return m_impl->seal(data, aad);
    }
    [[nodiscard]] unsealed open(std::span<const std::byte> sealed, std::span<const std::byte> aad) {
        return m_impl->open(sealed, aad);
    }
    [[nodiscard]] std::string describe() const { return m_impl->describe(); }
    [[nodiscard]] bool is_secure() const { return m_impl->is_secure(); }
    /// The source's `prepare_seal()` where it has one (master_key/concepts.hpp).
    void prepare_seal() { m_impl->prepare_seal(); }

private:
    struct interface {
        virtual ~interface() = default;
        virtual std::vector<std::byte> seal(std::span<const std::byte>, std::span<const std::byte>) = 0;
        virtual unsealed open(std::span<const std::byte>, std::span<const std::byte>) = 0;
        [[nodiscard]] virtual std::string describe() const = 0;
        [[nodiscard]] virtual bool is_secure() const = 0;
        virtual void prepare_seal() = 0;
    };

    template <class Source>
    struct model final : interface {
        explicit model(Source s) : source(std::move(s)) {}
        std::vector<std::byte> seal(std::span<const std::byte> d, std::span<const std::byte> a) override {
            return source.seal(d, a);
        }
        unsealed open(std::span<const std::byte> s, std::span<const std::byte> a) override { return source.open(s, a); }
        [[nodiscard]] std::string describe() const override { return source.describe(); }
        [[nodiscard]] bool is_secure() const override { return source.is_secure(); }
        void prepare_seal() override { detail::prepare_seal(source); }
        Source source;
    };

    std::unique_ptr<interface> m_impl;
};

static_assert(master_key_source<any_master_key>);

}  // namespace atrest
