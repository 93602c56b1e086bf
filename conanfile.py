# Conan 2 recipe for atrest, a header-only library.
#
#   conan create . --profile:all conan/profiles/debian12      # Debian 12's Botan and GSL, offline
#   conan create . -o "atrest/*:with_toml=True"               # + atrest::config and its toml++
#   conan create . -o "atrest/*:with_kms=True"                # + atrest::kms: libcurl (OpenSSL) and nlohmann_json
#   conan create . -o "atrest/*:with_kmip=True"               # + atrest::kmip: OpenSSL
#
# How CMake consumers find atrest. The package holds what `cmake --install` writes: the headers
# and atrest's own CMake package (share/cmake/atrest). CMakeDeps writes no config for atrest
# (cmake_find_mode "none"); the package directory is put on the consumer's CMAKE_PREFIX_PATH
# (builddirs), so `find_package(atrest CONFIG REQUIRED [COMPONENTS config rocksdb])` loads
# atrest's own atrestConfig.cmake. That config finds Botan as every distribution and Conan ship it:
# a CMake package `Botan` (Botan 3's own, or the botan-config.cmake CMakeDeps writes for a
# Conan-built botan of any version) or pkg-config botan-3 / botan-2. This is what makes
# `[platform_requires] botan/2.19.3` work: a platform requirement has no package folder and no
# cpp_info, so CMakeDeps writes nothing for it and a Conan-written atrest config would ask for a
# botan::botan target that no file defines (and nothing would add /usr/include/botan-2, where
# Debian keeps Botan 2's headers); atrest's own config falls back to Debian's pkg-config file
# botan-2.pc, which names that directory. The components declared below are for every other
# generator (PkgConfigDeps, MSBuildDeps, ...), which read cpp_info.
#
# The package id is empty: the package is the same for every setting and option. The options
# only add requirements (and cpp_info components); the CMake config defines an optional part's
# target when the consumer asks find_package for that component.
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, cmake_layout
from conan.tools.files import copy, load

required_conan_version = ">=2.0"


class AtrestConan(ConanFile):
    name = "atrest"
    description = "Header-only, policy-based C++20 encryption at rest for storage engines"
    license = "Apache-2.0"
    topics = ("encryption", "encryption-at-rest", "storage-engine", "rocksdb", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    # One option per optional part, each with its own requirements.
    options = {
        "with_toml": [True, False],     # atrest::config: TiKV-style TOML configuration (toml++)
        "with_rocksdb": [True, False],  # atrest::rocksdb: the RocksDB FileSystem/Env adapter
        "with_kms": [True, False],      # atrest::kms: the AWS KMS master key (libcurl with OpenSSL, nlohmann_json)
        "with_kmip": [True, False],     # atrest::kmip: the KMIP master key over mutual TLS (OpenSSL)
    }
    default_options = {"with_toml": False, "with_rocksdb": False, "with_kms": False, "with_kmip": False}
    exports_sources = "CMakeLists.txt", "LICENSE", "cmake/*", "include/*"
    no_copy_source = True
    generators = "CMakeDeps", "CMakeToolchain"

    def set_version(self):
        cmakelists = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
        self.version = re.search(r"project\(atrest VERSION ([0-9.]+)", cmakelists).group(1)

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # atrest's headers include Botan's and GSL's, so consumers see both.
        self.requires("botan/[>=2.19 <4]", transitive_headers=True, transitive_libs=True)
        self.requires("ms-gsl/[>=4 <5]", transitive_headers=True)
        if self.options.with_toml:
            self.requires("tomlplusplus/[>=3 <4]", transitive_headers=True)
        if self.options.with_rocksdb:
            self.requires("rocksdb/[>=7.8]", transitive_headers=True, transitive_libs=True)
        if self.options.with_kms:
            self.requires("libcurl/[>=7.78 <9]", transitive_headers=True, transitive_libs=True)
            self.requires("nlohmann_json/[>=3 <4]", transitive_headers=True)
        if self.options.with_kmip:
            self.requires("openssl/[>=1.1.1 <4]", transitive_headers=True, transitive_libs=True)

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()

    def build(self):
        # Configure only: nothing is compiled, and the optional parts need nothing to be installed.
        CMake(self).configure(variables={
            "ATREST_BUILD_TESTS": "OFF", "ATREST_BUILD_BENCH": "OFF", "ATREST_BUILD_EXAMPLES": "OFF",
            "ATREST_BUILD_TOOLS": "OFF", "ATREST_WITH_TOML": "OFF", "ATREST_WITH_ROCKSDB": "OFF",
            "ATREST_WITH_KMS": "OFF", "ATREST_WITH_KMIP": "OFF",
        })

    def package(self):
        CMake(self).install()  # headers, share/cmake/atrest, share/doc/atrest/LICENSE
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))

    def package_info(self):
        self.cpp_info.set_property("cmake_find_mode", "none")

        core = self.cpp_info.components["core"]
        core.builddirs = [os.path.join("share", "cmake", "atrest")]  # onto CMAKE_PREFIX_PATH
        core.set_property("cmake_target_name", "atrest::atrest")
        core.set_property("pkg_config_name", "atrest")
        core.bindirs = []
        core.libdirs = []
        core.requires = ["botan::botan", "ms-gsl::ms-gsl"]
        parts = {"config": ("with_toml", ["tomlplusplus::tomlplusplus"]),
                 "rocksdb": ("with_rocksdb", ["rocksdb::rocksdb"]),
                 "kms": ("with_kms", ["libcurl::libcurl", "nlohmann_json::nlohmann_json"]),
                 "kmip": ("with_kmip", ["openssl::ssl"])}
        for part, (option, requirements) in parts.items():
            if self.options.get_safe(option):
                component = self.cpp_info.components[part]
                component.set_property("cmake_target_name", f"atrest::{part}")
                component.set_property("pkg_config_name", f"atrest-{part}")
                component.bindirs = []
                component.libdirs = []
                component.includedirs = []  # the core's
                component.requires = ["core"] + requirements
                if part == "kms":
                    component.defines = ["ATREST_HAS_KMS=1"]
                if part == "kmip":
                    component.defines = ["ATREST_HAS_KMIP=1"]
