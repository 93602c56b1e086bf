# The Conan 2 client, offline: `conan create` of conanfile.py with the repository's Debian 12
# profile (Botan, GSL, toml++ and RocksDB from apt through [platform_requires]), every option on,
# and test_package, which builds and runs tests/package/consumer against the package. Then: the
# package id is the empty one and the package holds the licence; a C++17 profile is refused.
#   cmake -DCONAN=<conan> -DATREST_SOURCE_DIR=<src> -DWORK_DIR=<dir> -P conan.cmake
foreach(var CONAN ATREST_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "conan.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS "${CONAN}")
  message(FATAL_ERROR "the Conan 2 client '${CONAN}' does not exist: ./scripts/dev deps installs it into "
                      "build/conan-venv, or configure with -DATREST_CONAN=<path to conan>")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(ENV{CONAN_HOME} ${WORK_DIR}/home)  # a cache of its own, nothing from the user's
set(profile ${ATREST_SOURCE_DIR}/conan/profiles/debian12)
set(empty_package_id da39a3ee5e6b4b0d3255bfef95601890afd80709)  # SHA-1 of nothing: no setting, no option

function(conan expect)  # expect: "ok" or a regular expression the failing command must print
  execute_process(COMMAND ${CONAN} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE ";" " " cmd "conan ${ARGN}")
  if(expect STREQUAL "ok")
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}${err}")
    endif()
  elseif(rc EQUAL 0)
    message(FATAL_ERROR "succeeded, but must fail with \"${expect}\": ${cmd}\n${out}${err}")
  elseif(NOT "${out}${err}" MATCHES "${expect}")
    message(FATAL_ERROR "failed without saying \"${expect}\": ${cmd}\n${out}${err}")
  endif()
  message(STATUS "${cmd}\n${out}${err}")
  set(conan_output "${out}" PARENT_SCOPE)
endfunction()

conan(ok --version)
conan(ok remote remove "*")  # offline: there is no remote to ask
conan(ok create ${ATREST_SOURCE_DIR} --profile:all ${profile}
      -o "atrest/*:with_toml=True" -o "atrest/*:with_rocksdb=True"
      -c tools.cmake.cmake_layout:test_folder=${WORK_DIR}/test_package)

conan(ok list "atrest/*:*" --format=json)
string(JSON packages GET "${conan_output}" "Local Cache" "atrest/0.1.0" revisions)
string(JSON revision MEMBER "${packages}" 0)
string(JSON ids GET "${packages}" ${revision} packages)
string(JSON count LENGTH "${ids}")
string(JSON id MEMBER "${ids}" 0)
if(NOT count EQUAL 1 OR NOT id STREQUAL empty_package_id)
  message(FATAL_ERROR "atrest's package id must be the empty one (${empty_package_id}); the cache holds: ${ids}")
endif()
conan(ok cache path "atrest/0.1.0:${id}")
string(STRIP "${conan_output}" package_folder)
foreach(file licenses/LICENSE share/cmake/atrest/atrestConfig.cmake include/atrest/atrest.hpp)
  if(NOT EXISTS ${package_folder}/${file})
    message(FATAL_ERROR "the Conan package lacks ${file}")
  endif()
endforeach()

conan("requires at least C\\+\\+20|lower than the required C\\+\\+ standard \\(20\\)"
      install --requires=atrest/0.1.0 --profile:all ${profile} -s compiler.cppstd=17)
