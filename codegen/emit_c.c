/* The C/OpenMP writer: <name>.c, a thin translation unit around the hand-written kernels
 * (design.md, "Kernels: thick hand-written, thin generated"):
 *
 *   provenance line; #define SKK_REAL / SKK_HEAD_DIM / SKK_TILE_Q;
 *   #include "kernels/cpu_attention_fwd.h"; per kernel instance its constants (#define);
 *   per public function an entry that checks every DLTensor (skrt_dl_check, then the
 *   dynamic extents B, N against the tensor that defined them), lays out the workspace
 *   arena, computes the scores u (S5) into it, checks they are finite, fills a
 *   struct skrt_attn_params and calls skk_attention_forward; results that return an argument
 *   (or a value returned twice) are copied.
 *
 * Output is a pure function of the plan: no dates, no paths but the input as given. */
#include <stdio.h>
#include <string.h>

#include "codegen/cgen.h"
#include "compiler/diag.h"
#include "dialect/sparsek.h"

void skc_cg_emit_sym_helper(struct skc_emitter *e) {
  skc_emit_line(e, "/* Axis `axis` of t must equal the extent of dynamic symbol `sym`, defined "
                   "by tensor `from`. */");
  skc_emit_open(e, "static inline int skc_check_sym(const DLTensor *t, const char *name, int "
                   "axis, int64_t want,\n                                const char *sym, const "
                   "char *from)");
  skc_emit_line(e, "if (t->shape[axis] == want)");
  skc_emit_line(e, "  return SKRT_OK;");
  skc_emit_line(e, "return skrt_error(SKRT_ERR_SHAPE, \"argument '%%s': dimension %%d (%%s) is "
                   "%%lld, expected %%lld (%%s of '%%s')\",");
  skc_emit_line(e, "                  name, axis, sym, (long long)t->shape[axis], (long long)want,"
                   " sym, from);");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

/* The projection kernels (codegen/aux_ops.h), static inline: no warning when unused. */
static void emit_aux_helpers(struct skc_emitter *e) {
  skc_emit_line(e, "/* linalg.matmul: c (M, N) = a (M, K) b (K, N), rows in parallel. */");
  skc_emit_open(e,
                "static inline void skc_matmul(const SKK_REAL *a, const SKK_REAL *b, SKK_REAL *c, "
                "int64_t M, int64_t N, int64_t K,\n                              int nt)");
  skc_emit_line(e, "#pragma omp parallel for schedule(static) num_threads(nt)");
  skc_emit_open(e, "for (int64_t i = 0; i < M; ++i)");
  skc_emit_line(e, "SKK_REAL *ci = c + i * N;");
  skc_emit_line(e, "memset(ci, 0, (size_t)N * sizeof(SKK_REAL));");
  skc_emit_open(e, "for (int64_t kk = 0; kk < K; ++kk)");
  skc_emit_line(e, "const SKK_REAL aik = a[i * K + kk], *bk = b + kk * N;");
  skc_emit_line(e, "#pragma omp simd");
  skc_emit_line(e, "for (int64_t j = 0; j < N; ++j)");
  skc_emit_line(e, "  ci[j] += aik * bk[j];");
  skc_emit_close(e, NULL);
  skc_emit_close(e, NULL);
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
  skc_emit_line(e, "/* linalg.transpose: out axis i reads in axis perm[i]; out row-major. */");
  skc_emit_open(e, "static inline void skc_transpose(const SKK_REAL *in, SKK_REAL *out, int rank, "
                   "const int64_t *in_shape,\n                                 const int64_t "
                   "*perm)");
  skc_emit_line(e, "int64_t in_stride[8], count = 1;");
  skc_emit_line(e, "for (int i = rank - 1, s = 1; i >= 0; s *= (int)in_shape[i], --i)");
  skc_emit_line(e, "  in_stride[i] = s;");
  skc_emit_line(e, "for (int i = 0; i < rank; ++i)");
  skc_emit_line(e, "  count *= in_shape[i];");
  skc_emit_open(e, "for (int64_t o = 0; o < count; ++o)");
  skc_emit_line(e, "int64_t rest = o, src = 0;");
  skc_emit_open(e, "for (int i = rank - 1; i >= 0; --i)");
  skc_emit_line(e, "int64_t n = in_shape[perm[i]];");
  skc_emit_line(e, "src += (rest %% n) * in_stride[perm[i]];");
  skc_emit_line(e, "rest /= n;");
  skc_emit_close(e, NULL);
  skc_emit_line(e, "out[o] = in[src];");
  skc_emit_close(e, NULL);
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

static void emit_score_helper(struct skc_emitter *e) {
  skc_emit_line(e, "/* Scores u (S5) and their finiteness check (spec section 5); a failure's "
                   "message is prefixed");
  skc_emit_line(e, " * with the entry and the op. */");
  skc_emit_open(e, "static inline int skc_scores(const struct skk_score_params *sp, struct "
                   "skrt_context *ctx,\n                             const char *what)");
  skc_emit_line(e, "int st = skk_scores_forward(sp, ctx);");
  skc_emit_line(e, "if (st == SKRT_OK)");
  skc_emit_line(e, "  return st;");
  skc_emit_line(e, "char msg[256];");
  skc_emit_line(e, "snprintf(msg, sizeof msg, \"%%s\", skrt_last_error());");
  skc_emit_line(e, "return skrt_error(st, \"%%s: %%s\", what, msg);");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

static void emit_prologue(struct skc_emitter *e, const struct skc_cg_module *m,
                          const struct skc_cg_context *c) {
  skc_cg_provenance(e, c);
  skc_emit_line(e,
                "/* %s.c: the entry points of lib%s (see %s.h). Each checks its DLPack "
                "tensors, lays out",
                c->name, c->name, c->name);
  skc_emit_line(e, " * the workspace, computes the scores u (S5), checks them and runs the "
                   "fused SparseK kernel");
  skc_emit_line(e, " * (runtime/kernels/cpu_attention_fwd.h) specialized by the constants "
                   "below. */");
  skc_emit_line(e, "#define SKK_REAL %s", m->real);
  if (m->head_dim > 0)
    skc_emit_line(e, "#define SKK_HEAD_DIM %lld", (long long)m->head_dim);
  else
    skc_emit_line(e, "/* SKK_HEAD_DIM unset: the attention ops differ in D (runtime D) */");
  skc_emit_line(e, "#define SKK_TILE_Q %lld", (long long)m->tile_q);
  skc_emit_line(e, "#include \"%s\"", c->target->kernel_header);
  skc_emit_line(e, "#include \"%s\"", c->target->score_header);
  if (m->grads)
    skc_emit_line(e, "#include \"kernels/cpu_attention_bwd.h\"");
  if (m->decodes)
    skc_emit_line(e, "#include \"skrt/kv_cache.h\"");
  skc_emit_blank(e);
  skc_emit_line(e, "#include <stdio.h>");
  skc_emit_line(e, "#include <stdlib.h>");
  skc_emit_line(e, "#include <string.h>");
  skc_emit_blank(e);
  skc_emit_line(e, "#include \"%s.h\"", c->name);
  skc_emit_blank(e);
  skc_emit_line(e, "/* The workspace arena: buffer i starts at the sum of the sizes of buffers "
                   "< i, each rounded");
  skc_emit_line(e, " * up to SKC_WS_ALIGN bytes (lower-kernels' buffer indices). */");
  skc_emit_line(e, "#define SKC_WS_ALIGN 64");
  skc_emit_line(e, "static inline size_t skc_ws_round(size_t n) { return (n + SKC_WS_ALIGN - 1) "
                   "/ SKC_WS_ALIGN * SKC_WS_ALIGN; }");
  skc_emit_blank(e);
  skc_cg_emit_sym_helper(e); /* static inline: no warning when unused */
  emit_score_helper(e);
  emit_aux_helpers(e);
}

/* #defines of every kernel instance's specialization constants. */
void skc_cg_emit_constants(struct skc_emitter *e, const struct skc_cg_module *m) {
  int a = 0, s = 0;
  for (int i = 0; i < m->nfuncs; ++i)
    for (int j = 0; j < m->funcs[i].nsteps; ++j) {
      const struct skc_cg_step *st = &m->funcs[i].steps[j];
      if (st->kind == SKC_STEP_SCORE) {
        skc_emit_line(e, "/* score %d of @%s (%s): mode %s */", st->inst, m->funcs[i].name, st->loc,
                      skc_score_mode_name(st->mode));
        skc_emit_line(e, "#define SKC_S%d_SLOPE %.17g", s, st->slope);
        if (st->mode != SKC_SCORE_INPUT)
          skc_emit_line(e, "#define SKC_S%d_F %lld", s, (long long)st->feat);
        s++;
      } else if (st->kind == SKC_STEP_ATTENTION) {
        skc_emit_line(e, "/* attention %d of @%s (%s): score mode %s */", st->inst,
                      m->funcs[i].name, st->loc, skc_score_mode_name(st->mode));
        skc_emit_line(e, "#define SKC_A%d_D %lld", a, (long long)st->head_dim);
        skc_emit_line(e, "#define SKC_A%d_TOPK %lld", a, (long long)st->topk);
        skc_emit_line(e, "#define SKC_A%d_WINDOW %lld", a, (long long)st->window);
        skc_emit_line(e, "#define SKC_A%d_GATE %s", a,
                      st->gate == SKC_GATE_KV ? "SKRT_GATE_KV" : "SKRT_GATE_V");
        skc_emit_line(e, "#define SKC_A%d_SCALE %.17g", a, st->scale);
        a++;
      }
    }
  skc_emit_blank(e);
}

/* ---- entries ---------------------------------------------------------------------------- */

void skc_cg_emit_check_param(struct skc_emitter *e, const struct skc_cg_func *f, int i,
                             bool *defined) {
  const struct skc_cg_param *p = &f->params[i];
  char shape[256] = "";
  for (int a = 0; a < p->rank; ++a) {
    char one[SKC_CG_NAME];
    int y = p->dims[a].sym;
    if (y >= 0) /* dynamic: checked below against the tensor that defined it */
      snprintf(one, sizeof one, "-1");
    else
      skc_cg_dim_str(f, p->dims[a], one, sizeof one);
    snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%s", a ? ", " : "", one);
  }
  skc_emit_line(e, "{");
  e->indent++;
  skc_emit_line(e, "const int64_t shape[%d] = {%s};", p->rank ? p->rank : 1, p->rank ? shape : "0");
  skc_emit_line(e,
                "if ((st = skrt_dl_check(%s, \"%s\", %d, shape, %s, %d, %s, %d)) != "
                "SKRT_OK)",
                p->name, p->name, p->rank, p->dtype.dl_code, p->dtype.bits,
                f->cuda ? "kDLCUDA" : "kDLCPU", p->strided);
  skc_emit_line(e, "  return st;");
  for (int a = 0; a < p->rank; ++a) {
    int y = p->dims[a].sym;
    if (y < 0)
      continue;
    const struct skc_cg_sym *s = &f->syms[y];
    if (!defined[y]) {
      skc_emit_line(e, "%s = %s->shape[%d];", s->name, p->name, a);
      defined[y] = true;
    } else {
      skc_emit_line(e, "if ((st = skc_check_sym(%s, \"%s\", %d, %s, \"%s\", \"%s\")) != SKRT_OK)",
                    p->name, p->name, a, s->name, s->name, f->params[s->param].name);
      skc_emit_line(e, "  return st;");
    }
  }
  skc_emit_close(e, NULL);
}

/* A C expression for the data pointer of a ref. */
void skc_cg_ref_ptr(const struct skc_cg_func *f, const struct skc_cg_ref *r, const char *type,
                    char *buf, size_t n) {
  if (r->where == SKC_AT_PARAM && !f->params[r->index].result)
    snprintf(buf, n, "(const %s *)skrt_dl_data(%s)", type, f->params[r->index].name);
  else
    skc_cg_ref_data(f, r, type, buf, n);
}

void skc_cg_ref_data(const struct skc_cg_func *f, const struct skc_cg_ref *r, const char *type,
                     char *buf, size_t n) {
  if (r->where == SKC_AT_PARAM)
    snprintf(buf, n, "(%s *)skrt_dl_data(%s)", type, f->params[r->index].name);
  else
    snprintf(buf, n, "(%s *)(ws + ws_off[%d])", type, r->index);
}

/* The (b, h, n) element strides of an attention operand into p.<field>. */
static void emit_strides(struct skc_emitter *e, const struct skc_cg_func *f,
                         const struct skc_cg_ref *r, const char *field) {
  if (r->where == SKC_AT_PARAM && !r->view) {
    skc_emit_line(e, "skrt_dl_strides(%s, s);", f->params[r->index].name);
    if (r->rank == 4)
      skc_emit_line(e, "%s[0] = s[0], %s[1] = s[1], %s[2] = s[2];", field, field, field);
    else
      skc_emit_line(e, "%s[0] = s[0], %s[1] = 0, %s[2] = s[1];", field, field, field);
    return;
  }
  char s0[128], s1[128], s2[128];
  skc_cg_numel_str(f, r->dims, 1, r->rank, s0, sizeof s0);
  skc_cg_numel_str(f, r->dims, r->rank == 4 ? 2 : 3, r->rank, s1, sizeof s1);
  skc_cg_numel_str(f, r->dims, r->rank - 1, r->rank, s2, sizeof s2);
  skc_emit_line(e, "%s[0] = %s, %s[1] = %s, %s[2] = %s;", field, s0, field, r->rank == 4 ? s1 : "0",
                field, s2);
}

void skc_cg_emit_attention_params(struct skc_emitter *e, const struct skc_cg_func *f,
                                  const struct skc_cg_step *st, int a) {
  const struct skc_cg_ref *q = &st->in[0], *k = &st->in[1];
  char B[64], Hq[64], Hkv[64], N[64], ptr[160];
  skc_cg_dim_str(f, q->dims[0], B, sizeof B);
  skc_cg_dim_str(f, q->dims[q->rank - 2], N, sizeof N);
  snprintf(Hq, sizeof Hq, "1");
  snprintf(Hkv, sizeof Hkv, "1");
  if (q->rank == 4) {
    skc_cg_dim_str(f, q->dims[1], Hq, sizeof Hq);
    skc_cg_dim_str(f, k->dims[1], Hkv, sizeof Hkv);
  }
  skc_emit_line(e, "struct skrt_attn_params p;");
  skc_emit_line(e, "int64_t s[4];");
  skc_emit_line(e, "memset(&p, 0, sizeof p);");
  skc_emit_line(e, "p.B = %s, p.Hq = %s, p.Hkv = %s, p.N = %s, p.D = SKC_A%d_D;", B, Hq, Hkv, N, a);
  skc_emit_line(e, "p.topk = SKC_A%d_TOPK, p.window = SKC_A%d_WINDOW, p.gate = SKC_A%d_GATE;", a, a,
                a);
  skc_emit_line(e, "p.real_bits = %d, p.scale = SKC_A%d_SCALE, p.tile_q = SKK_TILE_Q;",
                f->real_bits, a);
  static const char *const fields[] = {"q", "k", "v", "u"};
  for (int i = 0; i < 4; ++i) {
    skc_cg_ref_ptr(f, &st->in[i], f->real, ptr, sizeof ptr);
    skc_emit_line(e, "p.%s = %s;", fields[i], ptr);
  }
  skc_cg_ref_data(f, &st->out, f->real, ptr, sizeof ptr); /* an input of the backward */
  skc_emit_line(e, "p.o = %s;", ptr);
  if (st->saves) {
    static const char *const saved[] = {"lse", "tau", "nfree"};
    for (int i = 0; i < 3; ++i) {
      skc_cg_ref_ptr(f, &st->save[i], i == 2 ? "int32_t" : f->real, ptr, sizeof ptr);
      skc_emit_line(e, "p.%s = %s; /* saved for %s_backward */", saved[i], ptr, f->name);
    }
  }
  for (int i = 0; i < 3; ++i) {
    char field[16];
    snprintf(field, sizeof field, "p.%s_stride", fields[i]);
    emit_strides(e, f, &st->in[i], field);
  }
  emit_strides(e, f, &st->out, "p.o_stride");
}

static void emit_attention(struct skc_emitter *e, const struct skc_cg_func *f,
                           const struct skc_cg_step *st, int a) {
  skc_emit_line(e, "/* attention %d (%s): S6-S10 */", st->inst, st->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  skc_cg_emit_attention_params(e, f, st, a);
  skc_emit_line(e, "st = skk_attention_forward(&p, ctx);");
  skc_emit_close(e, NULL);
}

/* x strides of a score step: hidden x (B, N, F) -> (N*F, 0, F); keys x like k. */
static void emit_score_strides(struct skc_emitter *e, const struct skc_cg_func *f,
                               const struct skc_cg_step *st) {
  const struct skc_cg_ref *x = &st->in[0];
  if (st->mode == SKC_SCORE_KEYS) {
    emit_strides(e, f, x, "sp.x_stride");
    return;
  }
  char s0[128], s2[128];
  skc_cg_numel_str(f, x->dims, 1, 3, s0, sizeof s0);
  skc_cg_numel_str(f, x->dims, 2, 3, s2, sizeof s2);
  skc_emit_line(e, "sp.x_stride[0] = %s, sp.x_stride[1] = 0, sp.x_stride[2] = %s;", s0, s2);
}

const char *skc_cg_score_mode_name(int mode) {
  static const char *const names[] = {"SKRT_SCORE_HIDDEN", "SKRT_SCORE_KEYS", "SKRT_SCORE_INPUT"};
  SKC_ASSERT(mode >= 0 && mode < 3);
  return names[mode];
}

void skc_cg_emit_score_params(struct skc_emitter *e, const struct skc_cg_func *f,
                              const struct skc_cg_step *st, int s) {
  const struct skc_cg_ref *u = &st->out;
  char B[64], H[64], N[64], ptr[160];
  skc_cg_dim_str(f, u->dims[0], B, sizeof B);
  skc_cg_dim_str(f, u->dims[1], H, sizeof H);
  skc_cg_dim_str(f, u->dims[2], N, sizeof N);
  skc_emit_line(e, "struct skk_score_params sp;");
  if (st->mode == SKC_SCORE_KEYS)
    skc_emit_line(e, "int64_t s[4];");
  skc_emit_line(e, "memset(&sp, 0, sizeof sp);");
  skc_emit_line(e, "sp.mode = %s, sp.slope = SKC_S%d_SLOPE;", skc_cg_score_mode_name(st->mode), s);
  char F[32];
  snprintf(F, sizeof F, st->mode == SKC_SCORE_INPUT ? "0" : "SKC_S%d_F", s);
  skc_emit_line(e, "sp.B = %s, sp.Hkv = %s, sp.N = %s, sp.F = %s;", B, H, N, F);
  skc_cg_ref_ptr(f, &st->in[0], f->real, ptr, sizeof ptr);
  if (st->mode == SKC_SCORE_INPUT) {
    skc_emit_line(e, "sp.u_in = %s;", ptr);
  } else {
    skc_emit_line(e, "sp.x = %s;", ptr);
    emit_score_strides(e, f, st);
    skc_cg_ref_ptr(f, &st->in[1], f->real, ptr, sizeof ptr);
    skc_emit_line(e, "sp.w_score = %s;", ptr);
    skc_cg_ref_ptr(f, &st->in[2], f->real, ptr, sizeof ptr);
    skc_emit_line(e, "sp.b_score = %s;", ptr);
  }
  skc_cg_ref_ptr(f, u, f->real, ptr, sizeof ptr);
  skc_emit_line(e, "sp.u = %s;", ptr);
}

void skc_cg_emit_score_step(struct skc_emitter *e, const struct skc_cg_func *f,
                            const struct skc_cg_step *st, int s) {
  skc_emit_line(e, "/* score %d (%s): S5, mode %s */", st->inst, st->loc,
                skc_score_mode_name(st->mode));
  skc_emit_open(e, "if (st == SKRT_OK)");
  if (f->cuda) {
    skc_cg_emit_cuda_score_params(e, f, st, s);
    skc_emit_line(e, "st = skrt_cuda_scores_forward(&sc, %s, ctx);",
                  skc_cg_cuda_score_dtype(f, st));
  } else {
    skc_cg_emit_score_params(e, f, st, s);
    skc_emit_line(e, "st = skc_scores(&sp, ctx, \"%s: score %d (%s)\");", f->name, st->inst,
                  st->loc);
  }
  skc_emit_close(e, NULL);
}

static void emit_matmul(struct skc_emitter *e, const struct skc_cg_func *f,
                        const struct skc_cg_step *st) {
  char a[160], b[160], c[160];
  skc_cg_ref_ptr(f, &st->in[0], f->real, a, sizeof a);
  skc_cg_ref_ptr(f, &st->in[1], f->real, b, sizeof b);
  skc_cg_ref_ptr(f, &st->out, f->real, c, sizeof c);
  skc_emit_line(e, "/* linalg.matmul (%s) */", st->loc);
  skc_emit_line(e, "if (st == SKRT_OK)");
  skc_emit_line(e, "  skc_matmul(%s, %s, %s, %lld, %lld, %lld,", a, b, c,
                (long long)st->out.dims[0].value, (long long)st->out.dims[1].value,
                (long long)st->in[0].dims[1].value);
  skc_emit_line(e, "             skrt_context_num_threads(ctx));");
}

static void emit_transpose(struct skc_emitter *e, const struct skc_cg_func *f,
                           const struct skc_cg_step *st) {
  char in[160], out[160], shape[256] = "", perm[256] = "";
  skc_cg_ref_ptr(f, &st->in[0], f->real, in, sizeof in);
  skc_cg_ref_ptr(f, &st->out, f->real, out, sizeof out);
  for (int i = 0; i < st->in[0].rank; ++i) {
    snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", i ? ", " : "",
             (long long)st->in[0].dims[i].value);
    snprintf(perm + strlen(perm), sizeof perm - strlen(perm), "%s%lld", i ? ", " : "",
             (long long)st->perm[i]);
  }
  skc_emit_line(e, "/* linalg.transpose (%s) */", st->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  skc_emit_line(e, "static const int64_t shape[%d] = {%s}, perm[%d] = {%s};", st->in[0].rank, shape,
                st->in[0].rank, perm);
  skc_emit_line(e, "skc_transpose(%s, %s, %d, shape, perm);", in, out, st->in[0].rank);
  skc_emit_close(e, NULL);
}

static void emit_copy(struct skc_emitter *e, const struct skc_cg_func *f,
                      const struct skc_cg_step *st) {
  char dst[300], src[300], bytes[300];
  skc_cg_copy_args(f, st, dst, src, bytes, sizeof dst);
  skc_emit_line(e, "/* result %d is a copy */", f->params[st->out.index].index);
  skc_emit_line(e, "if (st == SKRT_OK)");
  skc_emit_line(e, "  memmove(%s, %s, %s);", dst, src, bytes);
}

void skc_cg_emit_entry_open(struct skc_emitter *e, const struct skc_cg_func *f) {
  skc_cg_prototype(e, f);
  skc_emit_raw(e, " {\n");
  e->indent++;
  skc_emit_line(e, "int st = SKRT_OK;");
  for (int i = 0; i < f->nsyms; ++i)
    skc_emit_line(e, "int64_t %s = 0;", f->syms[i].name);
  skc_emit_line(e, "skrt_clear_error();");
  bool defined[SKC_CG_MAX_RANK * 64] = {false};
  SKC_ASSERT(f->nsyms <= SKC_CG_MAX_RANK * 64);
  for (int i = 0; i < f->nparams; ++i)
    skc_cg_emit_check_param(e, f, i, defined);
  if (!f->nsyms)
    return;
  char empty[512] = "";
  for (int i = 0; i < f->nsyms; ++i)
    snprintf(empty + strlen(empty), sizeof empty - strlen(empty), "%s%s == 0", i ? " || " : "",
             f->syms[i].name);
  skc_emit_line(e, "if (%s)", empty);
  skc_emit_line(e, "  return SKRT_OK; /* empty tensors: nothing to compute */");
}

void skc_cg_emit_ws_layout(struct skc_emitter *e, const struct skc_cg_func *f) {
  skc_emit_line(e, "size_t ws_off[%d], ws_size = 0;", f->nbuffers ? f->nbuffers : 1);
  for (int i = 0; i < f->nbuffers; ++i) {
    char numel[256];
    skc_cg_numel_str(f, f->buffers[i].dims, 0, f->buffers[i].rank, numel, sizeof numel);
    skc_emit_line(e, "ws_off[%d] = ws_size;", i);
    skc_emit_line(e, "ws_size += skc_ws_round((size_t)%s * sizeof(%s));", numel, f->real);
  }
  if (!f->nbuffers)
    skc_emit_line(e, "(void)ws_off;");
}

void skc_cg_copy_args(const struct skc_cg_func *f, const struct skc_cg_step *st, char *dst,
                      char *src, char *bytes, size_t n) {
  const struct skc_cg_param *d = &f->params[st->out.index];
  char numel[256];
  skc_cg_numel_str(f, d->dims, 0, d->rank, numel, sizeof numel);
  snprintf(dst, n, "skrt_dl_data(%s)", d->name);
  skc_cg_ref_ptr(f, &st->in[0], "char", src, n);
  snprintf(bytes, n, "(size_t)%s * %d", numel, d->dtype.bits / 8);
}

void skc_cg_emit_workspace(struct skc_emitter *e, const struct skc_cg_func *f) {
  skc_cg_emit_ws_layout(e, f);
  skc_emit_line(e, "char *ws = (char *)aligned_alloc(SKC_WS_ALIGN, ws_size ? ws_size : "
                   "SKC_WS_ALIGN);");
  skc_emit_line(e, "if (!ws)");
  skc_emit_line(e,
                "  return skrt_error(SKRT_ERR_NOMEM, \"%s: out of memory for the workspace "
                "(%%zu bytes)\", ws_size);",
                f->name);
}

static void emit_entry(struct skc_emitter *e, const struct skc_cg_func *f, int *a, int *s) {
  skc_emit_line(e, "/* @%s (%s) */", f->name, f->loc);
  skc_cg_emit_entry_open(e, f);
  skc_cg_emit_workspace(e, f);
  for (int i = 0; i < f->nsteps; ++i) {
    const struct skc_cg_step *st = &f->steps[i];
    if (st->kind == SKC_STEP_ATTENTION)
      emit_attention(e, f, st, (*a)++);
    else if (st->kind == SKC_STEP_SCORE)
      skc_cg_emit_score_step(e, f, st, (*s)++);
    else if (st->kind == SKC_STEP_MATMUL)
      emit_matmul(e, f, st);
    else if (st->kind == SKC_STEP_TRANSPOSE)
      emit_transpose(e, f, st);
    else
      emit_copy(e, f, st);
  }
  skc_emit_line(e, "free(ws);");
  skc_emit_line(e, "return st;");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}

void skc_cg_write_c(struct skc_emitter *e, const struct skc_cg_module *m,
                    const struct skc_cg_context *c) {
  emit_prologue(e, m, c);
  skc_cg_emit_constants(e, m);
  skc_cg_write_entries(e, m, emit_entry);
}

void skc_cg_write_entries(struct skc_emitter *e, const struct skc_cg_module *m,
                          skc_cg_entry_writer entry) {
  int a = 0, s = 0;
  for (int i = 0; i < m->nfuncs; ++i) {
    int a0 = a, s0 = s;
    entry(e, &m->funcs[i], &a, &s);
    if (m->grads)
      skc_cg_write_backward(e, &m->grads[i], a0, s0);
    if (m->decodes)
      skc_cg_write_decode(e, &m->decodes[i], a0, s0);
  }
}
