/* The CUDA writer: <name>.cu, host code around the entry points of libskrt_cuda
 * (runtime/include/skrt/cuda.h: scores, selection and fused attention on the GPU). Same ABI
 * and checks as the C target, but every tensor lives on the CUDA device (kDLCUDA), q/k/v/out
 * may be f32, bf16 or f16, the workspace is stream-ordered device memory
 * (cudaMallocAsync/cudaFreeAsync) and the work is queued on the stream of ctx (NULL: the
 * default stream). Supported: sparsek.score, sparsek.attention, result copies and --grad
 * (emit_grad.c) and --decode (emit_decode.c: a device KV cache); the projection kernels
 * (linalg.matmul/transpose) are CPU-only. */
#include <stdio.h>
#include <string.h>

#include "codegen/cgen.h"
#include "compiler/diag.h"
#include "dialect/sparsek.h"

static bool reject(const struct skc_cg_step *st, const char *what) {
  skc_error_at(mlirOperationGetLocation(st->op),
               "unsupported op '%s' on the cuda target "
               "(codegen supports it on the cpu target only)",
               what);
  return false;
}

bool skc_cg_cuda_prepare(struct skc_cg_module *m) {
  m->cuda = true;
  for (int i = 0; i < m->nfuncs; ++i) {
    struct skc_cg_func *f = &m->funcs[i];
    f->cuda = true;
    for (int j = 0; j < f->nsteps; ++j) {
      const struct skc_cg_step *st = &f->steps[j];
      if (st->kind == SKC_STEP_MATMUL && !reject(st, "linalg.matmul"))
        return false;
      if (st->kind == SKC_STEP_TRANSPOSE && !reject(st, "linalg.transpose"))
        return false;
      if (st->kind == SKC_STEP_SCORE && st->in[0].where == SKC_AT_PARAM)
        f->params[st->in[0].index].strided = false; /* the GPU score kernel reads x densely */
    }
  }
  return true;
}

/* enum skrt_cuda_dtype of a parameter's element type. */
const char *skc_cg_cuda_dtype(const struct skc_cg_func *f, const struct skc_cg_ref *r) {
  int bits = 32;
  const char *code = "kDLFloat";
  if (r->where == SKC_AT_PARAM)
    bits = f->params[r->index].dtype.bits, code = f->params[r->index].dtype.dl_code;
  if (bits == 32)
    return "SKRT_CUDA_F32";
  return strcmp(code, "kDLBfloat") == 0 ? "SKRT_CUDA_BF16" : "SKRT_CUDA_F16";
}

static void emit_prologue(struct skc_emitter *e, const struct skc_cg_module *m,
                          const struct skc_cg_context *c) {
  skc_cg_provenance(e, c);
  skc_emit_line(e, "/* %s.cu: the entry points of lib%s (see %s.h) for CUDA tensors: checks, a",
                c->name, c->name, c->name);
  skc_emit_line(e, " * device workspace, then the scores (S5) and the SparseK attention "
                   "(S6-S10) of libskrt_cuda,");
  skc_emit_line(e, " * queued on the stream of ctx. Host code only; the kernels live in "
                   "runtime/kernels/cuda_*.cuh. */");
  skc_emit_line(e, "#include <cuda_runtime_api.h>");
  skc_emit_line(e, "#include <stdio.h>");
  skc_emit_line(e, "#include <string.h>");
  skc_emit_blank(e);
  skc_emit_line(e, "#include \"skrt/cuda.h\"");
  skc_emit_line(e, "#include \"skrt/sparsek.h\"");
  skc_emit_line(e, "#include \"%s.h\"", c->name);
  skc_emit_blank(e);
  skc_emit_line(e, "/* The workspace arena, as on the cpu target (lower-kernels' buffer "
                   "indices). */");
  skc_emit_line(e, "#define SKC_WS_ALIGN 256");
  skc_emit_line(e, "#define SKK_TILE_Q 0 /* the CUDA kernels choose their own tiles */");
  skc_emit_line(e, "static inline size_t skc_ws_round(size_t n) { return (n + SKC_WS_ALIGN - 1) "
                   "/ SKC_WS_ALIGN * SKC_WS_ALIGN; }");
  skc_emit_blank(e);
  bool syms = false; /* nvcc warns about unused static inline functions */
  for (int i = 0; i < m->nfuncs; ++i)
    syms |= m->funcs[i].nsyms > 0 || (m->decodes && m->decodes[i].nsyms > 0);
  if (syms)
    skc_cg_emit_sym_helper(e);
  skc_cg_emit_constants(e, m);
}

void skc_cg_emit_cuda_workspace(struct skc_emitter *e, const struct skc_cg_func *f) {
  skc_emit_line(e, "cudaStream_t stream = (cudaStream_t)skrt_context_cuda_stream(ctx);");
  skc_cg_emit_ws_layout(e, f);
  skc_emit_line(e, "char *ws = NULL;");
  skc_emit_line(e, "cudaError_t ce = ws_size ? cudaMallocAsync((void **)&ws, ws_size, stream) "
                   ": cudaSuccess;");
  skc_emit_line(e, "if (ce != cudaSuccess)");
  skc_emit_line(e,
                "  return skrt_error(SKRT_ERR_CUDA, \"%s: cannot allocate the workspace (%%zu "
                "bytes): %%s\", ws_size,",
                f->name);
  skc_emit_line(e, "                    cudaGetErrorString(ce));");
}

void skc_cg_emit_cuda_score_params(struct skc_emitter *e, const struct skc_cg_func *f,
                                   const struct skc_cg_step *st, int s) {
  char B[64], H[64], N[64], ptr[160];
  skc_cg_dim_str(f, st->out.dims[0], B, sizeof B);
  skc_cg_dim_str(f, st->out.dims[1], H, sizeof H);
  skc_cg_dim_str(f, st->out.dims[2], N, sizeof N);
  skc_emit_line(e, "struct skrt_cuda_scores sc;");
  skc_emit_line(e, "memset(&sc, 0, sizeof sc);");
  skc_emit_line(e, "sc.B = %s, sc.Hkv = %s, sc.N = %s, sc.mode = %s;", B, H, N,
                skc_cg_score_mode_name(st->mode));
  skc_emit_line(e, "sc.slope = (float)SKC_S%d_SLOPE;", s);
  skc_cg_ref_ptr(f, &st->in[0], "float", ptr, sizeof ptr);
  if (st->mode == SKC_SCORE_INPUT) {
    skc_emit_line(e, "sc.u_in = %s;", ptr);
  } else {
    skc_emit_line(e, "sc.F = SKC_S%d_F, sc.x = %s;", s, ptr);
    skc_cg_ref_ptr(f, &st->in[1], "float", ptr, sizeof ptr);
    skc_emit_line(e, "sc.w_score = %s;", ptr);
    skc_cg_ref_ptr(f, &st->in[2], "float", ptr, sizeof ptr);
    skc_emit_line(e, "sc.b_score = %s;", ptr);
  }
  skc_cg_ref_ptr(f, &st->out, "float", ptr, sizeof ptr);
  skc_emit_line(e, "sc.u = %s;", ptr);
}

static void emit_copy(struct skc_emitter *e, const struct skc_cg_func *f,
                      const struct skc_cg_step *st) {
  char dst[300], src[300], bytes[300];
  skc_cg_copy_args(f, st, dst, src, bytes, sizeof dst);
  skc_emit_line(e, "/* result %d is a copy */", f->params[st->out.index].index);
  skc_emit_line(e, "if (st == SKRT_OK && cudaMemcpyAsync(%s, %s, %s, cudaMemcpyDeviceToDevice,",
                dst, src, bytes);
  skc_emit_line(e, "                                     stream) != cudaSuccess)");
  skc_emit_line(e, "  st = skrt_error(SKRT_ERR_CUDA, \"%s: copy of result %d failed\");", f->name,
                f->params[st->out.index].index);
}

const char *skc_cg_cuda_score_dtype(const struct skc_cg_func *f, const struct skc_cg_step *st) {
  if (st->mode == SKC_SCORE_INPUT)
    return "SKRT_CUDA_F32";
  return skc_cg_cuda_dtype(f, &st->in[0]);
}

static void emit_entry(struct skc_emitter *e, const struct skc_cg_func *f, int *a, int *s) {
  skc_emit_line(e, "/* @%s (%s) */", f->name, f->loc);
  skc_cg_emit_entry_open(e, f);
  skc_cg_emit_cuda_workspace(e, f);
  for (int i = 0; i < f->nsteps; ++i) {
    const struct skc_cg_step *st = &f->steps[i];
    if (st->kind == SKC_STEP_SCORE) {
      skc_cg_emit_score_step(e, f, st, (*s)++);
    } else if (st->kind == SKC_STEP_ATTENTION) {
      skc_emit_line(e, "/* attention %d (%s): S6-S10 */", st->inst, st->loc);
      skc_emit_open(e, "if (st == SKRT_OK)");
      skc_cg_emit_attention_params(e, f, st, *a);
      skc_emit_line(e, "st = skrt_cuda_attention_forward(&p, %s, ctx);",
                    skc_cg_cuda_dtype(f, &st->in[0]));
      skc_emit_close(e, NULL);
      (*a)++;
    } else {
      emit_copy(e, f, st);
    }
  }
  skc_emit_line(e, "if (ws)");
  skc_emit_line(e, "  cudaFreeAsync(ws, stream);");
  skc_emit_line(e, "return st;");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

void skc_cg_write_cuda(struct skc_emitter *e, const struct skc_cg_module *m,
                       const struct skc_cg_context *c) {
  emit_prologue(e, m, c);
  skc_cg_write_entries(e, m, emit_entry);
}
