package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
)

// The lag monitor's connection to one backend: a plain net.Conn with a
// small RESP2 client, off the proxy's event loops. It sends a few
// commands at a time and reads their replies; nothing else.

// monMaxBulk bounds a bulk reply the monitor accepts: INFO replication
// with a few thousand replicas is far below it.
const monMaxBulk = 8 << 20

// monConn is one backend connection of the lag monitor. It belongs to the
// monitor's goroutine of the moment (one poll at a time); it is not safe
// for concurrent use.
type monConn struct {
	c  net.Conn
	rd *bufio.Reader
	wb []byte
}

// monReply is one RESP reply: a simple string, an error (text without
// the '-'), an integer, a bulk string (nil: null), or an array (its
// elements are read and dropped).
type monReply struct {
	kind byte // '+', '-', ':', '$', '*'
	str  string
	null bool
	n    int64
}

// monDial connects to addr by deadline and authenticates when password
// (or username) is set: AUTH password, or AUTH username password.
func monDial(ctx context.Context, addr string, deadline time.Time, username, password string) (*monConn, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	mc := &monConn{c: c, rd: bufio.NewReaderSize(c, 16<<10)}
	if password == "" && username == "" {
		return mc, nil
	}
	args := []string{"AUTH", password}
	if username != "" {
		args = []string{"AUTH", username, password}
	}
	replies, err := mc.do(deadline, args)
	if err != nil {
		mc.close()
		return nil, err
	}
	if r := replies[0]; r.kind == '-' {
		mc.close()
		return nil, fmt.Errorf("AUTH: %s", r.str)
	}
	return mc, nil
}

func (mc *monConn) close() {
	if mc != nil && mc.c != nil {
		mc.c.Close()
	}
}

// do sends the commands in one write (pipelined) and reads one reply to
// each, all by deadline.
func (mc *monConn) do(deadline time.Time, cmds ...[]string) ([]monReply, error) {
	if err := mc.send(deadline, cmds...); err != nil {
		return nil, err
	}
	replies := make([]monReply, len(cmds))
	n, err := mc.read(deadline, replies)
	if err != nil {
		return replies[:n], err
	}
	return replies, nil
}

// send writes the commands in one write by deadline.
func (mc *monConn) send(deadline time.Time, cmds ...[]string) error {
	if err := mc.c.SetDeadline(deadline); err != nil {
		return err
	}
	mc.wb = mc.wb[:0]
	for _, args := range cmds {
		mc.wb = resp.AppendArray(mc.wb, len(args))
		for _, a := range args {
			mc.wb = resp.AppendBulkString(mc.wb, a)
		}
	}
	_, err := mc.c.Write(mc.wb)
	return err
}

// errMonNoReply: the deadline passed before the first byte of a reply.
// Nothing of it was read, so the connection is still in step: its
// replies can be waited for on a later poll.
var errMonNoReply = errors.New("no reply yet")

// read reads len(into) replies by deadline and returns how many it read.
// A deadline met before any byte of a reply is errMonNoReply; anywhere
// else the connection is out of step.
func (mc *monConn) read(deadline time.Time, into []monReply) (int, error) {
	if err := mc.c.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	for i := range into {
		if _, err := mc.rd.Peek(1); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return i, fmt.Errorf("%w: %w", errMonNoReply, err)
			}
			return i, err
		}
		r, err := monReadReply(mc.rd, 0)
		if err != nil {
			return i, err
		}
		into[i] = r
	}
	return len(into), nil
}

// errMonProtocol is a reply the monitor cannot read: the connection is
// out of step and must be closed.
var errMonProtocol = errors.New("protocol error")

// monReadReply reads one RESP2 reply. depth bounds nested arrays.
func monReadReply(rd *bufio.Reader, depth int) (monReply, error) {
	line, err := monReadLine(rd)
	if err != nil {
		return monReply{}, err
	}
	if len(line) == 0 {
		return monReply{}, fmt.Errorf("%w: empty line", errMonProtocol)
	}
	r := monReply{kind: line[0]}
	body := line[1:]
	switch r.kind {
	case '+', '-':
		r.str = string(body)
	case ':':
		if r.n, err = strconv.ParseInt(string(body), 10, 64); err != nil {
			return r, fmt.Errorf("%w: bad integer %q", errMonProtocol, body)
		}
	case '$':
		n, err := strconv.ParseInt(string(body), 10, 64)
		switch {
		case err != nil || n < -1:
			return r, fmt.Errorf("%w: bad bulk length %q", errMonProtocol, body)
		case n == -1:
			r.null = true
			return r, nil
		case n > monMaxBulk:
			return r, fmt.Errorf("%w: bulk reply of %d bytes", errMonProtocol, n)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return r, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return r, fmt.Errorf("%w: bulk reply not ended by CRLF", errMonProtocol)
		}
		r.str = string(buf[:n])
	case '*':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil || n < -1 || n > 1<<20 || depth > 8 {
			return r, fmt.Errorf("%w: bad array %q", errMonProtocol, body)
		}
		r.n = n
		for i := int64(0); i < n; i++ {
			if _, err := monReadReply(rd, depth+1); err != nil {
				return r, err
			}
		}
	default:
		return r, fmt.Errorf("%w: unexpected reply %q", errMonProtocol, monTrim(string(line), 40))
	}
	return r, nil
}

// monReadLine reads a line ended by CRLF and returns it without the
// CRLF; the slice is valid until the next read.
func monReadLine(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, fmt.Errorf("%w: line longer than %d bytes", errMonProtocol, rd.Size())
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not ended by CRLF", errMonProtocol)
	}
	return line[:len(line)-2], nil
}

// monTrim shortens s to at most n bytes for a message.
func monTrim(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
