/* The code-generation plan of one public function: what the emitters (the ABI header writer
 * and the C/OpenMP writer) print, read once from the IR that lower-kernels produced.
 *
 *   params   the DLTensor parameters in ABI order (arguments, then results), each with a C
 *            name, dtype, rank and per-axis extent: a constant or a dynamic symbol (B, N);
 *   syms     dynamic extents, each defined by the first parameter that carries it and checked
 *            against every later one;
 *   steps    the kernel instances in program order (scores, attention, result copies), each
 *            naming where its operands live: a parameter or a workspace buffer.
 *
 * Unsupported ops are reported here at their location (`unsupported op '...'`). */
#ifndef SKC_CODEGEN_PLAN_H
#define SKC_CODEGEN_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "mlir-c/IR.h"

enum { SKC_CG_MAX_RANK = 8, SKC_CG_NAME = 48 };

/* One extent: a constant (sym < 0) or dynamic symbol `sym`. */
struct skc_cg_dim {
  int64_t value;
  int sym;
};

/* DLPack element kinds the ABI knows. */
struct skc_cg_dtype {
  const char *c_type;  /* "float" */
  const char *dl_code; /* "kDLFloat" */
  const char *name;    /* "float32" */
  int bits;
};

/* Role of a parameter in the kernels (documentation and stride rules). */
enum skc_cg_role {
  SKC_ROLE_OTHER,
  SKC_ROLE_Q,
  SKC_ROLE_K,
  SKC_ROLE_V,
  SKC_ROLE_X,
  SKC_ROLE_W,
  SKC_ROLE_B,
  SKC_ROLE_UIN,
  SKC_ROLE_OUT,
  SKC_ROLE_U
};

struct skc_cg_param {
  char name[SKC_CG_NAME];
  bool result;
  int index; /* argument or result position */
  int rank;
  struct skc_cg_dim dims[SKC_CG_MAX_RANK];
  struct skc_cg_dtype dtype;
  enum skc_cg_role role;
  int role_op;  /* the attention instance the role belongs to, -1 */
  bool strided; /* any strides with a contiguous last axis accepted */
  MlirValue value;
};

struct skc_cg_sym {
  char name[SKC_CG_NAME];
  int param, axis; /* the defining parameter and axis */
};

/* Where a tensor value lives at run time. */
enum skc_cg_where { SKC_AT_PARAM, SKC_AT_BUFFER };
struct skc_cg_ref {
  enum skc_cg_where where;
  int index; /* parameter index or workspace buffer index */
  bool view; /* a reshaped view of the (contiguous) storage: strides from dims */
  int rank;
  struct skc_cg_dim dims[SKC_CG_MAX_RANK];
};

enum skc_cg_step_kind {
  SKC_STEP_SCORE,
  SKC_STEP_ATTENTION,
  SKC_STEP_COPY,
  SKC_STEP_MATMUL,
  SKC_STEP_TRANSPOSE
};

struct skc_cg_step {
  enum skc_cg_step_kind kind;
  int inst;                /* attention / score instance number */
  MlirOperation op;        /* null for copies */
  char loc[160];           /* file:line:col of the op */
  struct skc_cg_ref in[4]; /* score: x, w, b; attention: q, k, v, u; copy: src */
  int nin;
  struct skc_cg_ref out;
  /* specialization constants (attention) */
  int64_t topk, window, tile_q, head_dim;
  int gate, mode;
  double scale, slope;
  int64_t feat;                  /* score F (hidden/keys) */
  /* attention built with --grad: where the forward saves lse, tau and |F_i| (parameters) */
  bool saves;
  struct skc_cg_ref save[3];
  int64_t perm[SKC_CG_MAX_RANK]; /* transpose: out axis i reads in axis perm[i] */
};

struct skc_cg_func {
  char name[SKC_CG_NAME]; /* C entry name */
  const char *lead;       /* leading C parameters before the tensors (decode), or NULL */
  bool cuda;              /* tensors live on the CUDA device (the cuda target) */
  char loc[160];
  struct skc_cg_param *params;
  int nparams, nargs;
  struct skc_cg_sym *syms;
  int nsyms;
  struct skc_cg_step *steps;
  int nsteps;
  int nbuffers;
  int64_t align;
  const char *real; /* C type of the kernels' real (SKK_REAL): "float", or "double" (f64) */
  int real_bits;    /* 32 or 64 */
  struct skc_cg_ref *buffers; /* shapes of the workspace buffers (all float32) */
};

struct skc_cg_module {
  struct skc_cg_func *funcs;
  int nfuncs;
  struct skc_cg_func *grads;   /* --grad: the backward plan of each function, else NULL */
  struct skc_cg_func *decodes; /* --decode: the decode-step plan of each function, else NULL */
  int64_t head_dim;            /* SKK_HEAD_DIM: shared D, or 0 when attention ops differ */
  int64_t tile_q;              /* SKK_TILE_Q */
  const char *real;            /* SKK_REAL: the attention ops' element type (f32 or f64) */
  int real_bits;
  int nattention;
  bool cuda; /* the cuda target */
};

/* Builds the plan of every public function of module (lowered by lower-kernels). `src` is
 * the input text (may be NULL) for recovering argument names. False after an error at the
 * offending op's location. */
bool skc_cg_plan_create(MlirOperation module, const char *input, const char *src,
                        struct skc_cg_module *out);
void skc_cg_plan_destroy(struct skc_cg_module *m);

#endif
