# Helpers shared by every area's CMakeLists.txt.

# lg_subdirs(): add every immediate subdirectory that has a CMakeLists.txt, so an area
# can be added without editing its parent.
function(lg_subdirs)
  file(GLOB children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child}
       AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()

# lg_unit_test(NAME SOURCES... ): a unit test linked against the sanitized core.
function(lg_unit_test name)
  add_executable(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/harness)
  target_link_libraries(${name} PRIVATE lgcore_san)
  target_compile_options(${name} PRIVATE ${LG_SAN_FLAGS})
  target_link_options(${name} PRIVATE ${LG_SAN_FLAGS})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "LG_SRCDIR=${PROJECT_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
endfunction()

# lg_script_test(NAME SCRIPT [ARGS...]): a shell test that drives the built tools.
function(lg_script_test name script)
  add_test(NAME ${name} COMMAND bash ${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "LG_BIN=${CMAKE_BINARY_DIR}/bin;LG_LIB=${CMAKE_BINARY_DIR}/lib;LG_SRCDIR=${PROJECT_SOURCE_DIR};LG_BUILD=${CMAKE_BINARY_DIR}"
    TIMEOUT 300)
endfunction()
