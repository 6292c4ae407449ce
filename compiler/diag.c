/* Diagnostic printing for skc and skc-opt: unwraps MLIR locations to file:line:col, prints
 * severity and message, then the offending source line with a caret when the location is in
 * the registered input file. */
#include "compiler/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlir-c/Diagnostics.h"

static void print_str(MlirStringRef s, void *ud) { fwrite(s.data, 1, s.length, (FILE *)ud); }

/* Appends s to a bounded buffer {buf, n, len}. */
static void copy_str(MlirStringRef s, void *ud) {
  struct { char *buf; size_t n, len; } *k = ud;
  for (size_t i = 0; i < s.length && k->len + 1 < k->n; ++i)
    k->buf[k->len++] = s.data[i];
  k->buf[k->len] = 0;
}

/* Unwraps name/callsite/fused locations down to a file:line:col one, if any. */
static MlirLocation file_loc(MlirLocation loc) {
  for (int depth = 0; depth < 16; ++depth) {
    if (mlirLocationIsAFileLineColRange(loc))
      return loc;
    if (mlirLocationIsAName(loc))
      loc = mlirLocationNameGetChildLoc(loc);
    else if (mlirLocationIsACallSite(loc))
      loc = mlirLocationCallSiteGetCaller(loc);
    else if (mlirLocationIsAFused(loc) && mlirLocationFusedGetNumLocations(loc) > 0) {
      MlirLocation locs[16];
      if (mlirLocationFusedGetNumLocations(loc) > 16)
        break;
      mlirLocationFusedGetLocations(loc, locs);
      loc = locs[0];
    } else
      break;
  }
  return loc;
}

/* Prints line `line` of the input with a caret under column `col`. */
static void print_caret(const struct skc_diag *d, int line, int col) {
  const char *p = d->src, *end = d->src + d->src_len;
  for (int l = 1; l < line && p < end; ++l) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
      return;
    p = nl + 1;
  }
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  int len = (int)((eol ? eol : end) - p);
  if (len == 0 || col < 1 || col > len + 1)
    return;
  fprintf(stderr, "%.*s\n%*s^\n", len, p, col - 1, "");
}

static const char *severity(MlirDiagnosticSeverity s) {
  switch (s) {
  case MlirDiagnosticError: return "error";
  case MlirDiagnosticWarning: return "warning";
  case MlirDiagnosticNote: return "note";
  default: return "remark";
  }
}

static void print_diag(const struct skc_diag *d, MlirDiagnostic diag) {
  MlirLocation loc = file_loc(mlirDiagnosticGetLocation(diag));
  int line = 0, col = 0;
  if (mlirLocationIsAFileLineColRange(loc)) {
    MlirStringRef f = mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc));
    line = mlirLocationFileLineColRangeGetStartLine(loc);
    col = mlirLocationFileLineColRangeGetStartColumn(loc);
    fprintf(stderr, "%.*s:%d:%d: ", (int)f.length, f.data, line, col);
    if (!d->src_name || strlen(d->src_name) != f.length || memcmp(d->src_name, f.data, f.length))
      line = 0;
  } else {
    fputs("skc: ", stderr);
  }
  fprintf(stderr, "%s: ", severity(mlirDiagnosticGetSeverity(diag)));
  mlirDiagnosticPrint(diag, print_str, stderr);
  fputc('\n', stderr);
  if (line > 0 && d->src)
    print_caret(d, line, col);
}

static MlirLogicalResult handler(MlirDiagnostic diag, void *ud) {
  struct skc_diag *d = ud;
  if (mlirDiagnosticGetSeverity(diag) == MlirDiagnosticError)
    d->errors++;
  if (d->muted) {
    struct { char *buf; size_t n, len; } k = {d->first, sizeof d->first, strlen(d->first)};
    if (k.len == 0)
      mlirDiagnosticPrint(diag, copy_str, &k);
    return mlirLogicalResultSuccess();
  }
  print_diag(d, diag);
  for (intptr_t i = 0; i < mlirDiagnosticGetNumNotes(diag); ++i)
    print_diag(d, mlirDiagnosticGetNote(diag, i));
  return mlirLogicalResultSuccess();
}

void skc_diag_attach(MlirContext ctx, struct skc_diag *d) {
  mlirContextAttachDiagnosticHandler(ctx, handler, d, NULL);
}

void skc_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skc: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void skc_error_at(MlirLocation loc, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  mlirEmitError(loc, buf);
}

_Noreturn void skc_internal_error(const char *file, int line, const char *what) {
  fprintf(stderr, "skc: internal error at %s:%d: %s\n", file, line, what);
  abort();
}
