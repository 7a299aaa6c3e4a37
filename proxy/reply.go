package proxy

import (
	"bytes"
	"errors"
)

// maxReplyLine bounds a reply's type line (a simple string, an error, a
// length). Redis's own lines are short; a backend that sends more without
// a CRLF is not speaking RESP.
const maxReplyLine = 64 * 1024

// errBadReply is a backend reply that is not RESP. The connection it came
// on is closed: nothing after it can be matched with a request.
var errBadReply = errors.New("protocol error in a backend's reply")

// replyScanner finds where each reply ends in the bytes a backend sends. It
// remembers its place inside a reply that has not fully arrived, so a large
// reply that comes in many pieces is scanned once, not once per piece.
//
// It never copies or keeps the bytes; next is handed the same reply's
// bytes again (and more) until the reply is complete.
type replyScanner struct {
	// pos is how far into the current reply scanning got: every element
	// before it is complete.
	pos int
	// pending is the number of elements of the current reply still to
	// scan; 0 between replies.
	pending int64
}

// next returns the length of the reply at the front of buf, or 0 if it is
// not complete yet. buf must start where the previous complete reply ended
// (or where the last call's incomplete reply started).
func (s *replyScanner) next(buf []byte) (int, error) {
	if s.pending == 0 {
		s.pos, s.pending = 0, 1
	}
	for s.pending > 0 {
		if s.pos >= len(buf) {
			return 0, nil
		}
		rest := buf[s.pos:]
		cr := bytes.IndexByte(rest, '\r')
		if cr < 0 || cr+1 >= len(rest) {
			if len(rest) > maxReplyLine {
				return 0, errBadReply
			}
			return 0, nil
		}
		if rest[cr+1] != '\n' {
			return 0, errBadReply
		}
		end := cr + 2
		children := int64(0)
		switch rest[0] {
		case '+', '-', ':', '_', ',', '#', '(':
		case '$', '=', '!':
			l, ok := parseLen(rest[1:cr])
			if !ok {
				return 0, errBadReply
			}
			if l >= 0 {
				end += int(l) + 2
				if end > len(rest) {
					return 0, nil
				}
				if rest[end-2] != '\r' || rest[end-1] != '\n' {
					return 0, errBadReply
				}
			}
		case '*', '~', '>', '%', '|':
			l, ok := parseLen(rest[1:cr])
			if !ok {
				return 0, errBadReply
			}
			switch {
			case l <= 0:
			case rest[0] == '%':
				children = 2 * l
			case rest[0] == '|':
				// An attribute map comes before the reply it annotates.
				children = 2*l + 1
			default:
				children = l
			}
		default:
			return 0, errBadReply
		}
		s.pos += end
		s.pending += children - 1
	}
	n := s.pos
	s.pos = 0
	return n, nil
}

// parseLen parses a RESP length: -1 (null) or a non-negative decimal that
// fits an int32 (Redis's own limit on bulk and aggregate lengths is lower).
func parseLen(b []byte) (int64, bool) {
	if len(b) == 2 && b[0] == '-' && b[1] == '1' {
		return -1, true
	}
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n > 1<<31-1 {
		return 0, false
	}
	return n, true
}

// pubsubReply says what a complete reply on a subscribed connection is.
type pubsubReply uint8

const (
	// notPubsub: an ordinary reply (an error, +OK, a pong...).
	notPubsub pubsubReply = iota
	// pushMessage: a message, pmessage or smessage: it answers no request.
	pushMessage
	// confirmation: a (p|s)(un)subscribe confirmation; kind and count
	// are its first and last elements.
	confirmation
)

// inspectPubsub looks at a complete RESP2 reply from a subscribed
// connection. For a confirmation it returns the kind (aliasing reply) and
// the subscription count it carries.
func inspectPubsub(reply []byte) (what pubsubReply, kind []byte, count int64) {
	// A message is *3 (message, smessage) or *4 (pmessage); a
	// confirmation is *3 ending with an integer.
	if len(reply) < 4 || reply[0] != '*' || (reply[1] != '3' && reply[1] != '4') || reply[2] != '\r' {
		return notPubsub, nil, 0
	}
	first, ok := firstBulk(reply[4:])
	if !ok {
		return notPubsub, nil, 0
	}
	switch string(first) {
	case "message", "pmessage", "smessage":
		return pushMessage, nil, 0
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe":
	default:
		return notPubsub, nil, 0
	}
	// The count is the last line: ":<n>\r\n".
	end := len(reply) - 2
	colon := bytes.LastIndexByte(reply[:end], ':')
	if colon < 0 || reply[colon-1] != '\n' {
		return notPubsub, nil, 0
	}
	n, ok := parseLen(reply[colon+1 : end])
	if !ok || n < 0 {
		return notPubsub, nil, 0
	}
	return confirmation, first, n
}

// firstBulk returns the payload of the bulk string at the front of b.
func firstBulk(b []byte) ([]byte, bool) {
	if len(b) < 4 || b[0] != '$' {
		return nil, false
	}
	cr := bytes.IndexByte(b, '\r')
	if cr < 0 {
		return nil, false
	}
	l, ok := parseLen(b[1:cr])
	if !ok || l < 0 || cr+2+int(l) > len(b) {
		return nil, false
	}
	return b[cr+2 : cr+2+int(l)], true
}
