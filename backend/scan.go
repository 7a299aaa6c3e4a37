package backend

import (
	"bytes"
	"math"
)

// parseScanCursor parses a SCAN-family cursor as Redis does with strtoul
// (base 10) on the C string: an optional sign (a negative number wraps),
// decimal digits, nothing else, with anything from a NUL byte on ignored;
// an empty string is cursor 0.
func parseScanCursor(b []byte) (uint64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	digits := b
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		digits = b[1:]
	}
	if len(digits) == 0 {
		return 0, false
	}
	var v uint64
	for _, ch := range digits {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanCursor parses the cursor argument argv[i], replying the error
// itself.
func (c *Client) scanCursor(i int) (uint64, bool) {
	cursor, ok := parseScanCursor(c.argv[i])
	if !ok {
		c.errorReply("ERR invalid cursor")
	}
	return cursor, ok
}

// scanOpts are the options of SCAN, HSCAN, SSCAN and ZSCAN.
type scanOpts struct {
	count   int
	pattern string
	usePat  bool   // a MATCH other than "*" was given
	typ     []byte // the TYPE of SCAN, nil if not given
}

func (o *scanOpts) matches(s string) bool { return !o.usePat || globMatch(o.pattern, s, false) }

// scanOptions parses [MATCH pattern] [COUNT count] (and [TYPE type] if
// withType) from argv[from:] as Redis's scanGenericCommand does, replying
// the error itself. COUNT is capped at MaxInt32.
func (c *Client) scanOptions(from int, withType bool) (scanOpts, bool) {
	o := scanOpts{count: 10}
	argv := c.argv
	for i := from; i < len(argv); i += 2 {
		more := i+1 < len(argv)
		switch {
		case eq(argv[i], "count") && more:
			n, ok := c.intArg(i + 1)
			if !ok {
				return o, false
			}
			if n < 1 {
				c.syntaxErr()
				return o, false
			}
			o.count = int(min(n, math.MaxInt32))
		case eq(argv[i], "match") && more:
			o.pattern = string(argv[i+1])
			o.usePat = o.pattern != "*"
		case withType && eq(argv[i], "type") && more:
			o.typ = argv[i+1]
		default:
			c.syntaxErr()
			return o, false
		}
	}
	return o, true
}
