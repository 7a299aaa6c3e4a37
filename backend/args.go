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
