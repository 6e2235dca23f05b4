# ksx_stage_library(<name> [PUBLIC deps...] [PRIVATE deps...])
# A pipeline stage: a static library of every .cpp in the calling folder.
function(ksx_stage_library name)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  add_library(${name} STATIC ${sources})
  target_link_libraries(${name} PUBLIC ksx_settings ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
endfunction()
