/* skrt status: the status name table (expanded from SKRT_STATUS_LIST) and the thread-local
 * last-error message that every failing entry point records through skrt_error(). One
 * buffer per thread, so concurrent callers never see each other's messages. */
#include "skrt/base.h"

#include <stdarg.h>
#include <stdio.h>

#define SKRT_ERROR_CAPACITY 512

static _Thread_local char skrt_error_buffer[SKRT_ERROR_CAPACITY];

static const char *const skrt_status_names[] = {
#define SKRT_X_NAME(name, text) text,
    SKRT_STATUS_LIST(SKRT_X_NAME)
#undef SKRT_X_NAME
};

_Static_assert(sizeof(skrt_status_names) / sizeof(skrt_status_names[0]) == SKRT_STATUS_COUNT,
               "status name table out of sync with SKRT_STATUS_LIST");

const char *skrt_status_string(int status) {
  if (status < 0 || status >= SKRT_STATUS_COUNT)
    return "unknown status";
  return skrt_status_names[status];
}

const char *skrt_last_error(void) { return skrt_error_buffer; }

void skrt_clear_error(void) { skrt_error_buffer[0] = '\0'; }

int skrt_error(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(skrt_error_buffer, sizeof(skrt_error_buffer), fmt, ap);
  va_end(ap);
  return status;
}
