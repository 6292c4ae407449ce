/* Tests of skrt status names, thread-local error messages and contexts (skrt/base.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <omp.h>
#include <pthread.h>
#include <string.h>

#include "skrt/base.h"

static void test_status_names(void **state) {
  (void)state;
  assert_string_equal(skrt_status_string(SKRT_OK), "ok");
  assert_string_equal(skrt_status_string(SKRT_ERR_SHAPE), "shape mismatch");
  assert_string_equal(skrt_status_string(SKRT_ERR_STATE), "invalid state");
  assert_string_equal(skrt_status_string(-1), "unknown status");
  assert_string_equal(skrt_status_string(SKRT_STATUS_COUNT), "unknown status");
}

static void test_error_message(void **state) {
  (void)state;
  skrt_clear_error();
  assert_string_equal(skrt_last_error(), "");
  int st = skrt_error(SKRT_ERR_ARG, "k must be > 0, got %g", -1.5);
  assert_int_equal(st, SKRT_ERR_ARG);
  assert_string_equal(skrt_last_error(), "k must be > 0, got -1.5");
  skrt_clear_error();
  assert_string_equal(skrt_last_error(), "");
}

static void test_error_truncates(void **state) {
  (void)state;
  char big[2000];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  skrt_error(SKRT_ERR_ARG, "%s", big);
  size_t len = strlen(skrt_last_error());
  assert_true(len > 100 && len < sizeof(big) - 1);
}

static void *thread_sets_error(void *arg) {
  (void)arg;
  skrt_error(SKRT_ERR_SHAPE, "from the other thread");
  return (void *)(uintptr_t)(strcmp(skrt_last_error(), "from the other thread") == 0);
}

static void test_error_is_thread_local(void **state) {
  (void)state;
  skrt_error(SKRT_ERR_NULL, "main thread message");
  pthread_t t;
  void *ok = NULL;
  assert_int_equal(pthread_create(&t, NULL, thread_sets_error, NULL), 0);
  assert_int_equal(pthread_join(t, &ok), 0);
  assert_true(ok != NULL);
  assert_string_equal(skrt_last_error(), "main thread message");
}

static void test_context(void **state) {
  (void)state;
  struct skrt_context *ctx = NULL;
  assert_int_equal(skrt_context_create(NULL, &ctx), SKRT_OK);
  assert_int_equal(skrt_context_num_threads(ctx), omp_get_max_threads());
  assert_null(skrt_context_cuda_stream(ctx));
  skrt_context_destroy(ctx);

  int fake_stream = 0;
  struct skrt_context_options o = {.num_threads = 3, .cuda_stream = &fake_stream};
  assert_int_equal(skrt_context_create(&o, &ctx), SKRT_OK);
  assert_int_equal(skrt_context_num_threads(ctx), 3);
  assert_ptr_equal(skrt_context_cuda_stream(ctx), &fake_stream);
  skrt_context_destroy(ctx);

  assert_int_equal(skrt_context_num_threads(NULL), omp_get_max_threads());
  assert_null(skrt_context_cuda_stream(NULL));
  skrt_context_destroy(NULL);
}

static void test_context_null_out(void **state) {
  (void)state;
  assert_int_equal(skrt_context_create(NULL, NULL), SKRT_ERR_NULL);
  assert_string_equal(skrt_last_error(), "skrt_context_create: out is NULL");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_names),     cmocka_unit_test(test_error_message),
      cmocka_unit_test(test_error_truncates),  cmocka_unit_test(test_error_is_thread_local),
      cmocka_unit_test(test_context),          cmocka_unit_test(test_context_null_out),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
