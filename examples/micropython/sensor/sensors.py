# The server's module for the sensor example: on the device the same class is
# __main__.Sensor; register_pickle maps one name to the other.
class Sensor:
    def __init__(self, name, value, unit='C'):
        self.name = name
        self.value = value
        self.unit = unit

    def __repr__(self):
        return 'Sensor(%r, %r, %r)' % (self.name, self.value, self.unit)
