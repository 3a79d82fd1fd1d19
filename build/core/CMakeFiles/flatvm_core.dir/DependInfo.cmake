
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/core/device.c" "core/CMakeFiles/flatvm_core.dir/device.c.o" "gcc" "core/CMakeFiles/flatvm_core.dir/device.c.o.d"
  "/work/main/core/error.c" "core/CMakeFiles/flatvm_core.dir/error.c.o" "gcc" "core/CMakeFiles/flatvm_core.dir/error.c.o.d"
  "/work/main/core/object.c" "core/CMakeFiles/flatvm_core.dir/object.c.o" "gcc" "core/CMakeFiles/flatvm_core.dir/object.c.o.d"
  "/work/main/core/rcu.c" "core/CMakeFiles/flatvm_core.dir/rcu.c.o" "gcc" "core/CMakeFiles/flatvm_core.dir/rcu.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
