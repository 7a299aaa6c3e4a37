package backend

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Number parsing and formatting with C's rules, as Redis uses them.

// parseFloatArg parses a double argument (a score, an increment, a weight) as Redis's
// string2d does: strtod over the whole argument, with no leading space,
// no overflow and no underflow to zero (a subnormal result is fine).
func parseFloatArg(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) || bytes.IndexByte(b, 0) >= 0 {
		return 0, false
	}
	f, ok := zstrtod(b)
	if !ok {
		return 0, false
	}
	s := strings.TrimLeft(bstr(b), "+-")
	if math.IsInf(f, 0) && s[0] != 'i' && s[0] != 'I' {
		return 0, false // overflow
	}
	if f == 0 {
		// Underflow: a mantissa with a non-zero digit that came out 0.
		hex := len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
		if hex {
			s = s[2:]
		}
		for i := 0; i < len(s); i++ {
			ch := s[i]
			if (!hex && (ch == 'e' || ch == 'E')) || (hex && (ch == 'p' || ch == 'P')) {
				break
			}
			if ('1' <= ch && ch <= '9') || (hex && ('a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F')) {
				return 0, false
			}
		}
	}
	return f, true
}

// zstrtod parses b as C's strtod would when it must consume all of b:
// leading white space is allowed, an empty string is 0, overflow gives
// ±inf, hex needs no exponent, and a NUL ends the string. NaN is refused.
func zstrtod(b []byte) (float64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	i := 0
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	s := bstr(b[i:])
	if s == "" || strings.IndexByte(s, '_') >= 0 {
		return 0, false
	}
	digits := strings.TrimLeft(s, "+-")
	if len(digits) > 1 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') && !strings.ContainsAny(digits, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// Long double arithmetic for HINCRBYFLOAT. Redis computes it in C's long
// double, which on x86-64 is the x87 80-bit format (64-bit mantissa,
// exponents down to 2^-16445 with denormals, overflow at 2^16384), parses
// with strtold and prints with "%.17Lf". Emulating that exactly is what
// makes 0.1 + 0.2 answer "0.3" as Redis does.

const (
	ld80Prec      = 64
	ld80MaxExp    = 16384  // finite values have MantExp <= this
	ld80MinNormal = -16381 // normal values have MantExp >= this
	ld80Denorm    = 16445  // the smallest denormal is 2^-16445
	ld80MaxChars  = 5 * 1024
)

// ld80Parse parses s as Redis's string2ld does: strtold syntax (decimal,
// hexadecimal, inf, infinity), the whole string, no leading space, not NaN,
// no overflow and no underflow to zero.
func ld80Parse(s string) (*big.Float, bool) {
	if len(s) == 0 || len(s) >= ld80MaxChars || isSpaceByte(s[0]) {
		return nil, false
	}
	neg := false
	rest := s
	if rest[0] == '+' || rest[0] == '-' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if strings.EqualFold(rest, "inf") || strings.EqualFold(rest, "infinity") {
		return new(big.Float).SetInf(neg), true
	}
	var num, den *big.Int
	var ok bool
	if len(rest) > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X') {
		num, den, ok = ld80ParseHex(rest[2:])
	} else {
		num, den, ok = ld80ParseDec(rest)
	}
	if !ok {
		return nil, false
	}
	f, ok := ld80Round(num, den)
	if !ok {
		return nil, false
	}
	if neg {
		f.Neg(f)
	}
	return f, true
}

// ld80Digits splits a mantissa with an optional point and an optional
// exponent introduced by one of expChars: it returns the digits, how many
// of them follow the point, and the exponent.
func ld80Digits(s string, isDigit func(byte) bool, expChars string) (digits string, frac int, exp int64, ok bool) {
	var b strings.Builder
	i, seenPoint, n := 0, false, 0
	for ; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			b.WriteByte(s[i])
			n++
			if seenPoint {
				frac++
			}
		case s[i] == '.' && !seenPoint:
			seenPoint = true
		default:
			goto mantissaDone
		}
	}
mantissaDone:
	if n == 0 {
		return "", 0, 0, false
	}
	if i < len(s) {
		if strings.IndexByte(expChars, s[i]) < 0 {
			return "", 0, 0, false
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return "", 0, 0, false
		}
		for ; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return "", 0, 0, false
			}
			if exp < 1e12 {
				exp = exp*10 + int64(s[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	return b.String(), frac, exp, true
}

func ld80IsDec(c byte) bool { return '0' <= c && c <= '9' }

func ld80IsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ld80ParseDec turns decimal text into an exact fraction; a value far out
// of range is refused before any big arithmetic.
func ld80ParseDec(s string) (num, den *big.Int, ok bool) {
	digits, frac, exp, ok := ld80Digits(s, ld80IsDec, "eE")
	if !ok {
		return nil, nil, false
	}
	digits = strings.TrimLeft(digits, "0")
	exp10 := exp - int64(frac)
	if digits == "" {
		return new(big.Int), big.NewInt(1), true
	}
	trimmed := strings.TrimRight(digits, "0")
	exp10 += int64(len(digits) - len(trimmed))
	digits = trimmed
	nd := int64(len(digits))
	if nd-1+exp10 > 4933 {
		return nil, nil, false // overflow
	}
	if nd+exp10 < -4952 {
		return nil, nil, false // underflow to zero
	}
	num, _ = new(big.Int).SetString(digits, 10)
	den = big.NewInt(1)
	ten := big.NewInt(10)
	if exp10 >= 0 {
		num.Mul(num, new(big.Int).Exp(ten, big.NewInt(exp10), nil))
	} else {
		den.Exp(ten, big.NewInt(-exp10), nil)
	}
	return num, den, true
}

// ld80ParseHex turns the hexadecimal text after "0x" into an exact fraction.
func ld80ParseHex(s string) (num, den *big.Int, ok bool) {
	digits, frac, exp, ok := ld80Digits(s, ld80IsHex, "pP")
	if !ok {
		return nil, nil, false
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return new(big.Int), big.NewInt(1), true
	}
	num, _ = new(big.Int).SetString(digits, 16)
	exp2 := exp - 4*int64(frac)
	top := int64(num.BitLen()) + exp2 // 2^(top-1) <= value < 2^top
	if top > ld80MaxExp+1 || top < -ld80Denorm-1 {
		return nil, nil, false // far out of range
	}
	den = big.NewInt(1)
	if exp2 >= 0 {
		num.Lsh(num, uint(exp2))
	} else {
		den.Lsh(den, uint(-exp2))
	}
	return num, den, true
}

// ld80Round rounds num/den (num >= 0) to the nearest long double, ties to
// even; it fails on overflow and on a non-zero value that rounds to zero.
func ld80Round(num, den *big.Int) (*big.Float, bool) {
	if num.Sign() == 0 {
		return new(big.Float).SetPrec(ld80Prec), true
	}
	f := new(big.Float).SetPrec(ld80Prec).SetRat(new(big.Rat).SetFrac(num, den))
	exp := f.MantExp(nil)
	if exp > ld80MaxExp {
		return nil, false
	}
	if exp >= ld80MinNormal {
		return f, true
	}
	// Denormal: the grid is 2^-16445, fewer mantissa bits are left.
	q, r := new(big.Int).QuoRem(new(big.Int).Lsh(num, ld80Denorm), den, new(big.Int))
	if c := new(big.Int).Lsh(r, 1).Cmp(den); c > 0 || (c == 0 && q.Bit(0) == 1) {
		q.Add(q, big.NewInt(1))
	}
	if q.Sign() == 0 {
		return nil, false
	}
	f.SetInt(q)
	f.SetMantExp(f, -ld80Denorm)
	return f, true
}

// ld80Add returns a+b rounded to a long double; false if it is infinite.
func ld80Add(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	z := new(big.Float).SetPrec(ld80Prec).Add(a, b)
	if z.Sign() != 0 && z.MantExp(nil) > ld80MaxExp {
		return nil, false
	}
	return z, true
}

// ld80FormatHuman formats like Redis's ld2string with LD_STR_HUMAN:
// "%.17Lf" with the trailing zeros (and point) removed, "-0" as "0".
func ld80FormatHuman(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// parseLongDouble parses an argument with Redis's string2ld rules (strtold)
// and returns it as the nearest double.
func parseLongDouble(b []byte) (float64, bool) {
	f, ok := ld80Parse(bstr(b))
	if !ok {
		return 0, false
	}
	v, _ := f.Float64()
	return v, true
}
