# The node-side activator's size budget (bench/RESULTS.md, "Activator"): the stripped binary must
# stay within LIMIT bytes. Run as `cmake -DACTIVATOR=... -DSTRIP=... -DLIMIT=... -P` by the
# ctest entry lint.activator-size, for the release build types only (sanitizers and -O0 differ).
get_filename_component(stripped "${ACTIVATOR}.stripped-size-check" ABSOLUTE)
execute_process(COMMAND "${STRIP}" -o "${stripped}" "${ACTIVATOR}" RESULT_VARIABLE status
                ERROR_VARIABLE error)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${STRIP} ${ACTIVATOR}: ${error}")
endif()
file(SIZE "${stripped}" size)
file(REMOVE "${stripped}")
if(size GREATER LIMIT)
  math(EXPR over "${size} - ${LIMIT}")
  message(FATAL_ERROR "kmod-sysext-activate is ${size} bytes stripped: ${over} over its budget "
                      "of ${LIMIT}")
endif()
math(EXPR margin "${LIMIT} - ${size}")
message(STATUS "kmod-sysext-activate: ${size} bytes stripped, ${margin} under the budget of ${LIMIT}")
