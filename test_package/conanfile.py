# Conan's test_package for atrest: builds tests/package/consumer, the same program and CMake
# project that the find_package and add_subdirectory tests build, against the package just
# created, and runs it: it seals a file through a key manager and reads it back at an offset.
# The atrest components the options turn on are asked of find_package and linked.
import os
import shutil

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class AtrestTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def build(self):
        atrest = self.dependencies["atrest"]
        parts = [part for part, option in (("config", "with_toml"), ("rocksdb", "with_rocksdb"))
                 if atrest.options.get_safe(option)]
        cmake = CMake(self)
        cmake.configure(build_script_folder=os.path.join(os.pardir, "tests", "package", "consumer"),
                        variables={"ATREST_CONSUMER_COMPONENTS": ";".join(parts)})
        cmake.build()

    def test(self):
        if can_run(self):
            consumer = os.path.join(self.cpp.build.bindir, "consumer")
            work = os.path.join(self.build_folder, "consumer-run")
            shutil.rmtree(work, ignore_errors=True)
            self.run(f"{consumer} {work}", env="conanrun")
