/* The build driver: runs cc and ar on the emitted source to produce lib<name>.a (the object)
 * and lib<name>.so (the object plus the whole of libskrt.a, so that callers also get
 * skrt_last_error and the rest of the runtime API). Commands run without a shell; their
 * output is captured and shown with the command when they fail. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "codegen/config.h"
#include "compiler/diag.h"
#include "compiler/driver.h"

static const char *env_or(const char *var, const char *baked) {
  const char *v = getenv(var);
  return v && *v ? v : baked;
}

void skc_build_paths_get(struct skc_build_paths *p) {
  p->cc = env_or("SKC_CC", SKC_BAKED_CC);
  p->ar = env_or("SKC_AR", SKC_BAKED_AR);
  p->runtime_include = env_or("SKC_RUNTIME_INCLUDE", SKC_BAKED_RUNTIME_INCLUDE);
  p->runtime_dir = env_or("SKC_RUNTIME_DIR", SKC_BAKED_RUNTIME_DIR);
  p->dlpack_include = env_or("SKC_DLPACK_INCLUDE", SKC_BAKED_DLPACK_INCLUDE);
  p->skrt_lib = env_or("SKC_SKRT_LIB", SKC_BAKED_SKRT_LIB);
  p->nvcc = env_or("SKC_NVCC", SKC_BAKED_NVCC);
  p->skrt_cuda_lib = env_or("SKC_SKRT_CUDA_LIB", SKC_BAKED_SKRT_CUDA_LIB);
  p->cuda_arch = env_or("SKC_CUDA_ARCH", "sm_90a");
}

/* Runs argv in dir with stdout and stderr to `log`; returns the exit status (-1 when it
 * could not start, 128 + signal when killed). */
static int run_in(const char *dir, char *const argv[], const char *log) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || chdir(dir) != 0)
      _exit(127);
    dup2(fd, 1);
    dup2(fd, 2);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void print_failure(char *const argv[], int status, const char *log) {
  fprintf(stderr,
          "skc: error: the C build of the generated library failed (%s exited with "
          "status %d)\n  command:",
          argv[0], status);
  for (int i = 0; argv[i]; ++i)
    fprintf(stderr, " %s", argv[i]);
  fputc('\n', stderr);
  size_t len;
  char *out = skc_read_file(log, &len);
  if (out && len)
    fprintf(stderr, "%s%s", out, out[len - 1] == '\n' ? "" : "\n");
  free(out);
}

static bool run_step(const char *dir, char *const argv[]) {
  char log[4096];
  snprintf(log, sizeof log, "%s/build.log", dir);
  unlink(log);
  int st = run_in(dir, argv, log);
  if (st != 0)
    print_failure(argv, st, log);
  unlink(log);
  return st == 0;
}

/* <name><ext>, <name>.o, lib<name>.a, lib<name>.so (buffers of 512). */
static void file_names(const char *name, const char *ext, char *src, char *obj, char *a, char *so) {
  snprintf(src, 512, "%s%s", name, ext);
  snprintf(obj, 512, "%s.o", name);
  snprintf(a, 512, "lib%s.a", name);
  snprintf(so, 512, "lib%s.so", name);
}

/* -I flags: the build directory, the runtime headers, the kernels, DLPack. */
static void include_flags(const struct skc_build_paths *p, char inc[4][1024]) {
  snprintf(inc[0], 1024, "-I.");
  snprintf(inc[1], 1024, "-I%s", p->runtime_include);
  snprintf(inc[2], 1024, "-I%s", p->runtime_dir);
  snprintf(inc[3], 1024, "-I%s", p->dlpack_include);
}

bool skc_build_library(const struct skc_build_paths *p, const char *dir, const char *name) {
  char src[512], obj[512], a[512], so[512], inc[4][1024], whole[1024];
  file_names(name, ".c", src, obj, a, so);
  include_flags(p, inc);
  snprintf(whole, sizeof whole, "%s", p->skrt_lib);
  char *cc[] = {(char *)p->cc, "-std=c11", "-O3",  "-march=native", "-fopenmp", "-fPIC",
                inc[0],        inc[1],     inc[2], inc[3],          "-c",       src,
                "-o",          obj,        NULL};
  char *ar[] = {(char *)p->ar, "rcsD", a, obj, NULL};
  char *ld[] = {(char *)p->cc,
                "-shared",
                "-fopenmp",
                "-o",
                so,
                obj,
                "-Wl,--whole-archive",
                whole,
                "-Wl,--no-whole-archive",
                "-lm",
                NULL};
  if (access(p->skrt_lib, R_OK) != 0) {
    skc_error("cannot read the runtime library '%s' (set SKC_SKRT_LIB to override): %s",
              p->skrt_lib, strerror(errno));
    return false;
  }
  bool ok = run_step(dir, cc) && run_step(dir, ar) && run_step(dir, ld);
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, obj);
  unlink(path);
  return ok;
}

bool skc_build_cuda_library(const struct skc_build_paths *p, const char *dir, const char *name) {
  if (!*p->nvcc || !*p->skrt_cuda_lib) {
    skc_error("the cuda target needs nvcc and libskrt_cuda.a, which this skc was built without "
              "(set SKC_NVCC and SKC_SKRT_CUDA_LIB, or use --emit=cuda for the sources)");
    return false;
  }
  char src[512], obj[512], a[512], so[512], inc[4][1024], arch[128];
  file_names(name, ".cu", src, obj, a, so);
  include_flags(p, inc);
  snprintf(arch, sizeof arch, "-arch=%s", p->cuda_arch);
  char *nv[] = {(char *)p->nvcc, "-std=c++17", "-O3", arch, "-Xcompiler", "-fPIC", inc[0], inc[1],
                inc[2],          inc[3],       "-c",  src,  "-o",         obj,     NULL};
  char *ar[] = {(char *)p->ar, "rcsD", a, obj, NULL};
  char *ld[] = {(char *)p->nvcc,
                "-shared",
                arch,
                "-o",
                so,
                obj,
                "-Xlinker",
                "--whole-archive",
                (char *)p->skrt_cuda_lib,
                (char *)p->skrt_lib,
                "-Xlinker",
                "--no-whole-archive",
                "-Xcompiler",
                "-fopenmp",
                "-lcudart",
                NULL};
  bool ok = run_step(dir, nv) && run_step(dir, ar) && run_step(dir, ld);
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, obj);
  unlink(path);
  return ok;
}
