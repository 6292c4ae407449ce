/* --grad: the backward entry of each public function (design.md, "ABI"):
 *
 *   int name_backward(<the forward's arguments>, const DLTensor *dout,
 *                     DLTensor *d<arg0>, ..., struct skrt_context *ctx);
 *
 * It recomputes the forward (scores, then the attention saving lse, tau and |F_i|, all in
 * the workspace: no saved state for the caller to keep), runs the fused backward
 * (kernels/cpu_attention_bwd.h, S11) and the scoring network's backward
 * (kernels/cpu_scores.h; on the cuda target skrt_cuda_attention_backward and
 * skrt_cuda_scores_backward): gradients of q, k, v and of the score inputs and weights, every
 * gradient tensor contiguous and overwritten. Supported shape of the function: one
 * sparsek.score feeding one sparsek.attention whose output is the only result, all operands
 * distinct arguments (a single attention layer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cgen.h"
#include "compiler/diag.h"
#include "dialect/sparsek.h"

enum { WS_U, WS_O, WS_LSE, WS_TAU, WS_NFREE, WS_DU, WS_COUNT };

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
  r.where = SKC_AT_BUFFER;
  r.rank--;
  return r;
}

bool skc_cg_grad_func_create(const struct skc_cg_func *f, struct skc_cg_func *g) {
  const char *why = skc_cg_single_layer(f);
  if (why) {
    skc_error("--grad: cannot emit %s_backward for @%s (%s): %s", f->name, f->name, f->loc, why);
    return false;
  }
  *g = *f;
  snprintf(g->name, sizeof g->name, "%.30s_backward", f->name);
  g->nparams = 2 * f->nargs + 1;
  g->nargs = f->nargs + 1;
  g->params = calloc((size_t)g->nparams, sizeof *g->params);
  g->steps = calloc(2, sizeof *g->steps);
  g->buffers = calloc(WS_COUNT, sizeof *g->buffers);
  g->syms = calloc((size_t)f->nsyms + 1, sizeof *g->syms);
  SKC_ASSERT(g->params && g->steps && g->buffers && g->syms);
  memcpy(g->syms, f->syms, sizeof *g->syms * (size_t)f->nsyms);
  memcpy(g->params, f->params, sizeof *g->params * (size_t)f->nargs);
  grad_param(&g->params[f->nargs], &f->params[f->nargs], false);
  for (int i = 0; i < f->nargs; ++i)
    grad_param(&g->params[f->nargs + 1 + i], &f->params[i], true);
  memcpy(g->steps, f->steps, 2 * sizeof *g->steps);
  struct skc_cg_ref u = f->steps[0].out;
  u.where = SKC_AT_BUFFER;
  struct skc_cg_ref refs[WS_COUNT] = {u, f->steps[1].out, drop_last(f->steps[1].in[0]), u, u, u};
  for (int i = 0; i < WS_COUNT; ++i)
    g->buffers[i] = refs[i], g->buffers[i].where = SKC_AT_BUFFER, g->buffers[i].index = i;
  g->nbuffers = WS_COUNT;
  g->steps[0].out = g->buffers[WS_U];
  g->steps[1].in[3] = g->buffers[WS_U];
  g->steps[1].out = g->buffers[WS_O];
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
  int nargs = g->nargs - 1;
  for (int i = 0; i < nargs; ++i)
    if (g->params[i].role == r) {
      struct skc_cg_ref ref = {SKC_AT_PARAM, g->nargs + i, false, g->params[i].rank, {{0, -1}}};
      skc_cg_ref_ptr(g, &ref, "float", buf, n);
      return buf;
    }
  snprintf(buf, n, "NULL");
  return buf;
}

static void emit_attention_backward(struct skc_emitter *e, const struct skc_cg_func *g, int a) {
  const struct skc_cg_step *st = &g->steps[1];
  char ptr[160];
  skc_emit_line(e, "/* attention %d (%s): forward saving lse, tau, |F_i|, then S11 */", st->inst,
                st->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  skc_cg_emit_attention_params(e, g, st, a);
  skc_emit_line(e, "p.lse = (float *)(ws + ws_off[%d]);", WS_LSE);
  skc_emit_line(e, "p.tau = (float *)(ws + ws_off[%d]);", WS_TAU);
  skc_emit_line(e, "p.nfree = (int32_t *)(ws + ws_off[%d]);", WS_NFREE);
  const char *dt = g->cuda ? skc_cg_cuda_dtype(g, &st->in[0]) : NULL;
  if (g->cuda)
    skc_emit_line(e, "st = skrt_cuda_attention_forward(&p, %s, ctx);", dt);
  else
    skc_emit_line(e, "st = skk_attention_forward(&p, ctx);");
  skc_emit_open(e, "if (st == SKRT_OK)");
  skc_emit_line(e, "struct skrt_attn_grads gr;");
  skc_emit_line(e, "memset(&gr, 0, sizeof gr);");
  struct skc_cg_ref dout = {SKC_AT_PARAM, g->nargs - 1, false, 0, {{0, -1}}};
  skc_cg_ref_ptr(g, &dout, "float", ptr, sizeof ptr);
  skc_emit_line(e, "gr.dout = %s;", ptr);
  skc_emit_line(e, "gr.dq = %s;", grad_of(g, SKC_ROLE_Q, ptr, sizeof ptr));
  skc_emit_line(e, "gr.dk = %s;", grad_of(g, SKC_ROLE_K, ptr, sizeof ptr));
  skc_emit_line(e, "gr.dv = %s;", grad_of(g, SKC_ROLE_V, ptr, sizeof ptr));
  if (st->mode == SKC_SCORE_INPUT)
    skc_emit_line(e, "gr.du = %s; /* u = u_in + slope * j */",
                  grad_of(g, SKC_ROLE_UIN, ptr, sizeof ptr));
  else
    skc_emit_line(e, "gr.du = (float *)(ws + ws_off[%d]);", WS_DU);
  if (g->cuda)
    skc_emit_line(e, "st = skrt_cuda_attention_backward(&p, &gr, %s, ctx);", dt);
  else
    skc_emit_line(e, "st = skk_attention_backward(&p, &gr, ctx);");
  skc_emit_close(e, NULL);
  skc_emit_close(e, NULL);
}

static void emit_scores_backward(struct skc_emitter *e, const struct skc_cg_func *g, int s) {
  const struct skc_cg_step *st = &g->steps[0];
  char ptr[160];
  skc_emit_line(e, "/* score %d (%s): the scoring network's backward (S11 tail) */", st->inst,
                st->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  if (g->cuda) {
    char du[64], dx[160], dw[160], db[160];
    skc_cg_emit_cuda_score_params(e, g, st, s);
    snprintf(du, sizeof du, "(float *)(ws + ws_off[%d])", WS_DU);
    grad_of(g, st->mode == SKC_SCORE_HIDDEN ? SKC_ROLE_X : SKC_ROLE_K, dx, sizeof dx);
    grad_of(g, SKC_ROLE_W, dw, sizeof dw);
    grad_of(g, SKC_ROLE_B, db, sizeof db);
    skc_emit_line(e, "st = skrt_cuda_scores_backward(&sc, %s, %s,", du, dx);
    skc_emit_line(e, "                               %s, %s, NULL, %s, ctx);", dw, db,
                  skc_cg_cuda_score_dtype(g, st));
    skc_emit_close(e, NULL);
    return;
  }
  skc_cg_emit_score_params(e, g, st, s);
  skc_emit_line(e, "struct skk_score_grads sg;");
  skc_emit_line(e, "memset(&sg, 0, sizeof sg);");
  skc_emit_line(e, "sg.du = (float *)(ws + ws_off[%d]);", WS_DU);
  skc_emit_line(e, "sg.dx = %s; /* %s */",
                grad_of(g, st->mode == SKC_SCORE_HIDDEN ? SKC_ROLE_X : SKC_ROLE_K, ptr, sizeof ptr),
                st->mode == SKC_SCORE_HIDDEN ? "overwritten" : "keys: added to dk");
  skc_emit_line(e, "sg.dw_score = %s;", grad_of(g, SKC_ROLE_W, ptr, sizeof ptr));
  skc_emit_line(e, "sg.db_score = %s;", grad_of(g, SKC_ROLE_B, ptr, sizeof ptr));
  skc_emit_line(e, "st = skk_scores_backward(&sp, &sg, ctx);");
  skc_emit_close(e, NULL);
}

void skc_cg_write_backward(struct skc_emitter *e, const struct skc_cg_func *g, int a, int s) {
  skc_emit_line(e, "/* @%s backward (%s): recompute the forward, then S11 */", g->name, g->loc);
  skc_cg_emit_entry_open(e, g);
  if (g->cuda)
    skc_cg_emit_cuda_workspace(e, g);
  else
    skc_cg_emit_workspace(e, g);
  const struct skc_cg_step *sc = &g->steps[0];
  skc_emit_line(e, "/* score %d (%s): S5 */", sc->inst, sc->loc);
  skc_emit_open(e, "if (st == SKRT_OK)");
  if (g->cuda) {
    skc_cg_emit_cuda_score_params(e, g, sc, s);
    skc_emit_line(e, "st = skrt_cuda_scores_forward(&sc, %s, ctx);",
                  skc_cg_cuda_score_dtype(g, sc));
  } else {
    skc_cg_emit_score_params(e, g, sc, s);
    skc_emit_line(e, "st = skc_scores(&sp, ctx, \"%s: score %d (%s)\");", g->name, sc->inst,
                  sc->loc);
  }
  skc_emit_close(e, NULL);
  emit_attention_backward(e, g, a);
  if (sc->mode != SKC_SCORE_INPUT)
    emit_scores_backward(e, g, s);
  skc_emit_line(e, g->cuda ? "if (ws)\n    cudaFreeAsync(ws, stream);" : "free(ws);");
  skc_emit_line(e, "return st;");
  skc_emit_close(e, NULL);
  skc_emit_blank(e);
}
