/* skrt DLPack checks: the argument validation that every generated entry point runs on each
 * DLTensor before it launches a kernel (NULL, device, dtype, rank, static extents, strides),
 * plus the two accessors it uses to fill a kernel's parameter struct (element strides and
 * the first data byte). Every failure returns a status and records a message that names the
 * tensor, the property, the expected and the actual value. Never aborts. */
#include "skrt/attention.h"

#include <inttypes.h>
#include <stdio.h>

/* Short name of a DLPack device type for messages ("cpu", "cuda", ...). */
static const char *skrt_dl_device_name(int type) {
  switch (type) {
  case kDLCPU:
    return "cpu";
  case kDLCUDA:
    return "cuda";
  case kDLCUDAHost:
    return "cuda_host";
  case kDLCUDAManaged:
    return "cuda_managed";
  case kDLROCM:
    return "rocm";
  default:
    return "other";
  }
}

/* Writes a dtype as "float32", "int64", "bfloat16", "float32x4" into buf. */
static void skrt_dl_dtype_name(uint8_t code, uint8_t bits, uint16_t lanes, char *buf,
                               size_t cap) {
  const char *base = "unknown";
  switch (code) {
  case kDLInt:
    base = "int";
    break;
  case kDLUInt:
    base = "uint";
    break;
  case kDLFloat:
    base = "float";
    break;
  case kDLBfloat:
    base = "bfloat";
    break;
  default:
    break;
  }
  if (lanes == 1)
    snprintf(buf, cap, "%s%u", base, (unsigned)bits);
  else
    snprintf(buf, cap, "%s%ux%u", base, (unsigned)bits, (unsigned)lanes);
}

/* Device and dtype of t against the expected ones. */
static int skrt_dl_check_kind(const DLTensor *t, const char *name, uint8_t code, uint8_t bits,
                              DLDeviceType device_type) {
  if ((int)t->device.device_type != (int)device_type)
    return skrt_error(SKRT_ERR_DEVICE, "argument '%s': expected device %s, got %s (type %d)",
                      name, skrt_dl_device_name(device_type),
                      skrt_dl_device_name(t->device.device_type),
                      (int)t->device.device_type);
  if (t->dtype.code != code || t->dtype.bits != bits || t->dtype.lanes != 1) {
    char want[32], got[32];
    skrt_dl_dtype_name(code, bits, 1, want, sizeof(want));
    skrt_dl_dtype_name(t->dtype.code, t->dtype.bits, t->dtype.lanes, got, sizeof(got));
    return skrt_error(SKRT_ERR_DTYPE, "argument '%s': expected dtype %s, got %s", name, want,
                      got);
  }
  return SKRT_OK;
}

/* Rank and extents of t: every extent must be >= 0 and match shape[i] when shape[i] >= 0. */
static int skrt_dl_check_shape(const DLTensor *t, const char *name, int ndim,
                               const int64_t *shape) {
  if (t->ndim != ndim)
    return skrt_error(SKRT_ERR_SHAPE, "argument '%s': expected rank %d, got %d", name, ndim,
                      t->ndim);
  if (ndim > 0 && !t->shape)
    return skrt_error(SKRT_ERR_NULL, "argument '%s': shape is NULL for rank %d", name, ndim);
  for (int i = 0; i < ndim; ++i) {
    if (t->shape[i] < 0)
      return skrt_error(SKRT_ERR_SHAPE, "argument '%s': dimension %d is %" PRId64
                        ", expected >= 0", name, i, t->shape[i]);
    if (shape && shape[i] >= 0 && t->shape[i] != shape[i])
      return skrt_error(SKRT_ERR_SHAPE,
                        "argument '%s': dimension %d is %" PRId64 ", expected %" PRId64, name,
                        i, t->shape[i], shape[i]);
  }
  return SKRT_OK;
}

/* Strides of t: row-major contiguous (axes of extent 1 may have any stride) unless
 * allow_strided; strided tensors must still be unit-stride on their last axis, which is
 * what every skrt kernel reads as a contiguous vector (attention.h: head dim contiguous). */
static int skrt_dl_check_strides(const DLTensor *t, const char *name, int allow_strided) {
  if (!t->strides || t->ndim == 0)
    return SKRT_OK;
  int last = t->ndim - 1;
  if (allow_strided) {
    if (t->shape[last] > 1 && t->strides[last] != 1)
      return skrt_error(SKRT_ERR_SHAPE,
                        "argument '%s': stride of dimension %d is %" PRId64
                        ", expected 1 (the last dimension must be contiguous)",
                        name, last, t->strides[last]);
    return SKRT_OK;
  }
  int64_t want = 1;
  for (int i = last; i >= 0; --i) {
    if (t->shape[i] != 1 && t->strides[i] != want)
      return skrt_error(SKRT_ERR_SHAPE,
                        "argument '%s': stride of dimension %d is %" PRId64
                        ", expected %" PRId64 " (row-major contiguous)",
                        name, i, t->strides[i], want);
    want *= t->shape[i];
  }
  return SKRT_OK;
}

int skrt_dl_check(const DLTensor *t, const char *name, int ndim, const int64_t *shape,
                  uint8_t code, uint8_t bits, DLDeviceType device_type, int allow_strided) {
  if (!name)
    name = "?";
  if (!t)
    return skrt_error(SKRT_ERR_NULL, "argument '%s': tensor is NULL", name);
  if (!t->data)
    return skrt_error(SKRT_ERR_NULL, "argument '%s': data pointer is NULL", name);
  int st = skrt_dl_check_kind(t, name, code, bits, device_type);
  if (st == SKRT_OK)
    st = skrt_dl_check_shape(t, name, ndim, shape);
  if (st == SKRT_OK)
    st = skrt_dl_check_strides(t, name, allow_strided);
  return st;
}

void skrt_dl_strides(const DLTensor *t, int64_t *out) {
  if (t->strides) {
    for (int i = 0; i < t->ndim; ++i)
      out[i] = t->strides[i];
    return;
  }
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; --i) {
    out[i] = s;
    s *= t->shape[i];
  }
}

void *skrt_dl_data(const DLTensor *t) { return (char *)t->data + t->byte_offset; }
