/*
 * `mpickle dis [FILE]`: a disassembly byte-identical to Python's
 * pickletools.dis(data) for every pickle it accepts, and the same verdict on the
 * pickles it rejects: the lines it would have printed, then one error line.
 *
 * It reads opcodes through the opcode table only (no decoder VM) and emulates
 * what pickletools checks: stack depth, the stack of open MARKs (which also
 * sets the indentation), and the set of memo keys. Arguments are validated in
 * full before their line is printed, because pickletools fails while reading an
 * argument and prints nothing for that opcode. Nothing is ever allocated from a
 * length the input declares; memory grows only with what the input really holds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "opcodes.h"
#include "numtext.h"

/* Python refuses to convert ints of more decimal digits than this to or from
 * text (sys.get_int_max_str_digits() default in CPython 3.11+). */
#define PY_INT_MAX_STR_DIGITS 4300

/* ------------------------------------------------------ Unicode printability */

/* Code points >= 0x80 where str.isprintable() flips, starting non-printable at
 * 0x80 (so a code point is printable iff the last boundary <= it has an odd
 * index). Generated from CPython 3.11 (Unicode 14.0.0) with:
 *   prev = None
 *   for cp in range(0x80, 0x110000):
 *       now = chr(cp).isprintable()
 *       if now != prev: print(hex(cp)); prev = now  */
static const uint32_t printable_flips[] = {
    0x80, 0xa1, 0xad, 0xae, 0x378, 0x37a, 0x380, 0x384, 0x38b, 0x38c, 0x38d, 0x38e,
    0x3a2, 0x3a3, 0x530, 0x531, 0x557, 0x559, 0x58b, 0x58d, 0x590, 0x591, 0x5c8, 0x5d0,
    0x5eb, 0x5ef, 0x5f5, 0x606, 0x61c, 0x61d, 0x6dd, 0x6de, 0x70e, 0x710, 0x74b, 0x74d,
    0x7b2, 0x7c0, 0x7fb, 0x7fd, 0x82e, 0x830, 0x83f, 0x840, 0x85c, 0x85e, 0x85f, 0x860,
    0x86b, 0x870, 0x88f, 0x898, 0x8e2, 0x8e3, 0x984, 0x985, 0x98d, 0x98f, 0x991, 0x993,
    0x9a9, 0x9aa, 0x9b1, 0x9b2, 0x9b3, 0x9b6, 0x9ba, 0x9bc, 0x9c5, 0x9c7, 0x9c9, 0x9cb,
    0x9cf, 0x9d7, 0x9d8, 0x9dc, 0x9de, 0x9df, 0x9e4, 0x9e6, 0x9ff, 0xa01, 0xa04, 0xa05,
    0xa0b, 0xa0f, 0xa11, 0xa13, 0xa29, 0xa2a, 0xa31, 0xa32, 0xa34, 0xa35, 0xa37, 0xa38,
    0xa3a, 0xa3c, 0xa3d, 0xa3e, 0xa43, 0xa47, 0xa49, 0xa4b, 0xa4e, 0xa51, 0xa52, 0xa59,
    0xa5d, 0xa5e, 0xa5f, 0xa66, 0xa77, 0xa81, 0xa84, 0xa85, 0xa8e, 0xa8f, 0xa92, 0xa93,
    0xaa9, 0xaaa, 0xab1, 0xab2, 0xab4, 0xab5, 0xaba, 0xabc, 0xac6, 0xac7, 0xaca, 0xacb,
    0xace, 0xad0, 0xad1, 0xae0, 0xae4, 0xae6, 0xaf2, 0xaf9, 0xb00, 0xb01, 0xb04, 0xb05,
    0xb0d, 0xb0f, 0xb11, 0xb13, 0xb29, 0xb2a, 0xb31, 0xb32, 0xb34, 0xb35, 0xb3a, 0xb3c,
    0xb45, 0xb47, 0xb49, 0xb4b, 0xb4e, 0xb55, 0xb58, 0xb5c, 0xb5e, 0xb5f, 0xb64, 0xb66,
    0xb78, 0xb82, 0xb84, 0xb85, 0xb8b, 0xb8e, 0xb91, 0xb92, 0xb96, 0xb99, 0xb9b, 0xb9c,
    0xb9d, 0xb9e, 0xba0, 0xba3, 0xba5, 0xba8, 0xbab, 0xbae, 0xbba, 0xbbe, 0xbc3, 0xbc6,
    0xbc9, 0xbca, 0xbce, 0xbd0, 0xbd1, 0xbd7, 0xbd8, 0xbe6, 0xbfb, 0xc00, 0xc0d, 0xc0e,
    0xc11, 0xc12, 0xc29, 0xc2a, 0xc3a, 0xc3c, 0xc45, 0xc46, 0xc49, 0xc4a, 0xc4e, 0xc55,
    0xc57, 0xc58, 0xc5b, 0xc5d, 0xc5e, 0xc60, 0xc64, 0xc66, 0xc70, 0xc77, 0xc8d, 0xc8e,
    0xc91, 0xc92, 0xca9, 0xcaa, 0xcb4, 0xcb5, 0xcba, 0xcbc, 0xcc5, 0xcc6, 0xcc9, 0xcca,
    0xcce, 0xcd5, 0xcd7, 0xcdd, 0xcdf, 0xce0, 0xce4, 0xce6, 0xcf0, 0xcf1, 0xcf3, 0xd00,
    0xd0d, 0xd0e, 0xd11, 0xd12, 0xd45, 0xd46, 0xd49, 0xd4a, 0xd50, 0xd54, 0xd64, 0xd66,
    0xd80, 0xd81, 0xd84, 0xd85, 0xd97, 0xd9a, 0xdb2, 0xdb3, 0xdbc, 0xdbd, 0xdbe, 0xdc0,
    0xdc7, 0xdca, 0xdcb, 0xdcf, 0xdd5, 0xdd6, 0xdd7, 0xdd8, 0xde0, 0xde6, 0xdf0, 0xdf2,
    0xdf5, 0xe01, 0xe3b, 0xe3f, 0xe5c, 0xe81, 0xe83, 0xe84, 0xe85, 0xe86, 0xe8b, 0xe8c,
    0xea4, 0xea5, 0xea6, 0xea7, 0xebe, 0xec0, 0xec5, 0xec6, 0xec7, 0xec8, 0xece, 0xed0,
    0xeda, 0xedc, 0xee0, 0xf00, 0xf48, 0xf49, 0xf6d, 0xf71, 0xf98, 0xf99, 0xfbd, 0xfbe,
    0xfcd, 0xfce, 0xfdb, 0x1000, 0x10c6, 0x10c7, 0x10c8, 0x10cd, 0x10ce, 0x10d0, 0x1249,
    0x124a, 0x124e, 0x1250, 0x1257, 0x1258, 0x1259, 0x125a, 0x125e, 0x1260, 0x1289,
    0x128a, 0x128e, 0x1290, 0x12b1, 0x12b2, 0x12b6, 0x12b8, 0x12bf, 0x12c0, 0x12c1,
    0x12c2, 0x12c6, 0x12c8, 0x12d7, 0x12d8, 0x1311, 0x1312, 0x1316, 0x1318, 0x135b,
    0x135d, 0x137d, 0x1380, 0x139a, 0x13a0, 0x13f6, 0x13f8, 0x13fe, 0x1400, 0x1680,
    0x1681, 0x169d, 0x16a0, 0x16f9, 0x1700, 0x1716, 0x171f, 0x1737, 0x1740, 0x1754,
    0x1760, 0x176d, 0x176e, 0x1771, 0x1772, 0x1774, 0x1780, 0x17de, 0x17e0, 0x17ea,
    0x17f0, 0x17fa, 0x1800, 0x180e, 0x180f, 0x181a, 0x1820, 0x1879, 0x1880, 0x18ab,
    0x18b0, 0x18f6, 0x1900, 0x191f, 0x1920, 0x192c, 0x1930, 0x193c, 0x1940, 0x1941,
    0x1944, 0x196e, 0x1970, 0x1975, 0x1980, 0x19ac, 0x19b0, 0x19ca, 0x19d0, 0x19db,
    0x19de, 0x1a1c, 0x1a1e, 0x1a5f, 0x1a60, 0x1a7d, 0x1a7f, 0x1a8a, 0x1a90, 0x1a9a,
    0x1aa0, 0x1aae, 0x1ab0, 0x1acf, 0x1b00, 0x1b4d, 0x1b50, 0x1b7f, 0x1b80, 0x1bf4,
    0x1bfc, 0x1c38, 0x1c3b, 0x1c4a, 0x1c4d, 0x1c89, 0x1c90, 0x1cbb, 0x1cbd, 0x1cc8,
    0x1cd0, 0x1cfb, 0x1d00, 0x1f16, 0x1f18, 0x1f1e, 0x1f20, 0x1f46, 0x1f48, 0x1f4e,
    0x1f50, 0x1f58, 0x1f59, 0x1f5a, 0x1f5b, 0x1f5c, 0x1f5d, 0x1f5e, 0x1f5f, 0x1f7e,
    0x1f80, 0x1fb5, 0x1fb6, 0x1fc5, 0x1fc6, 0x1fd4, 0x1fd6, 0x1fdc, 0x1fdd, 0x1ff0,
    0x1ff2, 0x1ff5, 0x1ff6, 0x1fff, 0x2010, 0x2028, 0x2030, 0x205f, 0x2070, 0x2072,
    0x2074, 0x208f, 0x2090, 0x209d, 0x20a0, 0x20c1, 0x20d0, 0x20f1, 0x2100, 0x218c,
    0x2190, 0x2427, 0x2440, 0x244b, 0x2460, 0x2b74, 0x2b76, 0x2b96, 0x2b97, 0x2cf4,
    0x2cf9, 0x2d26, 0x2d27, 0x2d28, 0x2d2d, 0x2d2e, 0x2d30, 0x2d68, 0x2d6f, 0x2d71,
    0x2d7f, 0x2d97, 0x2da0, 0x2da7, 0x2da8, 0x2daf, 0x2db0, 0x2db7, 0x2db8, 0x2dbf,
    0x2dc0, 0x2dc7, 0x2dc8, 0x2dcf, 0x2dd0, 0x2dd7, 0x2dd8, 0x2ddf, 0x2de0, 0x2e5e,
    0x2e80, 0x2e9a, 0x2e9b, 0x2ef4, 0x2f00, 0x2fd6, 0x2ff0, 0x2ffc, 0x3001, 0x3040,
    0x3041, 0x3097, 0x3099, 0x3100, 0x3105, 0x3130, 0x3131, 0x318f, 0x3190, 0x31e4,
    0x31f0, 0x321f, 0x3220, 0xa48d, 0xa490, 0xa4c7, 0xa4d0, 0xa62c, 0xa640, 0xa6f8,
    0xa700, 0xa7cb, 0xa7d0, 0xa7d2, 0xa7d3, 0xa7d4, 0xa7d5, 0xa7da, 0xa7f2, 0xa82d,
    0xa830, 0xa83a, 0xa840, 0xa878, 0xa880, 0xa8c6, 0xa8ce, 0xa8da, 0xa8e0, 0xa954,
    0xa95f, 0xa97d, 0xa980, 0xa9ce, 0xa9cf, 0xa9da, 0xa9de, 0xa9ff, 0xaa00, 0xaa37,
    0xaa40, 0xaa4e, 0xaa50, 0xaa5a, 0xaa5c, 0xaac3, 0xaadb, 0xaaf7, 0xab01, 0xab07,
    0xab09, 0xab0f, 0xab11, 0xab17, 0xab20, 0xab27, 0xab28, 0xab2f, 0xab30, 0xab6c,
    0xab70, 0xabee, 0xabf0, 0xabfa, 0xac00, 0xd7a4, 0xd7b0, 0xd7c7, 0xd7cb, 0xd7fc,
    0xf900, 0xfa6e, 0xfa70, 0xfada, 0xfb00, 0xfb07, 0xfb13, 0xfb18, 0xfb1d, 0xfb37,
    0xfb38, 0xfb3d, 0xfb3e, 0xfb3f, 0xfb40, 0xfb42, 0xfb43, 0xfb45, 0xfb46, 0xfbc3,
    0xfbd3, 0xfd90, 0xfd92, 0xfdc8, 0xfdcf, 0xfdd0, 0xfdf0, 0xfe1a, 0xfe20, 0xfe53,
    0xfe54, 0xfe67, 0xfe68, 0xfe6c, 0xfe70, 0xfe75, 0xfe76, 0xfefd, 0xff01, 0xffbf,
    0xffc2, 0xffc8, 0xffca, 0xffd0, 0xffd2, 0xffd8, 0xffda, 0xffdd, 0xffe0, 0xffe7,
    0xffe8, 0xffef, 0xfffc, 0xfffe, 0x10000, 0x1000c, 0x1000d, 0x10027, 0x10028,
    0x1003b, 0x1003c, 0x1003e, 0x1003f, 0x1004e, 0x10050, 0x1005e, 0x10080, 0x100fb,
    0x10100, 0x10103, 0x10107, 0x10134, 0x10137, 0x1018f, 0x10190, 0x1019d, 0x101a0,
    0x101a1, 0x101d0, 0x101fe, 0x10280, 0x1029d, 0x102a0, 0x102d1, 0x102e0, 0x102fc,
    0x10300, 0x10324, 0x1032d, 0x1034b, 0x10350, 0x1037b, 0x10380, 0x1039e, 0x1039f,
    0x103c4, 0x103c8, 0x103d6, 0x10400, 0x1049e, 0x104a0, 0x104aa, 0x104b0, 0x104d4,
    0x104d8, 0x104fc, 0x10500, 0x10528, 0x10530, 0x10564, 0x1056f, 0x1057b, 0x1057c,
    0x1058b, 0x1058c, 0x10593, 0x10594, 0x10596, 0x10597, 0x105a2, 0x105a3, 0x105b2,
    0x105b3, 0x105ba, 0x105bb, 0x105bd, 0x10600, 0x10737, 0x10740, 0x10756, 0x10760,
    0x10768, 0x10780, 0x10786, 0x10787, 0x107b1, 0x107b2, 0x107bb, 0x10800, 0x10806,
    0x10808, 0x10809, 0x1080a, 0x10836, 0x10837, 0x10839, 0x1083c, 0x1083d, 0x1083f,
    0x10856, 0x10857, 0x1089f, 0x108a7, 0x108b0, 0x108e0, 0x108f3, 0x108f4, 0x108f6,
    0x108fb, 0x1091c, 0x1091f, 0x1093a, 0x1093f, 0x10940, 0x10980, 0x109b8, 0x109bc,
    0x109d0, 0x109d2, 0x10a04, 0x10a05, 0x10a07, 0x10a0c, 0x10a14, 0x10a15, 0x10a18,
    0x10a19, 0x10a36, 0x10a38, 0x10a3b, 0x10a3f, 0x10a49, 0x10a50, 0x10a59, 0x10a60,
    0x10aa0, 0x10ac0, 0x10ae7, 0x10aeb, 0x10af7, 0x10b00, 0x10b36, 0x10b39, 0x10b56,
    0x10b58, 0x10b73, 0x10b78, 0x10b92, 0x10b99, 0x10b9d, 0x10ba9, 0x10bb0, 0x10c00,
    0x10c49, 0x10c80, 0x10cb3, 0x10cc0, 0x10cf3, 0x10cfa, 0x10d28, 0x10d30, 0x10d3a,
    0x10e60, 0x10e7f, 0x10e80, 0x10eaa, 0x10eab, 0x10eae, 0x10eb0, 0x10eb2, 0x10f00,
    0x10f28, 0x10f30, 0x10f5a, 0x10f70, 0x10f8a, 0x10fb0, 0x10fcc, 0x10fe0, 0x10ff7,
    0x11000, 0x1104e, 0x11052, 0x11076, 0x1107f, 0x110bd, 0x110be, 0x110c3, 0x110d0,
    0x110e9, 0x110f0, 0x110fa, 0x11100, 0x11135, 0x11136, 0x11148, 0x11150, 0x11177,
    0x11180, 0x111e0, 0x111e1, 0x111f5, 0x11200, 0x11212, 0x11213, 0x1123f, 0x11280,
    0x11287, 0x11288, 0x11289, 0x1128a, 0x1128e, 0x1128f, 0x1129e, 0x1129f, 0x112aa,
    0x112b0, 0x112eb, 0x112f0, 0x112fa, 0x11300, 0x11304, 0x11305, 0x1130d, 0x1130f,
    0x11311, 0x11313, 0x11329, 0x1132a, 0x11331, 0x11332, 0x11334, 0x11335, 0x1133a,
    0x1133b, 0x11345, 0x11347, 0x11349, 0x1134b, 0x1134e, 0x11350, 0x11351, 0x11357,
    0x11358, 0x1135d, 0x11364, 0x11366, 0x1136d, 0x11370, 0x11375, 0x11400, 0x1145c,
    0x1145d, 0x11462, 0x11480, 0x114c8, 0x114d0, 0x114da, 0x11580, 0x115b6, 0x115b8,
    0x115de, 0x11600, 0x11645, 0x11650, 0x1165a, 0x11660, 0x1166d, 0x11680, 0x116ba,
    0x116c0, 0x116ca, 0x11700, 0x1171b, 0x1171d, 0x1172c, 0x11730, 0x11747, 0x11800,
    0x1183c, 0x118a0, 0x118f3, 0x118ff, 0x11907, 0x11909, 0x1190a, 0x1190c, 0x11914,
    0x11915, 0x11917, 0x11918, 0x11936, 0x11937, 0x11939, 0x1193b, 0x11947, 0x11950,
    0x1195a, 0x119a0, 0x119a8, 0x119aa, 0x119d8, 0x119da, 0x119e5, 0x11a00, 0x11a48,
    0x11a50, 0x11aa3, 0x11ab0, 0x11af9, 0x11c00, 0x11c09, 0x11c0a, 0x11c37, 0x11c38,
    0x11c46, 0x11c50, 0x11c6d, 0x11c70, 0x11c90, 0x11c92, 0x11ca8, 0x11ca9, 0x11cb7,
    0x11d00, 0x11d07, 0x11d08, 0x11d0a, 0x11d0b, 0x11d37, 0x11d3a, 0x11d3b, 0x11d3c,
    0x11d3e, 0x11d3f, 0x11d48, 0x11d50, 0x11d5a, 0x11d60, 0x11d66, 0x11d67, 0x11d69,
    0x11d6a, 0x11d8f, 0x11d90, 0x11d92, 0x11d93, 0x11d99, 0x11da0, 0x11daa, 0x11ee0,
    0x11ef9, 0x11fb0, 0x11fb1, 0x11fc0, 0x11ff2, 0x11fff, 0x1239a, 0x12400, 0x1246f,
    0x12470, 0x12475, 0x12480, 0x12544, 0x12f90, 0x12ff3, 0x13000, 0x1342f, 0x14400,
    0x14647, 0x16800, 0x16a39, 0x16a40, 0x16a5f, 0x16a60, 0x16a6a, 0x16a6e, 0x16abf,
    0x16ac0, 0x16aca, 0x16ad0, 0x16aee, 0x16af0, 0x16af6, 0x16b00, 0x16b46, 0x16b50,
    0x16b5a, 0x16b5b, 0x16b62, 0x16b63, 0x16b78, 0x16b7d, 0x16b90, 0x16e40, 0x16e9b,
    0x16f00, 0x16f4b, 0x16f4f, 0x16f88, 0x16f8f, 0x16fa0, 0x16fe0, 0x16fe5, 0x16ff0,
    0x16ff2, 0x17000, 0x187f8, 0x18800, 0x18cd6, 0x18d00, 0x18d09, 0x1aff0, 0x1aff4,
    0x1aff5, 0x1affc, 0x1affd, 0x1afff, 0x1b000, 0x1b123, 0x1b150, 0x1b153, 0x1b164,
    0x1b168, 0x1b170, 0x1b2fc, 0x1bc00, 0x1bc6b, 0x1bc70, 0x1bc7d, 0x1bc80, 0x1bc89,
    0x1bc90, 0x1bc9a, 0x1bc9c, 0x1bca0, 0x1cf00, 0x1cf2e, 0x1cf30, 0x1cf47, 0x1cf50,
    0x1cfc4, 0x1d000, 0x1d0f6, 0x1d100, 0x1d127, 0x1d129, 0x1d173, 0x1d17b, 0x1d1eb,
    0x1d200, 0x1d246, 0x1d2e0, 0x1d2f4, 0x1d300, 0x1d357, 0x1d360, 0x1d379, 0x1d400,
    0x1d455, 0x1d456, 0x1d49d, 0x1d49e, 0x1d4a0, 0x1d4a2, 0x1d4a3, 0x1d4a5, 0x1d4a7,
    0x1d4a9, 0x1d4ad, 0x1d4ae, 0x1d4ba, 0x1d4bb, 0x1d4bc, 0x1d4bd, 0x1d4c4, 0x1d4c5,
    0x1d506, 0x1d507, 0x1d50b, 0x1d50d, 0x1d515, 0x1d516, 0x1d51d, 0x1d51e, 0x1d53a,
    0x1d53b, 0x1d53f, 0x1d540, 0x1d545, 0x1d546, 0x1d547, 0x1d54a, 0x1d551, 0x1d552,
    0x1d6a6, 0x1d6a8, 0x1d7cc, 0x1d7ce, 0x1da8c, 0x1da9b, 0x1daa0, 0x1daa1, 0x1dab0,
    0x1df00, 0x1df1f, 0x1e000, 0x1e007, 0x1e008, 0x1e019, 0x1e01b, 0x1e022, 0x1e023,
    0x1e025, 0x1e026, 0x1e02b, 0x1e100, 0x1e12d, 0x1e130, 0x1e13e, 0x1e140, 0x1e14a,
    0x1e14e, 0x1e150, 0x1e290, 0x1e2af, 0x1e2c0, 0x1e2fa, 0x1e2ff, 0x1e300, 0x1e7e0,
    0x1e7e7, 0x1e7e8, 0x1e7ec, 0x1e7ed, 0x1e7ef, 0x1e7f0, 0x1e7ff, 0x1e800, 0x1e8c5,
    0x1e8c7, 0x1e8d7, 0x1e900, 0x1e94c, 0x1e950, 0x1e95a, 0x1e95e, 0x1e960, 0x1ec71,
    0x1ecb5, 0x1ed01, 0x1ed3e, 0x1ee00, 0x1ee04, 0x1ee05, 0x1ee20, 0x1ee21, 0x1ee23,
    0x1ee24, 0x1ee25, 0x1ee27, 0x1ee28, 0x1ee29, 0x1ee33, 0x1ee34, 0x1ee38, 0x1ee39,
    0x1ee3a, 0x1ee3b, 0x1ee3c, 0x1ee42, 0x1ee43, 0x1ee47, 0x1ee48, 0x1ee49, 0x1ee4a,
    0x1ee4b, 0x1ee4c, 0x1ee4d, 0x1ee50, 0x1ee51, 0x1ee53, 0x1ee54, 0x1ee55, 0x1ee57,
    0x1ee58, 0x1ee59, 0x1ee5a, 0x1ee5b, 0x1ee5c, 0x1ee5d, 0x1ee5e, 0x1ee5f, 0x1ee60,
    0x1ee61, 0x1ee63, 0x1ee64, 0x1ee65, 0x1ee67, 0x1ee6b, 0x1ee6c, 0x1ee73, 0x1ee74,
    0x1ee78, 0x1ee79, 0x1ee7d, 0x1ee7e, 0x1ee7f, 0x1ee80, 0x1ee8a, 0x1ee8b, 0x1ee9c,
    0x1eea1, 0x1eea4, 0x1eea5, 0x1eeaa, 0x1eeab, 0x1eebc, 0x1eef0, 0x1eef2, 0x1f000,
    0x1f02c, 0x1f030, 0x1f094, 0x1f0a0, 0x1f0af, 0x1f0b1, 0x1f0c0, 0x1f0c1, 0x1f0d0,
    0x1f0d1, 0x1f0f6, 0x1f100, 0x1f1ae, 0x1f1e6, 0x1f203, 0x1f210, 0x1f23c, 0x1f240,
    0x1f249, 0x1f250, 0x1f252, 0x1f260, 0x1f266, 0x1f300, 0x1f6d8, 0x1f6dd, 0x1f6ed,
    0x1f6f0, 0x1f6fd, 0x1f700, 0x1f774, 0x1f780, 0x1f7d9, 0x1f7e0, 0x1f7ec, 0x1f7f0,
    0x1f7f1, 0x1f800, 0x1f80c, 0x1f810, 0x1f848, 0x1f850, 0x1f85a, 0x1f860, 0x1f888,
    0x1f890, 0x1f8ae, 0x1f8b0, 0x1f8b2, 0x1f900, 0x1fa54, 0x1fa60, 0x1fa6e, 0x1fa70,
    0x1fa75, 0x1fa78, 0x1fa7d, 0x1fa80, 0x1fa87, 0x1fa90, 0x1faad, 0x1fab0, 0x1fabb,
    0x1fac0, 0x1fac6, 0x1fad0, 0x1fada, 0x1fae0, 0x1fae8, 0x1faf0, 0x1faf7, 0x1fb00,
    0x1fb93, 0x1fb94, 0x1fbcb, 0x1fbf0, 0x1fbfa, 0x20000, 0x2a6e0, 0x2a700, 0x2b739,
    0x2b740, 0x2b81e, 0x2b820, 0x2cea2, 0x2ceb0, 0x2ebe1, 0x2f800, 0x2fa1e, 0x30000,
    0x3134b, 0xe0100, 0xe01f0,
};

static int is_printable(uint32_t cp)
{
    size_t lo = 0, hi = sizeof printable_flips / sizeof printable_flips[0];
    if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
    while (lo < hi) {               /* lo becomes the number of flips <= cp */
        size_t mid = lo + (hi - lo) / 2;
        if (printable_flips[mid] <= cp) lo = mid + 1;
        else hi = mid;
    }
    return (lo & 1) == 0;
}

/* ------------------------------------------------------------ small helpers */

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Python's int() and float() strip exactly these around a bytes argument. */
static int is_ascii_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static void trim_space(const uint8_t **p, const uint8_t **end)
{
    while (*p < *end && is_ascii_space(**p)) (*p)++;
    while (*end > *p && is_ascii_space((*end)[-1])) (*end)--;
}

static uint64_t read_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    while (n--) v = (v << 8) | p[n];
    return v;
}

/* Grows an array to hold `need` elements of `size` bytes, doubling. Returns the
 * (possibly moved) array and updates *cap, or NULL (old array intact) when
 * memory runs out. */
static void *grow(void *buf, size_t *cap, size_t need, size_t size)
{
    size_t ncap = *cap ? *cap : 16;
    void *nb;
    if (need <= *cap) return buf;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return NULL;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size) return NULL;
    nb = realloc(buf, ncap * size);
    if (nb) *cap = ncap;
    return nb;
}

/* --------------------------------------------------------- text decoding */

/* How an argument's bytes become the code points of a Python str. */
enum text_kind {
    TEXT_LATIN1,        /* BINSTRING, SHORT_BINSTRING: one byte, one code point */
    TEXT_UTF8,          /* the BINUNICODE family: UTF-8 with 'surrogatepass' */
    TEXT_RAW_ESCAPE,    /* UNICODE: 'raw-unicode-escape' */
    TEXT_ESCAPED        /* STRING, PERSID, GLOBAL, INST: bytes-literal escapes, then ASCII */
};

/* Walks the code points of a text argument; runs twice over the same bytes (to
 * validate and pick the quote, then to print), so that nothing is buffered. */
typedef struct text_iter {
    const uint8_t *p, *end;
    const uint8_t *next_p, *next_end;  /* a second part after one blank (GLOBAL), or NULL */
    int kind;
    int32_t owed;                      /* a code point the last step still owes, or -1 */
} text_iter_t;

static text_iter_t text_iter(int kind, const uint8_t *p, size_t n)
{
    text_iter_t it;
    it.p = p;
    it.end = p + n;
    it.next_p = it.next_end = NULL;
    it.kind = kind;
    it.owed = -1;
    return it;
}

/* One UTF-8 sequence; 'surrogatepass' also lets ED A0..BF xx through, which is
 * how CPython writes lone surrogates. */
static int utf8_step(text_iter_t *it, uint32_t *cp)
{
    const uint8_t *p = it->p;
    size_t left = (size_t)(it->end - p), len, i;
    uint32_t v;
    uint8_t lo = 0x80, hi = 0xbf;
    if (p[0] < 0x80) { *cp = p[0]; it->p = p + 1; return 1; }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) { len = 2; v = p[0] & 0x1fu; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { len = 3; v = p[0] & 0x0fu; if (p[0] == 0xe0) lo = 0xa0; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        v = p[0] & 0x07u;
        if (p[0] == 0xf0) lo = 0x90;
        if (p[0] == 0xf4) hi = 0x8f;
    } else return -1;
    if (left < len) return -1;
    for (i = 1; i < len; i++) {
        uint8_t b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf)) return -1;
        v = (v << 6) | (b & 0x3fu);
    }
    *cp = v;
    it->p = p + len;
    return 1;
}

/* raw-unicode-escape: only \uXXXX and \UXXXXXXXX are escapes; a backslash before
 * anything else is itself, and takes that next byte along (so "\\\\u0041" stays
 * as written). */
static int raw_escape_step(text_iter_t *it, uint32_t *cp)
{
    const uint8_t *p = it->p;
    uint32_t v = 0;
    int digits, i;
    if (p[0] != '\\' || p + 1 == it->end) { *cp = p[0]; it->p = p + 1; return 1; }
    if (p[1] != 'u' && p[1] != 'U') {
        *cp = '\\';
        it->owed = p[1];
        it->p = p + 2;
        return 1;
    }
    digits = p[1] == 'u' ? 4 : 8;
    p += 2;
    if (it->end - p < digits) return -1;
    for (i = 0; i < digits; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return -1;
        v = (v << 4) | (uint32_t)h;
    }
    if (v > 0x10ffff) return -1;
    *cp = v;
    it->p = p + digits;
    return 1;
}

/* Python bytes-literal escapes (codecs.escape_decode) whose result must be
 * ASCII. Returns 1 with a code point, 0 for an escaped newline (nothing), -1. */
static int escaped_step(text_iter_t *it, uint32_t *cp)
{
    const uint8_t *p = it->p, *end = it->end;
    uint32_t v;
    int k;
    if (p[0] != '\\') {
        v = p[0];
        p++;
    } else {
        if (p + 1 == end) return -1;                /* a trailing backslash */
        p += 2;
        switch (p[-1]) {
        case '\n': it->p = p; return 0;
        case '\\': case '\'': case '"': v = p[-1]; break;
        case 'a': v = 7; break;
        case 'b': v = 8; break;
        case 't': v = 9; break;
        case 'n': v = 10; break;
        case 'v': v = 11; break;
        case 'f': v = 12; break;
        case 'r': v = 13; break;
        case 'x':
            if (end - p < 2 || hex_value(p[0]) < 0 || hex_value(p[1]) < 0) return -1;
            v = (uint32_t)(hex_value(p[0]) * 16 + hex_value(p[1]));
            p += 2;
            break;
        default:
            if (p[-1] >= '0' && p[-1] <= '7') {   /* up to 3 octal digits, kept mod 256 */
                v = (uint32_t)(p[-1] - '0');
                for (k = 1; k < 3 && p < end && *p >= '0' && *p <= '7'; k++) v = v * 8 + (uint32_t)(*p++ - '0');
                v &= 0xff;
            } else {                               /* unknown: the backslash stays */
                v = '\\';
                p--;
            }
        }
    }
    if (v >= 0x80) return -1;                       /* .decode("ascii") */
    *cp = v;
    it->p = p;
    return 1;
}

/* The next code point: 1 and *cp, 0 at the end, -1 if the text is malformed. */
static int text_next(text_iter_t *it, uint32_t *cp)
{
    for (;;) {
        int r;
        if (it->owed >= 0) { *cp = (uint32_t)it->owed; it->owed = -1; return 1; }
        if (it->p == it->end) {
            if (!it->next_p) return 0;
            it->p = it->next_p;
            it->end = it->next_end;
            it->next_p = NULL;
            *cp = ' ';
            return 1;
        }
        switch (it->kind) {
        case TEXT_LATIN1: *cp = *it->p++; return 1;
        case TEXT_UTF8: return utf8_step(it, cp);
        case TEXT_RAW_ESCAPE: return raw_escape_step(it, cp);
        default:
            r = escaped_step(it, cp);
            if (r) return r;
        }
    }
}

/* Python's repr() quotes with ' unless the text holds ' and no ". */
static int pick_quote(int has_single, int has_double)
{
    return has_single && !has_double ? '"' : '\'';
}

/* Walks the whole text: -1 if it is malformed, else 0 and the quote repr() uses. */
static int text_check(text_iter_t it, int *quote)
{
    int single = 0, dbl = 0, r;
    uint32_t cp;
    while ((r = text_next(&it, &cp)) == 1) {
        if (cp == '\'') single = 1;
        else if (cp == '"') dbl = 1;
    }
    if (r < 0) return -1;
    *quote = pick_quote(single, dbl);
    return 0;
}

/* ----------------------------------------------------------------- output */

static void put_hex(FILE *f, const char *prefix, uint32_t v, int digits)
{
    static const char hexdig[] = "0123456789abcdef";
    fputs(prefix, f);
    while (digits--) fputc(hexdig[(v >> (4 * digits)) & 15], f);
}

static void put_utf8(FILE *f, uint32_t cp)
{
    if (cp < 0x800) {
        fputc((int)(0xc0 | (cp >> 6)), f);
    } else if (cp < 0x10000) {
        fputc((int)(0xe0 | (cp >> 12)), f);
        fputc((int)(0x80 | ((cp >> 6) & 0x3f)), f);
    } else {
        fputc((int)(0xf0 | (cp >> 18)), f);
        fputc((int)(0x80 | ((cp >> 12) & 0x3f)), f);
        fputc((int)(0x80 | ((cp >> 6) & 0x3f)), f);
    }
    fputc((int)(0x80 | (cp & 0x3f)), f);
}

/* The escapes str and bytes reprs share, for c < 0x80. */
static void put_ascii_escaped(FILE *f, uint32_t c, int quote)
{
    if (c == (uint32_t)quote || c == '\\') { fputc('\\', f); fputc((int)c, f); }
    else if (c == '\t') fputs("\\t", f);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\r') fputs("\\r", f);
    else if (c < 0x20 || c == 0x7f) put_hex(f, "\\x", c, 2);
    else fputc((int)c, f);
}

static void put_str_char(FILE *f, uint32_t cp, int quote)
{
    if (cp < 0x80) put_ascii_escaped(f, cp, quote);
    else if (is_printable(cp)) put_utf8(f, cp);
    else if (cp <= 0xff) put_hex(f, "\\x", cp, 2);
    else if (cp <= 0xffff) put_hex(f, "\\u", cp, 4);
    else put_hex(f, "\\U", cp, 8);
}

/* repr() of a text already checked by text_check. */
static void put_str_repr(FILE *f, text_iter_t it, int quote)
{
    uint32_t cp;
    fputc(quote, f);
    while (text_next(&it, &cp) == 1) put_str_char(f, cp, quote);
    fputc(quote, f);
}

/* repr() of bytes; bytearray's repr() escapes ' even inside "...". */
static void put_bytes_repr(FILE *f, const uint8_t *p, size_t n, int is_bytearray)
{
    int quote = pick_quote(memchr(p, '\'', n) != NULL, memchr(p, '"', n) != NULL);
    size_t i;
    fputc('b', f);
    fputc(quote, f);
    for (i = 0; i < n; i++) {
        if (p[i] >= 0x80) put_hex(f, "\\x", p[i], 2);
        else if (p[i] == '\'' && is_bytearray) fputs("\\'", f);
        else put_ascii_escaped(f, p[i], quote);
    }
    fputc(quote, f);
}

/* ------------------------------------------------------------- the state */

/* A decoded argument, kept as references into the input (or the scratch buffer)
 * so that a 1 GiB bytes argument is printed without being copied. */
enum arg_value {
    AV_NONE, AV_UINT, AV_INT, AV_BOOL, AV_DECIMAL, AV_FLOAT, AV_BYTES, AV_BYTEARRAY, AV_TEXT
};

typedef struct dis_arg {
    int kind;                    /* enum arg_value */
    uint64_t u;                  /* AV_UINT; AV_BOOL: 0 or 1 */
    int64_t i;                   /* AV_INT */
    double x;                    /* AV_FLOAT */
    const uint8_t *p;            /* AV_BYTES, AV_BYTEARRAY */
    size_t n;                    /* their length; AV_DECIMAL: length of the text in scratch */
    text_iter_t text;            /* AV_TEXT */
    int quote;                   /* AV_TEXT: the quote repr() picked */
    const char *repr_error;      /* repr() of the value will fail (an int too long) */
} dis_arg_t;

/* A memo key is a Python int: a number when it is >= 0 with at most 19 digits,
 * else its canonical decimal text (so every key has exactly one form). */
typedef struct memo_key {
    uint64_t num;
    const char *text;            /* NULL: the key is num */
    size_t len;
} memo_key_t;

#define MEMO_NUMBER SIZE_MAX

/* A slot of the memo set: len 0 empty; MEMO_NUMBER: the key is `word`; else
 * the key is the text of length len at offset `word` of the key arena. */
typedef struct memo_slot {
    uint64_t word;
    size_t len;
} memo_slot_t;

typedef struct dis {
    const uint8_t *data;
    size_t n, pos;
    FILE *out;
    /* The emulated stack, without its objects: seg[0] objects, a MARK, seg[1]
     * objects, ... ; nseg - 1 MARKs are on it, depth is its length. */
    size_t *seg, nseg, seg_cap, depth;
    /* Offsets of the MARKs not yet closed (these set the indentation). A MARK
     * can leave the stack without leaving this list, as in pickletools. */
    size_t *marks, nmarks, marks_cap;
    /* Memo keys: an open-addressing set (linear probing). */
    memo_slot_t *slots;
    size_t nslots, count;
    char *keys;
    size_t keys_len, keys_cap;
    /* Decimal texts of the current argument. */
    char *scratch;
    size_t scratch_cap;
    int maxproto;
    const char *err;
    size_t err_at;
} dis_t;

static int fail(dis_t *d, size_t at, const char *msg)
{
    d->err = msg;
    d->err_at = at;
    return -1;
}

static int reserve_scratch(dis_t *d, size_t need)
{
    char *nb = grow(d->scratch, &d->scratch_cap, need, 1);
    if (!nb) return -1;
    d->scratch = nb;
    return 0;
}

/* ------------------------------------------------------------------ memo */

static uint64_t hash_key(const memo_key_t *k)
{
    uint64_t h = k->num;
    size_t i;
    if (k->text)                            /* FNV-1a */
        for (h = 1469598103934665603u, i = 0; i < k->len; i++)
            h = (h ^ (uint8_t)k->text[i]) * 1099511628211u;
    h ^= h >> 33;                           /* spread the bits (murmur3's finalizer) */
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

static int slot_holds(const dis_t *d, const memo_slot_t *s, const memo_key_t *k)
{
    if (!k->text) return s->len == MEMO_NUMBER && s->word == k->num;
    return s->len == k->len && !memcmp(d->keys + s->word, k->text, k->len);
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t memo_slot(const dis_t *d, const memo_key_t *k)
{
    size_t mask = d->nslots - 1, i = (size_t)hash_key(k) & mask;
    while (d->slots[i].len && !slot_holds(d, &d->slots[i], k)) i = (i + 1) & mask;
    return i;
}

static int memo_has(const dis_t *d, const memo_key_t *k)
{
    return d->nslots && d->slots[memo_slot(d, k)].len != 0;
}

/* The key a slot holds, for rehashing. */
static memo_key_t slot_key(const dis_t *d, const memo_slot_t *s)
{
    memo_key_t k;
    k.num = s->word;
    k.text = s->len == MEMO_NUMBER ? NULL : d->keys + s->word;
    k.len = s->len;
    return k;
}

static int memo_rehash(dis_t *d)
{
    size_t old_n = d->nslots, i;
    memo_slot_t *old = d->slots;
    size_t want = old_n ? old_n * 2 : 64;
    if (want > SIZE_MAX / 4 / sizeof *old) return -1;
    d->slots = calloc(want, sizeof *old);
    if (!d->slots) { d->slots = old; return -1; }
    d->nslots = want;
    for (i = 0; i < old_n; i++) {
        if (old[i].len) {
            memo_key_t k = slot_key(d, &old[i]);
            d->slots[memo_slot(d, &k)] = old[i];
        }
    }
    free(old);
    return 0;
}

/* Makes room for one more key (load factor 3/4); -1 when out of memory. */
static int memo_reserve(dis_t *d)
{
    return (d->count + 1) * 4 > d->nslots * 3 ? memo_rehash(d) : 0;
}

/* Puts an absent key into its empty slot i (from memo_slot, after
 * memo_reserve); -1 when out of memory. */
static int memo_add(dis_t *d, size_t i, const memo_key_t *k)
{
    memo_slot_t s;
    s.word = k->num;
    s.len = MEMO_NUMBER;
    if (k->text) {
        char *nk;
        if (d->keys_len + k->len < k->len) return -1;
        nk = grow(d->keys, &d->keys_cap, d->keys_len + k->len, 1);
        if (!nk) return -1;
        d->keys = nk;
        memcpy(d->keys + d->keys_len, k->text, k->len);
        s.word = d->keys_len;
        s.len = k->len;
        d->keys_len += k->len;
    }
    d->slots[i] = s;
    d->count++;
    return 0;
}

/* ----------------------------------------------------------------- stack */

static int top_is_mark(const dis_t *d)
{
    return d->nseg > 1 && d->seg[d->nseg - 1] == 0;
}

static int push_mark(dis_t *d, size_t pos)
{
    size_t *ns = grow(d->seg, &d->seg_cap, d->nseg + 1, sizeof *ns), *nm;
    if (!ns) return -1;
    d->seg = ns;
    nm = grow(d->marks, &d->marks_cap, d->nmarks + 1, sizeof *nm);
    if (!nm) return -1;
    d->marks = nm;
    d->seg[d->nseg++] = 0;
    d->marks[d->nmarks++] = pos;
    d->depth++;
    return 0;
}

/* Pops k entries (the caller checked depth >= k); MARKs among them go too. */
static void stack_pop(dis_t *d, size_t k)
{
    d->depth -= k;
    while (k) {
        size_t *top = &d->seg[d->nseg - 1];
        if (*top >= k) { *top -= k; return; }
        k -= *top + 1;
        d->nseg--;
    }
}

/* What an opcode does to the stack. pops: objects it takes (for one that takes a
 * MARK: those below the MARK); mark: 1 takes the topmost MARK and everything
 * above it, 2 pushes a MARK. */
typedef struct effect {
    uint8_t pops, pushes, mark;
} effect_t;

static effect_t stack_effect(int op)
{
    effect_t e = {0, 1, 0};
    switch (op) {
    case OP_MARK: e.pushes = 0; e.mark = 2; break;
    case OP_LIST: case OP_TUPLE: case OP_DICT: case OP_FROZENSET: case OP_INST: case OP_OBJ:
        e.mark = 1; break;
    case OP_POP_MARK: e.pushes = 0; e.mark = 1; break;
    case OP_APPENDS: case OP_SETITEMS: case OP_ADDITEMS: e.pops = 1; e.mark = 1; break;
    case OP_POP: case OP_STOP: e.pops = 1; e.pushes = 0; break;
    case OP_DUP: e.pops = 1; e.pushes = 2; break;
    case OP_PUT: case OP_BINPUT: case OP_LONG_BINPUT: case OP_PROTO: case OP_FRAME:
        e.pushes = 0; break;
    case OP_READONLY_BUFFER: case OP_MEMOIZE: case OP_TUPLE1: case OP_BINPERSID:
        e.pops = 1; break;
    case OP_APPEND: case OP_TUPLE2: case OP_STACK_GLOBAL: case OP_REDUCE: case OP_BUILD:
    case OP_NEWOBJ:
        e.pops = 2; break;
    case OP_TUPLE3: case OP_SETITEM: case OP_NEWOBJ_EX: e.pops = 3; break;
    default: break;                 /* the rest push one object */
    }
    return e;
}

/* ------------------------------------------------------------- arguments */

static int take(dis_t *d, uint64_t n, const uint8_t **p)
{
    if (n > d->n - d->pos) return -1;
    *p = d->data + d->pos;
    d->pos += (size_t)n;
    return 0;
}

/* A line up to '\n' (which is consumed, not included). */
static int take_line(dis_t *d, const uint8_t **p, size_t *n)
{
    const uint8_t *start = d->data + d->pos;
    const uint8_t *nl = memchr(start, '\n', d->n - d->pos);
    if (!nl) return -1;
    *p = start;
    *n = (size_t)(nl - start);
    d->pos += *n + 1;
    return 0;
}

/* Python's int() of bytes in base 10, as canonical decimal text in scratch:
 * '-' only when negative, no leading zeros, underscores only between digits. */
static const char *parse_decimal(dis_t *d, const uint8_t *p, size_t n, dis_arg_t *a)
{
    const uint8_t *end = p + n;
    size_t k = 0, first, digits = 0;
    trim_space(&p, &end);
    if (reserve_scratch(d, n + 2)) return "out of memory";
    if (p < end && (*p == '+' || *p == '-')) {
        if (*p == '-') d->scratch[k++] = '-';
        p++;
    }
    first = k;
    if (p == end || !is_digit(*p)) return "invalid integer text";
    while (p < end) {
        if (*p == '_') p++;                         /* never first: a digit came before */
        if (p == end || !is_digit(*p)) return "invalid integer text";
        digits++;
        if (k == first && *p == '0') p++;           /* a leading zero */
        else d->scratch[k++] = (char)*p++;
    }
    if (digits > PY_INT_MAX_STR_DIGITS) return "integer text has too many digits";
    if (k == first) { k = 0; d->scratch[k++] = '0'; }
    a->kind = AV_DECIMAL;
    a->n = k;
    return NULL;
}

/* Copies a run of digits with single underscores between them: 1 if there
 * was a digit, 0 if none, -1 for a misplaced underscore. */
static int digit_run(const uint8_t **pp, const uint8_t *end, char *out, size_t *k)
{
    const uint8_t *p = *pp;
    int any = 0;
    while (p < end && is_digit(*p)) {
        out[(*k)++] = (char)*p++;
        any = 1;
        if (p < end && *p == '_') {
            if (p + 1 == end || !is_digit(p[1])) return -1;
            p++;
        }
    }
    *pp = p;
    return any;
}

static int equals_nocase(const uint8_t *p, size_t n, const char *word)
{
    size_t i;
    if (strlen(word) != n) return 0;
    for (i = 0; i < n; i++) {
        int c = p[i];
        if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
        if (c != word[i]) return 0;
    }
    return 1;
}

/* Python's float() of bytes: the syntax is checked here, the value is left to
 * the core's exact parser (given the text without underscores). */
static const char *parse_float(dis_t *d, const uint8_t *p, size_t n, dis_arg_t *a)
{
    const uint8_t *end = p + n;
    size_t k = 0;
    int whole, frac = 0, neg = 0;
    trim_space(&p, &end);
    if (reserve_scratch(d, n + 1)) return "out of memory";
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    a->kind = AV_FLOAT;
    if (equals_nocase(p, (size_t)(end - p), "inf") || equals_nocase(p, (size_t)(end - p), "infinity")) {
        a->x = neg ? -HUGE_VAL : HUGE_VAL;
        return NULL;
    }
    if (equals_nocase(p, (size_t)(end - p), "nan")) { a->x = NAN; return NULL; }
    if (neg) d->scratch[k++] = '-';
    whole = digit_run(&p, end, d->scratch, &k);
    if (whole >= 0 && p < end && *p == '.') {
        d->scratch[k++] = (char)*p++;
        frac = digit_run(&p, end, d->scratch, &k);
    }
    if (whole < 0 || frac < 0 || whole + frac == 0) return "invalid float text";
    if (p < end && (*p == 'e' || *p == 'E')) {
        d->scratch[k++] = (char)*p++;
        if (p < end && (*p == '+' || *p == '-')) d->scratch[k++] = (char)*p++;
        if (digit_run(&p, end, d->scratch, &k) <= 0) return "invalid float text";
    }
    if (p != end) return "invalid float text";
    /* The syntax is valid, so a refusal can only be an overflow, which float()
     * turns into an infinity. */
    if (mpk_float_parse(d->scratch, k, &a->x)) a->x = neg ? -HUGE_VAL : HUGE_VAL;
    return NULL;
}

/* decode_long: little-endian two's complement, as decimal text in scratch. */
static const char *parse_long(dis_t *d, const uint8_t *p, size_t n, dis_arg_t *a)
{
    size_t len, cap;
    /* Redundant sign bytes change nothing; without them, 1802 bytes or more
     * always give more digits than repr() converts (|v| >= 2**14407). */
    while (n > 1 && ((p[n - 1] == 0 && !(p[n - 2] & 0x80)) || (p[n - 1] == 0xff && (p[n - 2] & 0x80))))
        n--;
    a->kind = AV_DECIMAL;
    if (n == 0) {
        if (reserve_scratch(d, 1)) return "out of memory";
        d->scratch[0] = '0';
        a->n = 1;
        return NULL;
    }
    if (n > 1801) { a->repr_error = "integer has too many digits for repr()"; return NULL; }
    cap = 3 * n + 2;
    if (reserve_scratch(d, cap + n + 4)) return "out of memory";
    len = mpk_bigint_to_decimal(p, n, d->scratch, cap, (uint8_t *)d->scratch + cap);
    if (len == 0) return "integer conversion failed";
    if (len - (d->scratch[0] == '-') > PY_INT_MAX_STR_DIGITS) a->repr_error = "integer has too many digits for repr()";
    a->n = len;
    return NULL;
}

static const char *text_arg(int kind, const uint8_t *p, size_t n, dis_arg_t *a)
{
    a->kind = AV_TEXT;
    a->text = text_iter(kind, p, n);
    if (text_check(a->text, &a->quote)) {
        if (kind == TEXT_UTF8) return "invalid UTF-8";
        if (kind == TEXT_RAW_ESCAPE) return "invalid raw-unicode-escape text";
        return "invalid escape or non-ASCII byte in text";
    }
    return NULL;
}

/* STRING: a py2 str literal between matching quotes (a lone quote counts as
 * both, as in pickletools). */
static const char *string_arg(const uint8_t *p, size_t n, dis_arg_t *a)
{
    if (n == 0 || (p[0] != '\'' && p[0] != '"')) return "STRING argument is not quoted";
    if (p[n - 1] != p[0]) return "STRING argument lacks its closing quote";
    return text_arg(TEXT_ESCAPED, p + 1, n > 1 ? n - 2 : 0, a);
}

static const char *line_arg(dis_t *d, int op, dis_arg_t *a)
{
    const uint8_t *p;
    size_t n;
    if (take_line(d, &p, &n)) return "no newline at the end of the argument";
    switch (op) {
    case OP_INT: case OP_GET: case OP_PUT:
        if (n == 2 && p[0] == '0' && (p[1] == '0' || p[1] == '1')) {
            /* "00" and "01" are the py2 bools; their memo key is 0 or 1 */
            if (reserve_scratch(d, 1)) return "out of memory";
            d->scratch[0] = (char)p[1];
            a->kind = AV_BOOL;
            a->u = (uint64_t)(p[1] - '0');
            a->n = 1;
            return NULL;
        }
        return parse_decimal(d, p, n, a);
    case OP_LONG:
        return parse_decimal(d, p, n && p[n - 1] == 'L' ? n - 1 : n, a);
    case OP_FLOAT:
        return parse_float(d, p, n, a);
    case OP_STRING:
        return string_arg(p, n, a);
    case OP_UNICODE:
        return text_arg(TEXT_RAW_ESCAPE, p, n, a);
    default:                                        /* PERSID */
        return text_arg(TEXT_ESCAPED, p, n, a);
    }
}

/* GLOBAL and INST: "module name" from two escaped lines. */
static const char *global_arg(dis_t *d, dis_arg_t *a)
{
    const uint8_t *mod, *name;
    size_t nmod, nname;
    if (take_line(d, &mod, &nmod) || take_line(d, &name, &nname))
        return "no newline at the end of the argument";
    a->kind = AV_TEXT;
    a->text = text_iter(TEXT_ESCAPED, mod, nmod);
    a->text.next_p = name;
    a->text.next_end = name + nname;
    if (text_check(a->text, &a->quote)) return "invalid escape or non-ASCII byte in text";
    return NULL;
}

/* Bytes of a fixed argument, or of the length before a counted one. */
static size_t arg_width(int kind)
{
    switch (kind) {
    case ARG_U1: case ARG_LEN1: return 1;
    case ARG_U2: return 2;
    case ARG_I4: case ARG_U4: case ARG_LEN4: return 4;
    default: return 8;
    }
}

static const char *counted_arg(dis_t *d, int op, dis_arg_t *a)
{
    size_t width = arg_width(mpk_opinfo[op].arg);
    const uint8_t *p;
    uint64_t n;
    if (take(d, width, &p)) return "argument truncated";
    n = read_le(p, width);
    if ((op == OP_BINSTRING || op == OP_LONG4) && n >= 0x80000000u) return "negative byte count";
    if (take(d, n, &p)) return "argument longer than the rest of the input";
    switch (op) {
    case OP_SHORT_BINSTRING: case OP_BINSTRING:
        return text_arg(TEXT_LATIN1, p, (size_t)n, a);
    case OP_SHORT_BINUNICODE: case OP_BINUNICODE: case OP_BINUNICODE8:
        return text_arg(TEXT_UTF8, p, (size_t)n, a);
    case OP_LONG1: case OP_LONG4:
        return parse_long(d, p, (size_t)n, a);
    default:
        a->kind = op == OP_BYTEARRAY8 ? AV_BYTEARRAY : AV_BYTES;
        a->p = p;
        a->n = (size_t)n;
        return NULL;
    }
}

/* Reads and fully validates the argument of op; an error message or NULL. */
static const char *read_arg(dis_t *d, int op, dis_arg_t *a)
{
    int kind = mpk_opinfo[op].arg;
    const uint8_t *p;
    uint64_t v, bits;
    a->kind = AV_NONE;
    if (kind == ARG_NONE) return NULL;
    if (kind == ARG_LINE) return line_arg(d, op, a);
    if (kind == ARG_LINE2) return global_arg(d, a);
    if (kind == ARG_LEN1 || kind == ARG_LEN4 || kind == ARG_LEN8) return counted_arg(d, op, a);
    if (take(d, arg_width(kind), &p)) return "argument truncated";
    if (kind == ARG_F8) {                              /* big-endian */
        int i;
        for (i = 0, bits = 0; i < 8; i++) bits = (bits << 8) | p[i];
        memcpy(&a->x, &bits, sizeof a->x);
        a->kind = AV_FLOAT;
        return NULL;
    }
    v = read_le(p, arg_width(kind));
    if (kind == ARG_I4) {
        a->kind = AV_INT;
        a->i = v >= 0x80000000u ? (int64_t)v - 0x100000000 : (int64_t)v;
    } else {
        a->kind = AV_UINT;
        a->u = v;
    }
    return NULL;
}

static void put_arg(FILE *f, const dis_t *d, const dis_arg_t *a)
{
    char buf[MPK_FLOAT_REPR_MAX];
    switch (a->kind) {
    case AV_UINT: fprintf(f, "%llu", (unsigned long long)a->u); break;
    case AV_INT: fprintf(f, "%lld", (long long)a->i); break;
    case AV_BOOL: fputs(a->u ? "True" : "False", f); break;
    case AV_DECIMAL: fwrite(d->scratch, 1, a->n, f); break;
    case AV_FLOAT: fwrite(buf, 1, mpk_float_repr(a->x, buf), f); break;
    case AV_BYTES: put_bytes_repr(f, a->p, a->n, 0); break;
    case AV_BYTEARRAY:
        fputs("bytearray(", f);
        put_bytes_repr(f, a->p, a->n, 1);
        fputc(')', f);
        break;
    case AV_TEXT: put_str_repr(f, a->text, a->quote); break;
    default: break;
    }
}

/* ------------------------------------------------------------ one opcode */

/* The rest of "   12: q        BINPUT     3" after the offset: the opcode as
 * repr() shows it, the indentation of the open MARKs, the name, then the
 * argument and note. */
static void put_line(dis_t *d, int op, size_t level, const dis_arg_t *a, const char *note)
{
    FILE *f = d->out;
    const char *name = mpk_opinfo[op].name;
    size_t i, len = strlen(name);
    char code[8];
    if (op >= 0x80) snprintf(code, sizeof code, "\\x%02x", op);
    else { code[0] = (char)op; code[1] = 0; }
    fprintf(f, "%-4s ", code);
    for (i = 0; i < level; i++) fputs("    ", f);
    fputs(name, f);
    if (a->kind != AV_NONE || note[0]) {
        for (i = len; i < 10; i++) fputc(' ', f);
        if (a->kind != AV_NONE) { fputc(' ', f); put_arg(f, d, a); }
        if (note[0]) { fputc(' ', f); fputs(note, f); }
    }
    fputc('\n', f);
}

/* The memo key an opcode names. */
static memo_key_t memo_key(const dis_t *d, int op, const dis_arg_t *a)
{
    memo_key_t k;
    size_t i;
    k.text = NULL;
    k.len = 0;
    k.num = op == OP_MEMOIZE ? d->count : a->u;
    if (op != OP_PUT && op != OP_GET) return k;
    /* the canonical decimal text in scratch: a number if 19 digits or fewer */
    if (d->scratch[0] == '-' || a->n > 19) {
        k.text = d->scratch;
        k.len = a->n;
        return k;
    }
    for (k.num = 0, i = 0; i < a->n; i++) k.num = k.num * 10 + (uint64_t)(d->scratch[i] - '0');
    return k;
}

/* Checks a memo store as pickletools does; the error, or NULL. */
static const char *memo_store(dis_t *d, int op, const dis_arg_t *a, char *note, size_t note_size)
{
    memo_key_t k = memo_key(d, op, a);
    size_t i;
    if (op == OP_MEMOIZE) snprintf(note, note_size, "(as %llu)", (unsigned long long)d->count);
    if (memo_reserve(d)) return "out of memory";
    i = memo_slot(d, &k);
    if (d->slots[i].len) return "memo key already defined";
    if (d->depth == 0) return "stack is empty -- can't store into memo";
    if (top_is_mark(d)) return "can't store markobject in the memo";
    if (memo_add(d, i, &k)) return "out of memory";
    return NULL;
}

static int is_memo_store(int op)
{
    return op == OP_PUT || op == OP_BINPUT || op == OP_LONG_BINPUT || op == OP_MEMOIZE;
}

static int is_memo_fetch(int op)
{
    return op == OP_GET || op == OP_BINGET || op == OP_LONG_BINGET;
}

/* Checks, prints and applies one opcode whose argument is valid. */
static int dis_step(dis_t *d, int op, size_t pos, const dis_arg_t *a)
{
    effect_t e = stack_effect(op);
    size_t level = d->nmarks, pops = e.pops;
    char note[48] = "";
    const char *err = NULL;
    /* pickletools prints the offset first: the failures below that come before
     * the line (a lost MARK, an int repr() refuses) leave it on its own */
    fprintf(d->out, "%5llu: ", (unsigned long long)pos);
    if (mpk_opinfo[op].proto > d->maxproto) d->maxproto = mpk_opinfo[op].proto;
    if (e.mark == 1 || (op == OP_POP && top_is_mark(d))) {
        if (d->nmarks) {
            snprintf(note, sizeof note, "(MARK at %llu)", (unsigned long long)d->marks[--d->nmarks]);
            /* pickletools fails here (an IndexError) when an earlier opcode
             * already popped that MARK's object, before printing the line */
            if (d->nseg < 2) return fail(d, pos, "the MARK was popped off the stack earlier");
            d->depth -= d->seg[d->nseg - 1] + 1;
            d->nseg--;
            if (op == OP_POP) pops = 0;
        } else {
            err = "no MARK exists on stack";
            snprintf(note, sizeof note, "%s", err);
        }
    }
    if (is_memo_store(op)) {
        err = memo_store(d, op, a, note, sizeof note);
    } else if (is_memo_fetch(op)) {
        memo_key_t k = memo_key(d, op, a);
        if (!memo_has(d, &k)) err = "memo key has never been stored into";
    }
    if (a->repr_error) return fail(d, pos, a->repr_error);
    put_line(d, op, level, a, note);
    if (err) return fail(d, pos, err);
    if (d->depth < pops) return fail(d, pos, "tries to pop more items than the stack holds");
    stack_pop(d, pops);
    if (e.mark == 2 && push_mark(d, pos)) return fail(d, pos, "out of memory");
    d->seg[d->nseg - 1] += e.pushes;
    d->depth += e.pushes;
    return 0;
}

/* Disassembles up to and including STOP; 0, or -1 with d->err set. */
static int dis_run(dis_t *d)
{
    size_t pos = 0;
    for (;;) {
        dis_arg_t a;
        const char *msg;
        int op;
        pos = d->pos;
        if (pos >= d->n) return fail(d, pos, "pickle exhausted before seeing STOP");
        op = d->data[pos];
        if (!mpk_opinfo[op].name) return fail(d, pos, "unknown opcode");
        d->pos++;
        memset(&a, 0, sizeof a);
        msg = read_arg(d, op, &a);
        if (msg) return fail(d, pos, msg);
        if (dis_step(d, op, pos, &a)) return -1;
        if (op == OP_STOP) break;
    }
    fprintf(d->out, "highest protocol among opcodes = %d\n", d->maxproto);
    if (d->depth) return fail(d, pos, "stack not empty after STOP");
    return 0;
}

/* ------------------------------------------------------------ the command */

static void dis_usage(FILE *f)
{
    fputs("usage: mpickle dis [--help] [FILE]\n"
          "Prints one line per opcode of the pickle in FILE (default: standard input),\n"
          "exactly as Python's pickletools.dis does, then checks the stack and memo\n"
          "as pickletools does. Exit status: 0 success, 1 malformed pickle, 2 usage.\n", f);
}

static void dis_free(dis_t *d)
{
    free(d->seg);
    free(d->marks);
    free(d->slots);
    free(d->keys);
    free(d->scratch);
}

int cli_dis(int argc, char **argv)
{
    const char *path = NULL;
    uint8_t *data;
    size_t n;
    dis_t d;
    int i, rc, options = 1;
    for (i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (options && (!strcmp(s, "--help") || !strcmp(s, "-h"))) { dis_usage(stdout); return 0; }
        if (options && !strcmp(s, "--")) { options = 0; continue; }
        if ((options && s[0] == '-' && s[1]) || path) {
            fprintf(stderr, "mpickle: dis: unexpected argument '%s'\n", s);
            dis_usage(stderr);
            return 2;
        }
        path = s;
    }
    if (cli_read_file(path, &data, &n)) return 1;
    memset(&d, 0, sizeof d);
    d.data = data;
    d.n = n;
    d.out = stdout;
    d.maxproto = -1;
    d.seg = grow(NULL, &d.seg_cap, 1, sizeof *d.seg);
    if (!d.seg) { free(data); fputs("mpickle: dis: out of memory\n", stderr); return 1; }
    d.seg[0] = 0;
    d.nseg = 1;
    rc = dis_run(&d) ? 1 : 0;
    if (rc) {
        fflush(stdout);             /* the lines before the error come first */
        fprintf(stderr, "mpickle: dis: %s at offset %llu\n", d.err, (unsigned long long)d.err_at);
    }
    if (fflush(stdout) || ferror(stdout)) {
        fputs("mpickle: dis: error writing the output\n", stderr);
        rc = 1;
    }
    dis_free(&d);
    free(data);
    return rc;
}
