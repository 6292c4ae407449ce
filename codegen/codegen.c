/* Code generation entry (codegen.h): plan the module, write <name>.h and <name>.c into a
 * temporary directory inside the output directory, build the libraries there when asked,
 * then rename every product into place. On any failure the temporary directory and all it
 * holds are removed, so no partial output is ever visible. */
#define _POSIX_C_SOURCE 200809L
#include "codegen/codegen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/cgen.h"
#include "compiler/diag.h"
#include "compiler/driver.h"

/* The input's stem as a C identifier ("models/my-attn.mlir" -> "my_attn"). */
static void default_name(const char *input, char *buf, size_t n) {
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  size_t len = strcspn(base, ".");
  size_t o = 0;
  if (len == 0 || (base[0] >= '0' && base[0] <= '9'))
    buf[o++] = 'm';
  for (size_t i = 0; i < len && o + 1 < n; ++i) {
    char c = base[i];
    bool ok =
        c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    buf[o++] = ok ? c : '_';
  }
  buf[o] = 0;
}

/* "verify,sparsify,...,lower-kernels": the skc passes in pipeline order. */
static void pipeline_str(char *buf, size_t n) {
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < skc_pass_count && len < n; ++i)
    len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? "," : "", skc_passes[i].flag);
}

/* The files a run produces, in the temporary directory and at their final place. */
struct products {
  char tmpdir[1024];
  const char *files[4];
  int nfiles;
};

static void remove_products(struct products *p) {
  char path[2048];
  for (int i = 0; i < p->nfiles; ++i) {
    snprintf(path, sizeof path, "%s/%s", p->tmpdir, p->files[i]);
    unlink(path);
  }
  rmdir(p->tmpdir);
}

static bool commit_products(struct products *p, const char *out_dir) {
  char from[2048], to[2048];
  for (int i = 0; i < p->nfiles; ++i) {
    snprintf(from, sizeof from, "%s/%s", p->tmpdir, p->files[i]);
    snprintf(to, sizeof to, "%s/%s", out_dir, p->files[i]);
    if (rename(from, to) != 0) {
      skc_error("cannot write '%s': %s", to, strerror(errno));
      remove_products(p);
      return false;
    }
  }
  rmdir(p->tmpdir);
  return true;
}

static bool write_sources(const struct skc_cg_module *m, const struct skc_cg_context *c,
                          struct products *p) {
  static char hname[600], cname[600];
  snprintf(hname, sizeof hname, "%s.h", c->name);
  snprintf(cname, sizeof cname, "%s%s", c->name, c->target->source_ext);
  struct skc_emitter h, s;
  skc_emitter_create(&h);
  skc_emitter_create(&s);
  skc_cg_write_header(&h, m, c);
  if (m->cuda)
    skc_cg_write_cuda(&s, m, c);
  else
    skc_cg_write_c(&s, m, c);
  char path[2048];
  p->files[p->nfiles++] = hname;
  snprintf(path, sizeof path, "%s/%s", p->tmpdir, hname);
  bool ok = skc_emitter_write(&h, path);
  p->files[p->nfiles++] = cname;
  snprintf(path, sizeof path, "%s/%s", p->tmpdir, cname);
  ok = ok && skc_emitter_write(&s, path);
  skc_emitter_destroy(&h);
  skc_emitter_destroy(&s);
  return ok;
}

static bool emit_all(const struct skc_cg_module *m, const struct skc_cg_context *c,
                     const char *out_dir, bool build) {
  struct products p = {.nfiles = 0};
  snprintf(p.tmpdir, sizeof p.tmpdir, "%s/.skc-%s-XXXXXX", out_dir, c->name);
  if (!mkdtemp(p.tmpdir)) {
    skc_error("cannot write to the output directory '%s': %s", out_dir, strerror(errno));
    return false;
  }
  bool ok = write_sources(m, c, &p);
  if (ok && build) {
    static char a[600], so[600];
    snprintf(a, sizeof a, "lib%s.a", c->name);
    snprintf(so, sizeof so, "lib%s.so", c->name);
    p.files[p.nfiles++] = a;
    p.files[p.nfiles++] = so;
    struct skc_build_paths paths;
    skc_build_paths_get(&paths);
    ok = m->cuda ? skc_build_cuda_library(&paths, p.tmpdir, c->name)
                 : skc_build_library(&paths, p.tmpdir, c->name);
  }
  if (!ok) {
    remove_products(&p);
    return false;
  }
  return commit_products(&p, out_dir);
}

/* The --grad / --decode plans and the cuda target's checks. */
static bool plan_extras(struct skc_cg_module *m, const struct skc_codegen_options *o, bool cuda) {
  bool ok = !cuda || skc_cg_cuda_prepare(m);
  /* decode plans first: --grad adds the saved-state results to the forward plans */
  if (ok && o->sk->decode) {
    m->decodes = calloc((size_t)m->nfuncs, sizeof *m->decodes);
    SKC_ASSERT(m->decodes);
    for (int i = 0; i < m->nfuncs && ok; ++i)
      ok = skc_cg_decode_func_create(&m->funcs[i], &m->decodes[i]);
  }
  if (ok && o->sk->grad) {
    m->grads = calloc((size_t)m->nfuncs, sizeof *m->grads);
    SKC_ASSERT(m->grads);
    for (int i = 0; i < m->nfuncs && ok; ++i)
      ok = skc_cg_grad_func_create(&m->funcs[i], &m->grads[i]);
  }
  if (ok && o->sk->grad && cuda) /* the backward plans are copies of the cuda plans */
    for (int i = 0; i < m->nfuncs; ++i)
      for (int j = m->grads[i].nargs; j < m->grads[i].nparams; ++j)
        m->grads[i].params[j].strided = false;
  return ok;
}

static void destroy_extras(struct skc_cg_module *m) {
  for (int i = 0; m->grads && i < m->nfuncs; ++i)
    if (m->grads[i].params)
      skc_cg_grad_func_destroy(&m->grads[i]);
  for (int i = 0; m->decodes && i < m->nfuncs; ++i)
    if (m->decodes[i].params)
      skc_cg_decode_func_destroy(&m->decodes[i]);
  free(m->grads);
  free(m->decodes);
  m->grads = m->decodes = NULL;
}

bool skc_codegen_run(MlirOperation module, const struct skc_codegen_options *o) {
  int target = o->emit == SKC_CODEGEN_CUDA ? SKC_TARGET_CUDA : o->sk->target;
  const struct skc_target_info *t = skc_target_get(target);
  SKC_ASSERT(t);
  char name[256], pipeline[512];
  if (o->name)
    snprintf(name, sizeof name, "%s", o->name);
  else
    default_name(o->input, name, sizeof name);
  pipeline_str(pipeline, sizeof pipeline);
  size_t len = 0;
  char *src = skc_read_file(o->input, &len);
  struct skc_cg_module m;
  bool ok = skc_cg_plan_create(module, o->input, src, &m);
  free(src);
  ok = ok && plan_extras(&m, o, target == SKC_TARGET_CUDA);
  if (ok) {
    struct skc_cg_context c = {o->input, name, pipeline, t};
    ok = emit_all(&m, &c, o->out_dir ? o->out_dir : ".", o->emit == SKC_CODEGEN_LIB);
  }
  destroy_extras(&m);
  skc_cg_plan_destroy(&m);
  return ok;
}
