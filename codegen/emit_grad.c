/* --grad: the forward saves its state, the backward entry reads it (design.md, "ABI"; issue 6):
 *
 *   int name(<arguments>, DLTensor *out, DLTensor *saved_lse, DLTensor *saved_tau,
 *            DLTensor *saved_nfree, struct skrt_context *ctx);
 *   int name_backward(<arguments>, const DLTensor *out, const DLTensor *saved_lse,
 *                     const DLTensor *saved_tau, const DLTensor *saved_nfree,
 *                     const DLTensor *dout, DLTensor *d<arg0>, ..., struct skrt_context *ctx);
 *
 * The forward built with --grad writes the row log-sum-exp (B, Hq, N) f32, the thresholds
 * tau (B, Hkv, N) f32 and |F_i| (B, Hkv, N) int32 into caller-provided tensors (spec S11:
 * "a forward pass that is later differentiated saves per (b, h, i) the row log-sum-exp, tau_i
 * and |F_i|"). The backward takes the forward's arguments, its output and that state, and
 * dout, and writes every gradient and dslope (one element, the slope's gradient); it
 * recomputes only the scores u (S5, O(N F)), runs the fused backward
 * (kernels/cpu_attention_bwd.h, S11) and the scoring network's backward (kernels/cpu_scores.h;
 * on the cuda target skrt_cuda_attention_backward and skrt_cuda_scores_backward): gradients of
 * q, k, v and of the score inputs and weights, every gradient tensor contiguous and
 * overwritten. The saved state stays valid while the forward's inputs and output are
 * unchanged. Supported shape of the function: one sparsek.score feeding one sparsek.attention
 * whose output is the only result, all operands distinct arguments (a single attention
 * layer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cgen.h"
#include "compiler/diag.h"
#include "dialect/sparsek.h"

/* The backward's workspace: the recomputed scores and their gradient. */
enum { WS_U, WS_DU, WS_COUNT };

/* The backward's inputs after the forward's arguments: out, the saved state, dout. */
enum { IN_OUT, IN_LSE, IN_TAU, IN_NFREE, IN_DOUT, IN_COUNT };
static const char *const saved_names[3] = {"saved_lse", "saved_tau", "saved_nfree"};

const char *skc_cg_single_layer(const struct skc_cg_func *f) {
  if (f->nparams != f->nargs + 1)
    return "the attention output must be the only result";
  if (f->nsteps != 2 || f->steps[0].kind != SKC_STEP_SCORE ||
      f->steps[1].kind != SKC_STEP_ATTENTION || f->steps[1].out.where != SKC_AT_PARAM)
    return "it is not one sparsek.score feeding one sparsek.attention whose output is returned";
  for (int i = 0; i < f->nargs; ++i) {
    if (f->params[i].role == SKC_ROLE_OTHER)
      return "an argument is not read by the attention layer";
    for (int j = 0; j < i; ++j)
      if (f->params[j].role == f->params[i].role)
        return "one tensor is used for several of q, k, v";
  }
  return NULL;
}

static void grad_param(struct skc_cg_param *g, const struct skc_cg_param *p, bool result) {
  *g = *p;
  snprintf(g->name, sizeof g->name, "d%.40s", p->name);
  g->result = result;
  g->strided = false;
}

/* The extents of lse (B, Hq, N) / (B*H, N): q's without the last axis. */
static struct skc_cg_ref drop_last(struct skc_cg_ref r) {
  r.rank--;
  return r;
}

/* A parameter reference of f's parameter i. */
static struct skc_cg_ref param_ref(const struct skc_cg_func *f, int i) {
  struct skc_cg_ref r = {SKC_AT_PARAM, i, false, f->params[i].rank, {{0, -1}}};
  memcpy(r.dims, f->params[i].dims, sizeof r.dims);
  return r;
}

/* Appends to f the three results its forward saves and points its attention step at them. */
static void add_saved_results(struct skc_cg_func *f) {
  static const struct skc_cg_dtype f32 = {"float", "kDLFloat", "float32", 32};
  static const struct skc_cg_dtype f64 = {"double", "kDLFloat", "float64", 64};
  static const struct skc_cg_dtype i32 = {"int32_t", "kDLInt", "int32", 32};
  struct skc_cg_step *att = &f->steps[1];
  struct skc_cg_ref shapes[3] = {drop_last(att->in[0]), f->steps[0].out, f->steps[0].out};
  f->params = realloc(f->params, sizeof *f->params * (size_t)(f->nparams + 3));
  SKC_ASSERT(f->params);
  for (int i = 0; i < 3; ++i) {
    struct skc_cg_param *p = &f->params[f->nparams + i];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", saved_names[i]);
    p->result = true;
    p->index = f->nparams - f->nargs + i;
    p->rank = shapes[i].rank;
    memcpy(p->dims, shapes[i].dims, sizeof p->dims);
    p->dtype = i == 2 ? i32 : f->real_bits == 64 ? f64 : f32; /* lse, tau in the kernels' real */
    p->role = SKC_ROLE_OTHER;
    p->role_op = -1;
    att->save[i] = param_ref(f, f->nparams + i);
  }
  att->saves = true;
  f->nparams += 3;
}

/* An input of the backward that mirrors parameter src of the forward under `name`. */
static void input_param(struct skc_cg_param *g, const struct skc_cg_param *src, const char *name) {
  *g = *src;
  snprintf(g->name, sizeof g->name, "%s", name);
  g->result = false;
  g->strided = false;
}

bool skc_cg_grad_func_create(struct skc_cg_func *f, struct skc_cg_func *g) {
  const char *why = skc_cg_single_layer(f);
  if (why) {
    skc_error("--grad: cannot emit %s_backward for @%s (%s): %s", f->name, f->name, f->loc, why);
    return false;
  }
  int fargs = f->nargs, out = f->nargs;
  add_saved_results(f);
  *g = *f;
  snprintf(g->name, sizeof g->name, "%.30s_backward", f->name);
  g->nargs = fargs + IN_COUNT;
  g->nparams = g->nargs + fargs + 1; /* the gradients, then dslope */
  g->params = calloc((size_t)g->nparams, sizeof *g->params);
  g->steps = calloc(2, sizeof *g->steps);
  g->buffers = calloc(WS_COUNT, sizeof *g->buffers);
  g->syms = calloc((size_t)f->nsyms + 1, sizeof *g->syms);
  SKC_ASSERT(g->params && g->steps && g->buffers && g->syms);
  memcpy(g->syms, f->syms, sizeof *g->syms * (size_t)f->nsyms);
  memcpy(g->params, f->params, sizeof *g->params * (size_t)fargs);
  input_param(&g->params[fargs + IN_OUT], &f->params[out], f->params[out].name);
  for (int i = 0; i < 3; ++i)
    input_param(&g->params[fargs + IN_LSE + i], &f->params[out + 1 + i], saved_names[i]);
  grad_param(&g->params[fargs + IN_DOUT], &f->params[out], false);
  for (int i = 0; i < fargs; ++i)
    grad_param(&g->params[g->nargs + i], &f->params[i], true);
  struct skc_cg_param *ds = &g->params[g->nparams - 1];
  *ds = g->params[fargs + IN_LSE]; /* a real tensor; then its own name and shape */
  snprintf(ds->name, sizeof ds->name, "dslope");
  ds->result = true, ds->rank = 1, ds->dims[0] = (struct skc_cg_dim){1, -1};
  memcpy(g->steps, f->steps, 2 * sizeof *g->steps);
  struct skc_cg_ref u = f->steps[0].out;
  for (int i = 0; i < WS_COUNT; ++i)
    g->buffers[i] = u, g->buffers[i].where = SKC_AT_BUFFER, g->buffers[i].index = i;
  g->nbuffers = WS_COUNT;
  g->steps[0].out = g->buffers[WS_U];
  g->steps[1].in[3] = g->buffers[WS_U];
  g->steps[1].out = param_ref(g, fargs + IN_OUT);
  g->steps[1].saves = false; /* the backward reads the saved state (below), never writes it */
  return true;
}

void skc_cg_grad_func_destroy(struct skc_cg_func *g) {
  free(g->params);
  free(g->steps);
  free(g->buffers);
  free(g->syms);
  memset(g, 0, sizeof *g);
}

/* The gradient parameter of argument role r. */
static const char *grad_of(const struct skc_cg_func *g, enum skc_cg_role r, char *buf, size_t n) {
  int nargs = g->nargs - IN_COUNT;
  for (int i = 0; i < nargs; ++i)
    if (g->params[i].role == r) {
      struct skc_cg_ref ref = {SKC_AT_PARAM, g->nargs + i, false, g->params[i].rank, {{0, -1}}};
      skc_cg_ref_ptr(g, &ref, g->real, buf, n);
      return buf;
    }
  snprintf(buf, n, "NULL");
  return buf;
}

static void emit_attention_backward(struct skc_emitter *e, const struct skc_cg_func *g, int a) {
  const struct skc_cg_step *st = &g->steps[1];
  int fargs = g->nargs - IN_COUNT;
  char ptr[160];
  skc_emit_line(e, "/* attention %d (%s): S11 from the forward's output and saved state */",
                st->inst, st->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  skc_cg_emit_attention_params(e, g, st, a);
  for (int i = 0; i < 3; ++i) {
    static const char *const fields[] = {"lse", "tau", "nfree"};
    struct skc_cg_ref r = param_ref(g, fargs + IN_LSE + i);
    skc_cg_ref_data(g, &r, i == 2 ? "int32_t" : g->real, ptr, sizeof ptr);
    skc_emit_line(e, "p.%s = %s;", fields[i], ptr);
  }
  const char *dt = g->cuda ? skc_cg_cuda_dtype(g, &st->in[0]) : NULL;
  skc_emit_line(e, "struct skrt_attn_grads gr;");
  skc_emit_line(e, "memset(&gr, 0, sizeof gr);");
  struct skc_cg_ref dout = param_ref(g, fargs + IN_DOUT);
  skc_cg_ref_ptr(g, &dout, g->real, ptr, sizeof ptr);
  skc_emit_line(e, "gr.dout = %s;", ptr);
  skc_emit_line(e, "gr.dq = %s;", grad_of(g, SKC_ROLE_Q, ptr, sizeof ptr));
  skc_emit_line(e, "gr.dk = %s;", grad_of(g, SKC_ROLE_K, ptr, sizeof ptr));
  skc_emit_line(e, "gr.dv = %s;", grad_of(g, SKC_ROLE_V, ptr, sizeof ptr));
  if (st->mode == SKC_SCORE_INPUT)
    skc_emit_line(e, "gr.du = %s; /* u = u_in + slope * j */",
                  grad_of(g, SKC_ROLE_UIN, ptr, sizeof ptr));
  else
    skc_emit_line(e, "gr.du = (%s *)(ws + ws_off[%d]);", g->real, WS_DU);
  if (g->cuda)
    skc_emit_line(e, "st = skrt_cuda_attention_backward(&p, &gr, %s, ctx);", dt);
  else
    skc_emit_line(e, "st = skk_attention_backward(&p, &gr, ctx);");
  skc_emit_close(e, NULL);
}

static void emit_scores_backward(struct skc_emitter *e, const struct skc_cg_func *g, int s) {
  const struct skc_cg_step *st = &g->steps[0];
  char ptr[160], du[160], dslope[160];
  struct skc_cg_ref ds = param_ref(g, g->nparams - 1);
  if (st->mode == SKC_SCORE_INPUT) /* du is the gradient of u_in, already written */
    grad_of(g, SKC_ROLE_UIN, du, sizeof du);
  else
    snprintf(du, sizeof du, "(%s *)(ws + ws_off[%d])", g->real, WS_DU);
  skc_cg_ref_data(g, &ds, g->real, dslope, sizeof dslope);
  skc_emit_line(e, "/* score %d (%s): the scoring network's backward and dslope (S11 tail) */",
                st->inst, st->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  if (g->cuda) {
    char dx[160], dw[160], db[160];
    skc_cg_emit_cuda_score_params(e, g, st, s);
    if (st->mode == SKC_SCORE_INPUT)
      snprintf(dx, sizeof dx, "NULL"), snprintf(dw, sizeof dw, "NULL"), snprintf(db, sizeof db, "NULL");
    else {
      grad_of(g, st->mode == SKC_SCORE_HIDDEN ? SKC_ROLE_X : SKC_ROLE_K, dx, sizeof dx);
      grad_of(g, SKC_ROLE_W, dw, sizeof dw);
      grad_of(g, SKC_ROLE_B, db, sizeof db);
    }
    skc_emit_line(e, "st = skrt_cuda_scores_backward(&sc, %s, %s,", du, dx);
    skc_emit_line(e, "                               %s, %s, %s, %s, ctx);", dw, db, dslope,
                  skc_cg_cuda_score_dtype(g, st));
    skc_emit_close(e, NULL);
    return;
  }
  skc_cg_emit_score_params(e, g, st, s);
  skc_emit_line(e, "struct skk_score_grads sg;");
  skc_emit_line(e, "double ds = 0;");
  skc_emit_line(e, "memset(&sg, 0, sizeof sg);");
  skc_emit_line(e, "sg.du = %s;", du);
  skc_emit_line(e, "sg.dslope = &ds;");
  if (st->mode != SKC_SCORE_INPUT) {
    skc_emit_line(e, "sg.dx = %s; /* %s */",
                  grad_of(g, st->mode == SKC_SCORE_HIDDEN ? SKC_ROLE_X : SKC_ROLE_K, ptr,
                          sizeof ptr),
                  st->mode == SKC_SCORE_HIDDEN ? "overwritten" : "keys: added to dk");
    skc_emit_line(e, "sg.dw_score = %s;", grad_of(g, SKC_ROLE_W, ptr, sizeof ptr));
    skc_emit_line(e, "sg.db_score = %s;", grad_of(g, SKC_ROLE_B, ptr, sizeof ptr));
  }
  skc_emit_line(e, "st = skk_scores_backward(&sp, &sg, ctx);");
  skc_emit_line(e, "if (st == SKRT_OK)");
  skc_emit_line(e, "  (%s)[0] = (%s)ds;", dslope, g->real);
  skc_emit_close(e, NULL);
}

void skc_cg_write_backward(struct skc_emitter *e, const struct skc_cg_func *g, int a, int s) {
  skc_emit_line(e, "/* @%s backward (%s): scores again (S5), then S11 from the saved state */",
                g->name, g->loc);
  skc_cg_emit_entry_open(e, g);
  if (g->cuda)
    skc_cg_emit_cuda_workspace(e, g);
  else
    skc_cg_emit_workspace(e, g);
  skc_cg_emit_score_step(e, g, &g->steps[0], s);
  emit_attention_backward(e, g, a);
  emit_scores_backward(e, g, s);
  skc_emit_line(e, g->cuda ? "if (ws)\n    cudaFreeAsync(ws, stream);" : "free(ws);");
  skc_emit_line(e, "return st;");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}
