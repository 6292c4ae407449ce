/* The line emitter (emit.h): printf into a growable buffer, two spaces per indent level. */
#include "codegen/emit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/diag.h"

void skc_emitter_create(struct skc_emitter *e) {
  e->cap = 1 << 14;
  e->len = 0;
  e->indent = 0;
  e->buf = malloc(e->cap);
  SKC_ASSERT(e->buf);
  e->buf[0] = 0;
}

void skc_emitter_destroy(struct skc_emitter *e) {
  free(e->buf);
  e->buf = NULL;
  e->len = e->cap = 0;
}

static void reserve(struct skc_emitter *e, size_t extra) {
  if (e->len + extra + 1 <= e->cap)
    return;
  while (e->len + extra + 1 > e->cap)
    e->cap *= 2;
  char *g = realloc(e->buf, e->cap);
  SKC_ASSERT(g);
  e->buf = g;
}

static void vappend(struct skc_emitter *e, const char *fmt, va_list ap) {
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  SKC_ASSERT(n >= 0);
  reserve(e, (size_t)n);
  vsnprintf(e->buf + e->len, (size_t)n + 1, fmt, ap);
  e->len += (size_t)n;
}

static void append(struct skc_emitter *e, const char *s) {
  size_t n = strlen(s);
  reserve(e, n);
  memcpy(e->buf + e->len, s, n + 1);
  e->len += n;
}

static void vline(struct skc_emitter *e, const char *fmt, va_list ap) {
  if (*fmt)
    for (int i = 0; i < e->indent; ++i)
      append(e, "  ");
  vappend(e, fmt, ap);
  append(e, "\n");
}

void skc_emit_line(struct skc_emitter *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(e, fmt, ap);
  va_end(ap);
}

void skc_emit_blank(struct skc_emitter *e) { append(e, "\n"); }

void skc_emit_raw(struct skc_emitter *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vappend(e, fmt, ap);
  va_end(ap);
}

void skc_emit_open(struct skc_emitter *e, const char *fmt, ...) {
  for (int i = 0; i < e->indent; ++i)
    append(e, "  ");
  va_list ap;
  va_start(ap, fmt);
  vappend(e, fmt, ap);
  va_end(ap);
  append(e, " {\n");
  e->indent++;
}

void skc_emit_close(struct skc_emitter *e, const char *suffix) {
  SKC_ASSERT(e->indent > 0);
  e->indent--;
  skc_emit_line(e, "}%s", suffix ? suffix : "");
}

bool skc_emitter_write(const struct skc_emitter *e, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    skc_error("cannot write '%s': %s", path, strerror(errno));
    return false;
  }
  bool ok = fwrite(e->buf, 1, e->len, f) == e->len;
  ok = (fclose(f) == 0) && ok;
  if (!ok)
    skc_error("cannot write '%s': %s", path, strerror(errno));
  return ok;
}
