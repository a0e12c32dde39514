/* The optional C half of the text of numbers for --at (pointsio), loaded
   with ctypes. Two functions: gradcli_format (below: float64 rows straight
   to repr's text, with Ryu's digits) and gradcli_layout (orjson's text of a
   float64 array, "[x,y,...]", as CSV rows in the layout of Python's repr:
   the C twin of pointsio._layout, same contract, same bytes; the tests
   compare all of them with repr over every magnitude).

   It does in one pass over the bytes what the NumPy version does with index
   arrays: every k-th separator becomes a newline (or, with marks, the j-th
   separator of a row becomes marks[j-1], for JSON lines), "null" (an error
   row) becomes an empty field, "0.0000ddd" becomes "d.dde-05", a one-digit
   exponent gets its 0 ("1e-7" -> "1e-07") and a positive one its sign
   ("1e16" -> "1e+16", for orjson before 3.11). pointsio loads it with ctypes,
   which lets go of the GIL during the call, so it runs beside the threads
   that read and write. It needs no Python headers: the PyInit below only
   lets setuptools build it as an extension module; it is never imported.

   Measured (blocks as --at makes them): 1e6 rows x 6 columns, 121 MB of
   text, in 0.08 s, where the NumPy version takes 0.28 s; 2e5 rows x 72
   columns, 310 MB with 22% of the numbers edited, in 0.23 s against 1.8 s. */

#include <string.h>

/* out: room for len + 4 * (number of fields) bytes. Returns the bytes
   written, or -1 if the text is not "[" ... "]". */
long gradcli_layout(const unsigned char *in, long len, long k, const unsigned char *marks,
                    unsigned char *out)
{
    if (len < 2 || in[0] != '[' || in[len - 1] != ']' || k < 1)
        return -1;
    const unsigned char *p = in + 1, *end = in + len - 1;    /* between the brackets */
    unsigned char *o = out;
    long j = 0;                                              /* field of the row */
    if (p == end)
        return 0;
    for (;;) {
        const unsigned char *t = memchr(p, ',', (size_t)(end - p));
        if (t == NULL)
            t = end;
        long n = (long)(t - p);
        if (n == 4 && p[0] == 'n') {
            /* null: an empty field */
        } else {
            long neg = (p[0] == '-');
            const unsigned char *q = p + neg;
            long m = n - neg;
            if (m >= 7 && q[0] == '0' && q[1] == '.' && q[2] == '0' && q[3] == '0'
                && q[4] == '0' && q[5] == '0' && q[6] != '0') {
                /* 0.0000ddd -> d.dde-05 */
                if (neg)
                    *o++ = '-';
                *o++ = q[6];
                if (m > 7) {
                    *o++ = '.';
                    memcpy(o, q + 7, (size_t)(m - 7));
                    o += m - 7;
                }
                memcpy(o, "e-05", 4);
                o += 4;
            } else {
                long e = -1;
                for (long i = n - 1; i >= 1 && i >= n - 5; i--)
                    if (p[i] == 'e') {
                        e = i;
                        break;
                    }
                if (e < 0) {
                    memcpy(o, p, (size_t)n);
                    o += n;
                } else {
                    memcpy(o, p, (size_t)(e + 1));               /* through the 'e' */
                    o += e + 1;
                    const unsigned char *x = p + e + 1;
                    long xl = n - e - 1;
                    if (xl > 0 && x[0] == '-') {
                        *o++ = '-';
                        x++;
                        xl--;
                    } else {
                        *o++ = '+';
                        if (xl > 0 && x[0] == '+') {
                            x++;
                            xl--;
                        }
                    }
                    if (xl == 1)
                        *o++ = '0';
                    memcpy(o, x, (size_t)xl);
                    o += xl;
                }
            }
        }
        j++;
        if (j == k) {
            *o++ = '\n';
            j = 0;
        } else {
            *o++ = marks ? marks[j - 1] : ',';
        }
        if (t == end)
            break;
        p = t + 1;
    }
    return (long)(o - out);
}

/* ------------------------------------------------------------------------
   gradcli_format: float64 rows straight to text in repr's layout, with the
   shortest digits from Ryu (Ulf Adams, ryu/d2s.c, Boost licence, vendored
   unchanged in ryu/; the same algorithm orjson uses), with no Python and
   no GIL: 42 ns a number here, against 33 ns for Ryu's own d2s (orjson's
   text plus the layout below cost about the same, holding the GIL for the
   first part). Python's repr rule
   (format_float_short, 'r'): with the digits d1..dn and the decimal point
   after decpt of them, fixed notation when -4 < decpt <= 16 ("0.0001",
   "123.0", "9999999999999998.0"), else "d.ddde-05", "1e+16"; NaN is an
   empty field (an error row), infinities "inf" and "-inf". */

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
