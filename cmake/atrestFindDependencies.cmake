# How atrest finds what it depends on. Used by the build (CMakeLists.txt) and by the installed
# atrestConfig.cmake, so a source tree and an installed package resolve every dependency the same
# way. Nothing here fails on its own: each function leaves a message in <error_var> (empty on
# success), and the caller turns it into a configure error (build) or a "not found" result
# (find_package(atrest), which must honour REQUIRED and OPTIONAL_COMPONENTS).
#
#   atrest_find_core(<error_var>)         defines atrest::botan; finds Microsoft.GSL::GSL
#   atrest_find_part(<part> <error_var>)  defines atrest::<part> for a part in ATREST_PARTS
include_guard(GLOBAL)

# The optional parts, each one target with the dependency it needs.
set(ATREST_PARTS config rocksdb kms kmip)
set(ATREST_BOTAN_MIN_VERSION 2.19)

# In a function: <error_var> = the concatenated text, and return from the function. The text
# must hold no semicolon (a macro's arguments are a list).
macro(_atrest_fail error_var)
  string(CONCAT _atrest_message ${ARGN})
  set(${error_var} "${_atrest_message}" PARENT_SCOPE)
  return()
endmacro()

# <out_var> = the first of TARGETS that exists; if none does, find_package(<PACKAGE args> CONFIG)
# first. "" if there is still none. <name>_FOUND and <name>_VERSION are passed up: TRUE and the
# version when this call found the package, FALSE otherwise.
# Imported targets are visible only in the directory that found them, while atrest's targets are
# also used from the directory above (add_subdirectory) and from others in a consumer's tree, so
# what is found here is made global: all of it from CMake 3.24 on, the chosen target before. A
# target that existed already (found by the consumer) is used as it is.
function(_atrest_find_target out_var)
  cmake_parse_arguments(ARG "" "" "PACKAGE;TARGETS" ${ARGN})
  list(GET ARG_PACKAGE 0 name)
  set(${name}_FOUND FALSE PARENT_SCOPE)
  foreach(pass existing found)
    foreach(target IN LISTS ARG_TARGETS)
      if(TARGET ${target})
        if(pass STREQUAL "found")
          get_target_property(real ${target} ALIASED_TARGET)
          if(NOT real)
            set(real ${target})
          endif()
          get_target_property(global ${real} IMPORTED_GLOBAL)
          if(NOT global)
            set_target_properties(${real} PROPERTIES IMPORTED_GLOBAL TRUE)
          endif()
        endif()
        set(${out_var} ${target} PARENT_SCOPE)
        return()
      endif()
    endforeach()
    if(pass STREQUAL "existing")
      set(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL TRUE)
      find_package(${ARG_PACKAGE} CONFIG QUIET)
      set(${name}_FOUND "${${name}_FOUND}" PARENT_SCOPE)
      set(${name}_VERSION "${${name}_VERSION}" PARENT_SCOPE)
    endif()
  endforeach()
  set(${out_var} "" PARENT_SCOPE)
endfunction()

# Botan, as distributions and package managers ship it, in this order:
#  1. a CMake package `Botan`: Botan 3's own config (botan::botan, botan::botan-static; Botan::Botan
#     in early 3.x) or the one Conan's CMakeDeps writes for a botan package of any version
#     (botan::botan, or Botan::Botan where a recipe names it so). Its version must be >= 2.19;
#  2. pkg-config botan-3, then botan-2 >= 2.19 (Debian and most distributions ship only this).
# A Botan the consumer already found (one of those targets exists) is used as it is.
function(_atrest_find_botan error_var)
  set(${error_var} "" PARENT_SCOPE)
  set(targets botan::botan Botan::Botan botan::botan-static Botan::Botan-static)
  _atrest_find_target(botan PACKAGE Botan TARGETS ${targets})
  if(Botan_FOUND AND NOT Botan_VERSION)
    _atrest_fail(${error_var} "atrest: Botan's CMake package in ${Botan_DIR} gives no version, and atrest needs "
                              "Botan ${ATREST_BOTAN_MIN_VERSION} or newer")
  elseif(Botan_FOUND AND Botan_VERSION VERSION_LESS ATREST_BOTAN_MIN_VERSION)
    _atrest_fail(${error_var} "atrest: Botan ${Botan_VERSION} (CMake package in ${Botan_DIR}) is too old: "
                              "atrest needs Botan ${ATREST_BOTAN_MIN_VERSION} or newer (2.19+ or 3.x)")
  elseif(Botan_FOUND AND NOT botan)
    string(REPLACE ";" ", " targets "${targets}")
    _atrest_fail(${error_var} "atrest: Botan's CMake package in ${Botan_DIR} defines none of the targets ${targets}")
  endif()
  if(botan)
    add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
    target_link_libraries(atrest::botan INTERFACE ${botan})
    return()
  endif()

  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(ATREST_BOTAN QUIET IMPORTED_TARGET GLOBAL botan-3)
    if(NOT ATREST_BOTAN_FOUND)
      pkg_check_modules(ATREST_BOTAN QUIET IMPORTED_TARGET GLOBAL botan-2)
      if(ATREST_BOTAN_FOUND AND ATREST_BOTAN_VERSION VERSION_LESS ATREST_BOTAN_MIN_VERSION)
        _atrest_fail(${error_var} "atrest: Botan ${ATREST_BOTAN_VERSION} (pkg-config botan-2) is too old: "
                                  "atrest needs Botan ${ATREST_BOTAN_MIN_VERSION} or newer (2.19+ or 3.x)")
      endif()
    endif()
  endif()
  if(NOT ATREST_BOTAN_FOUND)
    _atrest_fail(${error_var} "atrest: Botan ${ATREST_BOTAN_MIN_VERSION}+ not found: no CMake package Botan "
                              "(Botan 3's own or Conan's, searched in Botan_DIR and CMAKE_PREFIX_PATH) and no pkg-config "
                              "botan-3 or botan-2 (pkg-config: '${PKG_CONFIG_EXECUTABLE}'). "
                              "Debian: apt-get install libbotan-2-dev pkg-config")
  endif()
  add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
  target_link_libraries(atrest::botan INTERFACE PkgConfig::ATREST_BOTAN)
endfunction()

function(atrest_find_core error_var)
  set(${error_var} "" PARENT_SCOPE)
  if(NOT TARGET atrest::botan)
    _atrest_find_botan(error)
    if(error)
      _atrest_fail(${error_var} "${error}")
    endif()
  endif()
  # Microsoft GSL 4: its own CMake package (Debian: libmsgsl-dev) or Conan's (ms-gsl).
  _atrest_find_target(gsl PACKAGE Microsoft.GSL 4 TARGETS Microsoft.GSL::GSL)
  if(NOT gsl)
    _atrest_fail(${error_var} "atrest: Microsoft GSL 4 not found (CMake package Microsoft.GSL). "
                              "Debian: apt-get install libmsgsl-dev, Conan: ms-gsl/4.x")
  endif()
endfunction()

# The optional parts. Each is a header directory of atrest and an INTERFACE target linking the
# core and one dependency, defined the same way in a build tree and from an installed package.
#   config   atrest::config   <atrest/config/toml_config.hpp>  toml++ 3 (CMake package tomlplusplus)
#   rocksdb  atrest::rocksdb  <atrest/rocksdb/*.hpp>            RocksDB (CMake package RocksDB)
#   kms      atrest::kms      <atrest/kms/*.hpp>                libcurl (HTTPS) and nlohmann-json 3;
#            defines ATREST_HAS_KMS=1, so open_key_manager makes `type = "kms"` master keys
#   kmip     atrest::kmip     <atrest/kmip/*.hpp>               OpenSSL 1.1.1+ (libssl); defines
#            ATREST_HAS_KMIP=1, so open_key_manager makes `type = "kmip"` master keys
function(atrest_find_part part error_var)
  set(${error_var} "" PARENT_SCOPE)
  if(TARGET atrest::${part})
    return()
  endif()
  if(part STREQUAL "config")
    _atrest_find_target(dependency PACKAGE tomlplusplus 3 TARGETS tomlplusplus::tomlplusplus)
    set(what "toml++ 3 (Debian: libtomlplusplus-dev, Conan: -o atrest/*:with_toml=True)")
  elseif(part STREQUAL "rocksdb")
    # Debian has both; the shared one links in seconds.
    _atrest_find_target(dependency PACKAGE RocksDB TARGETS RocksDB::rocksdb-shared RocksDB::rocksdb)
    set(what "RocksDB's CMake package (Debian: librocksdb-dev, Conan: -o atrest/*:with_rocksdb=True)")
  elseif(part STREQUAL "kms")
    _atrest_find_kms_dependencies(dependency what)
  elseif(part STREQUAL "kmip")
    _atrest_find_target(dependency PACKAGE OpenSSL TARGETS OpenSSL::SSL)
    if(NOT dependency)
      find_package(OpenSSL 1.1.1 QUIET MODULE)
      if(OpenSSL_FOUND AND TARGET OpenSSL::SSL)
        set_target_properties(OpenSSL::SSL OpenSSL::Crypto PROPERTIES IMPORTED_GLOBAL TRUE)
        set(dependency OpenSSL::SSL)
      endif()
    endif()
    set(what "OpenSSL 1.1.1 or later (Debian: libssl-dev, Conan: -o atrest/*:with_kmip=True)")
  else()
    string(REPLACE ";" ", " parts "${ATREST_PARTS}")
    _atrest_fail(${error_var} "atrest: no part named '${part}', the optional parts are ${parts}")
  endif()
  if(NOT dependency)
    _atrest_fail(${error_var} "atrest: atrest::${part} needs ${what}, which was not found")
  endif()
  add_library(atrest::${part} INTERFACE IMPORTED GLOBAL)
  target_link_libraries(atrest::${part} INTERFACE atrest::atrest ${dependency})
  if(part STREQUAL "kms")
    target_compile_definitions(atrest::kms INTERFACE ATREST_HAS_KMS=1)
  elseif(part STREQUAL "kmip")
    target_compile_definitions(atrest::kmip INTERFACE ATREST_HAS_KMIP=1)
  endif()
endfunction()

# The KMS part's two dependencies: libcurl with HTTPS (Conan's CURL config, else CMake's FindCURL,
# which asks curl-config or pkg-config for the HTTPS feature) and nlohmann-json 3. <out_var> = both
# targets, or "" with <what_var> naming what is missing.
function(_atrest_find_kms_dependencies out_var what_var)
  set(${out_var} "" PARENT_SCOPE)
  _atrest_find_target(curl PACKAGE CURL TARGETS CURL::libcurl)
  if(NOT curl)
    find_package(CURL QUIET MODULE COMPONENTS HTTPS)
    if(CURL_FOUND AND TARGET CURL::libcurl)
      set_target_properties(CURL::libcurl PROPERTIES IMPORTED_GLOBAL TRUE)
      set(curl CURL::libcurl)
    endif()
  endif()
  if(NOT curl)
    set(${what_var} "libcurl with HTTPS (Debian: libcurl4-openssl-dev, Conan: -o atrest/*:with_kms=True)" PARENT_SCOPE)
    return()
  endif()
  _atrest_find_target(json PACKAGE nlohmann_json 3 TARGETS nlohmann_json::nlohmann_json)
  if(NOT json)
    set(${what_var} "nlohmann-json 3 (Debian: nlohmann-json3-dev, Conan: -o atrest/*:with_kms=True)" PARENT_SCOPE)
    return()
  endif()
  set(${out_var} ${curl} ${json} PARENT_SCOPE)
endfunction()
