file(REMOVE_RECURSE
  "libflatvm_mm.a"
)
