# A custom class with module mapping, server side (CPython): the device's
# readings arrive as sensors.Sensor objects; the reply holds one too.
import pickle
import sys

import sensors

folder = sys.argv[1]
with open(folder + '/to_server.pkl', 'rb') as f:
    readings = pickle.load(f)
print('server got', readings, all(type(r) is sensors.Sensor for r in readings))
with open(folder + '/to_device.pkl', 'wb') as f:
    pickle.dump({'interval_s': 30, 'calibration': sensors.Sensor('reference', 0.5)}, f)
