// One owner of a file's identity: the key manager's name rule, whatever way a path is spelled and
// from whatever working directory it is given.
#include "catch.hpp"
#include "child_process.hpp"
#include "key_manager_fixture.hpp"
#include "temp_dir.hpp"

#include <unistd.h>

using namespace atrest_test;

namespace {
using manager = atrest::key_manager<atrest::memory_master_key<>>;
}  // namespace

TEST_CASE("one file reached by any spelling, from any working directory, is one entry", "[key_manager][names]") {
    temp_dir dir;
    std::filesystem::create_directories(dir / "data/a");
    const auto data = dir / "data";
    manager km(data, master(1), encrypted());
    const auto info = km.new_file(data / "x");
    CHECK(km.name_of(data / "x") == "x");
    for (const std::string& spelling : {data.string() + "/x", data.string() + "/./x", data.string() + "//x",
                                        data.string() + "/a/../x", data.string() + "/a/..//./x"}) {
        INFO(spelling);
        CHECK(km.name_of(spelling) == "x");
        CHECK(km.get_file(spelling).iv == info.iv);
    }
    // Relative paths are taken from the working directory, as every file system call takes them.
    const int code = exit_code_in_child([&] {
        for (const auto& [cwd, relative] : std::vector<std::pair<std::filesystem::path, std::string>>{
                 {data, "x"}, {data, "./x"}, {data / "a", "../x"}, {dir.path(), "data/x"}, {dir.path(), "data//a/../x"},
                 {"/", data.relative_path().string() + "/x"}}) {
            if (::chdir(cwd.c_str()) != 0) return 2;
            if (km.name_of(relative) != "x" || km.get_file(relative).iv != info.iv) return 3;
        }
        return 0;
    });
    CHECK(code == 0);
    CHECK(km.file_count() == 1);
    // Outside the data directory: absolute, normalised. The directory itself is ".".
    CHECK(km.name_of("/elsewhere//y/../z") == "/elsewhere/z");
    CHECK(km.name_of(dir / "other") == (dir / "other").string());
    CHECK(km.name_of(data) == ".");
    CHECK(km.name_of(data.string() + "/") == ".");
    CHECK(km.name_of(data / "a/") == "a");
    CHECK(km.path_of("x") == data / "x");
    CHECK(km.path_of("/elsewhere/z") == "/elsewhere/z");
}

TEST_CASE("a data directory reached through a symbolic link names its files the same way", "[key_manager][names]") {
    temp_dir dir;
    std::filesystem::create_directories(dir / "real");
    std::filesystem::create_directory_symlink(dir / "real", dir / "link");
    manager km(dir / "link", master(1), encrypted());  // opened through the link
    const auto info = km.new_file(dir / "link/f");
    CHECK(km.name_of(dir / "real/f") == "f");  // and named through the resolved path, the same entry
    CHECK(km.get_file(dir / "real/f").iv == info.iv);
    CHECK(km.data_dir() == dir / "link");
}

TEST_CASE("the data directory can be moved as a unit", "[key_manager][names]") {
    temp_dir dir;
    atrest::file_info info;
    {
        manager km(dir / "before", master(1), encrypted());
        auto f = km.create(dir / "before/sub/../seg");
        f.append(std::string_view("moved with its directory"));
        f.sync();
        info = km.get_file(dir / "before/seg");
    }
    std::filesystem::rename(dir / "before", dir / "after");
    manager km(dir / "after", master(1), encrypted());
    CHECK(km.get_file(dir / "after/seg").iv == info.iv);
    std::string text(24, '\0');
    CHECK(km.open(dir / "after/seg").read(0, text) == 24);
    CHECK(text == "moved with its directory");
}
