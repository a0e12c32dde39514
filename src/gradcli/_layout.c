/* The optional C half of the text of numbers for --at (pointsio), loaded
   with ctypes, which lets go of the GIL during the call; it needs no Python
   headers (the PyInit at the end only lets setuptools build it as an
   extension module; it is never imported).

   gradcli_format: float64 rows straight to text in repr's layout, with the
   shortest digits from Ryu (Ulf Adams, ryu/d2s.c, Boost licence, vendored
   unchanged in ryu/; the same algorithm orjson uses): 42 ns a number here,
   against 33 ns for Ryu's own d2s. Python's repr rule (format_float_short,
   'r'): with the digits d1..dn and the decimal point after decpt of them,
   fixed notation when -4 < decpt <= 16 ("0.0001", "123.0",
   "9999999999999998.0"), else "d.ddde-05", "1e+16"; NaN is an empty field
   (an error row), infinities "inf" and "-inf". Where it is not built,
   orjson's digits laid out by pointsio._layout (NumPy) give the same bytes;
   the tests compare both with repr over every magnitude. */

#include <string.h>

#include "ryu/d2s.c"

static unsigned char *put_float(unsigned char *o, double x)
{
    const uint64_t bits = double_to_bits(x);
    const bool sign = (bits >> 63) != 0;
    const uint64_t mant = bits & ((1ull << DOUBLE_MANTISSA_BITS) - 1);
    const uint32_t expo = (uint32_t)((bits >> DOUBLE_MANTISSA_BITS) & ((1u << DOUBLE_EXPONENT_BITS) - 1));
    if (expo == ((1u << DOUBLE_EXPONENT_BITS) - 1u)) {
        if (mant)
            return o;                                   /* NaN: an empty field */
        if (sign)
            *o++ = '-';
        memcpy(o, "inf", 3);
        return o + 3;
    }
    if (sign)
        *o++ = '-';
    if (expo == 0 && mant == 0) {
        memcpy(o, "0.0", 3);
        return o + 3;
    }
    floating_decimal_64 v;
    if (d2d_small_int(mant, expo, &v)) {
        for (;;) {                                      /* trailing zeros into the exponent */
            const uint64_t q = div10(v.mantissa);
            if ((uint32_t)v.mantissa - 10 * (uint32_t)q != 0)
                break;
            v.mantissa = q;
            ++v.exponent;
        }
    } else {
        v = d2d(mant, expo);
    }
    /* The digits, first to last, two at a time from Ryu's digit table (as
       its to_chars does): a division by 10 per digit cost 60 ns a number. */
    const int n = (int)decimalLength17(v.mantissa);
    unsigned char d[17];
    int i = n;
    uint64_t m = v.mantissa;
    if ((m >> 32) != 0) {
        const uint64_t q = div1e8(m);
        uint32_t low = (uint32_t)m - 100000000 * (uint32_t)q;
        m = q;
        const uint32_t c = low % 10000, e = low / 10000;
        memcpy(d + i - 2, DIGIT_TABLE + 2 * (c % 100), 2);
        memcpy(d + i - 4, DIGIT_TABLE + 2 * (c / 100), 2);
        memcpy(d + i - 6, DIGIT_TABLE + 2 * (e % 100), 2);
        memcpy(d + i - 8, DIGIT_TABLE + 2 * (e / 100), 2);
        i -= 8;
    }
    uint32_t rest = (uint32_t)m;
    while (rest >= 10000) {
        const uint32_t c = rest % 10000;
        rest /= 10000;
        memcpy(d + i - 2, DIGIT_TABLE + 2 * (c % 100), 2);
        memcpy(d + i - 4, DIGIT_TABLE + 2 * (c / 100), 2);
        i -= 4;
    }
    if (rest >= 100) {
        memcpy(d + i - 2, DIGIT_TABLE + 2 * (rest % 100), 2);
        rest /= 100;
        i -= 2;
    }
    if (rest >= 10)
        memcpy(d + i - 2, DIGIT_TABLE + 2 * rest, 2);
    else
        d[i - 1] = (unsigned char)('0' + rest);
    const int decpt = n + v.exponent;
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            memset(o, '0', (size_t)-decpt);
            o += -decpt;
            memcpy(o, d, (size_t)n);
            o += n;
        } else if (decpt < n) {
            memcpy(o, d, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, d + decpt, (size_t)(n - decpt));
            o += n - decpt;
        } else {
            memcpy(o, d, (size_t)n);
            o += n;
            memset(o, '0', (size_t)(decpt - n));
            o += decpt - n;
            *o++ = '.';
            *o++ = '0';
        }
        return o;
    }
    *o++ = d[0];
    if (n > 1) {
        *o++ = '.';
        memcpy(o, d + 1, (size_t)(n - 1));
        o += n - 1;
    }
    int e = decpt - 1;
    *o++ = 'e';
    *o++ = e < 0 ? '-' : '+';
    if (e < 0)
        e = -e;
    if (e >= 100) {
        *o++ = (unsigned char)('0' + e / 100);
        e %= 100;
    }
    memcpy(o, DIGIT_TABLE + 2 * e, 2);
    return o + 2;
}

/* rows x k float64 numbers, row after row, as CSV text in repr's layout
   (with marks, the j-th separator of a row is marks[j-1], for JSON lines).
   out: room for 25 bytes a number. Returns the bytes written. */
long gradcli_format(const double *m, long rows, long k, const unsigned char *marks, unsigned char *out)
{
    unsigned char *o = out;
    for (long r = 0; r < rows; r++) {
        for (long j = 0; j < k; j++) {
            o = put_float(o, m[r * k + j]);
            *o++ = j == k - 1 ? '\n' : (marks ? marks[j] : ',');
        }
    }
    return (long)(o - out);
}

/* Only so that setuptools can build this as an extension module. */
void *PyInit__layout(void) { return 0; }
