/* The optional C half of the text of numbers for --at (pointsio), loaded
   with ctypes, which lets go of the GIL during the call; it needs no Python
   headers (the PyInit at the end only lets setuptools build it as an
   extension module; it is never imported).

   gradcli_format: float64 rows straight to text in repr's layout, with the
   shortest digits that read back to the same double, the nearest of them
   to it (what repr gives). The digits come from this file's implementation
   of Schubfach (Raffaello Giulietti, "The Schubfach way to render doubles",
   2020): one 128-bit product per bound with a power of ten from the table
   _pow10.h (written by tools/pow10_table.py with Python's exact integers),
   rounded to odd, then at most two candidates. Python's repr rule
   (format_float_short, 'r'): with the digits d1..dn and the decimal point
   after decpt of them, fixed notation when -4 < decpt <= 16 ("0.0001",
   "123.0", "9999999999999998.0"), else "d.ddde-05", "1e+16"; NaN is an
   empty field (an error row), infinities "inf" and "-inf". Where it is not
   built, orjson's digits laid out by pointsio._layout (NumPy) give the same
   bytes; the tests compare both with repr over every magnitude and on
   random bit patterns. */

#include <stdint.h>
#include <string.h>

#include "_pow10.h"

#define MASK63 ((UINT64_C(1) << 63) - 1)
#define C_MIN (UINT64_C(1) << 52)          /* the hidden bit */
#define Q_MIN (-1074)                      /* the exponent of the least subnormal */

/* floor(x / 2**s) for any sign (a right shift of a negative int is the
   compiler's choice in C). */
static inline int64_t floor_shift(int64_t x, int s) { return x >= 0 ? x >> s : ~((~x) >> s); }
static inline int flog10pow2(int64_t q) { return (int)floor_shift(q * 661971961083LL, 41); }
static inline int flog10_three_quarters_pow2(int64_t q)
{
    return (int)floor_shift(q * 661971961083LL - 274743187321LL, 41);
}
static inline int flog2pow10(int64_t e) { return (int)floor_shift(e * 913124641741LL, 38); }

static inline uint64_t mul_high(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

/* g * cp / 2**127 rounded to odd: the integer part, with its last bit set
   when anything is left over. */
static inline uint64_t round_odd(uint64_t g1, uint64_t g0, uint64_t cp)
{
    const unsigned __int128 y = (unsigned __int128)g1 * cp;
    const uint64_t x1 = mul_high(g0, cp);
    const uint64_t z = ((uint64_t)y >> 1) + x1;
    const uint64_t integer = (uint64_t)(y >> 64) + (z >> 63);
    return integer | (((z & MASK63) + MASK63) >> 63);
}

/* The shortest decimal f * 10**e in the rounding interval of c * 2**q
   (its ends in when c is even), the nearest to it when there are two. */
static uint64_t shortest(int q, uint64_t c, int *e)
{
    const uint64_t odd = c & 1;
    const uint64_t cb = c << 2, cbr = cb + 2;
    uint64_t cbl;
    int k;
    if (c != C_MIN || q == Q_MIN) {
        cbl = cb - 2;
        k = flog10pow2(q);
    } else {                                /* a power of two: the gap below is half the gap above */
        cbl = cb - 1;
        k = flog10_three_quarters_pow2(q);
    }
    const int h = q + flog2pow10(-k) + 2;
    const uint64_t g1 = POW10_G[k - POW10_K_MIN][0], g0 = POW10_G[k - POW10_K_MIN][1];
    const uint64_t vb = round_odd(g1, g0, cb << h);
    const uint64_t vbl = round_odd(g1, g0, cbl << h);
    const uint64_t vbr = round_odd(g1, g0, cbr << h);
    const uint64_t s = vb >> 2;
    *e = k;
    {                                       /* one digit fewer, if a multiple of ten is inside */
        const uint64_t sp10 = 10 * mul_high(s, UINT64_C(1844674407370955168));    /* 10 * (s / 10) */
        const uint64_t tp10 = sp10 + 10;
        const int upin = vbl + odd <= sp10 << 2;
        const int wpin = (tp10 << 2) + odd <= vbr;
        if (upin != wpin)
            return upin ? sp10 : tp10;
    }
    const uint64_t t = s + 1;
    const int uin = vbl + odd <= s << 2;
    const int win = (t << 2) + odd <= vbr;
    if (uin != win)
        return uin ? s : t;
    const int64_t cmp = (int64_t)(vb - ((s + t) << 1));                /* both inside: the nearer */
    return cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t;
}

static inline int digit_count(uint64_t m)
{
    static const uint64_t ten_to[17] = {
        UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000), UINT64_C(100000),
        UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000),
        UINT64_C(10000000000), UINT64_C(100000000000), UINT64_C(1000000000000),
        UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
        UINT64_C(10000000000000000)};
    int n = 17;                             /* most results of arithmetic have 16 or 17 digits */
    while (n > 1 && m < ten_to[n - 1])
        n--;
    return n;
}

static unsigned char *put_float(unsigned char *o, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    const uint64_t frac = bits & (C_MIN - 1);
    const int biased = (int)((bits >> 52) & 0x7ff);
    if (biased == 0x7ff) {
        if (frac)
            return o;                                   /* NaN: an empty field */
        if (bits >> 63)
            *o++ = '-';
        memcpy(o, "inf", 3);
        return o + 3;
    }
    if (bits >> 63)
        *o++ = '-';
    if (biased == 0 && frac == 0) {
        memcpy(o, "0.0", 3);
        return o + 3;
    }
    uint64_t m;
    int exp10 = 0;
    if (biased != 0) {
        const int mq = 1075 - biased;                   /* x = c * 2**-mq */
        const uint64_t c = C_MIN | frac;
        if (0 < mq && mq < 53 && ((c >> mq) << mq) == c)
            m = c >> mq;                                /* an integer below 2**53: its own digits */
        else
            m = shortest(-mq, c, &exp10);
    } else {
        m = shortest(Q_MIN, frac, &exp10);          /* a subnormal */
    }
    while (m % 10 == 0) {                               /* trailing zeros into the exponent */
        m /= 10;
        exp10++;
    }
    /* The digits, last to first, two at a time (a division by ten per digit
       cost 60 ns a number). */
    const int n = digit_count(m);
    unsigned char d[20];
    int i = n;
    while (m >= 100000000) {                            /* eight digits in 32-bit arithmetic */
        const uint32_t low = (uint32_t)(m % 100000000), high = low / 10000, rest = low % 10000;
        m /= 100000000;
        memcpy(d + i - 2, DIGIT_PAIRS + 2 * (rest % 100), 2);
        memcpy(d + i - 4, DIGIT_PAIRS + 2 * (rest / 100), 2);
        memcpy(d + i - 6, DIGIT_PAIRS + 2 * (high % 100), 2);
        memcpy(d + i - 8, DIGIT_PAIRS + 2 * (high / 100), 2);
        i -= 8;
    }
    uint32_t r = (uint32_t)m;
    while (r >= 100) {
        memcpy(d + i - 2, DIGIT_PAIRS + 2 * (r % 100), 2);
        r /= 100;
        i -= 2;
    }
    if (r >= 10)
        memcpy(d + i - 2, DIGIT_PAIRS + 2 * r, 2);
    else
        d[i - 1] = (unsigned char)('0' + r);
    const int decpt = n + exp10;
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
    memcpy(o, DIGIT_PAIRS + 2 * e, 2);
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
