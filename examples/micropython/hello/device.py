# Hello world, device side (MicroPython with the mpickle module).
#   micropython device.py send DIR      writes DIR/to_server.pkl
#   micropython device.py receive DIR   reads DIR/to_device.pkl (the server's reply)
import sys
import mpickle

mode, folder = sys.argv[1], sys.argv[2]
if mode == 'send':
    with open(folder + '/to_server.pkl', 'wb') as f:
        mpickle.dump({'greeting': 'hello from MicroPython', 'seq': 1}, f)
    print('device sent', mpickle.dumps({'greeting': 'hello from MicroPython', 'seq': 1}))
else:
    with open(folder + '/to_device.pkl', 'rb') as f:
        reply = mpickle.load(f)
    print('device got', reply)
