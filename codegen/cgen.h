/* Internals shared by the code-generation files: the target records, the provenance line,
 * extent expressions, and the two writers (the ABI header and the C/OpenMP source). */
#ifndef SKC_CODEGEN_CGEN_H
#define SKC_CODEGEN_CGEN_H

#include <stdbool.h>
#include <stddef.h>

#include "codegen/emit.h"
#include "codegen/plan.h"

/* A code-generation target (X-macro list in target.c). */
struct skc_target_info {
  const char *name;        /* "cpu" */
  const char *description; /* "C11 + OpenMP" */
  const char *source_ext;  /* ".c" */
  const char *kernel_header;
  const char *score_header;
  bool available; /* false: the writer is not implemented in this build */
};
const struct skc_target_info *skc_target_get(int target);

/* What every emitted file states about itself. */
struct skc_cg_context {
  const char *input;    /* the model path as given */
  const char *name;     /* library / header stem */
  const char *pipeline; /* pass flags, comma separated */
  const struct skc_target_info *target;
};

/* The provenance line (style rule 10) for file `file`. */
void skc_cg_provenance(struct skc_emitter *e, const struct skc_cg_context *c);

/* An extent as C: a constant or its symbol's name. */
void skc_cg_dim_str(const struct skc_cg_func *f, struct skc_cg_dim d, char *buf, size_t n);
/* "[B, 4, N, 16]" */
void skc_cg_shape_str(const struct skc_cg_func *f, const struct skc_cg_dim *d, int rank, char *buf,
                      size_t n);
/* "(B * 4 * N * 16)" over axes [from, rank) */
void skc_cg_numel_str(const struct skc_cg_func *f, const struct skc_cg_dim *d, int from, int rank,
                      char *buf, size_t n);

/* The entry's prototype (without ';'), one parameter per line group. */
void skc_cg_prototype(struct skc_emitter *e, const struct skc_cg_func *f);

/* Pieces of an entry body shared by the forward and backward writers. */
void skc_cg_ref_ptr(const struct skc_cg_func *f, const struct skc_cg_ref *r, const char *type,
                    char *buf, size_t n);
/* The same without const: for struct fields the kernels read but declare void * (p.o, lse). */
void skc_cg_ref_data(const struct skc_cg_func *f, const struct skc_cg_ref *r, const char *type,
                     char *buf, size_t n);
/* `{ skrt_dl_check(...); dynamic extents }` of parameter i; defined[sym] tracks symbols. */
void skc_cg_emit_check_param(struct skc_emitter *e, const struct skc_cg_func *f, int i,
                             bool *defined);
/* The entry's prototype, `{`, status, dynamic extents and every parameter check. */
void skc_cg_emit_entry_open(struct skc_emitter *e, const struct skc_cg_func *f);
/* ws_off[] and ws_size of f's workspace buffers. */
void skc_cg_emit_ws_layout(struct skc_emitter *e, const struct skc_cg_func *f);
/* Destination, source and byte count expressions of a copy step. */
void skc_cg_copy_args(const struct skc_cg_func *f, const struct skc_cg_step *st, char *dst,
                      char *src, char *bytes, size_t n);
/* The layout and the aligned host allocation of f's workspace buffers. */
void skc_cg_emit_workspace(struct skc_emitter *e, const struct skc_cg_func *f);
/* One score step (S5) of f on its target: parameters, kernel call, status. */
void skc_cg_emit_score_step(struct skc_emitter *e, const struct skc_cg_func *f,
                            const struct skc_cg_step *st, int s);
/* The runtime's enum skrt_score_mode name of a score mode ("SKRT_SCORE_KEYS"). */
const char *skc_cg_score_mode_name(int mode);
/* Declares and fills `struct skrt_attn_params p` / `struct skk_score_params sp`. */
void skc_cg_emit_attention_params(struct skc_emitter *e, const struct skc_cg_func *f,
                                  const struct skc_cg_step *st, int a);
void skc_cg_emit_score_params(struct skc_emitter *e, const struct skc_cg_func *f,
                              const struct skc_cg_step *st, int s);

/* Why f is not a single attention layer (one sparsek.score feeding one sparsek.attention whose
 * output is the only result, every argument read once by it), or NULL when it is. */
const char *skc_cg_single_layer(const struct skc_cg_func *f);

/* --decode (emit_decode.c): the decode plan of f, its destruction, its entries (with
 * <stem>_kv_cache_create) and their documentation. */
bool skc_cg_decode_func_create(const struct skc_cg_func *f, struct skc_cg_func *d);
void skc_cg_decode_func_destroy(struct skc_cg_func *d);
void skc_cg_write_decode(struct skc_emitter *e, const struct skc_cg_func *d, int a, int s);
void skc_cg_document_decode(struct skc_emitter *e, const struct skc_cg_func *d);

/* --grad (emit_grad.c): the backward plan of f (an error when f is not one attention
 * layer), its destruction, and its entry. a, s: f's attention / score constant indices.
 * Also appends to f the results its forward saves for the backward (saved_lse, saved_tau,
 * saved_nfree) and points f's attention step at them. */
bool skc_cg_grad_func_create(struct skc_cg_func *f, struct skc_cg_func *g);
void skc_cg_grad_func_destroy(struct skc_cg_func *g);
void skc_cg_write_backward(struct skc_emitter *e, const struct skc_cg_func *g, int a, int s);

/* Shared by the C and CUDA writers: the dynamic-extent check helper, the #defines of every
 * kernel instance's constants, and the entries of every function (the target's forward via
 * `entry`, which advances the attention / score constant indices a and s, then the --grad
 * backward and the --decode entries that reuse those indices). */
void skc_cg_emit_sym_helper(struct skc_emitter *e);
void skc_cg_emit_constants(struct skc_emitter *e, const struct skc_cg_module *m);
typedef void (*skc_cg_entry_writer)(struct skc_emitter *e, const struct skc_cg_func *f, int *a,
                                    int *s);
void skc_cg_write_entries(struct skc_emitter *e, const struct skc_cg_module *m,
                          skc_cg_entry_writer entry);

/* The cuda target (emit_cuda.c): checks what it supports (an error at the op otherwise),
 * then writes <name>.cu, host code around the libskrt_cuda entry points (skrt/cuda.h). */
bool skc_cg_cuda_prepare(struct skc_cg_module *m);
void skc_cg_write_cuda(struct skc_emitter *e, const struct skc_cg_module *m,
                       const struct skc_cg_context *c);
/* Pieces of a cuda entry (also used by the cuda backward): the skrt_cuda_dtype of a tensor
 * and of a score step's input, the stream-ordered device workspace, and
 * `struct skrt_cuda_scores sc` of a score step. */
const char *skc_cg_cuda_dtype(const struct skc_cg_func *f, const struct skc_cg_ref *r);
const char *skc_cg_cuda_score_dtype(const struct skc_cg_func *f, const struct skc_cg_step *st);
void skc_cg_emit_cuda_workspace(struct skc_emitter *e, const struct skc_cg_func *f);
void skc_cg_emit_cuda_score_params(struct skc_emitter *e, const struct skc_cg_func *f,
                                   const struct skc_cg_step *st, int s);

void skc_cg_write_header(struct skc_emitter *e, const struct skc_cg_module *m,
                         const struct skc_cg_context *c);
void skc_cg_write_c(struct skc_emitter *e, const struct skc_cg_module *m,
                    const struct skc_cg_context *c);

#endif
