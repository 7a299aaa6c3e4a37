package backend

import (
	"math"
	"strconv"

	"github.com/lagwise/lagwise/backend/resp"
)

// Argument parsing with Redis's exact rules and error replies. Each parseX
// method of Client replies the error itself and returns ok == false.

// parseIntArg parses a strict integer (Redis's string2ll).
func parseIntArg(b []byte) (int64, bool) { return resp.ParseInt(b) }

// parseFloatArg parses a double as Redis's getDoubleFromObject does
// (strtod): decimal or exponent notation, "inf"/"-inf"/"+inf", no NaN, no
// leading or trailing space.
func parseFloatArg(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) || isSpaceByte(b[len(b)-1]) {
		return 0, false
	}
	s := bstr(b)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			// strtod gives ±HUGE_VAL for overflow and Redis accepts it only
			// when the text says inf; an out-of-range literal is an error.
			return 0, false
		}
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	// strconv accepts forms strtod would not (underscores, "0x" floats with
	// 'p' exponents are fine for strtod too); reject underscores.
	for _, c := range b {
		if c == '_' {
			return 0, false
		}
	}
	return f, true
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// intArg parses argument i as an integer, replying the standard error.
func (c *Client) intArg(i int) (int64, bool) {
	n, ok := parseIntArg(c.argv[i])
	if !ok {
		c.errorReply(msgNotInt)
	}
	return n, ok
}

// floatArg parses argument i as a double, replying the standard error.
func (c *Client) floatArg(i int) (float64, bool) {
	f, ok := parseFloatArg(c.argv[i])
	if !ok {
		c.errorReply(msgNotFloat)
	}
	return f, ok
}

// eq reports whether a equals the lower-case word w, ignoring ASCII case.
func eq(a []byte, w string) bool {
	if len(a) != len(w) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ch := a[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != w[i] {
			return false
		}
	}
	return true
}

// formatFloatHuman formats a double as Redis replies INCRBYFLOAT and
// HINCRBYFLOAT: fixed point, no exponent, no trailing zeros.
func formatFloatHuman(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}
