file(REMOVE_RECURSE
  "CMakeFiles/flatvm_mm.dir/dispatch.c.o"
  "CMakeFiles/flatvm_mm.dir/dispatch.c.o.d"
  "CMakeFiles/flatvm_mm.dir/flatview.c.o"
  "CMakeFiles/flatvm_mm.dir/flatview.c.o.d"
  "CMakeFiles/flatvm_mm.dir/memory.c.o"
  "CMakeFiles/flatvm_mm.dir/memory.c.o.d"
  "libflatvm_mm.a"
  "libflatvm_mm.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/flatvm_mm.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
