/* The line emitter: an in-memory text buffer with an indentation level, written to a file
 * in one piece once complete (so nothing partial ever reaches the disk). */
#ifndef SKC_CODEGEN_EMIT_H
#define SKC_CODEGEN_EMIT_H

#include <stdbool.h>
#include <stddef.h>

struct skc_emitter {
  char *buf;
  size_t len, cap;
  int indent; /* in units of two spaces */
};

void skc_emitter_create(struct skc_emitter *e);
void skc_emitter_destroy(struct skc_emitter *e);

/* Appends one line (indented, newline added). An empty format gives an empty line. */
void skc_emit_line(struct skc_emitter *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends an empty line. */
void skc_emit_blank(struct skc_emitter *e);
/* Appends text as is (no indentation, no newline). */
void skc_emit_raw(struct skc_emitter *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* `line {` and indent / dedent and `}` (with an optional suffix such as ";"). */
void skc_emit_open(struct skc_emitter *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void skc_emit_close(struct skc_emitter *e, const char *suffix);

/* Writes the buffer to path (a temporary the caller renames). False after an error. */
bool skc_emitter_write(const struct skc_emitter *e, const char *path);

#endif
