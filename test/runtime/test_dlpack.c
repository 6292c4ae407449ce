/* Unit tests of the DLPack argument checks (runtime/src/dlpack.c): one passing case per
 * layout, one test per failure kind (status and the exact message naming tensor, property,
 * expected and actual), and the stride and data accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "skrt/attention.h"
#include "skrt/base.h"

static float g_buf[2 * 3 * 4 * 5];

/* A float32 CPU tensor over g_buf with the given shape (and strides, may be NULL). */
static DLTensor make_tensor(int ndim, int64_t *shape, int64_t *strides) {
  DLTensor t;
  memset(&t, 0, sizeof(t));
  t.data = g_buf;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  t.strides = strides;
  return t;
}

static int check4(const DLTensor *t, const int64_t *want, int allow_strided) {
  return skrt_dl_check(t, "q", 4, want, kDLFloat, 32, kDLCPU, allow_strided);
}

static void test_ok_contiguous(void **state) {
  (void)state;
  int64_t shape[4] = {2, 3, 4, 5};
  int64_t want[4] = {2, -1, 4, -1};
  DLTensor t = make_tensor(4, shape, NULL);
  assert_int_equal(check4(&t, want, 0), SKRT_OK);
  assert_int_equal(check4(&t, NULL, 0), SKRT_OK);
  int64_t strides[4] = {60, 20, 5, 1};
  t.strides = strides;
  assert_int_equal(check4(&t, want, 0), SKRT_OK);
}

static void test_null_tensor_and_data(void **state) {
  (void)state;
  assert_int_equal(check4(NULL, NULL, 0), SKRT_ERR_NULL);
  assert_string_equal(skrt_last_error(), "argument 'q': tensor is NULL");
  int64_t shape[4] = {2, 3, 4, 5};
  DLTensor t = make_tensor(4, shape, NULL);
  t.data = NULL;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_NULL);
  assert_string_equal(skrt_last_error(), "argument 'q': data pointer is NULL");
}

static void test_wrong_device(void **state) {
  (void)state;
  int64_t shape[4] = {2, 3, 4, 5};
  DLTensor t = make_tensor(4, shape, NULL);
  t.device.device_type = kDLCUDA;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_DEVICE);
  assert_string_equal(skrt_last_error(), "argument 'q': expected device cpu, got cuda (type 2)");
}

static void test_wrong_dtype(void **state) {
  (void)state;
  int64_t shape[4] = {2, 3, 4, 5};
  DLTensor t = make_tensor(4, shape, NULL);
  t.dtype.bits = 64;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_DTYPE);
  assert_string_equal(skrt_last_error(), "argument 'q': expected dtype float32, got float64");
  t.dtype.code = kDLInt;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_DTYPE);
  assert_string_equal(skrt_last_error(), "argument 'q': expected dtype float32, got int64");
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 4;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_DTYPE);
  assert_string_equal(skrt_last_error(), "argument 'q': expected dtype float32, got float32x4");
}

static void test_wrong_rank(void **state) {
  (void)state;
  int64_t shape[3] = {2, 3, 4};
  DLTensor t = make_tensor(3, shape, NULL);
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_SHAPE);
  assert_string_equal(skrt_last_error(), "argument 'q': expected rank 4, got 3");
}

static void test_wrong_extent(void **state) {
  (void)state;
  int64_t shape[4] = {2, 3, 4, 5};
  int64_t want[4] = {-1, -1, -1, 8};
  DLTensor t = make_tensor(4, shape, NULL);
  assert_int_equal(check4(&t, want, 0), SKRT_ERR_SHAPE);
  assert_string_equal(skrt_last_error(), "argument 'q': dimension 3 is 5, expected 8");
  int64_t neg[4] = {2, -3, 4, 5};
  t.shape = neg;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_SHAPE);
  assert_string_equal(skrt_last_error(), "argument 'q': dimension 1 is -3, expected >= 0");
  t.shape = NULL;
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_NULL);
  assert_string_equal(skrt_last_error(), "argument 'q': shape is NULL for rank 4");
}

static void test_strides(void **state) {
  (void)state;
  int64_t shape[4] = {2, 3, 4, 5};
  int64_t transposed[4] = {60, 5, 15, 1}; /* (b, n, h, d) memory viewed as (b, h, n, d) */
  DLTensor t = make_tensor(4, shape, transposed);
  assert_int_equal(check4(&t, NULL, 0), SKRT_ERR_SHAPE);
  assert_string_equal(skrt_last_error(),
                      "argument 'q': stride of dimension 2 is 15, expected 5 (row-major "
                      "contiguous)");
  assert_int_equal(check4(&t, NULL, 1), SKRT_OK);
  int64_t col[4] = {60, 20, 1, 4};
  t.strides = col;
  assert_int_equal(check4(&t, NULL, 1), SKRT_ERR_SHAPE);
  assert_string_equal(skrt_last_error(),
                      "argument 'q': stride of dimension 3 is 4, expected 1 (the last "
                      "dimension must be contiguous)");
  /* extent-1 axes may carry any stride (PyTorch does that) */
  int64_t shape1[4] = {1, 3, 4, 5};
  int64_t odd[4] = {7, 20, 5, 1};
  t.shape = shape1;
  t.strides = odd;
  assert_int_equal(check4(&t, NULL, 0), SKRT_OK);
}

static void test_accessors(void **state) {
  (void)state;
  int64_t shape[4] = {2, 3, 4, 5};
  DLTensor t = make_tensor(4, shape, NULL);
  int64_t s[4];
  skrt_dl_strides(&t, s);
  assert_int_equal(s[0], 60);
  assert_int_equal(s[1], 20);
  assert_int_equal(s[2], 5);
  assert_int_equal(s[3], 1);
  int64_t given[4] = {60, 5, 15, 1};
  t.strides = given;
  skrt_dl_strides(&t, s);
  assert_int_equal(s[1], 5);
  assert_int_equal(s[2], 15);
  assert_ptr_equal(skrt_dl_data(&t), g_buf);
  t.byte_offset = 8;
  assert_ptr_equal(skrt_dl_data(&t), &g_buf[2]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ok_contiguous), cmocka_unit_test(test_null_tensor_and_data),
      cmocka_unit_test(test_wrong_device),  cmocka_unit_test(test_wrong_dtype),
      cmocka_unit_test(test_wrong_rank),    cmocka_unit_test(test_wrong_extent),
      cmocka_unit_test(test_strides),       cmocka_unit_test(test_accessors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
