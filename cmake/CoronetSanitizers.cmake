# Applies CORONET_SANITIZE to every target of the build (library, tests, samples) so that the
# instrumented library and its callers agree on the runtime.
if(CORONET_SANITIZE)
  message(STATUS "coronet: sanitizers enabled: ${CORONET_SANITIZE}")
  add_compile_options(-fsanitize=${CORONET_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CORONET_SANITIZE})
  if(CORONET_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's std_fenced_block triggers -Wtsan warnings on gcc 12; they are not run-time reports.
    add_compile_options(-Wno-tsan)
  endif()
endif()
