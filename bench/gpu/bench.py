"""GPU benchmark of skc's CUDA SparseK attention (libskrt_cuda) against torch SDPA (dense
causal, FlashAttention/cuDNN backend) and FlexAttention given the same SparseK mask as a
mask_mod, bf16, forward and forward+backward, in one run (protocol of shared/design.md).

For each config it first checks correctness at the timed shape's heads with N = 4096 (skc
against a dense torch reference built from the same selection and gates, Flex against the
dense masked softmax it computes), then times each engine: medians of CUDA-event timings
after warm-up. Useful work: 4*N*(k+w)*D*Hq flops forward, x3.5 forward+backward; SDPA's dense
causal work: 2*N*N*D*Hq forward, x3.5 forward+backward.

    python3 bench/gpu/bench.py --lib build/libskrt_cuda.so [--n 4096,16384,65536]
        [--configs 16/16/64,32/8/128] [--engines skc,sdpa,flex] [--out results.json]
"""
import argparse
import ctypes as C
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F


class AttnParams(C.Structure):
    _fields_ = [("B", C.c_int64), ("Hq", C.c_int64), ("Hkv", C.c_int64), ("N", C.c_int64),
                ("D", C.c_int64), ("topk", C.c_int64), ("window", C.c_int64),
                ("gate", C.c_int), ("real_bits", C.c_int), ("scale", C.c_double),
                ("q", C.c_void_p), ("k", C.c_void_p), ("v", C.c_void_p), ("o", C.c_void_p),
                ("q_stride", C.c_int64 * 3), ("k_stride", C.c_int64 * 3),
                ("v_stride", C.c_int64 * 3), ("o_stride", C.c_int64 * 3),
                ("u", C.c_void_p), ("lse", C.c_void_p), ("tau", C.c_void_p),
                ("nfree", C.c_void_p), ("tile_q", C.c_int64)]


class AttnGrads(C.Structure):
    _fields_ = [("dout", C.c_void_p), ("dq", C.c_void_p), ("dk", C.c_void_p),
                ("dv", C.c_void_p), ("du", C.c_void_p)]


BF16 = 1


class Skc:
    """libskrt_cuda through ctypes; tensors are torch CUDA tensors."""

    def __init__(self, path):
        self.lib = C.CDLL(path)
        for fn in ("skrt_cuda_attention_forward", "skrt_cuda_attention_backward",
                   "skrt_cuda_select", "skrt_cuda_plan_create",
                   "skrt_cuda_attention_forward_planned", "skrt_cuda_attention_backward_planned"):
            getattr(self.lib, fn).restype = C.c_int
        self.lib.skrt_cuda_plan_destroy.argtypes = [C.c_void_p]
        self.lib.skrt_cuda_attention_forward_planned.argtypes = [C.c_void_p, C.c_void_p,
                                                                 C.c_int, C.c_void_p]
        self.lib.skrt_cuda_attention_backward_planned.argtypes = [C.c_void_p, C.c_void_p,
                                                                  C.c_void_p, C.c_int,
                                                                  C.c_void_p]
        self.lib.skrt_last_error.restype = C.c_char_p
        self.lib.skrt_cuda_set_check_finite(0)  # no host sync inside timed calls

    def check(self, r):
        if r != 0:
            raise RuntimeError(self.lib.skrt_last_error().decode())

    def params(self, q, k, v, u, o, lse, K, W, gate=0):
        B, Hq, N, D = q.shape
        p = AttnParams()
        p.B, p.Hq, p.Hkv, p.N, p.D = B, Hq, k.shape[1], N, D
        p.topk, p.window, p.gate, p.real_bits, p.scale = K, W, gate, 32, 1.0 / math.sqrt(D)
        p.q, p.k, p.v, p.o, p.u = q.data_ptr(), k.data_ptr(), v.data_ptr(), o.data_ptr(), \
            u.data_ptr()
        p.lse = lse.data_ptr()
        for name, t in (("q_stride", q), ("k_stride", k), ("v_stride", v), ("o_stride", o)):
            getattr(p, name)[:] = list(t.stride()[:3])
        return p

    def forward(self, p):
        self.check(self.lib.skrt_cuda_attention_forward(C.byref(p), BF16, None))

    def backward(self, p, dout, dq, dk, dv, du):
        g = AttnGrads(dout.data_ptr(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr(),
                      du.data_ptr())
        self.check(self.lib.skrt_cuda_attention_backward(C.byref(p), C.byref(g), BF16, None))

    def fwdbwd(self, p, dout, dq, dk, dv, du):
        """A training step: one selection (plan) shared by the forward and the backward."""
        pl = C.c_void_p()
        self.check(self.lib.skrt_cuda_plan_create(C.byref(p), None, C.byref(pl)))
        g = AttnGrads(dout.data_ptr(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr(),
                      du.data_ptr())
        try:
            self.check(self.lib.skrt_cuda_attention_forward_planned(pl, C.byref(p), BF16, None))
            self.check(self.lib.skrt_cuda_attention_backward_planned(pl, C.byref(p), C.byref(g),
                                                                     BF16, None))
        finally:
            self.lib.skrt_cuda_plan_destroy(pl)

    def select(self, p, B, Hkv, N):
        tau = torch.empty(B, Hkv, N, device="cuda", dtype=torch.float32)
        se = torch.empty(B, Hkv, N, device="cuda", dtype=torch.int32)
        self.check(self.lib.skrt_cuda_select(C.byref(p), C.c_void_p(tau.data_ptr()), None,
                                             C.c_void_p(se.data_ptr()), None))
        return tau, se


def inputs(B, Hq, Hkv, N, D, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    mk = lambda *s: torch.randn(*s, device="cuda", generator=g, dtype=torch.float32)
    q = mk(B, Hq, N, D).bfloat16()
    k = mk(B, Hkv, N, D).bfloat16()
    v = mk(B, Hkv, N, D).bfloat16()
    dout = mk(B, Hq, N, D).bfloat16()
    u = mk(B, Hkv, N) * 2.0
    return q, k, v, u, dout


def dense_reference(q, k, v, u, tau, se, K, W):
    """Dense fp32 SparseK attention (gate kv) from a given selection: mask, gates, softmax."""
    B, Hq, N, D = q.shape
    g = Hq // k.shape[1]
    i = torch.arange(N, device="cuda").view(N, 1)
    j = torch.arange(N, device="cuda").view(1, N)
    win = (j <= i) & (j > i - W)
    sel = (j + W <= i) & (i < se.long().unsqueeze(-2))  # B,Hkv,N(i),N(j)
    gate = torch.clamp(u.unsqueeze(-2).double() - tau.unsqueeze(-1).double(), 0, 1).float()
    m = torch.where(win, torch.ones_like(gate), torch.where(sel, gate, torch.zeros_like(gate)))
    on = win | sel
    m = m.repeat_interleave(g, 1)
    on = on.repeat_interleave(g, 1)
    kf = k.float().repeat_interleave(g, 1)
    vf = v.float().repeat_interleave(g, 1)
    a = (q.float() @ kf.transpose(-1, -2)) / math.sqrt(D)
    s = torch.where(on, m * a, torch.full_like(a, -math.inf))
    P = torch.softmax(s, -1)
    return (P * m) @ vf, on


def rel(a, b):
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


def median_ms(fn, warm=3, reps=10):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        fn()
        e1.record()
        torch.cuda.synchronize()
        ts.append(e0.elapsed_time(e1))
    ts.sort()
    return ts[len(ts) // 2]


def flex_mask(se, W, g):
    def mask_mod(b, h, qi, kj):
        e = se[b, h // g, kj]
        return ((kj <= qi) & (kj > qi - W)) | ((kj + W <= qi) & (qi < e))
    return mask_mod


def run_config(skc, cfg, N, K, W, engines, check):
    Hq, Hkv, D = cfg
    B = 1
    q, k, v, u, dout = inputs(B, Hq, Hkv, N, D)
    o = torch.empty_like(q)
    lse = torch.empty(B, Hq, N, device="cuda", dtype=torch.float32)
    p = skc.params(q, k, v, u, o, lse, K, W)
    res = {"Hq": Hq, "Hkv": Hkv, "D": D, "N": N, "k": K, "w": W}
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    du = torch.empty_like(u)
    if check:
        tau, se = skc.select(p, B, Hkv, N)
        skc.forward(p)
        o1 = o.clone()
        skc.fwdbwd(p, dout, dq, dk, dv, du)  # the planned path must give the same output
        torch.cuda.synchronize()
        assert torch.equal(o1, o), "planned forward differs from the plain forward"
        qr, kr, vr = (t.float().requires_grad_() for t in (q, k, v))
        ref, on = dense_reference(qr, kr, vr, u, tau, se, K, W)
        ref.backward(dout.float())
        res["check"] = {"o": rel(o, ref), "dq": rel(dq, qr.grad), "dk": rel(dk, kr.grad),
                        "dv": rel(dv, vr.grad), "active_frac": on.float().mean().item()}
        if "flex" in engines:
            from torch.nn.attention.flex_attention import create_block_mask, flex_attention
            bm = create_block_mask(flex_mask(se, W, Hq // Hkv), B, Hq, N, N, device="cuda")
            fo = torch.compile(flex_attention)(q, k, v, block_mask=bm, enable_gqa=Hq != Hkv)
            kf, vf = (t.float().repeat_interleave(Hq // Hkv, 1) for t in (k, v))
            a = (q.float() @ kf.transpose(-1, -2)) / math.sqrt(D)
            fr = torch.softmax(a.masked_fill(~on, -math.inf), -1) @ vf
            res["check"]["flex_o"] = rel(fo, fr)
            res["check"]["flex_block_density"] = 1.0 - bm.sparsity() / 100.0
        del qr, kr, vr, ref, on
        torch.cuda.empty_cache()
        ok = all(res["check"][x] <= 2e-2 for x in ("o", "dq", "dk", "dv"))
        res["check"]["pass"] = ok
        print(f"check N={N} cfg={cfg}: {res['check']}", flush=True)
    fw = 4.0 * N * (K + W) * D * Hq
    dense = 2.0 * N * N * D * Hq
    if "skc" in engines:
        t_f = median_ms(lambda: skc.forward(p))
        t_fb = median_ms(lambda: skc.fwdbwd(p, dout, dq, dk, dv, du))
        res["skc"] = {"fwd_ms": t_f, "fwdbwd_ms": t_fb, "fwd_tflops": fw / t_f / 1e9,
                      "fwdbwd_tflops": 3.5 * fw / t_fb / 1e9}
    if "sdpa" in engines:
        qs, ks, vs = (t.detach().clone().requires_grad_() for t in (q, k, v))
        f = lambda: F.scaled_dot_product_attention(qs, ks, vs, is_causal=True,
                                                   enable_gqa=Hq != Hkv)
        def fb():
            out = f()
            out.backward(dout)
        with torch.no_grad():
            t_f = median_ms(f)
        t_fb = median_ms(fb)
        res["sdpa"] = {"fwd_ms": t_f, "fwdbwd_ms": t_fb, "fwd_tflops": dense / t_f / 1e9,
                       "fwdbwd_tflops": 3.5 * dense / t_fb / 1e9}
    if "flex" in engines:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        tau, se = skc.select(p, B, Hkv, N)
        t0 = time.time()
        try:
            bm = create_block_mask(flex_mask(se, W, Hq // Hkv), B, Hq, N, N, device="cuda",
                                   _compile=True)
        except TypeError:
            bm = create_block_mask(flex_mask(se, W, Hq // Hkv), B, Hq, N, N, device="cuda")
        res["flex_mask_s"] = time.time() - t0
        fx = torch.compile(flex_attention)
        qs, ks, vs = (t.detach().clone().requires_grad_() for t in (q, k, v))
        f = lambda: fx(qs, ks, vs, block_mask=bm, enable_gqa=Hq != Hkv)
        def fb():
            out = f()
            out.backward(dout)
        with torch.no_grad():
            t_f = median_ms(f)
        t_fb = median_ms(fb)
        res["flex"] = {"fwd_ms": t_f, "fwdbwd_ms": t_fb, "fwd_tflops": fw / t_f / 1e9,
                       "fwdbwd_tflops": 3.5 * fw / t_fb / 1e9,
                       "block_density": 1.0 - bm.sparsity() / 100.0}
    return res


def profile(skc, cfg, N, K, W):
    Hq, Hkv, D = cfg
    q, k, v, u, dout = inputs(1, Hq, Hkv, N, D)
    o = torch.empty_like(q)
    lse = torch.empty(1, Hq, N, device="cuda", dtype=torch.float32)
    p = skc.params(q, k, v, u, o, lse, K, W)
    dq, dk, dv, du = (torch.empty_like(t) for t in (q, k, v, u))
    run = lambda: skc.fwdbwd(p, dout, dq, dk, dv, du)
    run()
    torch.cuda.synchronize()
    from torch.profiler import ProfilerActivity, profile as prof
    with prof(activities=[ProfilerActivity.CUDA]) as pr:
        run()
        torch.cuda.synchronize()
    print(f"profile cfg={cfg} N={N}")
    print(pr.key_averages().table(sort_by="cuda_time_total", row_limit=14, max_name_column_width=70))


def table(results):
    lines = ["| Hq/Hkv/D | N | engine | fwd ms | fwd+bwd ms | fwd TFLOP/s | fwd+bwd TFLOP/s |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        for e in ("skc", "sdpa", "flex"):
            if e in r:
                x = r[e]
                lines.append(f"| {r['Hq']}/{r['Hkv']}/{r['D']} | {r['N']} | {e} | "
                             f"{x['fwd_ms']:.3f} | {x['fwdbwd_ms']:.3f} | "
                             f"{x['fwd_tflops']:.1f} | {x['fwdbwd_tflops']:.1f} |")
    lines.append("")
    lines.append("| Hq/Hkv/D | N | SDPA/skc fwd | SDPA/skc fwd+bwd | Flex/skc fwd | "
                 "Flex/skc fwd+bwd | skc useful / SDPA dense TFLOP/s (fwd+bwd) |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in results:
        if "skc" not in r:
            continue
        s = r["skc"]
        sd, fl = r.get("sdpa"), r.get("flex")
        f = lambda a, b: f"{a / b:.2f}x" if a and b else "-"
        lines.append(f"| {r['Hq']}/{r['Hkv']}/{r['D']} | {r['N']} | "
                     f"{f(sd and sd['fwd_ms'], s['fwd_ms'])} | "
                     f"{f(sd and sd['fwdbwd_ms'], s['fwdbwd_ms'])} | "
                     f"{f(fl and fl['fwd_ms'], s['fwd_ms'])} | "
                     f"{f(fl and fl['fwdbwd_ms'], s['fwdbwd_ms'])} | "
                     + (f"{100 * s['fwdbwd_tflops'] / sd['fwdbwd_tflops']:.1f}%" if sd else "-")
                     + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--n", default="4096,16384,65536")
    ap.add_argument("--configs", default="16/16/64,32/8/128")
    ap.add_argument("--engines", default="skc,sdpa,flex")
    ap.add_argument("--k", type=int, default=1024)
    ap.add_argument("--w", type=int, default=512)
    ap.add_argument("--out", default="bench_gpu.json")
    ap.add_argument("--profile", action="store_true",
                    help="per-kernel CUDA times of one skc fwd+bwd per config and N")
    a = ap.parse_args()
    skc = Skc(a.lib)
    if a.profile:
        for cfg in a.configs.split(","):
            for N in (int(x) for x in a.n.split(",")):
                profile(skc, tuple(int(x) for x in cfg.split("/")), N, a.k, a.w)
        return 0
    engines = a.engines.split(",")
    print(torch.cuda.get_device_name(), torch.__version__, flush=True)
    results = []
    for cfg in a.configs.split(","):
        cfg = tuple(int(x) for x in cfg.split("/"))
        for N in (int(x) for x in a.n.split(",")):
            r = run_config(skc, cfg, N, a.k, a.w, engines, check=(N == 4096))
            results.append(r)
            print(json.dumps(r), flush=True)
            with open(a.out, "w") as f:
                json.dump(results, f, indent=1)
    print(table(results))


if __name__ == "__main__":
    sys.exit(main())
