# Empty dependencies file for flatvm_mm.
# This may be replaced when dependencies are built.
