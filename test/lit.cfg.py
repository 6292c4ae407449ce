# lit configuration for skc: dialect/, driver/, passes/, e2e/ (.mlir and .test files).
import os
import lit.formats

config.name = "skc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test", ".c"]
config.excludes = ["Inputs", "runtime", "unit", "cuda", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.skc_obj_root, "test")

path = [config.skc_tools_dir, config.llvm_tools_dir, os.environ.get("PATH", "")]
config.environment["PATH"] = os.pathsep.join(path)
for var in ("HOME", "TMPDIR", "OMP_NUM_THREADS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

irdl = os.path.join(config.skc_src_root, "dialect", "sparsek.irdl.mlir")
config.substitutions.append(("%irdl", irdl))
config.substitutions.append(("%skrt_include", config.skrt_include))
config.substitutions.append(("%skrt_root", config.skrt_root))
config.substitutions.append(("%skrt_lib", config.skrt_lib))
config.substitutions.append(("%dlpack_include", config.dlpack_include))
config.substitutions.append(("%cc", config.cc))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
if config.nvcc and not config.nvcc.endswith("NOTFOUND"):
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", config.nvcc))
