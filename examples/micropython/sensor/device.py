# A custom class with module mapping, device side: the device's class is
# __main__.Sensor, the server's is sensors.Sensor (sensors.py next to server.py).
#   micropython device.py send DIR | receive DIR
import sys
import mpickle


class Sensor:
    def __init__(self, name, value, unit='C'):
        self.name = name
        self.value = value
        self.unit = unit

    def __repr__(self):
        return 'Sensor(%r, %r, %r)' % (self.name, self.value, self.unit)


# written as sensors.Sensor, and sensors.Sensor read back as this class
mpickle.register_pickle(obj_type=Sensor, obj_full_name='__main__.Sensor', obj_module='__main__',
                        map_obj_module='sensors', map_obj_full_name='sensors.Sensor')

mode, folder = sys.argv[1], sys.argv[2]
if mode == 'send':
    readings = [Sensor('kitchen', 21.5), Sensor('fridge', 4.0), Sensor('oven', 180, 'C')]
    with open(folder + '/to_server.pkl', 'wb') as f:
        mpickle.dump(readings, f)
    print('device sent', readings)
else:
    with open(folder + '/to_device.pkl', 'rb') as f:
        config = mpickle.load(f)
    print('device got', config, type(config['calibration']) is Sensor)
