# Run by ctest: installs the built coronet into a temporary prefix, then configures, builds and runs
# a separate project that finds it with find_package(coronet CONFIG REQUIRED).
foreach(var BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_install.cmake needs -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run_step description)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${description} failed (${status}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step("install" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
# The consumer uses the parent build's generator: CMake's default (Unix Makefiles) needs `make`,
# which a machine set up by scripts/setup alone (a fresh Debian root) does not have.
set(generator_args "")
if(DEFINED GENERATOR AND NOT GENERATOR STREQUAL "")
  set(generator_args -G "${GENERATOR}")
endif()
run_step("consumer configure" ${CMAKE_COMMAND} ${generator_args}
         -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/build"
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
         -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}")
run_step("consumer build" ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run_step("consumer run" "${WORK_DIR}/build/consumer")
if(NOT step_output MATCHES "consumer ok: hello, 世界")
  message(FATAL_ERROR "consumer printed an unexpected result:\n${step_output}")
endif()
message(STATUS "${step_output}")
