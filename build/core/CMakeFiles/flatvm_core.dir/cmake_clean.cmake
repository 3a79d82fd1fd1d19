file(REMOVE_RECURSE
  "CMakeFiles/flatvm_core.dir/device.c.o"
  "CMakeFiles/flatvm_core.dir/device.c.o.d"
  "CMakeFiles/flatvm_core.dir/error.c.o"
  "CMakeFiles/flatvm_core.dir/error.c.o.d"
  "CMakeFiles/flatvm_core.dir/object.c.o"
  "CMakeFiles/flatvm_core.dir/object.c.o.d"
  "CMakeFiles/flatvm_core.dir/rcu.c.o"
  "CMakeFiles/flatvm_core.dir/rcu.c.o.d"
  "libflatvm_core.a"
  "libflatvm_core.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/flatvm_core.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
