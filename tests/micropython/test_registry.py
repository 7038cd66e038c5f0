# mPickle's layer: register_pickle (module/name mapping both ways, reduce_func,
# reconstruct_func, setstate_func), inject_dummy_module_func and
# revert_dummy_module_func. (MicroPython only: expected output in the .exp.)
import mpickle


class Sensor:
    def __init__(self, name, value):
        self.name = name
        self.value = value


# the device's __main__.Sensor is sensors.Sensor on the server
mpickle.register_pickle(obj_type=Sensor, obj_full_name='__main__.Sensor', obj_module='__main__',
                        map_obj_module='sensors', map_obj_full_name='sensors.Sensor')
for p in (0, 2, 4):
    b = mpickle.dumps(Sensor('t', 1), p)
    print(p, b)
    s = mpickle.loads(b)
    print(type(s) is Sensor, s.name, s.value)
print(mpickle.dumps(Sensor, 4))
print(mpickle.loads(mpickle.dumps(Sensor, 2)) is Sensor)
# a pickle written by the server (CPython: sensors.Sensor('x', 2.5), protocol 4)
server = (b'\x80\x04\x95:\x00\x00\x00\x00\x00\x00\x00\x8c\x07sensors\x94\x8c\x06Sensor\x94\x93\x94)'
          b'\x81\x94}\x94(\x8c\x04name\x94\x8c\x01x\x94\x8c\x05value\x94G@\x04\x00\x00\x00\x00\x00\x00ub.')
s = mpickle.loads(server)
print(type(s) is Sensor, s.name, s.value)


# reduce_func and reconstruct_func: the reconstruct function lives in the dummy
# module internal_reconstruct, and is named server.make_reading on the server
class Reading:
    def __init__(self, sid, v):
        self.sid = sid
        self.v = v


def reduce_reading(o):
    return (reconstruct_reading, (o.sid, o.v))


def reconstruct_reading(sid, v):
    return Reading(sid, v * 10)


mpickle.register_pickle(obj_type=Reading, obj_full_name='__main__.Reading', obj_module='__main__',
                        reduce_func=reduce_reading, reconstruct_func=reconstruct_reading,
                        map_reconstructor_func='server.make_reading')
b = mpickle.dumps(Reading('a', 2), 2)
print(b)
r = mpickle.loads(b)
print(type(r) is Reading, r.sid, r.v)
print(mpickle.loads(b'\x80\x02cinternal_reconstruct\nreconstruct_reading\nX\x01\x00\x00\x00bK\x03\x86R.').v)


# setstate_func, which may return a new object
class Box:
    def __init__(self):
        self.content = None


def setstate_box(box, state):
    if state == 'replace':
        return ['a new object']
    box.content = state


mpickle.register_pickle(obj_type=Box, setstate_func=setstate_box)
print(mpickle.loads(b'\x80\x02c__main__\nBox\n)\x81X\x03\x00\x00\x00abcb.').content)
print(mpickle.loads(b'\x80\x02c__main__\nBox\n)\x81X\x07\x00\x00\x00replaceb.'))

# dummy modules
f = mpickle.inject_dummy_module_func('numpy.core.multiarray', '_reconstruct')
print(f(), f.__name__)
print(mpickle.dumps(f, 4))
print(mpickle.loads(mpickle.dumps(f, 2)) is f)


def mine(*args):
    return ('mine', args)


g = mpickle.inject_dummy_module_func('numpy.core.multiarray', 'other', mine)
print(g is mine, mpickle.loads(b'\x80\x02cnumpy.core.multiarray\nother\nK\x01\x85R.'))
mpickle.revert_dummy_module_func('numpy.core.multiarray', '_reconstruct')
print(mpickle.loads(b'\x80\x02cnumpy.core.multiarray\nother\n)R.'))
mpickle.revert_dummy_module_func('numpy.core.multiarray', 'other')
try:
    mpickle.loads(b'\x80\x02cnumpy.core.multiarray\nother\n.')
except mpickle.UnpicklingError as e:
    print('UnpicklingError', e)
# a reverted numpy name is numpy's again: the ulab glue's reconstructor, or without
# ulab an error saying so (never the dummy function)
try:
    print('reverted:', mpickle.loads(b'\x80\x02cnumpy.core.multiarray\n_reconstruct\n.') is not f)
except mpickle.UnpicklingError as e:
    print('reverted:', 'ulab' in str(e))
mpickle.revert_dummy_module_func('no.such.module', 'f')   # nothing to do
try:
    mpickle.register_pickle(obj_full_name=3)
except TypeError as e:
    print('TypeError', e)
