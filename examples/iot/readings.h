/* The readings both C programs make and check: the same scheme as client_mp.py,
 * so that every client's values can be recomputed from the device name and seq. */
#ifndef IOT_READINGS_H
#define IOT_READINGS_H

#include <stdint.h>

#define MAX_DEVICE 32           /* characters in a device name (the protocol's bound) */

struct reading {
    char device[MAX_DEVICE + 1];
    int64_t seq, ts;            /* ts: milliseconds */
    double temperature, humidity, battery;
};

/* djb2 of the device name: the default seed of the value generator. */
static inline uint32_t reading_seed(const char *device)
{
    uint32_t h = 5381;
    for (; *device; device++) h = (h * 33u + (uint8_t)*device) & 0x7fffffffu;
    return h;
}

/* The next reading's three values from the LCG state (advanced in place):
 * temperature 15..35 deg C, humidity 30..70 %, battery 3.0..4.2 V. */
static inline void reading_values(struct reading *r, uint32_t *state)
{
    unsigned v[3], i;
    uint64_t x = *state;
    for (i = 0; i < 3; i++) {
        x = (x * 1103515245u + 12345u) & 0x7fffffffu;
        v[i] = (unsigned)((x >> 8) % 10000u);
    }
    *state = (uint32_t)x;
    r->temperature = 15.0 + v[0] / 500.0;
    r->humidity = 30.0 + v[1] / 250.0;
    r->battery = 3.0 + v[2] / 8333.0;
}

#endif
