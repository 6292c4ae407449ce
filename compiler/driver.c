/* Driver support shared by skc and skc-opt (see driver.h). */
#define _POSIX_C_SOURCE 200809L
#include "compiler/driver.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialect/sparsek.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Transforms.h"

char *skc_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    skc_error("cannot open '%s': %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n < cap - 1)
      break;
    char *grown = realloc(buf, cap *= 2);
    if (!grown)
      free(buf);
    buf = grown;
  }
  int err = ferror(f) ? errno : 0;
  fclose(f);
  if (!buf || err) {
    skc_error("cannot read '%s': %s", path, buf ? strerror(err) : "out of memory");
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

MlirContext skc_driver_start(const char *input, struct skc_diag *d, char **text) {
  size_t len;
  *text = skc_read_file(input, &len);
  if (!*text)
    return (MlirContext){NULL};
  mlirRegisterTransformsPasses();
  mlirRegisterLinalgPasses();
  *d = (struct skc_diag){.src_name = input, .src = *text, .src_len = len};
  return skc_context_create(d);
}

MlirContext skc_context_create(struct skc_diag *d) {
  MlirContext ctx = mlirContextCreateWithThreading(false);
  skc_diag_attach(ctx, d);
  SKC_ASSERT(skc_dialects_load(ctx));
  return ctx;
}

/* The first `sparsek.<op>` not inside quotes: a custom-syntax op. */
static const char *find_custom_sparsek(const char *text, int *line, int *col) {
  *line = 1;
  const char *bol = text;
  bool quoted = false;
  for (const char *p = text; *p; ++p) {
    if (*p == '\n') {
      ++*line;
      bol = p + 1;
      quoted = false;
    } else if (*p == '/' && p[1] == '/') {
      while (p[1] && p[1] != '\n')
        ++p;
    } else if (*p == '"') {
      quoted = !quoted;
    } else if (!quoted && strncmp(p, "sparsek.", 8) == 0 && (p == text || p[-1] != '!')) {
      *col = (int)(p - bol) + 1;
      return p;
    }
  }
  return NULL;
}

/* Parses text as one top-level op. A file of several top-level ops (funcs without a module)
 * is parsed again inside `module {...}`, opened on line 1 so line numbers stay the file's. */
static MlirOperation try_parse(MlirContext ctx, struct skc_diag *d, const char *name,
                               const char *text) {
  d->muted++;
  d->first[0] = 0;
  int before = d->errors;
  MlirOperation m = mlirOperationCreateParse(ctx, skc_str(text), skc_str(name));
  d->muted--;
  bool several = strstr(d->first, "single top-level operation") != NULL;
  d->errors = before;
  if (!mlirOperationIsNull(m) || (!several && d->first[0] == 0))
    return m;
  if (!several)
    return mlirOperationCreateParse(ctx, skc_str(text), skc_str(name)); /* print errors */
  size_t n = strlen(text);
  char *wrapped = malloc(n + 16);
  SKC_ASSERT(wrapped);
  memcpy(wrapped, "module {", 8);
  memcpy(wrapped + 8, text, n);
  memcpy(wrapped + 8 + n, "\n}\n", 4);
  m = mlirOperationCreateParse(ctx, skc_str(wrapped), skc_str(name));
  free(wrapped);
  return m;
}

/* A file holding one op that is not a module (a lone func.func) gets an implicit module,
 * as mlir-opt does. */
static MlirOperation wrap_in_module(MlirContext ctx, MlirOperation op) {
  if (skc_str_eq(mlirIdentifierStr(mlirOperationGetName(op)), "builtin.module"))
    return op;
  MlirModule m = mlirModuleCreateEmpty(mlirLocationUnknownGet(ctx));
  mlirBlockAppendOwnedOperation(mlirModuleGetBody(m), op);
  return mlirModuleGetOperation(m);
}

MlirOperation skc_parse(MlirContext ctx, struct skc_diag *d, const char *name, const char *text) {
  int before = d->errors;
  MlirOperation m = try_parse(ctx, d, name, text);
  if (!mlirOperationIsNull(m))
    return wrap_in_module(ctx, m);
  if (d->errors > before)
    return m;
  int line, col;
  const char *p = find_custom_sparsek(text, &line, &col);
  if (p) {
    int n = 8;
    while (p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z'))
      ++n;
    MlirLocation loc = mlirLocationFileLineColGet(ctx, skc_str(name), (unsigned)line,
                                                  (unsigned)col);
    skc_error_at(loc, "'%.*s' is written in custom syntax, which the sparsek dialect does not "
                      "have; use the generic form \"%.*s\"(...) {...} : (...) -> ...",
                 n, p, n, p);
  } else {
    skc_error("cannot parse '%s' (no diagnostic from the parser)", name);
  }
  return m;
}

/* ---- command-line values ------------------------------------------------------------- */

static bool parse_int(const char *s, int64_t lo, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (*s == 0 || *end || errno || v < lo)
    return false;
  *out = v;
  return true;
}

static bool parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*s == 0 || *end || errno || !isfinite(v))
    return false;
  *out = v;
  return true;
}

/* `--name=value` -> value, else NULL. */
static const char *value_of(const char *arg, const char *name) {
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

int skc_parse_sparsek_flag(const char *arg, struct skc_sparsek_options *o) {
  const char *v;
  if ((v = value_of(arg, "--sparsek-k"))) {
    if (parse_int(v, 1, &o->k))
      return 1;
    skc_error("invalid value '%s' for --sparsek-k: expected an integer >= 1", v);
  } else if ((v = value_of(arg, "--sparsek-window"))) {
    if (parse_int(v, 0, &o->window))
      return 1;
    skc_error("invalid value '%s' for --sparsek-window: expected an integer >= 0", v);
  } else if ((v = value_of(arg, "--sparsek-gate"))) {
    if ((o->gate = skc_gate_parse(v, strlen(v))) >= 0)
      return 1;
    skc_error("invalid value '%s' for --sparsek-gate: expected kv or v", v);
  } else if ((v = value_of(arg, "--sparsek-score"))) {
    if ((o->score_mode = skc_score_mode_parse(v, strlen(v))) >= 0)
      return 1;
    skc_error("invalid value '%s' for --sparsek-score: expected hidden, keys or input", v);
  } else if ((v = value_of(arg, "--sparsek-slope"))) {
    if (parse_double(v, &o->slope))
      return 1;
    skc_error("invalid value '%s' for --sparsek-slope: expected a finite number", v);
  } else if ((v = value_of(arg, "--target"))) {
    if (strcmp(v, "cpu") == 0 || strcmp(v, "cuda") == 0) {
      o->target = strcmp(v, "cpu") == 0 ? SKC_TARGET_CPU : SKC_TARGET_CUDA;
      return 1;
    }
    skc_error("invalid value '%s' for --target: expected cpu or cuda", v);
  } else if (strcmp(arg, "--grad") == 0 || strcmp(arg, "--decode") == 0) {
    *(arg[2] == 'g' ? &o->grad : &o->decode) = true;
    return 1;
  } else {
    return 0;
  }
  return -1;
}

int skc_parse_common_arg(int argc, char **argv, int *i, const char *tool, const char **input,
                         const char **output) {
  const char *arg = argv[*i];
  if (strcmp(arg, "-o") == 0) {
    if (++*i == argc) {
      skc_error("option '-o' needs a path");
      return -1;
    }
    *output = argv[*i];
  } else if (arg[0] == '-' && arg[1]) {
    skc_error("unknown option '%s' (see %s --help)", arg, tool);
    return -1;
  } else if (*input) {
    skc_error("more than one input file ('%s' and '%s')", *input, arg);
    return -1;
  } else {
    *input = arg;
  }
  return 1;
}

bool skc_require_input(const char *input, const char *tool) {
  if (!input)
    skc_error("no input file (see %s --help)", tool);
  return input != NULL;
}

void skc_print_sparsek_help(FILE *out) {
  fputs("SparseK options (a dense attention op's own sparsek.k, sparsek.window, sparsek.gate,\n"
        "sparsek.score and sparsek.slope attributes override them):\n"
        "  --target=cpu|cuda          code generation target (default cpu)\n"
        "  --sparsek-k=N              selected keys per query, N >= 1 (default 64)\n"
        "  --sparsek-window=N         local window, N >= 0 (default 64)\n"
        "  --sparsek-gate=kv|v        gate logits and values (kv, default) or values only\n"
        "  --sparsek-score=MODE       score input: hidden (default), keys or input\n"
        "  --sparsek-slope=F          position slope of the scores (default 0)\n"
        "  --grad                     also emit <name>_backward (training)\n"
        "  --decode                   also emit <name>_decode over a KV cache (generation)\n",
        out);
}

/* ---- outputs ------------------------------------------------------------------------- */

bool skc_output_open(struct skc_output *out, const char *path) {
  *out = (struct skc_output){stdout, NULL, NULL};
  if (!path || strcmp(path, "-") == 0)
    return true;
  size_t n = strlen(path);
  out->path = strdup(path);
  out->tmp = malloc(n + 16);
  if (!out->path || !out->tmp) {
    skc_output_abort(out);
    skc_error("out of memory");
    return false;
  }
  snprintf(out->tmp, n + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(out->tmp);
  if (fd < 0 || !(out->f = fdopen(fd, "w"))) {
    skc_error("cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0)
      close(fd), unlink(out->tmp);
    free(out->tmp), free(out->path);
    *out = (struct skc_output){NULL, NULL, NULL};
    return false;
  }
  return true;
}

bool skc_output_commit(struct skc_output *out) {
  if (!out->tmp)
    return fflush(stdout) == 0;
  bool ok = !ferror(out->f);
  ok = (fclose(out->f) == 0) && ok;
  out->f = NULL;
  if (ok && rename(out->tmp, out->path) == 0) {
    free(out->tmp), free(out->path);
    *out = (struct skc_output){NULL, NULL, NULL};
    return true;
  }
  skc_error("cannot write '%s': %s", out->path, strerror(errno));
  skc_output_abort(out);
  return false;
}

void skc_output_abort(struct skc_output *out) {
  if (out->f && out->f != stdout)
    fclose(out->f);
  if (out->tmp)
    unlink(out->tmp);
  free(out->tmp), free(out->path);
  *out = (struct skc_output){NULL, NULL, NULL};
}

static void print_cb(MlirStringRef s, void *ud) { fwrite(s.data, 1, s.length, (FILE *)ud); }

void skc_print_op(MlirOperation op, FILE *f) {
  MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
  mlirOperationPrintWithFlags(op, flags, print_cb, f);
  mlirOpPrintingFlagsDestroy(flags);
  fputc('\n', f);
}
