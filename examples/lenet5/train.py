#!/usr/bin/python3
"""Trains a small LeNet-5 on procedurally drawn digits with plain numpy and pickles it.

    /usr/bin/python3 train.py [--out DIR] [--protocol 2..5] [--seed N] [--quick]

Writes into DIR (default: build/lenet5/out, where run.sh looks):
  weights.pkl    {layer name: float32 array}, the model (layout below)
  inputs.pkl     float32 array (N, 784): N held-out images, row-major 28x28, 0..1
  reference.pkl  {'logits': float32 (N, 10), 'predictions': int64 (N,),
                  'labels': int64 (N,)}: what numpy computes for inputs.pkl
  train.json     accuracy, sizes and timings of this run

The model is channels-last (NHWC, as Keras lays it out) and every array is at
most 2-d, so that ulab builds with ULAB_MAX_DIMS 2 can load it:

  conv1.w (25, 6)     rows (ky, kx, c_in), columns c_out   [HWIO kernel, flattened]
  conv1.b (6,)
  conv2.w (150, 16)   rows (ky, kx, c_in) = ky*30 + kx*6 + c_in
  conv2.b (16,)
  fc1.w   (256, 120)  rows: the pooled 4x4x16 map flattened as (y, x, c)
  fc1.b   (120,)
  fc2.w   (120, 84), fc2.b (84,)
  fc3.w   (84, 10),  fc3.b (10,)

  28x28x1 -conv 5x5-> 24x24x6 -ReLU -maxpool 2-> 12x12x6 -conv 5x5-> 8x8x16
  -ReLU -maxpool 2-> 4x4x16 = 256 -fc-> 120 -ReLU -fc-> 84 -ReLU -fc-> 10 logits
"""
import argparse
import json
import os
import pickle
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SIDE = 28
K = 5

# ------------------------------------------------------------------ digit shapes
# Each digit is a list of strokes in a unit box (x right, y down). A stroke is a
# polyline; arcs are sampled into one.


def arc(cx, cy, rx, ry, t0, t1, n=14):
    t = np.radians(np.linspace(t0, t1, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


DIGITS = [
    [arc(.5, .5, .28, .4, 0, 360, 24)],
    [[(.36, .22), (.52, .08), (.52, .92)]],
    [arc(.5, .32, .24, .22, 190, 370) + [(.26, .92), (.8, .92)]],
    [arc(.48, .3, .22, .2, 200, 450), arc(.48, .7, .25, .22, 270, 520)],
    [[(.66, .92), (.66, .08), (.2, .66), (.82, .66)]],
    [[(.76, .1), (.32, .1), (.28, .46)] + arc(.5, .66, .26, .24, 225, 500)],
    [[(.72, .1), (.4, .34), (.26, .66)], arc(.5, .68, .24, .22, 0, 360, 20)],
    [[(.2, .1), (.8, .1), (.42, .92)]],
    [arc(.5, .29, .19, .19, 0, 360, 18), arc(.5, .7, .24, .22, 0, 360, 20)],
    [arc(.5, .32, .22, .21, 0, 360, 20), [(.72, .34), (.62, .92)]],
]


def segments(strokes):
    """(S, 4) array of segment end points x0, y0, x1, y1."""
    segs = []
    for s in strokes:
        p = np.asarray(s, dtype=np.float64)
        segs.append(np.hstack([p[:-1], p[1:]]))
    return np.vstack(segs)


SEGS = [segments(d) for d in DIGITS]
_YY, _XX = np.mgrid[0:SIDE, 0:SIDE]
PIX = np.stack([_XX.ravel() + .5, _YY.ravel() + .5], axis=1)   # pixel centres (784, 2)


def render(digit, n, rng):
    """n random drawings of one digit: (n, 784) float32 in 0..1."""
    segs = SEGS[digit]
    ang = np.radians(rng.uniform(-12, 12, n))
    scale = rng.uniform(16, 21, n)
    shear = rng.uniform(-.2, .2, n)
    aspect = rng.uniform(.8, 1.15, n)
    shift = rng.uniform(-2, 2, (n, 2)) + SIDE / 2
    thick = rng.uniform(.9, 2.0, n)
    # affine map of the unit box (centred) into pixels, one per image
    c, s = np.cos(ang), np.sin(ang)
    a = np.empty((n, 2, 2))
    a[:, 0, 0] = scale * aspect * c
    a[:, 0, 1] = scale * (shear * c - s)
    a[:, 1, 0] = scale * aspect * s
    a[:, 1, 1] = scale * (shear * s + c)
    p0 = segs[:, :2] - .5 + rng.normal(0, .02, (n,) + segs[:, :2].shape)
    p1 = segs[:, 2:] - .5 + rng.normal(0, .02, (n,) + segs[:, 2:].shape)
    p0 = np.einsum('nij,nsj->nsi', a, p0) + shift[:, None, :]
    p1 = np.einsum('nij,nsj->nsi', a, p1) + shift[:, None, :]
    # distance of every pixel centre to every segment: (n, 784, S)
    d = p1 - p0
    dd = np.maximum((d * d).sum(-1), 1e-9)
    rel = PIX[None, :, None, :] - p0[:, None, :, :]
    t = np.clip((rel * d[:, None]).sum(-1) / dd[:, None], 0, 1)
    near = rel - t[..., None] * d[:, None]
    dist = np.sqrt((near * near).sum(-1)).min(-1)
    img = np.clip(thick[:, None] + .5 - dist, 0, 1)
    img += rng.normal(0, .08, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def make_set(n, rng):
    labels = rng.integers(0, 10, n)
    x = np.empty((n, SIDE * SIDE), np.float32)
    for dgt in range(10):
        idx = np.nonzero(labels == dgt)[0]
        for lo in range(0, len(idx), 100):       # bounded memory per call
            part = idx[lo:lo + 100]
            x[part] = render(dgt, len(part), rng)
    return x, labels.astype(np.int64)

# ------------------------------------------------------------------ the network


def im2col(x):
    """x (B, H, W, C) -> (B*Ho*Wo, K*K*C), columns ordered (ky, kx, c)."""
    b, h, w, c = x.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(1, 2))  # B,Ho,Wo,C,K,K
    win = win.transpose(0, 1, 2, 4, 5, 3)
    return np.ascontiguousarray(win).reshape(b * (h - K + 1) * (w - K + 1), K * K * c)


def col2im(dcols, shape):
    """Gradient of im2col: (B*Ho*Wo, K*K*C) -> (B, H, W, C)."""
    b, h, w, c = shape
    ho, wo = h - K + 1, w - K + 1
    d = dcols.reshape(b, ho, wo, K, K, c)
    dx = np.zeros(shape, dcols.dtype)
    for ky in range(K):
        for kx in range(K):
            dx[:, ky:ky + ho, kx:kx + wo, :] += d[:, :, :, ky, kx, :]
    return dx


def pool(x):
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def pool_back(x, y, dy):
    """Routes dy to the first maximum of each 2x2 window."""
    b, h, w, c = x.shape
    xr = x.reshape(b, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 5, 2, 4).reshape(-1, 4)
    first = xr.argmax(axis=1)
    dxr = np.zeros_like(xr)
    dxr[np.arange(len(first)), first] = dy.reshape(-1)
    dxr = dxr.reshape(b, h // 2, w // 2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3)
    return dxr.reshape(b, h, w, c)


def init_params(rng):
    def he(fan_in, shape):
        return (rng.normal(0, np.sqrt(2.0 / fan_in), shape)).astype(np.float32)
    return {
        'conv1.w': he(25, (25, 6)), 'conv1.b': np.zeros(6, np.float32),
        'conv2.w': he(150, (150, 16)), 'conv2.b': np.zeros(16, np.float32),
        'fc1.w': he(256, (256, 120)), 'fc1.b': np.zeros(120, np.float32),
        'fc2.w': he(120, (120, 84)), 'fc2.b': np.zeros(84, np.float32),
        'fc3.w': he(84, (84, 10)), 'fc3.b': np.zeros(10, np.float32),
    }


def forward(p, x, keep=False):
    """x (B, 784) -> logits (B, 10); with keep, also the activations for backprop."""
    b = x.shape[0]
    a0 = x.reshape(b, SIDE, SIDE, 1)
    c1 = im2col(a0)
    z1 = (c1 @ p['conv1.w'] + p['conv1.b']).reshape(b, 24, 24, 6)
    r1 = np.maximum(z1, 0)
    m1 = pool(r1)
    c2 = im2col(m1)
    z2 = (c2 @ p['conv2.w'] + p['conv2.b']).reshape(b, 8, 8, 16)
    r2 = np.maximum(z2, 0)
    m2 = pool(r2)
    f0 = m2.reshape(b, 256)
    h1 = np.maximum(f0 @ p['fc1.w'] + p['fc1.b'], 0)
    h2 = np.maximum(h1 @ p['fc2.w'] + p['fc2.b'], 0)
    out = h2 @ p['fc3.w'] + p['fc3.b']
    if keep:
        return out, dict(c1=c1, r1=r1, m1=m1, c2=c2, r2=r2, m2=m2, f0=f0, h1=h1, h2=h2)
    return out


def backward(p, act, dout):
    """Gradients of every parameter for d(loss)/d(logits) = dout."""
    g = {}
    b = dout.shape[0]
    g['fc3.w'] = act['h2'].T @ dout
    g['fc3.b'] = dout.sum(0)
    dh2 = (dout @ p['fc3.w'].T) * (act['h2'] > 0)
    g['fc2.w'] = act['h1'].T @ dh2
    g['fc2.b'] = dh2.sum(0)
    dh1 = (dh2 @ p['fc2.w'].T) * (act['h1'] > 0)
    g['fc1.w'] = act['f0'].T @ dh1
    g['fc1.b'] = dh1.sum(0)
    dm2 = (dh1 @ p['fc1.w'].T).reshape(b, 4, 4, 16)
    dz2 = pool_back(act['r2'], act['m2'], dm2) * (act['r2'] > 0)
    dz2 = dz2.reshape(-1, 16)
    g['conv2.w'] = act['c2'].T @ dz2
    g['conv2.b'] = dz2.sum(0)
    dm1 = col2im(dz2 @ p['conv2.w'].T, (b, 12, 12, 6))
    dz1 = (pool_back(act['r1'], act['m1'], dm1) * (act['r1'] > 0)).reshape(-1, 6)
    g['conv1.w'] = act['c1'].T @ dz1
    g['conv1.b'] = dz1.sum(0)
    return g


def softmax_grad(logits, labels):
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    prob = e / e.sum(1, keepdims=True)
    loss = -np.log(prob[np.arange(len(labels)), labels] + 1e-12).mean()
    prob[np.arange(len(labels)), labels] -= 1
    return loss, prob / len(labels)


def train(p, x, y, rng, epochs, batch=32, lr=0.03, momentum=0.9):
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    for ep in range(epochs):
        order = rng.permutation(len(x))
        losses = []
        for lo in range(0, len(x), batch):
            idx = order[lo:lo + batch]
            logits, act = forward(p, x[idx], keep=True)
            loss, dout = softmax_grad(logits, y[idx])
            losses.append(loss)
            g = backward(p, act, dout.astype(np.float32))
            for k in p:
                vel[k] = momentum * vel[k] - lr * g[k].astype(np.float32)
                p[k] += vel[k]
        print('epoch %d: loss %.4f' % (ep + 1, float(np.mean(losses))), flush=True)


def accuracy(p, x, y):
    pred = np.concatenate([forward(p, x[i:i + 500]).argmax(1) for i in range(0, len(x), 500)])
    return float((pred == y).mean())


def reference_logits(p, x):
    """The logits in float64 from the float32 weights and inputs: the most exact
    answer, which any float32 implementation should be close to."""
    p64 = {k: v.astype(np.float64) for k, v in p.items()}
    return forward(p64, x.astype(np.float64))

# ------------------------------------------------------------------ main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=os.path.join(HERE, '..', '..', 'build', 'lenet5', 'out'))
    ap.add_argument('--protocol', type=int, default=4, choices=[2, 3, 4, 5])
    ap.add_argument('--seed', type=int, default=5)
    ap.add_argument('--train', type=int, default=4000, help='training images')
    ap.add_argument('--test', type=int, default=1000, help='held-out images')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--ninputs', type=int, default=10, help='images in inputs.pkl')
    ap.add_argument('--quick', action='store_true', help='1500 images, 2 epochs')
    args = ap.parse_args()
    if args.quick:
        args.train, args.epochs = 1500, 2
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    t0 = time.time()
    xtr, ytr = make_set(args.train, rng)
    xte, yte = make_set(args.test, rng)
    t_data = time.time() - t0
    print('data: %d train, %d held-out images in %.1f s' % (len(xtr), len(xte), t_data))

    p = init_params(rng)
    t0 = time.time()
    train(p, xtr, ytr, rng, args.epochs)
    t_train = time.time() - t0
    acc_tr, acc_te = accuracy(p, xtr, ytr), accuracy(p, xte, yte)
    print('trained in %.1f s: accuracy %.1f%% train, %.1f%% held-out (chance 10%%)'
          % (t_train, 100 * acc_tr, 100 * acc_te))

    xin, yin = xte[:args.ninputs], yte[:args.ninputs]
    logits = reference_logits(p, xin)
    ref = {'logits': logits.astype(np.float32), 'predictions': logits.argmax(1).astype(np.int64),
           'labels': yin}
    files = {'weights.pkl': p, 'inputs.pkl': xin, 'reference.pkl': ref}
    sizes = {}
    for name, obj in files.items():
        path = os.path.join(args.out, name)
        with open(path, 'wb') as f:
            pickle.dump(obj, f, protocol=args.protocol)
        sizes[name] = os.path.getsize(path)
        print('wrote %s (%d bytes, protocol %d)' % (path, sizes[name], args.protocol))
    print('reference predictions:', ' '.join(map(str, ref['predictions'])),
          ' labels:', ' '.join(map(str, yin)))
    info = {'seed': args.seed, 'protocol': args.protocol, 'train_images': len(xtr),
            'heldout_images': len(xte), 'epochs': args.epochs, 'train_accuracy': acc_tr,
            'heldout_accuracy': acc_te, 'data_seconds': round(t_data, 2),
            'train_seconds': round(t_train, 2), 'sizes': sizes,
            'parameters': int(sum(v.size for v in p.values()))}
    with open(os.path.join(args.out, 'train.json'), 'w') as f:
        json.dump(info, f, indent=1)
    return 0 if acc_te > 0.5 else 1


if __name__ == '__main__':
    sys.exit(main())
