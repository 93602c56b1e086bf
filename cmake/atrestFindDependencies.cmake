# How atrest finds what it depends on. Used by the build (CMakeLists.txt) and by the installed
# atrestConfig.cmake, so a source tree and an installed package resolve every dependency the same
# way. Nothing here fails on its own: each function leaves a message in <error_var> (empty on
# success), and the caller turns it into a configure error (build) or a "not found" result
# (find_package(atrest), which must honour REQUIRED and OPTIONAL_COMPONENTS).
#
#   atrest_find_core(<error_var>)         defines atrest::botan; finds Microsoft.GSL::GSL
#   atrest_find_part(<part> <error_var>)  defines atrest::<part> for a part in ATREST_PARTS
include_guard(GLOBAL)

# The optional parts, each one target with the dependency it needs. The KMS and KMIP master-key
# backends will be added here (and in conanfile.py) as they land, as parts `kms` and `kmip`.
set(ATREST_PARTS config rocksdb)
set(ATREST_BOTAN_MIN_VERSION 2.19)

# Imported targets are visible only in the directory that found them. atrest's targets are also
# used from the directory above (add_subdirectory) and from others in a consumer's tree, so what
# atrest finds itself is made global: all of it from CMake 3.24 on, the target it uses before.
# A target found by the consumer beforehand is left as it is.
macro(_atrest_find_package)
  set(_atrest_saved_targets_global "${CMAKE_FIND_PACKAGE_TARGETS_GLOBAL}")
  set(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL TRUE)
  find_package(${ARGN})
  set(CMAKE_FIND_PACKAGE_TARGETS_GLOBAL "${_atrest_saved_targets_global}")
endmacro()

function(_atrest_make_global name)
  get_target_property(real ${name} ALIASED_TARGET)
  if(NOT real)
    set(real ${name})
  endif()
  get_target_property(global ${real} IMPORTED_GLOBAL)
  if(NOT global)
    set_target_properties(${real} PROPERTIES IMPORTED_GLOBAL TRUE)
  endif()
endfunction()

# The first of the candidate target names that exists here; "" if none.
function(_atrest_first_target out_var)
  foreach(name IN LISTS ARGN)
    if(TARGET ${name})
      set(${out_var} ${name} PARENT_SCOPE)
      return()
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
set(_ATREST_BOTAN_TARGETS botan::botan Botan::Botan botan::botan-static Botan::Botan-static)

function(_atrest_find_botan error_var)
  set(${error_var} "" PARENT_SCOPE)
  _atrest_first_target(botan ${_ATREST_BOTAN_TARGETS})
  if(NOT botan)
    _atrest_find_package(Botan CONFIG QUIET)
    if(Botan_FOUND)
      if(NOT Botan_VERSION)
        string(CONCAT message "atrest: Botan's CMake package in ${Botan_DIR} gives no version; atrest needs "
                         "Botan ${ATREST_BOTAN_MIN_VERSION} or newer")
        set(${error_var} "${message}" PARENT_SCOPE)
        return()
      endif()
      if(Botan_VERSION VERSION_LESS ATREST_BOTAN_MIN_VERSION)
        string(CONCAT message "atrest: Botan ${Botan_VERSION} (CMake package in ${Botan_DIR}) is too old; atrest needs "
                         "Botan ${ATREST_BOTAN_MIN_VERSION} or newer (2.19+ or 3.x)")
        set(${error_var} "${message}" PARENT_SCOPE)
        return()
      endif()
      _atrest_first_target(botan ${_ATREST_BOTAN_TARGETS})
      if(botan)
        _atrest_make_global(${botan})
      else()
        string(REPLACE ";" ", " names "${_ATREST_BOTAN_TARGETS}")
        set(${error_var} "atrest: Botan's CMake package in ${Botan_DIR} defines none of the targets ${names}"
            PARENT_SCOPE)
        return()
      endif()
    endif()
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
        string(CONCAT message "atrest: Botan ${ATREST_BOTAN_VERSION} (pkg-config botan-2) is too old; atrest needs "
                         "Botan ${ATREST_BOTAN_MIN_VERSION} or newer (2.19+ or 3.x)")
        set(${error_var} "${message}" PARENT_SCOPE)
        return()
      endif()
    endif()
  endif()
  if(NOT ATREST_BOTAN_FOUND)
    string(CONCAT message "atrest: Botan ${ATREST_BOTAN_MIN_VERSION}+ not found: no CMake package Botan (Botan 3's own, or "
                     "Conan's; set Botan_DIR or CMAKE_PREFIX_PATH) and no pkg-config botan-3 or botan-2 "
                     "(pkg-config: '${PKG_CONFIG_EXECUTABLE}'). Debian: apt-get install libbotan-2-dev pkg-config")
    set(${error_var} "${message}" PARENT_SCOPE)
    return()
  endif()
  add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
  target_link_libraries(atrest::botan INTERFACE PkgConfig::ATREST_BOTAN)
endfunction()

function(atrest_find_core error_var)
  set(${error_var} "" PARENT_SCOPE)
  if(NOT TARGET atrest::botan)
    _atrest_find_botan(error)
    if(error)
      set(${error_var} "${error}" PARENT_SCOPE)
      return()
    endif()
  endif()
  # Microsoft GSL 4: its own CMake package (Debian: libmsgsl-dev) or Conan's (ms-gsl).
  _atrest_first_target(gsl Microsoft.GSL::GSL)
  if(NOT gsl)
    _atrest_find_package(Microsoft.GSL 4 CONFIG QUIET)
    _atrest_first_target(gsl Microsoft.GSL::GSL)
    if(gsl)
      _atrest_make_global(${gsl})
    endif()
  endif()
  if(NOT gsl)
    string(CONCAT message "atrest: Microsoft GSL 4 not found (CMake package Microsoft.GSL). "
                     "Debian: apt-get install libmsgsl-dev; Conan: ms-gsl/4.x")
    set(${error_var} "${message}" PARENT_SCOPE)
  endif()
endfunction()

# The optional parts. Each is a header directory of atrest and an INTERFACE target linking the
# core and one dependency, defined the same way in a build tree and from an installed package.
#   config   atrest::config   <atrest/config/toml_config.hpp>  toml++ 3 (CMake package tomlplusplus)
#   rocksdb  atrest::rocksdb  <atrest/rocksdb/*.hpp>            RocksDB (CMake package RocksDB)
function(atrest_find_part part error_var)
  set(${error_var} "" PARENT_SCOPE)
  if(TARGET atrest::${part})
    return()
  endif()
  if(part STREQUAL "config")
    set(package tomlplusplus 3)
    set(targets tomlplusplus::tomlplusplus)
    set(what "toml++ 3 (Debian: libtomlplusplus-dev; Conan: -o atrest/*:with_toml=True)")
  elseif(part STREQUAL "rocksdb")
    set(package RocksDB)
    set(targets RocksDB::rocksdb-shared RocksDB::rocksdb)  # Debian has both; the shared one links in seconds
    set(what "RocksDB's CMake package (Debian: librocksdb-dev; Conan: -o atrest/*:with_rocksdb=True)")
  else()
    string(REPLACE ";" ", " parts "${ATREST_PARTS}")
    set(${error_var} "atrest: no part named '${part}'; the optional parts are ${parts}" PARENT_SCOPE)
    return()
  endif()
  _atrest_first_target(dependency ${targets})
  if(NOT dependency)
    _atrest_find_package(${package} CONFIG QUIET)
    _atrest_first_target(dependency ${targets})
    if(dependency)
      _atrest_make_global(${dependency})
    endif()
  endif()
  if(NOT dependency)
    set(${error_var} "atrest: atrest::${part} needs ${what}, which was not found" PARENT_SCOPE)
    return()
  endif()
  add_library(atrest::${part} INTERFACE IMPORTED GLOBAL)
  target_link_libraries(atrest::${part} INTERFACE atrest::atrest ${dependency})
endfunction()
