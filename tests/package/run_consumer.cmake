# Builds and runs tests/package/consumer against atrest, or checks that a wrong setup fails with a
# message that says what is wrong. cmake -DMODE=... -P run_consumer.cmake, MODE one of:
#   find_package        install atrest, find_package(atrest COMPONENTS config), build, run
#   add_subdirectory    atrest's source tree inside the consumer's, ATREST_WITH_TOML on, build, run
#   botan_cmake_config  install atrest; Botan offers only a CMake package (botan-config.cmake,
#                       written here around BOTAN_INCLUDE_DIRS / BOTAN_LIBRARIES, as Conan's
#                       CMakeDeps writes one) and pkg-config is a program that fails; build, run
#   errors              configures that must fail: Botan too old (CMake package, pkg-config), no
#                       Botan, an unknown part, a requested part whose dependency is missing
#                       (installed and add_subdirectory)
# Lists (PREFIX_PATH, BOTAN_INCLUDE_DIRS, BOTAN_LIBRARIES) come joined with '|'.
foreach(var MODE ATREST_SOURCE_DIR ATREST_BINARY_DIR WORK_DIR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()
string(REPLACE "|" ";" PREFIX_PATH "${PREFIX_PATH}")
string(REPLACE "|" ";" BOTAN_INCLUDE_DIRS "${BOTAN_INCLUDE_DIRS}")
string(REPLACE "|" ";" BOTAN_LIBRARIES "${BOTAN_LIBRARIES}")
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGV}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}")
  endif()
endfunction()

function(install_atrest)
  run(${CMAKE_COMMAND} --install ${ATREST_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
  foreach(file share/cmake/atrest/atrestConfigVersion.cmake share/doc/atrest/LICENSE include/atrest/atrest.hpp
               include/atrest/config/toml_config.hpp include/atrest/rocksdb/encrypted_file_system.hpp)
    if(NOT EXISTS ${WORK_DIR}/prefix/${file})
      message(FATAL_ERROR "the installed package lacks ${file}")
    endif()
  endforeach()
endfunction()

# Configures the consumer in WORK_DIR/<name>: NAME, PREFIX (list), then -D arguments.
# Lists go through an initial cache file, which keeps their semicolons.
function(configure name prefix_path)
  file(WRITE ${WORK_DIR}/${name}-init.cmake "set(CMAKE_PREFIX_PATH \"${prefix_path}\" CACHE PATH \"\")\n")
  execute_process(COMMAND ${CMAKE_COMMAND} -C ${WORK_DIR}/${name}-init.cmake
                          -S ${ATREST_SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/${name}
                          -DCMAKE_CXX_COMPILER=${CXX} -DATREST_SOURCE_DIR=${ATREST_SOURCE_DIR} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(configure_rc ${rc} PARENT_SCOPE)
  set(configure_output "${out}${err}" PARENT_SCOPE)
endfunction()

function(configure_ok name prefix_path)
  configure(${name} "${prefix_path}" ${ARGN})
  if(NOT configure_rc EQUAL 0)
    message(FATAL_ERROR "${name}: configure failed:\n${configure_output}")
  endif()
endfunction()

function(build_and_run name)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/${name})
  run(${WORK_DIR}/${name}/consumer ${WORK_DIR}/${name}-run)
endfunction()

# Configure must fail and say `expected` (a regular expression).
function(expect_failure name expected prefix_path)
  configure(${name} "${prefix_path}" ${ARGN})
  if(configure_rc EQUAL 0)
    message(FATAL_ERROR "${name}: the configure succeeded; it must fail with \"${expected}\"")
  endif()
  string(REGEX REPLACE "[ \n]+" " " flat "${configure_output}")  # CMake wraps long messages
  if(NOT flat MATCHES "${expected}")
    message(FATAL_ERROR "${name}: the configure failed without saying \"${expected}\":\n${configure_output}")
  endif()
  message(STATUS "${name}: fails as it must: ${CMAKE_MATCH_0}")
endfunction()

# A directory holding only a CMake package for Botan at `version`, around Debian's Botan files.
function(fake_botan dir file_name target version)
  file(WRITE ${dir}/${file_name}.cmake
       "# A Botan that offers only a CMake package (written by tests/package/run_consumer.cmake)\n"
       "if(NOT TARGET ${target})\n"
       "  add_library(${target} INTERFACE IMPORTED)\n"
       "  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES \"${BOTAN_INCLUDE_DIRS}\"\n"
       "                        INTERFACE_LINK_LIBRARIES \"${BOTAN_LIBRARIES}\")\n"
       "endif()\n")
  string(REPLACE "Config" "ConfigVersion" version_file "${file_name}")
  string(REPLACE "-config" "-config-version" version_file "${version_file}")
  file(WRITE ${dir}/${version_file}.cmake
       "set(PACKAGE_VERSION ${version})\n"
       "if(PACKAGE_FIND_VERSION AND PACKAGE_VERSION VERSION_LESS PACKAGE_FIND_VERSION)\n"
       "  set(PACKAGE_VERSION_COMPATIBLE FALSE)\n"
       "else()\n"
       "  set(PACKAGE_VERSION_COMPATIBLE TRUE)\n"
       "endif()\n")
endfunction()

# pkg-config that always fails: whatever the consumer finds, it finds without pkg-config.
file(WRITE ${WORK_DIR}/no-pkg-config "#!/bin/sh\necho \"pkg-config is hidden by this test\" >&2\nexit 1\n")
file(CHMOD ${WORK_DIR}/no-pkg-config PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
set(hide_pkg_config -DPKG_CONFIG_EXECUTABLE=${WORK_DIR}/no-pkg-config)

if(MODE STREQUAL "find_package")
  install_atrest()
  configure_ok(consumer "${WORK_DIR}/prefix;${PREFIX_PATH}" -DATREST_CONSUMER_COMPONENTS=config)
  build_and_run(consumer)
elseif(MODE STREQUAL "add_subdirectory")
  configure_ok(consumer "${PREFIX_PATH}" -DATREST_CONSUMER_MODE=add_subdirectory -DATREST_CONSUMER_COMPONENTS=config)
  build_and_run(consumer)
  # The consumer set ATREST_INSTALL=OFF: installing its build must not install atrest.
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/consumer --prefix ${WORK_DIR}/consumer-prefix)
  if(EXISTS ${WORK_DIR}/consumer-prefix)
    message(FATAL_ERROR "with ATREST_INSTALL=OFF, installing the consumer still installed atrest's files")
  endif()
elseif(MODE STREQUAL "botan_cmake_config")
  if(NOT BOTAN_INCLUDE_DIRS OR NOT BOTAN_LIBRARIES)
    message(FATAL_ERROR "run_consumer.cmake: botan_cmake_config needs BOTAN_INCLUDE_DIRS and BOTAN_LIBRARIES")
  endif()
  install_atrest()
  fake_botan(${WORK_DIR}/botan botan-config Botan::Botan 2.19.3)
  set(ENV{PKG_CONFIG} ${WORK_DIR}/no-pkg-config)
  configure_ok(consumer "${WORK_DIR}/prefix;${WORK_DIR}/botan" ${hide_pkg_config})
  file(STRINGS ${WORK_DIR}/consumer/CMakeCache.txt botan_dir REGEX "^Botan_DIR:")
  if(NOT botan_dir STREQUAL "Botan_DIR:PATH=${WORK_DIR}/botan")
    message(FATAL_ERROR "atrest's config did not take Botan from its CMake package (${botan_dir})")
  endif()
  build_and_run(consumer)
elseif(MODE STREQUAL "errors")
  install_atrest()
  set(ENV{PKG_CONFIG} ${WORK_DIR}/no-pkg-config)
  fake_botan(${WORK_DIR}/old-botan BotanConfig botan::botan 2.18.0)
  expect_failure(botan-too-old "Botan 2\\.18\\.0 \\(CMake package in [^)]*old-botan\\) is too old: atrest needs Botan 2\\.19"
                 "${WORK_DIR}/prefix;${WORK_DIR}/old-botan" ${hide_pkg_config})
  expect_failure(no-botan "Botan 2\\.19\\+ not found: no CMake package Botan .* and no pkg-config botan-3 or botan-2"
                 "${WORK_DIR}/prefix" ${hide_pkg_config} -DCMAKE_DISABLE_FIND_PACKAGE_Botan=ON)
  # A pkg-config that knows only botan-2, at version 2.18.0.
  file(WRITE ${WORK_DIR}/old-pkg-config "#!/bin/sh\ncase \"$*\" in *botan-3*) exit 1 ;; esac\n"
                                        "case \"$*\" in *--modversion*) echo 2.18.0 ;; esac\nexit 0\n")
  file(CHMOD ${WORK_DIR}/old-pkg-config PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  set(ENV{PKG_CONFIG} ${WORK_DIR}/old-pkg-config)
  expect_failure(botan-too-old-pkg-config "Botan 2\\.18\\.0 \\(pkg-config botan-2\\) is too old: atrest needs Botan 2\\.19"
                 "${WORK_DIR}/prefix" -DPKG_CONFIG_EXECUTABLE=${WORK_DIR}/old-pkg-config -DCMAKE_DISABLE_FIND_PACKAGE_Botan=ON)
  unset(ENV{PKG_CONFIG})
  expect_failure(unknown-part "no part named 'hsm', the optional parts are config, rocksdb, kms, kmip"
                 "${WORK_DIR}/prefix" -DATREST_CONSUMER_COMPONENTS=hsm)
  expect_failure(missing-part "atrest::rocksdb needs RocksDB's CMake package .*, which was not found"
                 "${WORK_DIR}/prefix" -DATREST_CONSUMER_COMPONENTS=rocksdb -DCMAKE_DISABLE_FIND_PACKAGE_RocksDB=ON)
  expect_failure(missing-part-subdirectory "atrest::rocksdb needs RocksDB.*configure with -DATREST_WITH_ROCKSDB=OFF"
                 "" -DATREST_CONSUMER_MODE=add_subdirectory -DATREST_CONSUMER_COMPONENTS=rocksdb
                 -DCMAKE_DISABLE_FIND_PACKAGE_RocksDB=ON)
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()
