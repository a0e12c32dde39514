"""Writes src/gradcli/_pow10.h, the table of the C half's shortest digits
(src/gradcli/_layout.c): for every decimal exponent k that a double needs
(-324 <= k <= 292), g(k) = floor(10**-k * 2**(125 - L)) + 1 with
L = floor(log2(10**-k)), so that 2**125 <= g(k) < 2**126, split in two
63-bit halves. This is the table that Schubfach (Raffaello Giulietti, "The
Schubfach way to render doubles", 2020) asks for, computed here with
Python's exact integers. The C code computes L from k with a multiply and a
shift; this script checks that formula against the exact L over the whole
range. Also the 200 characters "00" to "99" that write digits two at a time.

    python tools/pow10_table.py > src/gradcli/_pow10.h

tests/test_points.py runs it and compares its output with the file.
"""

from __future__ import annotations

K_MIN, K_MAX = -324, 292


def floor_log2_pow10(e: int) -> int:
    """floor(log2(10**e)), exactly."""
    if e >= 0:
        return (10 ** e).bit_length() - 1
    return -((10 ** -e - 1).bit_length())      # 10**-e is never a power of two for -e > 0


def g(k: int) -> int:
    L = floor_log2_pow10(-k)
    s = 125 - L
    if k <= 0:
        value = 10 ** -k << s if s >= 0 else (10 ** -k) >> -s
    else:
        value = (1 << s) // 10 ** k
    assert 1 << 125 <= value < 1 << 126
    return value + 1


def main() -> str:
    for e in range(-K_MAX - 1, -K_MIN + 2):
        assert (e * 913124641741) >> 38 == floor_log2_pow10(e), e
    lines = ["/* Written by tools/pow10_table.py: do not edit. g(k) = floor(10**-k * 2**(125 - L)) + 1,",
             "   L = floor(log2(10**-k)), as {high 63 bits, low 63 bits}, for k = -324 .. 292. */",
             f"#define POW10_K_MIN ({K_MIN})",
             "static const uint64_t POW10_G[][2] = {"]
    for k in range(K_MIN, K_MAX + 1):
        v = g(k)
        lines.append(f"    {{0x{v >> 63:016x}u, 0x{v & ((1 << 63) - 1):016x}u}},  /* k = {k} */")
    lines.append("};")
    pairs = "".join(f"{i:02d}" for i in range(100))
    lines.append(f'static const char DIGIT_PAIRS[201] = "{pairs}";')
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main(), end="")
