# Empty dependencies file for flatvm_core.
# This may be replaced when dependencies are built.
