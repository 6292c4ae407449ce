# Link recipe for the MLIR C API (shared/notes/mlir-c-api.md): the static C API archives
# resolve against libMLIR.so and libLLVM.so. Never mix with the static libMLIR*.a targets.
set(SKC_CAPI_LIBS)
foreach(c IR IRDL Func Arith Linalg Tensor Math SCF Transforms RegisterEverything Conversion)
  list(APPEND SKC_CAPI_LIBS ${LLVM_LIBRARY_DIR}/libMLIRCAPI${c}.a)
endforeach()

# skc_mlir: the MLIR C API as one link interface. skc_dialect (which every compiler library
# uses) links it, so the archives follow all their users on the link line, as gold and GNU
# ld need (lld does not care about order).
add_library(skc_mlir INTERFACE)
target_include_directories(skc_mlir SYSTEM INTERFACE ${MLIR_INCLUDE_DIRS})
target_link_libraries(skc_mlir INTERFACE "-Wl,--start-group" ${SKC_CAPI_LIBS} "-Wl,--end-group"
                      ${LLVM_LIBRARY_DIR}/libMLIR.so ${LLVM_LIBRARY_DIR}/libLLVM.so stdc++ m)

# skc_link_mlir(target): an executable on the MLIR C API (run path of the LLVM libraries).
function(skc_link_mlir target)
  target_link_libraries(${target} PRIVATE skc_mlir)
  set_target_properties(${target} PROPERTIES BUILD_RPATH ${LLVM_LIBRARY_DIR}
                        INSTALL_RPATH ${LLVM_LIBRARY_DIR})
endfunction()

# skc_embed_file(input output symbol): turn a text file into a C byte array `symbol`
# (with a trailing NUL) so binaries need no run-time file lookup.
function(skc_embed_file input output symbol)
  add_custom_command(OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DIN=${input} -DOUT=${output} -DSYM=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${input} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "embedding ${input}")
endfunction()
