// The file system and file wrappers on their own: every read path, the append-only guard, and
// the order of file and dictionary steps that makes each operation crash-safe.
#include "rocksdb_support.hpp"

#include <cstring>
#include <mutex>

using namespace atrest_test;

namespace {

const rocksdb::IOOptions io;
const rocksdb::FileOptions fo;

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
    return s;
}

void write_file(rocksdb::FileSystem& fs, const std::string& path, const std::string& data) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    REQUIRE(fs.NewWritableFile(path, fo, &f, nullptr).ok());
    REQUIRE(f->Append(data.substr(0, data.size() / 3), io, nullptr).ok());
    REQUIRE(f->Append(data.substr(data.size() / 3), io, nullptr).ok());
    REQUIRE(f->Close(io, nullptr).ok());
}

std::string read_random(rocksdb::FileSystem& fs, const std::string& path, std::uint64_t offset, std::size_t n,
                        rocksdb::FileOptions options = fo) {
    std::unique_ptr<rocksdb::FSRandomAccessFile> f;
    REQUIRE(fs.NewRandomAccessFile(path, options, &f, nullptr).ok());
    std::string scratch(n, '\0');
    rocksdb::Slice result;
    REQUIRE(f->Read(offset, n, io, &result, scratch.data(), nullptr).ok());
    return result.ToString();
}

}  // namespace

TEST_CASE("written bytes are OpenSSL AES-CTR under the entry's key and IV, sizes are unchanged", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    const auto path = (dir.path() / "000007.sst").string();
    const std::string data = pattern(200'000);  // several 64 KiB scratch chunks
    write_file(*stack.fs, path, data);

    const auto info = stack.keys->get_file(dir / "000007.sst");
    REQUIRE(info.encrypted());
    const auto raw = read_all(path);
    REQUIRE(raw.size() == data.size());
    CHECK(openssl_ctr(info, raw) == std::vector<char>(data.begin(), data.end()));
}

TEST_CASE("every read path decrypts", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    const auto path = (dir.path() / "f").string();
    const std::string data = pattern(10'000);
    write_file(*stack.fs, path, data);

    SECTION("Read at unaligned offsets") {
        for (std::uint64_t off : {0u, 1u, 15u, 17u, 4095u, 9990u}) CHECK(read_random(*stack.fs, path, off, 10) == data.substr(off, 10));
        CHECK(read_random(*stack.fs, path, 9995, 100) == data.substr(9995));  // short at end of file
    }
    SECTION("Read from an mmap'ed file (result outside scratch)") {
        rocksdb::FileOptions mm;
        mm.use_mmap_reads = true;
        CHECK(read_random(*stack.fs, path, 333, 3000, mm) == data.substr(333, 3000));
    }
    SECTION("MultiRead") {
        std::unique_ptr<rocksdb::FSRandomAccessFile> f;
        REQUIRE(stack.fs->NewRandomAccessFile(path, fo, &f, nullptr).ok());
        std::string s1(100, '\0'), s2(50, '\0');
        rocksdb::FSReadRequest reqs[2];
        reqs[0].offset = 5000;
        reqs[0].len = 100;
        reqs[0].scratch = s1.data();
        reqs[1].offset = 7;
        reqs[1].len = 50;
        reqs[1].scratch = s2.data();
        REQUIRE(f->MultiRead(reqs, 2, io, nullptr).ok());
        REQUIRE(reqs[0].status.ok());
        CHECK(reqs[0].result.ToString() == data.substr(5000, 100));
        CHECK(reqs[1].result.ToString() == data.substr(7, 50));
    }
    SECTION("ReadAsync") {
        std::unique_ptr<rocksdb::FSRandomAccessFile> f;
        REQUIRE(stack.fs->NewRandomAccessFile(path, fo, &f, nullptr).ok());
        std::string s(64, '\0');
        rocksdb::FSReadRequest req;
        req.offset = 100;
        req.len = 64;
        req.scratch = s.data();
        std::string got;
        void* handle = nullptr;
        rocksdb::IOHandleDeleter del;
        REQUIRE(f->ReadAsync(req, io, [&](const rocksdb::FSReadRequest& r, void*) { got = r.result.ToString(); }, nullptr,
                             &handle, &del, nullptr)
                    .ok());
        CHECK(got == data.substr(100, 64));
    }
    SECTION("sequential Read and Skip keep the keystream aligned") {
        std::unique_ptr<rocksdb::FSSequentialFile> f;
        REQUIRE(stack.fs->NewSequentialFile(path, fo, &f, nullptr).ok());
        std::string s(1000, '\0');
        rocksdb::Slice r;
        REQUIRE(f->Read(33, io, &r, s.data(), nullptr).ok());
        CHECK(r.ToString() == data.substr(0, 33));
        REQUIRE(f->Skip(1000).ok());
        REQUIRE(f->Read(100, io, &r, s.data(), nullptr).ok());
        CHECK(r.ToString() == data.substr(1033, 100));
    }
}

TEST_CASE("writes below the end are refused: PositionedAppend and RandomRW overwrites", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    const auto path = (dir.path() / "f").string();
    std::unique_ptr<rocksdb::FSWritableFile> w;
    REQUIRE(stack.fs->NewWritableFile(path, fo, &w, nullptr).ok());
    REQUIRE(w->PositionedAppend("0123456789", 0, io, nullptr).ok());
    REQUIRE(w->PositionedAppend("abcdef", 10, io, nullptr).ok());
    const auto reuse = w->PositionedAppend("XY", 4, io, nullptr);
    CHECK(reuse.IsNotSupported());
    CHECK_THAT(reuse.ToString(), Catch::Contains("offset 4") && Catch::Contains("keystream"));
    CHECK(w->GetFileSize(io, nullptr) == 16);
    REQUIRE(w->Close(io, nullptr).ok());
    CHECK(read_random(*stack.fs, path, 0, 16) == "0123456789abcdef");

    std::unique_ptr<rocksdb::FSRandomRWFile> rw;
    REQUIRE(stack.fs->NewRandomRWFile(path, fo, &rw, nullptr).ok());
    const auto over = rw->Write(8, "zz", io, nullptr);
    CHECK(over.IsNotSupported());
    CHECK_THAT(over.ToString(), Catch::Contains("keystream"));
    REQUIRE(rw->Write(16, "ghi", io, nullptr).ok());  // an append is fine
    std::string s(19, '\0');
    rocksdb::Slice r;
    REQUIRE(rw->Read(0, 19, io, &r, s.data(), nullptr).ok());
    CHECK(r.ToString() == "0123456789abcdefghi");
    REQUIRE(rw->Close(io, nullptr).ok());
    CHECK(read_random(*stack.fs, path, 0, 19) == "0123456789abcdefghi");
}

TEST_CASE("ReopenWritableFile continues the keystream, a missing file becomes a new entry", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    const auto path = (dir.path() / "MANIFEST-000001").string();
    write_file(*stack.fs, path, "first part|");
    std::unique_ptr<rocksdb::FSWritableFile> w;
    REQUIRE(stack.fs->ReopenWritableFile(path, fo, &w, nullptr).ok());
    REQUIRE(w->Append("second part", io, nullptr).ok());
    REQUIRE(w->Close(io, nullptr).ok());
    CHECK(read_random(*stack.fs, path, 0, 100) == "first part|second part");

    const auto fresh = (dir.path() / "fresh").string();
    REQUIRE(stack.fs->ReopenWritableFile(fresh, fo, &w, nullptr).ok());
    REQUIRE(w->Append("new", io, nullptr).ok());
    REQUIRE(w->Close(io, nullptr).ok());
    CHECK(stack.keys->get_file(dir / "fresh").encrypted());
    CHECK(read_random(*stack.fs, fresh, 0, 10) == "new");
}

TEST_CASE("ReuseWritableFile gives the new name a fresh IV and drops the old entry", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    const auto old_path = (dir.path() / "000003.log").string();
    const auto new_path = (dir.path() / "000009.log").string();
    write_file(*stack.fs, old_path, pattern(5000));
    const auto old_info = stack.keys->get_file(dir / "000003.log");
    std::unique_ptr<rocksdb::FSWritableFile> w;
    REQUIRE(stack.fs->ReuseWritableFile(new_path, old_path, fo, &w, nullptr).ok());
    REQUIRE(w->Append("recycled", io, nullptr).ok());
    REQUIRE(w->Close(io, nullptr).ok());
    CHECK_FALSE(stack.keys->get_file(dir / "000003.log").encrypted());
    const auto new_info = stack.keys->get_file(dir / "000009.log");
    CHECK(new_info.iv != old_info.iv);
    CHECK(std::filesystem::file_size(new_path) == 8);  // the recycled bytes (old keystream) are gone
    CHECK(read_random(*stack.fs, new_path, 0, 100) == "recycled");
}

TEST_CASE("rename, link, delete and delete-dir keep entries with their files", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    auto& fs = *stack.fs;
    const auto p = [&](const char* n) { return (dir.path() / n).string(); };
    write_file(fs, p("a.dbtmp"), "alpha");
    write_file(fs, p("CURRENT"), "old current");

    REQUIRE(fs.RenameFile(p("a.dbtmp"), p("CURRENT"), io, nullptr).ok());
    CHECK_FALSE(stack.keys->get_file(dir / "a.dbtmp").encrypted());
    CHECK(read_random(fs, p("CURRENT"), 0, 10) == "alpha");

    SECTION("a failed rename restores the target's entry") {
        const auto st = fs.RenameFile(p("missing"), p("CURRENT"), io, nullptr);
        CHECK_FALSE(st.ok());
        CHECK(read_random(fs, p("CURRENT"), 0, 10) == "alpha");
    }
    SECTION("link shares the entry; linking onto an existing file changes nothing") {
        REQUIRE(fs.LinkFile(p("CURRENT"), p("linked"), io, nullptr).ok());
        CHECK(read_random(fs, p("linked"), 0, 10) == "alpha");
        write_file(fs, p("other"), "other data");
        CHECK_FALSE(fs.LinkFile(p("CURRENT"), p("other"), io, nullptr).ok());
        CHECK(read_random(fs, p("other"), 0, 20) == "other data");
        CHECK_FALSE(fs.LinkFile(p("missing"), p("nothing"), io, nullptr).ok());
        CHECK_FALSE(stack.keys->get_file(dir / "nothing").encrypted());
    }
    SECTION("delete drops the entry; delete of a missing file drops a stale one") {
        REQUIRE(fs.DeleteFile(p("CURRENT"), io, nullptr).ok());
        CHECK_FALSE(stack.keys->get_file(dir / "CURRENT").encrypted());
        REQUIRE(stack.keys->new_file(dir / "stale").encrypted());
        CHECK(fs.DeleteFile(p("stale"), io, nullptr).IsPathNotFound());
        CHECK_FALSE(stack.keys->get_file(dir / "stale").encrypted());
    }
    SECTION("delete-dir drops every entry under the directory") {
        REQUIRE(fs.CreateDir(p("archive"), io, nullptr).ok());
        write_file(fs, p("archive/000001.log"), "wal");
        REQUIRE(stack.keys->get_file(dir / "archive/000001.log").encrypted());
        CHECK_FALSE(fs.DeleteDir(p("archive"), io, nullptr).ok());  // not empty: entries stay
        CHECK(stack.keys->get_file(dir / "archive/000001.log").encrypted());
        REQUIRE(std::filesystem::remove(p("archive/000001.log")));
        REQUIRE(fs.DeleteDir(p("archive/"), io, nullptr).ok());
        CHECK_FALSE(stack.keys->get_file(dir / "archive/000001.log").encrypted());
    }
}

TEST_CASE("dictionary paths are relative to the key manager's directory, however RocksDB spells them", "[rocksdb]") {
    temp_dir dir;
    encrypted_stack stack(dir.path());
    // The adapter asks the key manager, the one owner of the rule; see key_manager_names_test.cpp.
    std::filesystem::create_directory(dir / "db");
    write_file(*stack.fs, (dir.path() / "db/../000001.sst").string(), "x");
    CHECK(stack.keys->files().front().first == "000001.sst");
    CHECK(stack.keys->name_of((dir.path() / "sub//x.log").string()) == "sub/x.log");
    CHECK(stack.keys->name_of("/elsewhere/x.sst") == "/elsewhere/x.sst");
    CHECK(stack.keys->name_of((dir.path() / "sub/").string()) == "sub");
}

namespace {

/// Records the order of dictionary steps next to file-system steps, and fails what it is told to.
struct event_log {
    std::mutex mutex;
    std::vector<std::string> events;
    std::string fail;  // a target operation name to fail with NoSpace
    void add(std::string e) {
        std::lock_guard lock(mutex);
        events.push_back(std::move(e));
    }
};

class logging_fs final : public rocksdb::FileSystemWrapper {
public:
    logging_fs(std::shared_ptr<event_log> log)
        : FileSystemWrapper(rocksdb::FileSystem::Default()), m_log(std::move(log)) {}
    const char* Name() const override { return "logging_fs"; }
    rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* d) override {
        return step("create", [&] { return target()->NewWritableFile(f, o, r, d); });
    }
    rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* d) override {
        return step("reuse", [&] { return target()->ReuseWritableFile(f, old, o, r, d); });
    }
    rocksdb::IOStatus DeleteFile(const std::string& f, const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
        return step("delete", [&] { return target()->DeleteFile(f, o, d); });
    }
    rocksdb::IOStatus DeleteDir(const std::string& f, const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
        return step("rmdir", [&] { return target()->DeleteDir(f, o, d); });
    }
    rocksdb::IOStatus RenameFile(const std::string& s, const std::string& t, const rocksdb::IOOptions& o,
                                 rocksdb::IODebugContext* d) override {
        return step("rename", [&] { return target()->RenameFile(s, t, o, d); });
    }
    rocksdb::IOStatus LinkFile(const std::string& s, const std::string& t, const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* d) override {
        return step("link", [&] { return target()->LinkFile(s, t, o, d); });
    }

private:
    template <class F>
    rocksdb::IOStatus step(const std::string& name, F&& f) {
        m_log->add("fs:" + name);
        if (m_log->fail == name) return rocksdb::IOStatus::NoSpace("injected");
        return f();
    }
    std::shared_ptr<event_log> m_log;
};

/// A `file_key_manager` that logs each call before forwarding it to a real key manager.
class logging_keys final {
public:
    logging_keys(const std::filesystem::path& dir, std::shared_ptr<event_log> log)
        : m_keys(dir, master(1), encrypted()), m_log(std::move(log)) {}
    atrest::file_info new_file(const std::filesystem::path& p) {
        return m_log->add("dict:new " + name_of(p)), m_keys.new_file(p);
    }
    atrest::file_info get_file(const std::filesystem::path& p) const { return m_keys.get_file(p); }
    std::string name_of(const std::filesystem::path& p) const { return m_keys.name_of(p); }
    void delete_file(const std::filesystem::path& p) { m_log->add("dict:delete " + name_of(p)), m_keys.delete_file(p); }
    template <class F>
    void link_file(const std::filesystem::path& s, const std::filesystem::path& d, F&& f) {
        m_log->add("dict:link " + name_of(s) + " " + name_of(d));
        m_keys.link_file(s, d, std::forward<F>(f));
    }
    template <class F>
    void rename_file(const std::filesystem::path& s, const std::filesystem::path& d, F&& f) {
        m_log->add("dict:rename-begin");
        m_keys.rename_file(s, d, std::forward<F>(f));
        m_log->add("dict:rename-end");
    }
    const atrest::key_manager_options& options() const { return m_keys.options(); }
    const std::filesystem::path& data_dir() const { return m_keys.data_dir(); }
    test_key_manager& inner() { return m_keys; }

private:
    test_key_manager m_keys;
    std::shared_ptr<event_log> m_log;
};
static_assert(atrest::file_key_manager<logging_keys>);

}  // namespace

TEST_CASE("each operation runs its file and dictionary steps in the crash-safe order", "[rocksdb]") {
    temp_dir dir;
    auto log = std::make_shared<event_log>();
    auto keys = std::make_shared<logging_keys>(dir.path(), log);
    atrest::rocks::encrypted_file_system<logging_keys> fs(std::make_shared<logging_fs>(log), keys);
    const auto p = [&](const char* n) { return (dir.path() / n).string(); };
    const auto run = [&](auto&& f) {
        log->events.clear();
        f();
        return log->events;
    };
    using v = std::vector<std::string>;

    CHECK(run([&] { write_file(fs, p("x"), "data"); }) == v{"fs:create", "dict:new x"});  // file first
    CHECK(run([&] { (void)fs.RenameFile(p("x"), p("y"), io, nullptr); }) ==
          v{"dict:rename-begin", "fs:rename", "dict:rename-end"});  // the key manager links, then drops x
    CHECK(keys->get_file(dir / "y").encrypted());
    CHECK_FALSE(keys->get_file(dir / "x").encrypted());
    CHECK(run([&] { (void)fs.LinkFile(p("y"), p("z"), io, nullptr); }) == v{"dict:link y z", "fs:link"});
    CHECK(run([&] { (void)fs.DeleteFile(p("z"), io, nullptr); }) == v{"fs:delete", "dict:delete z"});
    std::unique_ptr<rocksdb::FSWritableFile> w;
    CHECK(run([&] { REQUIRE(fs.ReuseWritableFile(p("w"), p("y"), fo, &w, nullptr).ok()); }) ==
          v{"dict:rename-begin", "fs:reuse", "dict:rename-end", "dict:new w"});
    REQUIRE(fs.CreateDir(p("d"), io, nullptr).ok());
    CHECK(run([&] { (void)fs.DeleteDir(p("d"), io, nullptr); }) == v{"fs:rmdir", "dict:delete d"});

    SECTION("a failing file step keeps RocksDB's status and leaves the entries right") {
        write_file(fs, p("keep"), "kept");
        log->fail = "delete";
        CHECK(fs.DeleteFile(p("keep"), io, nullptr).IsNoSpace());
        CHECK(keys->get_file(dir / "keep").encrypted());
        log->fail = "rename";
        CHECK(fs.RenameFile(p("keep"), p("w"), io, nullptr).IsNoSpace());
        CHECK(keys->get_file(dir / "keep").iv != keys->get_file(dir / "w").iv);
        log->fail = "link";
        CHECK(fs.LinkFile(p("keep"), p("l"), io, nullptr).IsNoSpace());
        CHECK_FALSE(keys->get_file(dir / "l").encrypted());
        log->fail = "reuse";
        CHECK(fs.ReuseWritableFile(p("r"), p("keep"), fo, &w, nullptr).IsNoSpace());
        CHECK(keys->get_file(dir / "keep").encrypted());
        log->fail.clear();
        CHECK(read_random(fs, p("keep"), 0, 10) == "kept");
    }
}

TEST_CASE("key-manager errors become IOStatus values with the message", "[rocksdb]") {
    temp_dir dir;
    { encrypted_stack stack(dir.path()); }
    atrest::key_manager_options ro = encrypted();
    ro.read_only = true;
    auto keys = std::make_shared<test_key_manager>(dir.path(), master(1), ro);
    auto fs = atrest::rocks::make_encrypted_file_system(keys);
    std::unique_ptr<rocksdb::FSWritableFile> w;
    const auto st = fs->NewWritableFile((dir.path() / "x").string(), fo, &w, nullptr);
    CHECK(st.IsInvalidArgument());
    CHECK_THAT(st.ToString(), Catch::Contains("read-only"));
    CHECK(w == nullptr);

    const atrest::error e(atrest::errc::io_error, "disk", ENOSPC);
    CHECK(atrest::rocks::to_io_status(e).IsNoSpace());
    CHECK(atrest::rocks::to_io_status(atrest::error(atrest::errc::tampered, "t")).IsCorruption());
    CHECK(atrest::rocks::to_io_status(atrest::error(atrest::errc::keystream_reuse, "k")).IsNotSupported());
}
