# cmake -DSOURCE_DIR=<tree> [-DGRAPH=<file>] -P CheckStageIncludes.cmake
# Fails when a stage's CMake link line differs from its entry in the stage graph
# (cmake/StageGraph.cmake), when a stage uses one that comes after it, or when a source of a
# stage includes a header of a stage it does not use (directly or through the stages it uses).
cmake_minimum_required(VERSION 3.25)
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
if(NOT GRAPH)
  set(GRAPH ${SOURCE_DIR}/cmake/StageGraph.cmake)
endif()
include(${GRAPH})

set(problems "")
macro(problem text)
  string(APPEND problems "${text}\n")
endmacro()

# Order: a stage uses only stages before it.
set(seen "")
foreach(stage ${KSX_STAGES})
  foreach(used ${KSX_STAGE_USES_${stage}})
    if(NOT used IN_LIST seen)
      problem("cmake/StageGraph.cmake: ${stage} uses ${used}, which is not a stage before it")
    endif()
  endforeach()
  list(APPEND seen ${stage})
endforeach()

# Every folder under src/ is a stage.
file(GLOB folders LIST_DIRECTORIES true RELATIVE ${SOURCE_DIR}/src ${SOURCE_DIR}/src/*)
foreach(folder ${folders})
  if(IS_DIRECTORY ${SOURCE_DIR}/src/${folder} AND NOT folder IN_LIST KSX_STAGES)
    problem("src/${folder}: not a stage of cmake/StageGraph.cmake")
  endif()
endforeach()

foreach(stage ${KSX_STAGES})
  # What the stage may include: itself and the closure of what it uses.
  set(allowed ${stage})
  set(pending ${KSX_STAGE_USES_${stage}})
  while(pending)
    list(POP_FRONT pending next)
    if(NOT next IN_LIST allowed)
      list(APPEND allowed ${next})
      list(APPEND pending ${KSX_STAGE_USES_${next}})
    endif()
  endwhile()

  # The link line: every ksx_<stage> the folder's CMakeLists.txt names but its own.
  file(READ ${SOURCE_DIR}/src/${stage}/CMakeLists.txt cmake_text)
  string(REGEX MATCHALL "ksx_[a-z_]+" linked "${cmake_text}")
  list(REMOVE_DUPLICATES linked)
  list(TRANSFORM linked REPLACE "^ksx_" "")
  list(REMOVE_ITEM linked settings stage_library ${stage} ${stage}_shared)
  list(SORT linked)
  set(declared ${KSX_STAGE_USES_${stage}})
  list(SORT declared)
  if(NOT "${linked}" STREQUAL "${declared}")
    problem("src/${stage}/CMakeLists.txt: links \"${linked}\", but the stage graph says \"${declared}\"")
  endif()

  file(GLOB_RECURSE sources ${SOURCE_DIR}/src/${stage}/*.cpp ${SOURCE_DIR}/src/${stage}/*.hpp
       ${SOURCE_DIR}/src/${stage}/*.in)
  foreach(source ${sources})
    file(STRINGS ${source} lines REGEX "^#include \"[a-z_]+/")
    foreach(line ${lines})
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" included "${line}")
      if(included IN_LIST KSX_STAGES AND NOT included IN_LIST allowed)
        file(RELATIVE_PATH shown ${SOURCE_DIR} ${source})
        problem("${shown}: ${line}: ${stage} does not use ${included}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "stage graph violated:\n${problems}")
endif()
list(LENGTH KSX_STAGES count)
message(STATUS "stage graph: ${count} stages, includes and link lines agree")
