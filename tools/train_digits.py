#!/usr/bin/env python3
"""Trains konter's digit net (src/ocr/digits.rs) from digit cells cut by konter itself.

Data: run konter's reader on labelled photos with KONTER_OCR_CELLS=cells.jsonl set, e.g.
  KONTER_OCR_CELLS=cells.jsonl konter ocr vouchers PHOTOS --json > pred.jsonl
Each dumped line holds Tesseract's voted digits and the line's cells (16x24, ink 0..255). The
voted digits are matched to the nearest true serial or code of the set (truth.json as written by
gen_voucher_photos.py, or any file of that shape made from checked cards), and a line's cells
are labelled with the true digits when their count fits. With --align (an earlier net), a line
with up to four extra cells (a label's letters, a mark past the digits) is labelled too: the
digits are the window of cells where that net agrees best with the true digits, and the other
cells are "not a digit".

usage: train_digits.py OUT.bin --set CELLS.jsonl TRUTH.json [--set ...] [--val CELLS TRUTH]
       [--align EARLIER.bin] [--hidden 128] [--epochs 40] [--seed 1]
Needs numpy. Writes the weights in the KDG1 format that digits.rs reads.
"""
import argparse, json, os, re, struct, sys
import numpy as np

W, H = 16, 24
OTHER = 10


def norm(v):
    return re.sub(r"\D", "", v) if isinstance(v, str) else ""


def sim(a, b):
    import difflib
    return difflib.SequenceMatcher(None, a, b).ratio()


def truth_index(truth_path):
    """Every true serial and code of the set, indexed by their 5-digit pieces."""
    truth = json.load(open(truth_path))
    strings = sorted({v for t in truth.values() for c in t["cards"] for v in (c["serial"], c["code"]) if v})
    index = {}
    for i, v in enumerate(strings):
        for k in range(len(v) - 4):
            index.setdefault(v[k:k + 5], set()).add(i)
    return strings, index


def true_digits(voted, strings, index):
    """The true string a reading stands for: the one sharing most 5-digit pieces with it, if it
    is near enough."""
    votes = {}
    for k in range(len(voted) - 4):
        for i in index.get(voted[k:k + 5], ()):
            votes[i] = votes.get(i, 0) + 1
    if not votes:
        return None
    best = max(votes, key=votes.get)
    return strings[best] if sim(voted, strings[best]) >= 0.75 else None


def load(cells_path, truth_path, align=None):
    strings, index = truth_index(truth_path)
    xs, ys = [], []
    used = skipped = 0
    for line in open(cells_path):
        o = json.loads(line)
        t = true_digits(o["voted"], strings, index)
        cells = [np.frombuffer(bytes.fromhex(c), dtype=np.uint8).astype(np.float32) / 255.0 for c in o["cells"]]
        if t is None or not cells:
            skipped += 1
            continue
        labels = None
        extra = len(cells) - len(t)
        if extra == 0:
            labels = [int(d) for d in t]
        elif 0 < extra <= 4 and align is not None:
            # cells besides the digits (a label's letters and colon on the left, a mark or the
            # ground past the card's edge on the right): the digits are the window of cells
            # where a trained net agrees with the true digits best, if it agrees well
            p = predict(align, np.array(cells)).argmax(axis=1)
            scores = [sum(int(p[o + k]) == int(d) for k, d in enumerate(t)) for o in range(extra + 1)]
            o = int(np.argmax(scores))
            if scores[o] >= len(t) - 1 and scores.count(scores[o]) == 1:
                labels = [OTHER] * o + [int(d) for d in t] + [OTHER] * (extra - o)
        if labels is None:
            skipped += 1
            continue
        used += 1
        xs.extend(cells)
        ys.extend(labels)
    print(f"{cells_path}: {used} lines used, {skipped} skipped, {len(xs)} cells", file=sys.stderr)
    return np.array(xs), np.array(ys)


def read_weights(path):
    b = open(path, "rb").read()
    if b[:4] != b"KDG1":
        sys.exit(f"{path}: not a KDG1 weights file")
    i, h, o = struct.unpack("<3I", b[4:16])
    f = np.frombuffer(b[16:], dtype="<f4")
    w1 = f[:h * i].reshape(h, i); f = f[h * i:]
    b1 = f[:h]; f = f[h:]
    w2 = f[:o * h].reshape(o, h)
    return [w1, b1, w2, f[o * h:]]


def shift(x, rng):
    """Random shifts of up to one pixel each way (the cut is never exactly the same)."""
    img = x.reshape(-1, H, W)
    out = np.zeros_like(img)
    for i in range(img.shape[0]):
        dx, dy = rng.integers(-1, 2), rng.integers(-1, 2)
        out[i] = np.roll(np.roll(img[i], dy, axis=0), dx, axis=1)
    return out.reshape(-1, H * W)


def train(x, y, hidden, epochs, seed):
    rng = np.random.default_rng(seed)
    n, d = x.shape
    w1 = rng.normal(0, np.sqrt(2.0 / d), (hidden, d)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = rng.normal(0, np.sqrt(2.0 / hidden), (11, hidden)).astype(np.float32)
    b2 = np.zeros(11, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1m, b2m, eps, step = 1e-3, 0.9, 0.999, 1e-8, 0
    bs = 128
    for ep in range(epochs):
        order = rng.permutation(n)
        xa = shift(x[order], rng)
        ya = y[order]
        loss = 0.0
        for s in range(0, n, bs):
            xb, yb = xa[s:s + bs], ya[s:s + bs]
            h = np.maximum(xb @ w1.T + b1, 0)
            z = h @ w2.T + b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            loss += -np.log(p[np.arange(len(yb)), yb] + 1e-9).sum()
            g = p
            g[np.arange(len(yb)), yb] -= 1
            g /= len(yb)
            gw2 = g.T @ h + 1e-4 * w2
            gb2 = g.sum(axis=0)
            gh = (g @ w2) * (h > 0)
            gw1 = gh.T @ xb + 1e-4 * w1
            gb1 = gh.sum(axis=0)
            step += 1
            for i, gr in enumerate([gw1, gb1, gw2, gb2]):
                m[i] = b1m * m[i] + (1 - b1m) * gr
                v[i] = b2m * v[i] + (1 - b2m) * gr * gr
                mh = m[i] / (1 - b1m ** step)
                vh = v[i] / (1 - b2m ** step)
                params[i] -= lr * mh / (np.sqrt(vh) + eps)
        if ep % 10 == 9 or ep == epochs - 1:
            print(f"epoch {ep + 1} loss {loss / n:.4f}", file=sys.stderr)
    return params


def predict(params, x):
    w1, b1, w2, b2 = params
    h = np.maximum(x @ w1.T + b1, 0)
    z = h @ w2.T + b2
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def report(params, x, y, name):
    p = predict(params, x)
    pred = p.argmax(axis=1)
    conf = p.max(axis=1)
    print(f"{name}: {len(y)} cells, accuracy {np.mean(pred == y):.4f}", file=sys.stderr)
    for t in (0.9, 0.99, 0.999):
        sel = conf >= t
        print(f"  p>={t}: {sel.mean():.4f} of cells, {np.sum(pred[sel] != y[sel])} wrong", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--set", nargs=2, action="append", required=True)
    ap.add_argument("--val", nargs=2, action="append", default=[])
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--align", help="weights of an earlier net, to place the digits among extra cells")
    a = ap.parse_args()
    align = read_weights(a.align) if a.align else None
    parts = [load(*s, align=align) for s in a.set]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    print("labels:", np.bincount(y, minlength=11).tolist(), file=sys.stderr)
    params = train(x, y, a.hidden, a.epochs, a.seed)
    report(params, x, y, "training")
    for s in a.val:
        vx, vy = load(*s, align=align)
        if len(vy):
            report(params, vx, vy, "validation " + s[0])
    w1, b1, w2, b2 = params
    with open(a.out, "wb") as f:
        f.write(b"KDG1" + struct.pack("<3I", W * H, a.hidden, 11))
        for p in (w1, b1, w2, b2):
            f.write(np.ascontiguousarray(p, dtype="<f4").tobytes())


if __name__ == "__main__":
    main()
