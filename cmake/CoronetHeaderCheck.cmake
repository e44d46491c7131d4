# Proves every public header is self-contained, as Asio's tests do: one generated translation unit
# per header under include/coronet/, holding only `#include "coronet/<path>"` (the header first and
# alone), compiled as an OBJECT library. A header that leans on an include it does not make fails
# the build, naming the header. Also registers a ctest test (label `headers`) that fails if a public
# header includes <sys/stat.h> or names ino_t: platform types stay in src/.
#
#   coronet_add_header_check(TARGET coronet_header_check [EXCLUDE coronet/x/fragment.hpp ...])
#
# EXCLUDE is for implementation fragments meant to be included only by another header; today there
# are none. The same file runs in script mode (cmake -DCORONET_HEADER_SCAN_DIR=... -P) for the scan.

# Script mode: the forbidden-content scan, run by ctest.
if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT CORONET_HEADER_SCAN_DIR)
    message(FATAL_ERROR "usage: cmake -DCORONET_HEADER_SCAN_DIR=<include dir> -P ${CMAKE_SCRIPT_MODE_FILE}")
  endif()
  file(GLOB_RECURSE headers RELATIVE "${CORONET_HEADER_SCAN_DIR}" "${CORONET_HEADER_SCAN_DIR}/coronet/*.hpp")
  list(SORT headers)
  set(offenders "")
  # Whole-file matches, not line by line: a CMake list of lines would split at ';' and merge at
  # unbalanced '[' or a trailing '\', so line numbers could not be trusted.
  foreach(header IN LISTS headers)
    file(READ "${CORONET_HEADER_SCAN_DIR}/${header}" content)
    if(content MATCHES "#[ \t]*include[ \t]*<sys/stat\\.h>")
      list(APPEND offenders "  ${header}: includes <sys/stat.h>")
    endif()
    if(content MATCHES "(^|[^A-Za-z0-9_])ino_t([^A-Za-z0-9_]|$)")
      list(APPEND offenders "  ${header}: names ino_t")
    endif()
  endforeach()
  list(LENGTH headers header_count)
  if(offenders)
    list(JOIN offenders "\n" offenders)
    message(FATAL_ERROR "public headers must not include <sys/stat.h> or name ino_t "
                        "(keep them in src/):\n${offenders}")
  endif()
  message(STATUS "${header_count} public headers free of <sys/stat.h> and ino_t")
  return()
endif()

set(CORONET_HEADER_CHECK_SCRIPT "${CMAKE_CURRENT_LIST_FILE}")

function(coronet_add_header_check)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET" "EXCLUDE")
  if(NOT arg_TARGET)
    set(arg_TARGET coronet_header_check)
  endif()
  set(include_dir "${PROJECT_SOURCE_DIR}/include")
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/${arg_TARGET}")

  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE "${include_dir}" "${include_dir}/coronet/*.hpp")
  list(SORT headers)
  if(arg_EXCLUDE)
    list(REMOVE_ITEM headers ${arg_EXCLUDE})
  endif()

  # file(CONFIGURE) rewrites a file only when its content changes, so reconfiguring rebuilds nothing.
  set(sources "")
  foreach(header IN LISTS headers)
    set(source "${out_dir}/${header}.cpp")
    file(CONFIGURE OUTPUT "${source}" CONTENT "#include \"${header}\"\n" @ONLY)
    list(APPEND sources "${source}")
  endforeach()
  # Drop translation units left behind by headers that were removed or renamed.
  file(GLOB_RECURSE stale "${out_dir}/*.hpp.cpp")
  if(stale)
    list(REMOVE_ITEM stale ${sources})
    if(stale)
      file(REMOVE ${stale})
    endif()
  endif()

  # Part of ALL, so `cmake --build` (and scripts/test) compiles it. Nothing links these objects:
  # a header that is not self-contained fails the build, and no ctest test is needed for that.
  add_library(${arg_TARGET} OBJECT ${sources})
  target_link_libraries(${arg_TARGET} PRIVATE coronet::coronet)
  target_compile_options(${arg_TARGET} PRIVATE -Wall -Wextra)

  list(LENGTH headers header_count)
  message(STATUS "coronet: ${arg_TARGET} compiles ${header_count} public headers alone")

  add_test(NAME "headers: no <sys/stat.h> or ino_t in public headers"
           COMMAND ${CMAKE_COMMAND} -DCORONET_HEADER_SCAN_DIR=${include_dir}
                   -P ${CORONET_HEADER_CHECK_SCRIPT})
  set_tests_properties("headers: no <sys/stat.h> or ino_t in public headers" PROPERTIES
                       LABELS headers)
endfunction()
