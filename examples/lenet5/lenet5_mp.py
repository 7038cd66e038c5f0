# LeNet-5 inference in MicroPython with ulab, from numpy pickles loaded by mpickle.
#
#   micropython lenet5_mp.py [WEIGHTS.pkl [INPUTS.pkl [LOGITS_OUT.pkl [REFERENCE.pkl]]]]
#
# Defaults: weights.pkl, inputs.pkl, logits_mp.pkl (and reference.pkl when it
# exists) in build/lenet5/out, where run.sh and train.py put them. The same file
# runs under CPython with numpy and pickle.
#
# ulab builds default to ULAB_MAX_DIMS 2, so every array here is at most 2-d:
# a feature map of height H, width W and C channels is an (H, W*C) array
# (channels-last, column x*C + c), the layout train.py's weights expect.
# ulab has no conv2d: a convolution gathers the 25 shifted windows of the map
# into one (Ho*Wo, 25*C) matrix by slicing (im2col) and multiplies it by the
# kernel with np.dot.
import sys

try:
    from ulab import numpy as np
except ImportError:
    import numpy as np
try:
    import mpickle as pickle
except ImportError:
    import pickle
try:
    from time import ticks_us, ticks_diff
except ImportError:
    import time

    def ticks_us():
        return int(time.perf_counter() * 1e6)

    def ticks_diff(a, b):
        return a - b

SIDE = 28
K = 5
LAYERS = (('conv1.w', (25, 6)), ('conv1.b', (6,)), ('conv2.w', (150, 16)), ('conv2.b', (16,)),
          ('fc1.w', (256, 120)), ('fc1.b', (120,)), ('fc2.w', (120, 84)), ('fc2.b', (84,)),
          ('fc3.w', (84, 10)), ('fc3.b', (10,)))


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def check_weights(p):
    for name, shape in LAYERS:
        if name not in p:
            raise ValueError('weights: no ' + name)
        if tuple(p[name].shape) != shape:
            raise ValueError('weights: %s has shape %s, %s expected' % (name, p[name].shape, shape))


def conv5_relu(x, cin, w, b):
    """x (H, W*cin) -> ReLU(conv) as (Ho*Wo, cout), rows y*Wo + x."""
    ho = x.shape[0] - K + 1
    wo = x.shape[1] // cin - K + 1
    cols = np.zeros((ho * wo, K * K * cin))
    for ky in range(K):
        for kx in range(K):
            win = x[ky:ky + ho, kx * cin:(kx + wo) * cin]   # (Ho, Wo*cin), all channels
            k = (ky * K + kx) * cin
            cols[:, k:k + cin] = win.flatten().reshape((ho * wo, cin))
    return np.maximum(np.dot(cols, w) + b, 0.0)


def maxpool2(y, h, w, c):
    """y (H*W, C), rows y*W + x -> 2x2 max pool as (H/2, (W/2)*C)."""
    a = y.reshape((h * w // 2, 2 * c))          # row y*(W/2) + x//2; columns (x%2, c)
    a = np.maximum(a[:, :c], a[:, c:])
    a = a.reshape((h // 2, w * c))              # row y//2; columns (y%2, x//2, c)
    half = (w // 2) * c
    return np.maximum(a[:, :half], a[:, half:])


def dense(v, w, b, relu=True):
    out = np.dot(v, w) + b
    return np.maximum(out, 0.0) if relu else out


def lenet5(p, img):
    x = img.reshape((SIDE, SIDE))
    y = conv5_relu(x, 1, p['conv1.w'], p['conv1.b'])        # (576, 6)
    x = maxpool2(y, 24, 24, 6)                              # (12, 72)
    y = conv5_relu(x, 6, p['conv2.w'], p['conv2.b'])        # (64, 16)
    v = maxpool2(y, 8, 8, 16).flatten()                     # (256,) as (y, x, c)
    v = dense(v, p['fc1.w'], p['fc1.b'])
    v = dense(v, p['fc2.w'], p['fc2.b'])
    return dense(v, p['fc3.w'], p['fc3.b'], relu=False)


def main(argv):
    here = __file__.rsplit('/', 1)[0] if '/' in __file__ else '.'
    out = here + '/../../build/lenet5/out/'
    wpath = argv[1] if len(argv) > 1 else out + 'weights.pkl'
    ipath = argv[2] if len(argv) > 2 else out + 'inputs.pkl'
    opath = argv[3] if len(argv) > 3 else out + 'logits_mp.pkl'
    rpath = argv[4] if len(argv) > 4 else out + 'reference.pkl'

    t0 = ticks_us()
    p = load(wpath)
    check_weights(p)
    images = load(ipath)
    n = images.shape[0]
    if len(images.shape) != 2 or images.shape[1] != SIDE * SIDE:
        raise ValueError('inputs: shape %s, (N, 784) expected' % (images.shape,))
    t1 = ticks_us()
    logits = np.zeros((n, 10))
    for i in range(n):
        logits[i, :] = lenet5(p, images[i])
    t2 = ticks_us()
    print('loaded in %.1f ms; inference %.2f ms per image' % (ticks_diff(t1, t0) / 1000,
                                                             ticks_diff(t2, t1) / 1000 / n))
    preds = [int(np.argmax(logits[i])) for i in range(n)]
    for i in range(n):
        print('image %2d: predicted %d  logits %s' % (i, preds[i], ' '.join('%.4f' % v for v in logits[i])))

    with open(opath, 'wb') as f:
        pickle.dump(logits, f, 4)
    print('wrote', opath)
    compare(rpath, logits, preds)


def compare(rpath, logits, preds):
    """Against train.py's numpy logits, when that file is there."""
    try:
        ref = load(rpath)['logits']
    except OSError:
        return
    diff = np.max(abs(logits - ref))
    same = sum(1 for i in range(len(preds)) if int(np.argmax(ref[i])) == preds[i])
    print('vs numpy: max abs difference %.3g, predictions %d of %d match' % (diff, same, len(preds)))


main(sys.argv)
