/* Diagnostics, two channels (chibicc style): user errors print `file:line:col: error: msg`
 * with the source line and a caret under the column; internal errors (SKC_ASSERT) name the
 * skc source file and line. MLIR diagnostics are routed through the same printer. */
#ifndef SKC_DIAG_H
#define SKC_DIAG_H

#include <stddef.h>
#include "mlir-c/IR.h"

struct skc_diag {
  int errors;
  int muted;         /* > 0: count but do not print (a trial parse) */
  char first[160];   /* the first message seen while muted */
  const char *src_name; /* the input file, for the caret line (may be NULL) */
  const char *src;
  size_t src_len;
};

/* Routes every MLIR diagnostic of ctx to d (counting errors). */
void skc_diag_attach(MlirContext ctx, struct skc_diag *d);

/* An error with no source location: `skc: error: msg`. */
void skc_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An error at an op's location, through the MLIR diagnostic engine. */
void skc_error_at(MlirLocation loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Internal error: a broken invariant of skc itself, never a user error. */
#define SKC_ASSERT(cond)                                                                     \
  ((cond) ? (void)0 : skc_internal_error(__FILE__, __LINE__, #cond))
_Noreturn void skc_internal_error(const char *file, int line, const char *what);

#endif
