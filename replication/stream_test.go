package replication

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/lagwise/lagwise/backend/resp"
)

func wireCmd(args ...string) string {
	var b [][]byte
	for _, a := range args {
		b = append(b, []byte(a))
	}
	return string(resp.AppendCommand(nil, b...))
}

type wantCmd struct {
	argv   string // arguments joined by spaces
	before int64
	offset int64
}

// redisSession is a stream a scripted master sent to redis-server 7.0 as
// its replica after +FULLRESYNC <id> 1000; the offsets are those Redis
// reported (slave_repl_offset in INFO, and REPLCONF ACK for GETACK).
var redisSession = struct {
	wire string
	cmds []wantCmd
}{
	wire: wireCmd("ping") + // 14 bytes
		"\n" + wireCmd("ping") + // a keep-alive counts with the next command
		"\r\n*0\r\n*-1\r\n" + wireCmd("ping") + // so do empty requests
		wireCmd("multi") + wireCmd("set", "k", "v") + wireCmd("set", "k", "v") + wireCmd("exec") +
		wireCmd("multi") + wireCmd("set", "k", "w") + wireCmd("discard") +
		wireCmd("REPLCONF", "GETACK", "*") + // ACK 1196
		"\n" + wireCmd("REPLCONF", "GETACK", "*") + // ACK 1233: before the keep-alive
		wireCmd("multi") + wireCmd("REPLCONF", "GETACK", "*") + wireCmd("exec") + // ACK 1271, at EXEC
		wireCmd("set", "a", "1"),
	cmds: []wantCmd{
		{"ping", 1000, 1014},
		{"ping", 1014, 1029},
		{"ping", 1029, 1054},
		{"multi", 1054, 1054},
		{"set k v", 1054, 1054},
		{"set k v", 1054, 1054},
		{"exec", 1054, 1137},
		{"multi", 1137, 1137},
		{"set k w", 1137, 1137},
		{"discard", 1137, 1196},
		{"REPLCONF GETACK *", 1196, 1233},
		{"REPLCONF GETACK *", 1233, 1271},
		{"multi", 1271, 1271},
		{"REPLCONF GETACK *", 1271, 1271},
		{"exec", 1271, 1337},
		{"set a 1", 1337, 1364},
	},
}

// readAll runs a StreamReader over src until it fails, checking each
// command against want and that the applied bytes, put together, are the
// stream up to the last processed byte.
func readAll(t *testing.T, name string, src io.Reader, wire string, start int64, want []wantCmd) *StreamReader {
	t.Helper()
	s := NewStreamReader(src, start)
	var applied []byte
	for i := 0; ; i++ {
		cmd, err := s.Next()
		if errors.Is(err, errPause) {
			i--
			continue
		}
		if err != nil {
			if i != len(want) {
				t.Fatalf("%s: command %d: %v", name, i, err)
			}
			if err != io.EOF {
				t.Fatalf("%s: ended with %v, want io.EOF", name, err)
			}
			break
		}
		if i >= len(want) {
			t.Fatalf("%s: extra command %q", name, cmd.Argv)
		}
		got := string(bytes.Join(cmd.Argv, []byte(" ")))
		w := want[i]
		if got != w.argv || cmd.Before != w.before || cmd.Offset != w.offset || s.Offset() != w.offset {
			t.Fatalf("%s: command %d: %q before %d offset %d (reader %d); want %q before %d offset %d",
				name, i, got, cmd.Before, cmd.Offset, s.Offset(), w.argv, w.before, w.offset)
		}
		if int64(len(cmd.Applied)) != cmd.Offset-cmd.Before {
			t.Fatalf("%s: command %d: %d bytes applied for offsets %d..%d", name, i, len(cmd.Applied), cmd.Before, cmd.Offset)
		}
		if _, n, _, err := resp.ParseCommand(cmd.Raw, nil, resp.Limits{}); err != nil || n != len(cmd.Raw) {
			t.Fatalf("%s: command %d: raw bytes %q are not one command", name, i, cmd.Raw)
		}
		if len(cmd.Applied) > 0 && !bytes.HasSuffix(cmd.Applied, cmd.Raw) {
			t.Fatalf("%s: command %d: applied bytes %q do not end with the command's %q", name, i, cmd.Applied, cmd.Raw)
		}
		applied = append(applied, cmd.Applied...)
	}
	if string(applied) != wire[:s.Offset()-start] {
		t.Fatalf("%s: applied bytes %q, want the stream's first %d bytes", name, applied, s.Offset()-start)
	}
	if s.ReadOffset() != start+int64(len(wire)) {
		t.Fatalf("%s: read offset %d, want %d", name, s.ReadOffset(), start+int64(len(wire)))
	}
	return s
}

func TestStreamOffsetsAsRedis(t *testing.T) {
	w := redisSession.wire
	readAll(t, "whole", strings.NewReader(w), w, 1000, redisSession.cmds)
	readAll(t, "one byte", iotest.OneByteReader(strings.NewReader(w)), w, 1000, redisSession.cmds)
	readAll(t, "half", iotest.HalfReader(strings.NewReader(w)), w, 1000, redisSession.cmds)
	readAll(t, "data+err", iotest.DataErrReader(strings.NewReader(w)), w, 1000, redisSession.cmds)
	// Every way of cutting the stream in two, with a pause (a read that
	// fails with a timeout) at the cut.
	for cut := range len(w) + 1 {
		src := &pieces{parts: []string{w[:cut], w[cut:]}, pause: true}
		readAll(t, "cut", src, w, 1000, redisSession.cmds)
	}
}

var errPause = errors.New("pause")

// pieces yields each part in one read, failing once with errPause after
// each part when pause is set (like a read deadline passing).
type pieces struct {
	parts  []string
	pause  bool
	paused bool
}

func (p *pieces) Read(b []byte) (int, error) {
	if p.pause && p.paused {
		p.paused = false
		return 0, errPause
	}
	for len(p.parts) > 0 && p.parts[0] == "" {
		p.parts = p.parts[1:]
	}
	if len(p.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.parts[0])
	p.parts[0] = p.parts[0][n:]
	if p.parts[0] == "" {
		p.paused = true
	}
	return n, nil
}

// TestStreamReadOffset checks the read and processed offsets while a
// command, a keep-alive or a MULTI block has only partly arrived, as
// redis-server 7.0 reports them (slave_read_repl_offset and
// slave_repl_offset).
func TestStreamReadOffset(t *testing.T) {
	set := wireCmd("set", "k", "v")
	parts := []string{
		wireCmd("ping"),                       // 1014 1014
		"\n",                                  // read 1015, processed 1014
		wireCmd("ping") + "\r\n*0\r\n*-1\r\n", // read 1040, processed 1029
		wireCmd("ping") + wireCmd("multi"),    // read 1069, processed 1054
		set[:7],                               // read 1076
		set[7:] + wireCmd("exec"),             // 1110 1110
	}
	want := []struct{ read, processed int64 }{{1014, 1014}, {1015, 1014}, {1040, 1029}, {1069, 1054}, {1076, 1054}, {1110, 1110}}
	src := &pieces{parts: parts, pause: true}
	s := NewStreamReader(src, 1000)
	step := 0
	for {
		_, err := s.Next()
		if errors.Is(err, errPause) {
			if s.ReadOffset() != want[step].read || s.Offset() != want[step].processed {
				t.Fatalf("after part %d: read %d processed %d, want %d %d", step, s.ReadOffset(), s.Offset(), want[step].read, want[step].processed)
			}
			step++
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if step != len(parts) {
		t.Fatalf("%d pauses, want %d", step, len(parts))
	}
}

func TestStreamErrors(t *testing.T) {
	ping := wireCmd("ping")
	cases := []struct {
		name string
		in   string
		err  string
		n    int // complete commands before the error
	}{
		{"inline command", ping + "set b 2\r\n", "inline protocol", 1},
		{"blank inline line", " \r\n", "inline protocol", 0},
		{"CR without LF", "\rx", "inline protocol", 0},
		{"garbage", "\x00\x01", "inline protocol", 0},
		{"count not a number", "*x\r\n", "invalid multibulk length", 0},
		{"count too large", "*2147483648\r\n", "invalid multibulk length", 0},
		{"negative bulk", "*1\r\n$-5\r\n", "invalid bulk length", 0},
		{"absurd bulk", "*1\r\n$1099511627777\r\n", "invalid bulk length", 0},
		{"not a bulk", "*1\r\n+OK\r\n", "expected '$'", 0},
		{"endless count line", "*1" + strings.Repeat("1", resp.InlineMax+1), "too big mbulk count", 0},
		{"cut inside a command", ping + ping[:9], io.ErrUnexpectedEOF.Error(), 1},
		{"cut inside a keep-alive", "\r", io.ErrUnexpectedEOF.Error(), 0},
		{"end inside MULTI", wireCmd("multi") + ping, io.EOF.Error(), 2},
	}
	for _, tc := range cases {
		s := NewStreamReader(iotest.HalfReader(strings.NewReader(tc.in)), 0)
		var err error
		n := 0
		for {
			if _, err = s.Next(); err != nil {
				break
			}
			n++
		}
		if n != tc.n || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %d commands then %v; want %d then %q", tc.name, n, err, tc.n, tc.err)
		}
		var pe *ProtocolError
		if errors.As(err, &pe) {
			if _, again := s.Next(); again != err {
				t.Errorf("%s: the error is not sticky: %v", tc.name, again)
			}
		}
	}
	// Inside an unfinished MULTI the offset stays before it.
	s := NewStreamReader(strings.NewReader(ping+wireCmd("multi")+ping), 100)
	for {
		if _, err := s.Next(); err != nil {
			break
		}
	}
	if s.Offset() != 114 || !s.InMulti() {
		t.Errorf("unfinished MULTI: offset %d in multi %v, want 114 true", s.Offset(), s.InMulti())
	}
}

func TestMultiRules(t *testing.T) {
	m, e, p := wireCmd("MULTI"), wireCmd("Exec"), wireCmd("ping")
	cases := []struct {
		name string
		wire string
		want []int64 // offset after each command, from 0
	}{
		{"EXEC without MULTI", e + p, []int64{14, 28}},
		{"nested MULTI", m + m + p + e, []int64{0, 0, 0, 58}},
		{"MULTI with an argument is no MULTI", wireCmd("multi", "x") + p, []int64{22, 36}},
		{"EXEC with an argument does not end it", m + wireCmd("exec", "x") + e, []int64{0, 0, 50}},
		{"DISCARD ends it", m + wireCmd("DISCARD") + p, []int64{0, 32, 46}},
		{"RESET does not", m + wireCmd("reset") + e, []int64{0, 0, 44}},
	}
	for _, tc := range cases {
		s := NewStreamReader(strings.NewReader(tc.wire), 0)
		var got []int64
		for {
			cmd, err := s.Next()
			if err != nil {
				break
			}
			got = append(got, cmd.Offset)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: offsets %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: offsets %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

func TestIsGetAck(t *testing.T) {
	cases := []struct {
		argv []string
		want bool
	}{
		{[]string{"REPLCONF", "GETACK", "*"}, true},
		{[]string{"replconf", "getack", "*"}, true},
		{[]string{"REPLCONF", "GETACK"}, false}, // even: a syntax error
		{[]string{"REPLCONF", "ACK", "5"}, false},
		{[]string{"REPLCONF", "GETACK", "*", "x", "y"}, true},
		{[]string{"PING"}, false},
	}
	for _, tc := range cases {
		var argv [][]byte
		for _, a := range tc.argv {
			argv = append(argv, []byte(a))
		}
		if got := IsGetAck(argv); got != tc.want {
			t.Errorf("IsGetAck(%q) = %v", tc.argv, got)
		}
	}
	if got := string(AppendAck([]byte("x"), 1196)); got != "x"+wireCmd("REPLCONF", "ACK", "1196") {
		t.Errorf("AppendAck: %q", got)
	}
}

// TestStreamBigArgument sends a 3 MB argument in small pieces, and a
// claimed 1 TB argument of which little arrives: memory follows the bytes
// received.
func TestStreamBigArgument(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	w := wireCmd("set", "k", big) + wireCmd("ping")
	s := NewStreamReader(iotest.HalfReader(strings.NewReader(w)), 0)
	cmd, err := s.Next()
	if err != nil || len(cmd.Argv) != 3 || string(cmd.Argv[2]) != big || cmd.Offset != int64(len(w)-14) {
		t.Fatalf("big SET: %v", err)
	}
	if len(s.buf) > 2*len(w) {
		t.Errorf("buffer of %d bytes for %d bytes of stream", len(s.buf), len(w))
	}
	if cmd, err = s.Next(); err != nil || string(cmd.Argv[0]) != "ping" {
		t.Fatalf("ping after it: %v", err)
	}
	if len(s.buf) <= streamShrinkAt {
		t.Fatalf("buffer of %d bytes after a 3 MB argument", len(s.buf))
	}
	// Dropped at the next read, once nothing is pending.
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	if len(s.buf) != streamBufSize {
		t.Errorf("buffer of %d bytes once empty", len(s.buf))
	}

	claim := "*1\r\n$1099511627776\r\n" + strings.Repeat("y", 100<<10)
	s = NewStreamReader(strings.NewReader(claim), 0)
	if _, err := s.Next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("claimed 1 TB: %v", err)
	}
	if len(s.buf) > 4*len(claim) {
		t.Errorf("buffer of %d bytes for a claim with %d bytes", len(s.buf), len(claim))
	}
}

// loop is an endless stream of one command.
type loop struct {
	cmd string
	off int
}

func (l *loop) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], l.cmd[l.off:])
		n += c
		l.off = (l.off + c) % len(l.cmd)
	}
	return n, nil
}

func TestStreamAllocations(t *testing.T) {
	s := NewStreamReader(&loop{cmd: wireCmd("multi") + wireCmd("set", "key", "value") + wireCmd("exec") + "\n"}, 0)
	for range 1000 {
		s.Next()
	}
	if n := testing.AllocsPerRun(10000, func() { s.Next() }); n != 0 {
		t.Errorf("%.1f allocations per command", n)
	}
}

func BenchmarkStreamReader(b *testing.B) {
	c := wireCmd("set", "key:000000001", strings.Repeat("v", 64))
	s := NewStreamReader(&loop{cmd: c}, 0)
	b.SetBytes(int64(len(c)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// TryNext returns the commands already buffered and never reads.
func TestStreamReaderTryNext(t *testing.T) {
	stream := "*1\r\n$4\r\nping\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nGET"
	sr := NewStreamReader(strings.NewReader(stream), 100)
	cmd, err := sr.Next()
	if err != nil || string(cmd.Argv[0]) != "ping" || cmd.Offset != 114 {
		t.Fatalf("Next: %q %d %v", cmd.Argv, cmd.Offset, err)
	}
	cmd, ok, err := sr.TryNext()
	if err != nil || !ok || string(cmd.Argv[0]) != "SET" || cmd.Offset != 114+27 {
		t.Fatalf("TryNext: %q %d %v %v", cmd.Argv, cmd.Offset, ok, err)
	}
	if _, ok, err := sr.TryNext(); ok || err != nil {
		t.Fatalf("TryNext returned a cut command (ok %v, err %v)", ok, err)
	}
}
