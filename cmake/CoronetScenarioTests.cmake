# The black-box scenario scripts (test_samples.py and its siblings) as ctest tests: one test per
# scenario the script lists, so they run in parallel and fail one by one.
#
#   coronet_add_scenario_tests(SCRIPT path PYTHON interpreter PREFIX "name prefix: "
#                              ARGS script arguments... LABELS label...
#                              [DEPENDS files...] [PROPERTIES property value...])
#
# Runs `PYTHON SCRIPT --list` at configure time (a failure stops the configuration), names each
# test PREFIX + the scenario with '_' as ' ', runs `PYTHON SCRIPT ARGS... --run SCENARIO`, and
# configures again when the script or DEPENDS change. A script exits 77 to skip.
function(coronet_add_scenario_tests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SCRIPT;PYTHON;PREFIX" "ARGS;LABELS;DEPENDS;PROPERTIES")
  execute_process(COMMAND ${arg_PYTHON} ${arg_SCRIPT} --list
                  OUTPUT_VARIABLE scenarios OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE listed)
  if(NOT listed EQUAL 0)
    message(FATAL_ERROR "coronet: ${arg_SCRIPT} --list failed")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${arg_SCRIPT} ${arg_DEPENDS})
  string(REPLACE "\n" ";" scenarios "${scenarios}")
  foreach(scenario IN LISTS scenarios)
    string(REPLACE "_" " " test_name "${arg_PREFIX}${scenario}")
    add_test(NAME "${test_name}" COMMAND ${arg_PYTHON} ${arg_SCRIPT} ${arg_ARGS} --run ${scenario})
    set_tests_properties("${test_name}" PROPERTIES LABELS "${arg_LABELS}" ${arg_PROPERTIES})
  endforeach()
endfunction()
