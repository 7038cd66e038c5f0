# Safe by default: a pickle may only name data-like builtins, registered names
# and classes defined in Python code; any other global, and any call of
# something else, raises UnpicklingError naming it, unless trusted=True.
# (MicroPython only: expected output in test_safety.py.exp.)
import mpickle
import os
import sys


class Good:
    def __init__(self, v=1):
        self.v = v

    def method(self):
        pass


class Callme:
    def __call__(self, *a):
        return 'called'


class Outer:
    class Inner:
        pass


def func():
    pass


def attempt(label, data, **kw):
    try:
        r = mpickle.loads(data, **kw)
        if isinstance(r, Good):
            r = 'Good(%r)' % sorted(r.__dict__.items())
        elif isinstance(r, type):
            r = 'class ' + r.__name__
        elif type(r) is type(func):
            r = 'a function'
        print(label, 'loaded', r)
    except Exception as e:
        print(label, type(e).__name__, e)


attempt('os.system', b"cos\nsystem\n(S'echo hi'\ntR.")
attempt('posix.system', b"cposix\nsystem\n(S'echo hi'\ntR.")
attempt('os.remove', b'\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06remove\x93\x8c\x01x\x85R.')
attempt('eval', b"c__builtin__\neval\n(S'1+1'\ntR.")
attempt('exec', b'\x80\x03cbuiltins\nexec\nX\x01\x00\x00\x001\x85R.')
attempt('__import__', b'\x80\x03cbuiltins\n__import__\nX\x02\x00\x00\x00os\x85R.')
attempt('open', b'\x80\x03cbuiltins\nopen\nX\x01\x00\x00\x00x\x85R.')
attempt('sys.exit', b'\x80\x03csys\nexit\n)R.')
attempt('builtin module', b'\x80\x03cjson\nloads\nX\x02\x00\x00\x00[]\x85R.')
attempt('not imported', b'\x80\x03cnot_a_module\nClass\n)R.')
attempt('python function', b'\x80\x03c__main__\nfunc\n)R.')
attempt('missing', b'\x80\x03c__main__\nnothing_here\n.')
attempt('getattr method', b'\x80\x02c__builtin__\ngetattr\nc__main__\nGood\nX\x06\x00\x00\x00method\x86R.')
attempt('getattr class', b'\x80\x02c__builtin__\ngetattr\nc__main__\nOuter\nX\x05\x00\x00\x00Inner\x86R.')
attempt('getattr dunder', b'\x80\x02c__builtin__\ngetattr\nc__main__\nGood\nX\x08\x00\x00\x00__init__\x86R.')
attempt('call instance', b'\x80\x02c__main__\nCallme\n)\x81)R.')
attempt('class call', b'\x80\x02c__main__\nGood\nK\x07\x85R.')
attempt('newobj', b'\x80\x02c__main__\nGood\n)\x81}X\x01\x00\x00\x00vK\x05sb.')
attempt('class ref', b'\x80\x02c__main__\nGood\n.')
attempt('data builtins', b'\x80\x02c__builtin__\nset\n]K\x01a\x85R.')
attempt('ordereddict', b'\x80\x02ccollections\nOrderedDict\n)R.')
attempt('copyreg', b"ccopy_reg\n_reconstructor\n(c__main__\nGood\nc__builtin__\nobject\nNtR(dS'v'\nI9\nsb.")
attempt('codecs', b'\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9X\x06\x00\x00\x00latin1\x86R.')
attempt('build on class', b"\x80\x02c__main__\nGood\nN}X\x06\x00\x00\x00methodK\x01s\x86b.")
attempt('build on object()', b"\x80\x02cbuiltins\nobject\n)RN}X\x01\x00\x00\x00xK\x01s\x86b.")
print('class untouched:', Good.method != 1)
# trusted=True: anything is resolved (modules imported) and called
attempt('trusted len', b'\x80\x03cbuiltins\nlen\nX\x03\x00\x00\x00abc\x85R.', trusted=True)
attempt('trusted json', b'\x80\x03cjson\ndumps\n]K\x01a\x85R.', trusted=True)
attempt('trusted method', b'\x80\x02c__builtin__\ngetattr\nc__main__\nGood\nX\x06\x00\x00\x00method\x86R.', trusted=True)
attempt('safe again', b'\x80\x03cbuiltins\nlen\nX\x03\x00\x00\x00abc\x85R.')
