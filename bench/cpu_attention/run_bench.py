#!/usr/bin/python3
"""CPU attention benchmark, one run: skc SparseK (fused C/OpenMP kernel) vs a dense causal
attention baseline in C vs PyTorch CPU dense causal attention, same inputs, same threads.

Writes q, k, v (1, H, N, D) and u (1, H, N) float32 to a temp dir, runs the C driver
(bench_cpu_attention) for skc forward/backward and dense C, runs PyTorch in this process,
checks correctness first (dense C vs PyTorch at every N where both run; skc with k >= N,
i.e. dense, vs PyTorch), then prints a markdown table with ratios.
Run with Debian's /usr/bin/python3 (python3-torch 1.13: the public SDPA does not exist yet,
so torch.nn.functional._scaled_dot_product_attention(..., is_causal=True) is the call).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

H, D = 8, 64


def drive(binary, *args):
    out = subprocess.run([binary, *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_inputs(d, n, seed):
    rng = np.random.default_rng(seed)
    t = {}
    for name in ("q", "k", "v"):
        t[name] = rng.standard_normal((1, H, n, D), dtype=np.float32)
        t[name].tofile(os.path.join(d, name + ".f32"))
    t["u"] = (2.0 * rng.standard_normal((1, H, n))).astype(np.float32)
    t["u"].tofile(os.path.join(d, "u.f32"))
    return t


def torch_attention(t, n, chunk):
    """Dense causal attention in PyTorch, head by head (one head's N x N weights must fit);
    queries in chunks with an explicit causal mask when N > chunk."""
    q, k, v = (torch.from_numpy(t[x]) for x in ("q", "k", "v"))
    o = torch.empty_like(q)
    for h in range(H):
        if n <= chunk:
            o[0, h] = F._scaled_dot_product_attention(q[0, h], k[0, h], v[0, h], None, 0.0,
                                                      False, True)[0]
            continue
        for c0 in range(0, n, chunk):
            c1 = min(n, c0 + chunk)
            mask = torch.arange(c1).unsqueeze(0) <= torch.arange(c0, c1).unsqueeze(1)
            o[0, h, c0:c1] = F._scaled_dot_product_attention(
                q[0, h, c0:c1], k[0, h, :c1], v[0, h, :c1], mask, 0.0, False, False)[0]
    return o.numpy()


def time_torch(t, n, reps, chunk):
    times = []
    for r in range(reps + 1):
        t0 = time.perf_counter()
        o = torch_attention(t, n, chunk)
        if r > 0 or reps == 1:
            times.append(time.perf_counter() - t0)
        if reps == 1:
            break
    return float(np.median(times)), o


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def read(d, name, shape):
    return np.fromfile(os.path.join(d, name + ".f32"), dtype=np.float32).reshape(shape)


def check_dense_equivalence(args, d):
    """skc with k >= N (every candidate selected, all gates 1) is dense causal attention."""
    n = 1024
    t = write_inputs(d, n, 99)
    drive(args.bin, "run", d, n, H, D, n, 0, args.threads, 1, "skc,save")
    ref = torch_attention(t, n, args.chunk)
    return rel_err(read(d, "o_skc", (1, H, n, D)), ref)


def bench_size(args, d, n, k, w):
    t = write_inputs(d, n, n)
    row = {"N": n}
    row.update(drive(args.bin, "run", d, n, H, D, k, w, args.threads, args.reps, "skc,bwd"))
    est_dense = args.dense_rate_est * (n / 16384.0) ** 2
    if n <= 16384 or est_dense <= args.dense_limit_s:
        dense_reps = 3 if n <= 4096 else 1
        row.update(drive(args.bin, "run", d, n, H, D, k, w, args.threads, dense_reps,
                         "dense,save"))
        if n == 16384:
            args.dense_rate_est = row["dense_c_s"]
    else:
        row["dense_skipped"] = "estimated %.0f s > %d s" % (est_dense, args.dense_limit_s)
    if n <= args.torch_max_n:
        row["torch_s"], o_t = time_torch(t, n, 3 if n <= 4096 else 1, args.chunk)
        if "dense_c_s" in row:
            row["dense_vs_torch_err"] = rel_err(read(d, "o_dense", (1, H, n, D)), o_t)
    return row


def fmt(x, unit=""):
    return "-" if x is None else ("%.3f%s" % (x, unit) if x < 100 else "%.1f%s" % (x, unit))


def table(rows, sgemm, args):
    k, w = args.k, args.w
    lines = ["| N | skc fwd (s) | skc bwd (s) | bwd/fwd | dense C (s) | PyTorch (s) | "
             "dense C / skc | PyTorch / skc | skc useful GFLOP/s | % of SGEMM |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n, f = r["N"], r["skc_fwd_s"]
        gf = 4.0 * n * (k + w) * D * H / f / 1e9
        dc, pt = r.get("dense_c_s"), r.get("torch_s")
        lines.append("| %d | %s | %s | %.2f | %s | %s | %s | %s | %.1f | %.1f%% |" % (
            n, fmt(f), fmt(r["skc_bwd_s"]), r["skc_bwd_s"] / f, fmt(dc), fmt(pt),
            fmt(dc / f if dc else None, "x"), fmt(pt / f if pt else None, "x"), gf,
            100.0 * gf / sgemm))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="4096,16384,65536")
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--w", type=int, default=256)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=16384)
    ap.add_argument("--torch-max-n", type=int, default=65536)
    ap.add_argument("--dense-limit-s", type=int, default=120)
    args = ap.parse_args()
    args.dense_rate_est = 0.0
    torch.set_num_threads(args.threads)
    print("load average before: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    sgemm = drive(args.bin, "sgemm", args.threads)["sgemm_gflops"]
    print("OpenBLAS SGEMM (4096^3, %d threads): %.1f GFLOP/s" % (args.threads, sgemm), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="skc_bench_") as d:
        err = check_dense_equivalence(args, d)
        print("check: skc(k >= N) vs PyTorch dense, N = 1024: rel err %.2e" % err, flush=True)
        if err > 1e-4:
            sys.exit("skc does not reduce to dense attention for k >= N")
        for n in map(int, args.sizes.split(",")):
            row = bench_size(args, d, n, args.k, args.w)
            print(json.dumps(row), flush=True)
            if row.get("dense_vs_torch_err", 0) > 1e-4:
                sys.exit("dense C disagrees with PyTorch at N = %d" % n)
            rows.append(row)
    print()
    print("B = 1, Hq = Hkv = %d, D = %d, k = %d, w = %d, gate kv, fp32, %d threads" % (
        H, D, args.k, args.w, args.threads))
    print(table(rows, sgemm, args))
    for r in rows:
        if "dense_skipped" in r:
            print("dense C skipped at N = %d: %s" % (r["N"], r["dense_skipped"]))
    if len(rows) > 1:
        print("skc fwd time(N = %d) / time(N = %d) = %.2f" % (
            rows[-1]["N"], rows[0]["N"], rows[-1]["skc_fwd_s"] / rows[0]["skc_fwd_s"]))
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
