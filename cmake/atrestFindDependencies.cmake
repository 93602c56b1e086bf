# Finds atrest's core dependencies; used by the build and by the installed atrestConfig.cmake so
# both resolve Botan the same way. Defines the imported target atrest::botan.
include_guard(GLOBAL)
include(CMakeFindDependencyMacro)

if(NOT TARGET atrest::botan)
  # Botan 3 ships a CMake config (Conan's CMakeDeps generates one too); prefer it.
  find_package(Botan 3 CONFIG QUIET)
  if(TARGET Botan::Botan)
    add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
    target_link_libraries(atrest::botan INTERFACE Botan::Botan)
  elseif(TARGET botan::botan)
    add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
    target_link_libraries(atrest::botan INTERFACE botan::botan)
  elseif(TARGET botan::botan-static)  # Botan 3 built with --disable-shared-library
    add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
    target_link_libraries(atrest::botan INTERFACE botan::botan-static)
  else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(ATREST_BOTAN QUIET IMPORTED_TARGET GLOBAL botan-3)
    if(NOT ATREST_BOTAN_FOUND)
      pkg_check_modules(ATREST_BOTAN IMPORTED_TARGET GLOBAL botan-2>=2.19)
    endif()
    if(NOT ATREST_BOTAN_FOUND)
      message(FATAL_ERROR "atrest: Botan not found (tried CMake config Botan, pkg-config botan-3 and botan-2 >= 2.19). "
                          "On Debian: apt-get install libbotan-2-dev")
    endif()
    add_library(atrest::botan INTERFACE IMPORTED GLOBAL)
    target_link_libraries(atrest::botan INTERFACE PkgConfig::ATREST_BOTAN)
  endif()
endif()

if(NOT TARGET Microsoft.GSL::GSL)
  find_dependency(Microsoft.GSL 4 CONFIG)
endif()
