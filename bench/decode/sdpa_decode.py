#!/usr/bin/env python3
"""bench/decode on the GPU, dense side: one decode step of torch SDPA over a FULL KV cache at
128k positions (Hq 32, Hkv 8, D 128; batch 1 and 16; fp32 and bf16), against the skc CUDA
decode of bench_decode_cuda (run by this script, same process tree, so both sides are in one
run; the skc side is the runtime's device cache, fp32 and bf16 K/V). GQA without copying K/V: the g = Hq / Hkv query heads of a group are the g "query
positions" of one SDPA call over that group's keys (no mask: one decode token sees every
cached key), which is exactly dense decode attention.

    python3 bench/decode/sdpa_decode.py --bin build/bench/decode/bench_decode_cuda

Prints the median step times and the ratios dense / skc (goal >= 10): same dtype on both
sides, and bf16 SDPA against the fp32 skc cache."""
import argparse
import re
import subprocess

import torch
import torch.nn.functional as F

HQ, HKV, D = 32, 8, 128


def sdpa_ms(batch, n, dtype, reps=31):
    g = HQ // HKV
    k = torch.randn(batch, HKV, n, D, device="cuda", dtype=dtype)
    v = torch.randn(batch, HKV, n, D, device="cuda", dtype=dtype)
    q = torch.randn(batch, HKV, g, D, device="cuda", dtype=dtype)
    times = []
    for r in range(reps + 3):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        F.scaled_dot_product_attention(q, k, v)
        b.record()
        b.synchronize()
        if r >= 3:
            times.append(a.elapsed_time(b))
    del k, v, q
    torch.cuda.empty_cache()
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="path of bench_decode_cuda")
    ap.add_argument("--n", type=int, default=131072)
    args = ap.parse_args()
    out = subprocess.run([args.bin, "--mid", str(args.n)], capture_output=True, text=True)
    print(out.stdout, end="")
    if out.returncode != 0:
        print(out.stderr, end="")
        raise SystemExit("bench_decode_cuda failed (correctness checks or errors)")
    skc = {(d, int(b)): float(ms) for d, b, ms in
           re.findall(r"SKC_MS dtype=(\w+) batch=(\d+) pos=\d+ ms=([0-9.]+)", out.stdout)}
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    for batch in (1, 16):
        for dtype, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
            ms = sdpa_ms(batch, args.n, dtype)
            same, f32 = skc[(name, batch)], skc[("fp32", batch)]
            print(f"sdpa: batch {batch:2d}, {args.n} positions, {name}: {ms:.4f} ms/step; "
                  f"skc {name} cache {same:.4f} ms/step, speed-up {ms / same:.1f}x (goal >= 10); "
                  f"vs skc fp32 cache {f32:.4f}: {ms / f32:.1f}x")


if __name__ == "__main__":
    main()
