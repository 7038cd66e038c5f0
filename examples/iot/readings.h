/* The readings both C programs make and check: the same scheme as client_mp.py,
 * so that every client's values can be recomputed from the device name and seq. */
#ifndef IOT_READINGS_H
#define IOT_READINGS_H

#include <stdint.h>
#include <string.h>
#include "mpickle.h"

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

/* Writes one reading as the dict of six items the server expects. */
static inline void reading_write(mpk_writer_t *w, const struct reading *r)
{
    mpk_write_dict_begin(w, 6);
    mpk_write_str(w, "device", 6);      mpk_write_str(w, r->device, strlen(r->device));
    mpk_write_str(w, "seq", 3);         mpk_write_int(w, r->seq);
    mpk_write_str(w, "ts", 2);          mpk_write_int(w, r->ts);
    mpk_write_str(w, "temperature", 11); mpk_write_float(w, r->temperature);
    mpk_write_str(w, "humidity", 8);    mpk_write_float(w, r->humidity);
    mpk_write_str(w, "battery", 7);     mpk_write_float(w, r->battery);
    mpk_write_dict_end(w);
}

#endif
