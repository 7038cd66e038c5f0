# Protocol 5: BYTEARRAY8, out-of-band buffers (NEXT_BUFFER, READONLY_BUFFER)
# given by buffers=. (Runs under CPython too.)
try:
    import mpickle as pickle
except ImportError:
    import pickle

print(pickle.dumps(bytearray(b'abc'), 5))
print(pickle.loads(pickle.dumps(bytearray(b'abc'), 5)))
print(pickle.loads(b'\x80\x05\x96\x00\x00\x00\x00\x00\x00\x00\x00.'))
data = b'\x80\x05\x97\x97\x98\x86.'
print(pickle.loads(data, buffers=[b'ab', b'cd']))
print(pickle.loads(data, buffers=iter([b'ab', b'cd', b'ef'])))
for kw in ({}, {'buffers': [b'ab']}, {'buffers': None}):
    try:
        pickle.loads(data, **kw)
    except pickle.UnpicklingError as e:
        print('UnpicklingError', e)
