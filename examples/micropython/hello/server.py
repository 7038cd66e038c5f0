# Hello world, server side (CPython's own pickle): reads the device's pickle and
# answers with one. Usage: python3 server.py DIR
import pickle
import sys

folder = sys.argv[1]
with open(folder + '/to_server.pkl', 'rb') as f:
    data = f.read()
msg = pickle.loads(data)
print('server got', msg)
print('same bytes as CPython writes:', data == pickle.dumps(msg))
with open(folder + '/to_device.pkl', 'wb') as f:
    pickle.dump({'reply': 'hello from CPython', 'seq': msg['seq'] + 1}, f)
