package resp

import (
	"math"
	"strconv"
)

// The Append functions encode one RESP2 reply element onto b and return the
// extended slice, in the style of strconv.Append*. A server appends every
// reply of a batch to one per-connection slice and writes it once.

// AppendOK appends +OK.
func AppendOK(b []byte) []byte { return append(b, "+OK\r\n"...) }

// AppendSimple appends a status reply: +s.
func AppendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendError appends an error reply. msg is the whole message including its
// code ("ERR ...", "WRONGTYPE ..."); CR and LF in it are replaced by spaces,
// as Redis does, so the reply stays one line.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, '\r', '\n')
}

// AppendInt appends an integer reply.
func AppendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendBulk appends a bulk string.
func AppendBulk(b []byte, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendBulkString appends a bulk string given as a string.
func AppendBulkString(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendBulkInt appends n as a bulk string (as Redis replies INCRBYFLOAT, or
// array members that are numbers).
func AppendBulkInt(b []byte, n int64) []byte {
	var tmp [24]byte
	return AppendBulk(b, strconv.AppendInt(tmp[:0], n, 10))
}

// AppendBulkFloat appends f as a bulk string in Redis's "%.17g" form, the way
// it replies scores (ZSCORE, ZINCRBY, WITHSCORES).
func AppendBulkFloat(b []byte, f float64) []byte {
	var tmp [40]byte
	return AppendBulk(b, FormatScore(tmp[:0], f))
}

// FormatScore formats a double the way Redis 7.0 replies and stores scores
// (addReplyDouble / "%.17g"): "inf", "-inf", and the shortest of %.17g.
func FormatScore(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return appendG17(b, f)
}

// appendG17 formats f like C's printf("%.17g").
func appendG17(b []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	// %g: exponent form when exp < -4 or exp >= precision.
	e := strconv.AppendFloat(nil, f, 'e', 16, 64)
	// e looks like "-1.2345678901234567e+05"
	ei := len(e) - 1
	for e[ei] != 'e' {
		ei--
	}
	exp, _ := strconv.Atoi(string(e[ei+1:]))
	if exp < -4 || exp >= 17 {
		mant := trimZeros(e[:ei])
		b = append(b, mant...)
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	s := strconv.AppendFloat(nil, f, 'f', 16-exp, 64)
	return append(b, trimZeros(s)...)
}

func trimZeros(s []byte) []byte {
	dot := -1
	for i, c := range s {
		if c == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return s
	}
	end := len(s)
	for end > dot+1 && s[end-1] == '0' {
		end--
	}
	if end == dot+1 {
		end = dot
	}
	return s[:end]
}

// AppendNull appends the RESP2 null bulk string ($-1).
func AppendNull(b []byte) []byte { return append(b, "$-1\r\n"...) }

// AppendNullArray appends the RESP2 null array (*-1).
func AppendNullArray(b []byte) []byte { return append(b, "*-1\r\n"...) }

// AppendArray appends the header of an array of n elements.
func AppendArray(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

// AppendCommand appends a request as an array of bulk strings, the form in
// which commands travel to servers and replicas.
func AppendCommand(b []byte, args ...[]byte) []byte {
	b = AppendArray(b, len(args))
	for _, a := range args {
		b = AppendBulk(b, a)
	}
	return b
}
