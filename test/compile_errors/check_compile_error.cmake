# Compiles SOURCE, which must fail, and checks the diagnostics: every regular expression in
# EXPECT (a list) must match, and there must be at most MAX_ERRORS "error:" lines (a handler
# mistake should read as one clear error, not pages of template instantiation).
# Usage: cmake -DCXX=... -DSOURCE=... -DINCLUDES=a;b -DDEFINES=X;Y -DEXPECT=re1;re2
#              -DMAX_ERRORS=N -P check_compile_error.cmake
set(arguments -std=c++20 -fsyntax-only)
foreach(dir IN LISTS INCLUDES)
  list(APPEND arguments "-I${dir}")
endforeach()
foreach(define IN LISTS DEFINES)
  list(APPEND arguments "-D${define}")
endforeach()
execute_process(COMMAND "${CXX}" ${arguments} "${SOURCE}"
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
foreach(pattern IN LISTS EXPECT)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "the diagnostics do not match '${pattern}':\n${output}")
  endif()
endforeach()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors error_count)
if(error_count GREATER MAX_ERRORS)
  message(FATAL_ERROR "${error_count} errors (at most ${MAX_ERRORS} expected):\n${output}")
endif()
message(STATUS "failed to compile as expected, ${error_count} error(s)")
