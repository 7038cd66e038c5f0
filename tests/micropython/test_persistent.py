# Persistent ids: Pickler.persistent_id names objects that are written as ids
# (PERSID in protocol 0, BINPERSID otherwise) and Unpickler.persistent_load
# turns ids back into objects; the bytes equal CPython's. (Runs under CPython
# too, which gives the expected output.)
import io
import sys

try:
    import mpickle as pickle
except ImportError:
    import pickle

MICRO = sys.implementation.name == 'micropython'


class Table:
    def __init__(self, name):
        self.name = name


TABLES = {'users': Table('users'), 'items': Table('items')}


def pid_of(obj):
    if isinstance(obj, Table):
        return obj.name
    return None


def tuple_pid(obj):
    if isinstance(obj, Table):
        return ('table', obj.name, 1)
    return None


def load_pid(pid):
    if isinstance(pid, tuple):
        return TABLES[pid[1]]
    return TABLES[pid]


# (a list, not a dict: MicroPython's dicts iterate in another order)
record = [TABLES['users'], [1, 2, TABLES['items']], TABLES['users']]

for proto in range(6):
    for hook in (pid_of, tuple_pid):
        if proto == 0 and hook is tuple_pid:
            continue
        f = io.BytesIO()
        p = pickle.Pickler(f, proto)
        p.persistent_id = hook
        p.dump(record)
        data = f.getvalue()
        print(proto, hook.__name__, data)
        u = pickle.Unpickler(io.BytesIO(data))
        u.persistent_load = load_pid
        back = u.load()
        print(back[0] is TABLES['users'], back[1][2] is TABLES['items'], back[1][:2])

# protocol 0 writes str(id), which must be ASCII
for hook in (tuple_pid, lambda obj: 'caf\xe9' if isinstance(obj, Table) else None):
    f = io.BytesIO()
    p = pickle.Pickler(f, 0)
    p.persistent_id = hook
    try:
        p.dump(record)
        print(f.getvalue())
    except pickle.PicklingError as e:
        print('PicklingError', e)

# no persistent_load: UnpicklingError
try:
    pickle.loads(b'\x80\x02X\x01\x00\x00\x00aQ.')
except pickle.UnpicklingError as e:
    print('UnpicklingError', e)

# the hook's own exception goes through
def bad_load(pid):
    raise KeyError(pid)

u = pickle.Unpickler(io.BytesIO(b'\x80\x02X\x01\x00\x00\x00aQ.'))
u.persistent_load = bad_load
try:
    u.load()
except KeyError as e:
    print('KeyError', e.args)


# a subclass: CPython sees its methods; MicroPython's native base class does
# not, so the subclass hands them to __init__ (works in both)
class DBPickler(pickle.Pickler):
    def __init__(self, f, proto):
        if MICRO:
            super().__init__(f, proto, persistent_id=self.persistent_id)
        else:
            super().__init__(f, proto)

    def persistent_id(self, obj):
        return pid_of(obj)


class DBUnpickler(pickle.Unpickler):
    def __init__(self, f):
        if MICRO:
            super().__init__(f, persistent_load=self.persistent_load)
        else:
            super().__init__(f)

    def persistent_load(self, pid):
        return load_pid(pid)


f = io.BytesIO()
DBPickler(f, 4).dump(record)
print(f.getvalue())
f.seek(0)
print(DBUnpickler(f).load()[2] is TABLES['users'])
