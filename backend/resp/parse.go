// Package resp parses Redis requests and builds RESP2 replies.
//
// The parser is a pure function over a byte slice: it never reads from a
// socket, so it can be fuzzed and benchmarked on its own. The slices it
// returns alias the input buffer; they are valid only until the caller
// reuses or discards that part of the buffer.
package resp

import "bytes"

// InlineMax is the longest inline request (and the longest length line of a
// multibulk request) accepted before the client is told it sent garbage.
// Redis calls it PROTO_INLINE_MAX_SIZE.
const InlineMax = 64 * 1024

// MaxMultibulk is the largest element count of a request array. Redis checks
// against INT_MAX; we use its protocol's 1024*1024*1024 ceiling (argv memory
// is then bounded by the query buffer limit).
const MaxMultibulk = 1024 * 1024 * 1024

// ProtocolError is a malformed request. The message is Redis's own text,
// without the "ERR " prefix; after replying it the server closes the
// connection, as Redis does.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

var (
	errInlineTooBig     = &ProtocolError{"too big inline request"}
	errMbulkTooBig      = &ProtocolError{"too big mbulk count string"}
	errBulkTooBig       = &ProtocolError{"too big bulk count string"}
	errInvalidMultibulk = &ProtocolError{"invalid multibulk length"}
	errInvalidBulk      = &ProtocolError{"invalid bulk length"}
	errUnbalanced       = &ProtocolError{"unbalanced quotes in request"}
	errUnauthMultibulk  = &ProtocolError{"unauthenticated multibulk length"}
	errUnauthBulk       = &ProtocolError{"unauthenticated bulk length"}
)

// Limits bound what one request may claim.
type Limits struct {
	// MaxBulk is proto-max-bulk-len: the longest argument.
	MaxBulk int64
	// Unauthenticated applies Redis's tighter limits for clients that still
	// have to AUTH (at most 10 arguments of at most 16 KiB).
	Unauthenticated bool
}

// ParseCommand parses one request from the front of buf.
//
// It returns the arguments (appended to args[:0], each aliasing buf), the
// number of bytes consumed and an error. When buf holds no complete request
// yet it returns n == 0 and a nil error: read more and call again with the
// same bytes at the front. An empty request (a blank inline line or "*0")
// consumes its bytes and returns no arguments; callers skip it.
// need, when n == 0, is a lower bound on the total bytes the request needs
// (0 when unknown), so a reader can grow its buffer at once for a large bulk.
func ParseCommand(buf []byte, args [][]byte, lim Limits) (out [][]byte, n int, need int, err error) {
	args = args[:0]
	if len(buf) == 0 {
		return args, 0, 0, nil
	}
	if buf[0] != '*' {
		return parseInline(buf, args)
	}
	cr := bytes.IndexByte(buf, '\r')
	if cr < 0 || cr > len(buf)-2 {
		if len(buf) > InlineMax {
			return args, 0, 0, errMbulkTooBig
		}
		return args, 0, 0, nil
	}
	count, ok := parseInt(buf[1:cr])
	if !ok || count > MaxMultibulk {
		return args, 0, 0, errInvalidMultibulk
	}
	if lim.Unauthenticated && count > 10 {
		return args, 0, 0, errUnauthMultibulk
	}
	pos := cr + 2
	if count <= 0 {
		return args, pos, 0, nil
	}
	for i := int64(0); i < count; i++ {
		if pos >= len(buf) {
			return args[:0], 0, 0, nil
		}
		rest := buf[pos:]
		cr := bytes.IndexByte(rest, '\r')
		if cr < 0 || cr > len(rest)-2 {
			if len(rest) > InlineMax {
				return args[:0], 0, 0, errBulkTooBig
			}
			return args[:0], 0, 0, nil
		}
		if rest[0] != '$' {
			return args[:0], 0, 0, &ProtocolError{"expected '$', got '" + string(rest[0]) + "'"}
		}
		l, ok := parseInt(rest[1:cr])
		if !ok || l < 0 || (lim.MaxBulk > 0 && l > lim.MaxBulk) {
			return args[:0], 0, 0, errInvalidBulk
		}
		if lim.Unauthenticated && l > 16384 {
			return args[:0], 0, 0, errUnauthBulk
		}
		start := pos + cr + 2
		end := start + int(l)
		// Like Redis, the two bytes after the payload are skipped unchecked.
		if end+2 > len(buf) {
			return args[:0], 0, end + 2, nil
		}
		args = append(args, buf[start:end:end])
		pos = end + 2
	}
	return args, pos, 0, nil
}

func parseInline(buf []byte, args [][]byte) ([][]byte, int, int, error) {
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 {
		if len(buf) > InlineMax {
			return args, 0, 0, errInlineTooBig
		}
		return args, 0, 0, nil
	}
	line := buf[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := SplitArgs(line, args)
	if !ok {
		return args[:0], 0, 0, errUnbalanced
	}
	return args, nl + 1, 0, nil
}

// parseInt parses a decimal the way Redis's string2ll does: an optional
// minus sign, no plus sign, no leading zeros, no spaces, fits in int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v < uint64(c-'0') {
			return 0, false
		}
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// ParseInt is Redis's string2ll: the strict integer syntax used for every
// integer argument.
func ParseInt(b []byte) (int64, bool) { return parseInt(b) }

// SplitArgs splits an inline command line the way Redis's sdssplitargs does:
// whitespace separates arguments, "double quotes" understand \n \r \t \b \a
// \\ \" and \xHH escapes, 'single quotes' understand \' only, and a closing
// quote must be followed by whitespace or the end of the line. Arguments
// without quotes alias line; quoted ones are fresh copies.
func SplitArgs(line []byte, args [][]byte) ([][]byte, bool) {
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, true
		}
		if line[i] != '"' && line[i] != '\'' {
			start := i
			for i < len(line) && !isSpace(line[i]) && line[i] != '"' && line[i] != '\'' {
				i++
			}
			if i < len(line) && !isSpace(line[i]) {
				// A quote in the middle of a word starts a quoted part of the
				// same argument, as in Redis.
				cur := append([]byte(nil), line[start:i]...)
				var ok bool
				cur, i, ok = quotedTail(line, i, cur)
				if !ok {
					return args, false
				}
				args = append(args, cur)
				continue
			}
			args = append(args, line[start:i:i])
			continue
		}
		cur, ni, ok := quotedTail(line, i, []byte{})
		if !ok {
			return args, false
		}
		i = ni
		args = append(args, cur)
	}
}

// quotedTail reads the rest of one argument starting at line[i], which may
// hold quoted and unquoted runs, appending the decoded bytes to cur.
func quotedTail(line []byte, i int, cur []byte) ([]byte, int, bool) {
	for i < len(line) && !isSpace(line[i]) {
		switch line[i] {
		case '"':
			i++
			for {
				if i >= len(line) {
					return cur, i, false
				}
				c := line[i]
				if c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]) {
					cur = append(cur, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 4
					continue
				}
				if c == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					default:
						c = line[i]
					}
					cur = append(cur, c)
					i++
					continue
				}
				if c == '"' {
					i++
					if i < len(line) && !isSpace(line[i]) {
						return cur, i, false
					}
					return cur, i, true
				}
				cur = append(cur, c)
				i++
			}
		case '\'':
			i++
			for {
				if i >= len(line) {
					return cur, i, false
				}
				c := line[i]
				if c == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					cur = append(cur, '\'')
					i += 2
					continue
				}
				if c == '\'' {
					i++
					if i < len(line) && !isSpace(line[i]) {
						return cur, i, false
					}
					return cur, i, true
				}
				cur = append(cur, c)
				i++
			}
		default:
			cur = append(cur, line[i])
			i++
		}
	}
	return cur, i, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
