// The object-registry half of the plugin, in process (so it runs under ASan): URI grammar,
// settings from the environment, and FileSystem::CreateFromString("atrest:...") against a
// registry that `register_file_system` filled, with a real RocksDB on top.
#include "plugin_support.hpp"

#include <atrest/rocksdb/registry.hpp>

#include <rocksdb/convenience.h>

#include <cstdlib>
#include <map>
#include <string>

using namespace atrest_test;
using atrest::errc;
using atrest::rocks::file_system_uri;

namespace {

/// A stand-in environment for `settings_from_environment`.
atrest::rocks::environment_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

/// Sets process environment variables for one scope (the registry reads the real environment).
class scoped_env final {
public:
    explicit scoped_env(const std::map<std::string, std::string>& vars) {
        for (const auto& [name, value] : vars) {
            const char* old = std::getenv(name.c_str());
            m_saved.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    ~scoped_env() {
        for (const auto& [name, old] : m_saved) {
            if (old) {
                ::setenv(name.c_str(), old->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

/// A registry holding only atrest's factories, as a host program would build its own.
rocksdb::ConfigOptions atrest_registry() {
    rocksdb::ConfigOptions options;
    options.registry = rocksdb::ObjectRegistry::NewInstance();
    options.registry->AddLibrary("atrest", atrest::rocks::register_file_system, "");
    return options;
}

}  // namespace

TEST_CASE("file_system_uri: atrest:<dir> and atrest-ro:<dir>, nothing else", "[rocksdb][plugin][registry]") {
    const auto rw = file_system_uri::parse("atrest:/var/lib//db/./x/../");
    CHECK(rw.data_dir == "/var/lib/db");
    CHECK(!rw.read_only);
    CHECK(rw.to_string() == "atrest:/var/lib/db");
    const auto ro = file_system_uri::parse("atrest-ro:/var/lib/db:with:colons");
    CHECK(ro.data_dir == "/var/lib/db:with:colons");
    CHECK(ro.read_only);
    CHECK(file_system_uri::parse("atrest:db").data_dir == std::filesystem::current_path() / "db");
    CHECK(file_system_uri::parse("atrest:/").data_dir == "/");
    for (const char* bad : {"", "atrest", "atrest:", "atrest-ro:", "posix:/db", "atrest-rw:/db", "/db", "Atrest:/db"}) {
        INFO(bad);
        require_error([&] { (void)file_system_uri::parse(bad); }, errc::invalid_argument, {"atrest-ro:<data dir>"});
    }
}

TEST_CASE("settings_from_environment: a config file or a master key file, exactly one", "[rocksdb][plugin][registry]") {
    const encrypted_database d(atrest::method::aes192_ctr);
    const auto uri = file_system_uri::parse("atrest:" + d.db.string());
    const std::string key = d.key_file.string();

    // The method of the directory's current data key, unless ATREST_METHOD says otherwise.
    auto s = atrest::rocks::settings_from_environment(uri, fake_env({{"ATREST_MASTER_KEY_FILE", key}}));
    CHECK(s.config.data_encryption_method == atrest::method::aes192_ctr);
    CHECK(s.config.effective_master_key().type == atrest::master_key_config::kind::file);
    CHECK(s.config.effective_master_key().path == d.key_file);
    CHECK(!s.create_if_missing);
    s = atrest::rocks::settings_from_environment(
        uri, fake_env({{"ATREST_MASTER_KEY_FILE", key}, {"ATREST_METHOD", "sm4-ctr"}, {"ATREST_CREATE_IF_MISSING", "1"}}));
    CHECK(s.config.data_encryption_method == atrest::method::sm4_ctr);
    CHECK(s.create_if_missing);
    const auto fresh = file_system_uri::parse("atrest:" + (d.dir / "new").string());
    CHECK(atrest::rocks::settings_from_environment(fresh, fake_env({{"ATREST_MASTER_KEY_FILE", key}}))
              .config.data_encryption_method == atrest::method::aes128_ctr);
    CHECK(atrest::rocks::settings_from_environment(
              fresh, fake_env({{"ATREST_MASTER_KEY_FILE", key}, {"ATREST_CREATE_IF_MISSING", "true"}}))
              .create_if_missing);

    const auto toml = d.dir / "tikv.toml";
    std::ofstream(toml) << "[security.encryption]\ndata-encryption-method = \"aes256-ctr\"\n"
                           "data-key-rotation-period = \"1h\"\n[security.encryption.master-key]\ntype = \"file\"\n"
                           "path = \"" << key << "\"\n";
    s = atrest::rocks::settings_from_environment(uri, fake_env({{"ATREST_CONFIG", toml.string()}}));
    CHECK(s.config.data_encryption_method == atrest::method::aes256_ctr);
    CHECK(s.config.data_key_rotation_period == std::chrono::hours(1));

    auto fails = [&](const std::map<std::string, std::string>& vars, errc kind, const std::string& needle) {
        require_error([&] { (void)atrest::rocks::settings_from_environment(uri, fake_env(vars)); }, kind, {needle});
    };
    fails({}, errc::config, "needs the master key: set ATREST_CONFIG");
    fails({{"ATREST_CONFIG", ""}, {"ATREST_MASTER_KEY_FILE", ""}}, errc::config, "ATREST_MASTER_KEY_FILE");
    fails({{"ATREST_CONFIG", toml.string()}, {"ATREST_MASTER_KEY_FILE", key}}, errc::config, "both ATREST_CONFIG");
    fails({{"ATREST_CONFIG", toml.string()}, {"ATREST_METHOD", "sm4-ctr"}}, errc::config, "ATREST_METHOD is set beside");
    fails({{"ATREST_MASTER_KEY_FILE", key}, {"ATREST_METHOD", "aes512-ctr"}}, errc::unknown_method, "ATREST_METHOD");
    fails({{"ATREST_MASTER_KEY_FILE", key}, {"ATREST_CREATE_IF_MISSING", "yes"}}, errc::config,
          "ATREST_CREATE_IF_MISSING = \"yes\": accepted: 1 or true");
    fails({{"ATREST_CONFIG", (d.dir / "missing.toml").string()}}, errc::not_found, "missing.toml");
    write_master_key_file(d.dir / "other.key", 99);
    fails({{"ATREST_MASTER_KEY_FILE", (d.dir / "other.key").string()}}, errc::wrong_key, "wrong key");
}

TEST_CASE("FileSystem::CreateFromString opens an encrypted database through the registry", "[rocksdb][plugin][registry]") {
    const encrypted_database d;
    const scoped_env env({{"ATREST_MASTER_KEY_FILE", d.key_file.string()}});
    auto config = atrest_registry();

    // Read-only beside a live writer: the writer holds the key manager's lock and the DB.
    {
        encrypted_database::live writer(d);
        std::shared_ptr<rocksdb::FileSystem> fs;
        const auto st = rocksdb::FileSystem::CreateFromString(config, d.uri(true), &fs);
        INFO(st.ToString());
        REQUIRE(st.ok());
        CHECK(std::string(fs->Name()) == "AtrestFileSystem");
        const auto tool_env = atrest::rocks::make_env(fs);
        rocksdb::Options options;
        options.env = tool_env.get();
        rocksdb::DB* raw = nullptr;
        REQUIRE(rocksdb::DB::OpenForReadOnly(options, d.db.string(), &raw).ok());
        std::unique_ptr<rocksdb::DB> reader(raw);
        expect_range(*reader, 0, encrypted_database::total, encrypted_database::prefix);
        // Writable beside it: refused, with the way out in the message.
        std::shared_ptr<rocksdb::FileSystem> writable;
        const auto busy = rocksdb::FileSystem::CreateFromString(config, d.uri(), &writable);
        INFO(busy.ToString());
        CHECK(busy.IsInvalidArgument());
        CHECK(busy.ToString().find("is locked") != std::string::npos);
        CHECK(busy.ToString().find("read with atrest-ro:<data dir>") != std::string::npos);
        // Writes through atrest-ro: are refused by the key manager, not made in the clear.
        std::unique_ptr<rocksdb::FSWritableFile> file;
        const auto write = fs->NewWritableFile((d.db / "x.sst").string(), rocksdb::FileOptions(), &file, nullptr);
        CHECK(!write.ok());
        CHECK(write.ToString().find("read-only") != std::string::npos);
    }

    // Writable, once nobody else writes: the same URI twice in one process shares one key
    // manager (no second lock), and what it writes is encrypted and readable by the adapter.
    {
        std::shared_ptr<rocksdb::FileSystem> first, second;
        REQUIRE(rocksdb::FileSystem::CreateFromString(config, d.uri(), &first).ok());
        REQUIRE(rocksdb::FileSystem::CreateFromString(config, d.uri(), &second).ok());
        const auto tool_env = atrest::rocks::make_env(first);
        auto db = open_db(d.db, tool_env.get());
        expect_range(*db, 0, encrypted_database::total, encrypted_database::prefix);
        put_range(*db, encrypted_database::total, encrypted_database::total + 500, "registry-written-");
        REQUIRE(db->Flush(rocksdb::FlushOptions()).ok());
        REQUIRE(db->Close().ok());
    }
    CHECK(files_containing(d.db, "registry-written-").empty());
    {
        encrypted_database::live reopened(d);
        std::string value;
        REQUIRE(reopened.db->Get(rocksdb::ReadOptions(), key_of(encrypted_database::total + 1), &value).ok());
        CHECK(value == value_of(encrypted_database::total + 1, "registry-written-"));
    }

    // A directory without metadata: an error unless asked to create, then a new database.
    const auto fresh = d.dir / "fresh";
    std::shared_ptr<rocksdb::FileSystem> fs;
    const auto missing = rocksdb::FileSystem::CreateFromString(config, "atrest:" + fresh.string(), &fs);
    CHECK(missing.ToString().find("ATREST_CREATE_IF_MISSING=1") != std::string::npos);
    CHECK(!std::filesystem::exists(fresh));
    const auto read_only_missing = rocksdb::FileSystem::CreateFromString(config, "atrest-ro:" + fresh.string(), &fs);
    CHECK(read_only_missing.ToString().find("no atrest metadata") != std::string::npos);
    {
        const scoped_env create(std::map<std::string, std::string>{{"ATREST_CREATE_IF_MISSING", "1"}});
        REQUIRE(rocksdb::FileSystem::CreateFromString(config, "atrest:" + fresh.string(), &fs).ok());
    }
    CHECK(std::filesystem::exists(fresh / "key.dict"));
    // A scheme that only starts like ours is not ours (RocksDB reports no factory: NotSupported,
    // or OK with no object under its default ignore_unsupported_options).
    config.ignore_unsupported_options = false;
    std::shared_ptr<rocksdb::FileSystem> none;
    const auto other = rocksdb::FileSystem::CreateFromString(config, "atrestx:/db", &none);
    INFO(other.ToString());
    CHECK(other.IsNotSupported());
    CHECK(!none);
}
