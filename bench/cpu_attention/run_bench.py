#!/usr/bin/python3
"""CPU attention benchmark, one run: skc SparseK (fused C/OpenMP kernel) vs a dense causal
attention baseline in C vs PyTorch CPU dense causal attention, same inputs, same threads.

Writes q, k, v (1, H, N, D) and u (1, H, N) float32 to a temp dir, runs the C driver
(bench_cpu_attention) for skc forward/backward and dense C, runs PyTorch in this process,
checks correctness first (both dense C baselines vs PyTorch at every N; skc with k >= N,
i.e. dense, vs PyTorch), then prints a markdown table with ratios. At N = 64k PyTorch (Debian
build, generic BLAS) would need ~20 min for 8 heads, so by default one head is timed and
multiplied by 8 (every head is the same work); the table says so.
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


def torch_attention(t, n, chunk, heads=H):
    """Dense causal attention in PyTorch, head by head (one head's N x N weights must fit);
    queries in chunks with an explicit causal mask when N > chunk. heads < H: only the
    first `heads` heads (used at 64k, where every head is the same amount of work)."""
    q, k, v = (torch.from_numpy(t[x]) for x in ("q", "k", "v"))
    o = torch.zeros_like(q)
    for h in range(heads):
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


def time_torch(t, n, reps, chunk, heads):
    """Median seconds (after one warm-up when reps > 1) scaled to all H heads."""
    times = []
    for r in range(reps + (1 if reps > 1 else 0)):
        t0 = time.perf_counter()
        o = torch_attention(t, n, chunk, heads)
        times.append(time.perf_counter() - t0)
    times = times[1:] if reps > 1 else times
    return float(np.median(times)) * H / heads, o


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


def run_dense(args, d, n, k, w, row, kind, key):
    """Times one dense C baseline unless its estimate (16k time x 16) exceeds the limit."""
    est = args.est.get(kind, 0.0) * (n / 16384.0) ** 2
    if n > 16384 and est > args.dense_limit_s:
        row[key + "_skipped"] = "estimated %.0f s > %d s" % (est, args.dense_limit_s)
        return
    reps = 3 if n <= 4096 else 1
    row.update(drive(args.bin, "run", d, n, H, D, k, w, args.threads, reps, kind + ",save"))
    if n == 16384:
        args.est[kind] = row[key]


def bench_size(args, d, n, k, w):
    t = write_inputs(d, n, n)
    row = {"N": n}
    row.update(drive(args.bin, "run", d, n, H, D, k, w, args.threads, args.reps, "skc,bwd"))
    run_dense(args, d, n, k, w, row, "dense", "dense_c_s")
    run_dense(args, d, n, k, w, row, "own", "dense_own_s")
    heads = H if n <= 16384 else args.torch_heads_64k
    row["torch_heads_timed"] = heads
    row["torch_s"], o_t = time_torch(t, n, 3 if n <= 4096 else 1, args.chunk, heads)
    for name, key in (("o_dense", "dense_c_s"), ("o_own", "dense_own_s")):
        if key in row:
            o = read(d, name, (1, H, n, D))[:, :heads]
            row[name + "_vs_torch_err"] = rel_err(o, o_t[:, :heads])
    return row


def fmt(x, unit=""):
    return "-" if x is None else ("%.3f%s" % (x, unit) if x < 100 else "%.1f%s" % (x, unit))


def table(rows, sgemm, args):
    k, w = args.k, args.w
    lines = ["| N | skc fwd (s) | skc bwd (s) | bwd/fwd | dense C OpenBLAS (s) | "
             "dense C own loops (s) | PyTorch (s) | best dense C / skc | PyTorch / skc | "
             "skc useful GFLOP/s | % of SGEMM |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        n, f = r["N"], r["skc_fwd_s"]
        gf = 4.0 * n * (k + w) * D * H / f / 1e9
        dc, do, pt = r.get("dense_c_s"), r.get("dense_own_s"), r.get("torch_s")
        best = min([x for x in (dc, do) if x] or [None]) if (dc or do) else None
        tstr = fmt(pt) + ("" if r["torch_heads_timed"] == H else
                          " (%d/%d heads timed, x%d)" % (r["torch_heads_timed"], H,
                                                         H // r["torch_heads_timed"]))
        lines.append("| %d | %s | %s | %.2f | %s | %s | %s | %s | %s | %.1f | %.1f%% |" % (
            n, fmt(f), fmt(r["skc_bwd_s"]), r["skc_bwd_s"] / f, fmt(dc), fmt(do), tstr,
            fmt(best / f if best else None, "x"), fmt(pt / f if pt else None, "x"), gf,
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
    ap.add_argument("--torch-heads-64k", type=int, default=1)
    ap.add_argument("--dense-limit-s", type=int, default=120)
    args = ap.parse_args()
    args.est = {}
    torch.set_num_threads(args.threads)
    print("load average before: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    sg = drive(args.bin, "sgemm", args.threads)
    sgemm = sg["sgemm_gflops"]  # best of 5: the machine's rate when it is not shared
    print("OpenBLAS SGEMM (4096^3, %d threads): best %.1f GFLOP/s, median %.1f" % (
        args.threads, sgemm, sg["sgemm_gflops_median"]), flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="skc_bench_") as d:
        err = check_dense_equivalence(args, d)
        print("check: skc(k >= N) vs PyTorch dense, N = 1024: rel err %.2e" % err, flush=True)
        if err > 1e-4:
            sys.exit("skc does not reduce to dense attention for k >= N")
        for n in map(int, args.sizes.split(",")):
            row = bench_size(args, d, n, args.k, args.w)
            print(json.dumps(row), flush=True)
            if max(row.get("o_dense_vs_torch_err", 0), row.get("o_own_vs_torch_err", 0)) > 1e-4:
                sys.exit("dense C disagrees with PyTorch at N = %d" % n)
            rows.append(row)
    print()
    print("B = 1, Hq = Hkv = %d, D = %d, k = %d, w = %d, gate kv, fp32, %d threads" % (
        H, D, args.k, args.w, args.threads))
    print(table(rows, sgemm, args))
    for r in rows:
        for key in ("dense_c_s_skipped", "dense_own_s_skipped"):
            if key in r:
                print("%s skipped at N = %d: %s" % (key[:-10], r["N"], r[key]))
    if len(rows) > 1:
        print("skc fwd time(N = %d) / time(N = %d) = %.2f" % (
            rows[-1]["N"], rows[0]["N"], rows[-1]["skc_fwd_s"] / rows[0]["skc_fwd_s"]))
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
