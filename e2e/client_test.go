package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/resp"
)

// replyTimeout bounds the wait for any single reply, so that a server that
// never answers fails the test instead of hanging it.
const replyTimeout = 5 * time.Second

// maxBulkLen is the largest bulk string the framer accepts (Redis's own
// proto-max-bulk-len default).
const maxBulkLen = 512 << 20

// client is a raw RESP client: it sends commands as arrays of bulk strings
// and reads replies back as exact wire bytes.
type client struct {
	conn net.Conn
	r    *bufio.Reader
}

func dial(addr string) (*client, error) {
	conn, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, r: bufio.NewReader(conn)}, nil
}

func (c *client) Close() error { return c.conn.Close() }

// encodeCommand encodes args as a RESP array of bulk strings.
func encodeCommand(args [][]byte) []byte {
	vals := make([]resp.Value, len(args))
	for i, a := range args {
		vals[i] = resp.BytesValue(a)
	}
	b, err := resp.ArrayValue(vals).MarshalRESP()
	if err != nil {
		panic(err) // arrays of bulk strings always marshal
	}
	return b
}

// send writes one command without waiting for its reply.
func (c *client) send(args [][]byte) error {
	if err := c.conn.SetWriteDeadline(time.Now().Add(replyTimeout)); err != nil {
		return err
	}
	_, err := c.conn.Write(encodeCommand(args))
	return err
}

// read reads one complete reply.
func (c *client) read() (*reply, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(replyTimeout)); err != nil {
		return nil, err
	}
	return readReply(c.r)
}

// do sends one command and reads its reply.
func (c *client) do(args [][]byte) (*reply, error) {
	if err := c.send(args); err != nil {
		return nil, err
	}
	return c.read()
}

// doStrings is do for commands written as Go strings.
func (c *client) doStrings(args ...string) (*reply, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return c.do(b)
}

// expectSilence reports an error if any reply byte arrives within d. It
// consumes nothing, so a later read still sees whatever arrives afterwards.
func (c *client) expectSilence(d time.Duration) error {
	if err := c.conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return err
	}
	if _, err := c.r.Peek(1); err == nil {
		return errors.New("got a reply while none was expected")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		return err
	}
	return nil
}

// reply is one RESP reply as read off the wire: its exact bytes plus enough
// structure to normalise it.
type reply struct {
	raw   []byte   // the reply's exact wire bytes
	kind  byte     // the type byte: '+', '-', ':', '$', '*' or a RESP3 type
	null  bool     // $-1 or *-1 (or RESP3 _)
	data  []byte   // payload of line types and bulk strings
	elems []*reply // elements of aggregates (maps flattened to key, value, ...)
}

// String returns the reply's raw bytes quoted as a Go string.
func (r *reply) String() string { return strconv.Quote(string(r.raw)) }

// readReply reads exactly one RESP2 (or RESP3) reply from r, nested
// aggregates included, and returns it with its raw bytes.
func readReply(r *bufio.Reader) (*reply, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("protocol error: malformed line %q", line)
	}
	rep := &reply{raw: line, kind: line[0]}
	payload := line[1 : len(line)-2]
	switch rep.kind {
	case '+', '-', ':', ',', '#', '(':
		rep.data = payload
		return rep, nil
	case '_':
		rep.null = true
		return rep, nil
	case '$', '!', '=':
		n, err := strconv.Atoi(string(payload))
		if err != nil || n < -1 || n > maxBulkLen || (n == -1 && rep.kind != '$') {
			return nil, fmt.Errorf("protocol error: bad bulk length in %q", line)
		}
		if n == -1 {
			rep.null = true
			return rep, nil
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, unexpectedEOF(err)
		}
		if body[n] != '\r' || body[n+1] != '\n' {
			return nil, fmt.Errorf("protocol error: bulk string of length %d not followed by CRLF", n)
		}
		rep.data = body[:n]
		rep.raw = append(rep.raw, body...)
		return rep, nil
	case '*', '~', '>', '%':
		n, err := strconv.Atoi(string(payload))
		if err != nil || n < -1 || (n == -1 && rep.kind != '*') {
			return nil, fmt.Errorf("protocol error: bad aggregate length in %q", line)
		}
		if n == -1 {
			rep.null = true
			return rep, nil
		}
		if rep.kind == '%' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			e, err := readReply(r)
			if err != nil {
				return nil, unexpectedEOF(err)
			}
			rep.elems = append(rep.elems, e)
			rep.raw = append(rep.raw, e.raw...)
		}
		return rep, nil
	default:
		return nil, fmt.Errorf("protocol error: unknown reply type in %q", line)
	}
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isArray reports whether r is a non-null RESP2 array.
func (r *reply) isArray() bool { return r.kind == '*' && !r.null }

// isError reports whether r is an error reply.
func (r *reply) isError() bool { return r.kind == '-' }

// arrayOf builds an array reply from elements, raw bytes included.
func arrayOf(elems []*reply) *reply {
	raw := []byte("*" + strconv.Itoa(len(elems)) + "\r\n")
	for _, e := range elems {
		raw = append(raw, e.raw...)
	}
	return &reply{raw: raw, kind: '*', elems: elems}
}

// sorted returns r with its top-level elements sorted by their raw bytes;
// anything but an array is returned unchanged.
func sorted(r *reply) *reply {
	if !r.isArray() {
		return r
	}
	elems := append([]*reply(nil), r.elems...)
	sort.SliceStable(elems, func(i, j int) bool { return bytes.Compare(elems[i].raw, elems[j].raw) < 0 })
	return arrayOf(elems)
}

// sortedPairs returns r, a flat array of key, value, key, value..., with its
// pairs sorted by their raw bytes, key first. Anything but an array of even
// length is returned unchanged.
func sortedPairs(r *reply) *reply {
	if !r.isArray() || len(r.elems)%2 != 0 {
		return r
	}
	pairs := make([][2]*reply, len(r.elems)/2)
	for i := range pairs {
		pairs[i] = [2]*reply{r.elems[2*i], r.elems[2*i+1]}
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		if c := bytes.Compare(pairs[i][0].raw, pairs[j][0].raw); c != 0 {
			return c < 0
		}
		return bytes.Compare(pairs[i][1].raw, pairs[j][1].raw) < 0
	})
	elems := make([]*reply, 0, len(r.elems))
	for _, p := range pairs {
		elems = append(elems, p[0], p[1])
	}
	return arrayOf(elems)
}

// shape describes r's type and structure without its content: the type
// byte, nulls, and for aggregates their length and the shapes of their
// elements. Errors keep their full text, since error replies are never
// random.
func shape(r *reply) string {
	switch {
	case r.isError():
		return string(r.raw)
	case r.null:
		return string(r.kind) + "null"
	case r.elems != nil || r.kind == '*' || r.kind == '%' || r.kind == '~' || r.kind == '>':
		parts := make([]string, len(r.elems))
		for i, e := range r.elems {
			parts[i] = shape(e)
		}
		return string(r.kind) + strconv.Itoa(len(r.elems)) + "[" + strings.Join(parts, " ") + "]"
	default:
		return string(r.kind)
	}
}
