
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/mm/dispatch.c" "mm/CMakeFiles/flatvm_mm.dir/dispatch.c.o" "gcc" "mm/CMakeFiles/flatvm_mm.dir/dispatch.c.o.d"
  "/work/main/mm/flatview.c" "mm/CMakeFiles/flatvm_mm.dir/flatview.c.o" "gcc" "mm/CMakeFiles/flatvm_mm.dir/flatview.c.o.d"
  "/work/main/mm/memory.c" "mm/CMakeFiles/flatvm_mm.dir/memory.c.o" "gcc" "mm/CMakeFiles/flatvm_mm.dir/memory.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/core/CMakeFiles/flatvm_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
