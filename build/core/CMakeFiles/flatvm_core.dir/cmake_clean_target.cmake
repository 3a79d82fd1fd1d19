file(REMOVE_RECURSE
  "libflatvm_core.a"
)
