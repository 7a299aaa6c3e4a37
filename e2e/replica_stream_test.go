package e2e

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/rdb"
	"github.com/lagwise/lagwise/replication"
)

// TestReplicaStreamLikeRedis plays master to a real redis-server 7.0
// replica and checks package replication's replica side against it: the
// replica's handshake is HandshakeCommands' for its configuration; after
// every piece of a scripted stream (keep-alives, empty requests, MULTI
// blocks, commands cut in two, GETACKs) the offsets a StreamReader
// computes from the same bytes equal the replica's slave_read_repl_offset
// and slave_repl_offset; each GETACK is answered with the command's
// Before; after a break the replica asks PSYNC for the StreamReader's
// offset + 1; and an inline command makes it drop the link and its
// history.
func TestReplicaStreamLikeRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	cfg := replication.HandshakeConfig{MasterUser: "u", MasterAuth: "pw", Port: 7777, AnnounceIP: "10.0.0.9"}
	replica := startRedisIn(t, "replica", t.TempDir(), "--replicaof", "127.0.0.1", port,
		"--masteruser", "u", "--masterauth", "pw", "--replica-announce-ip", "10.0.0.9", "--replica-announce-port", "7777")
	info := replica.connect(t)

	const id = "0123456789abcdef0123456789abcdef01234567"
	m := acceptReplica(t, ln)
	m.handshake(t, replication.HandshakeCommands(cfg))
	snapshot := emptyRDB()
	m.write(t, "\n+FULLRESYNC "+id+" 1000\r\n\n$"+strconv.Itoa(len(snapshot))+"\r\n"+snapshot)

	local := &feed{}
	sr := replication.NewStreamReader(local, 1000)
	cmd := func(args ...string) string {
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		return string(encodeCommand(b))
	}
	set := cmd("set", "k", "v")
	getack := cmd("REPLCONF", "GETACK", "*")
	pieces := []struct {
		wire string
		ack  bool // the first ACK after this piece answers a GETACK
	}{
		{cmd("ping"), false},
		{"\n", false},
		{cmd("ping") + "\r\n*0\r\n*-1\r\n", false},
		{cmd("ping"), false},
		{cmd("multi") + set[:9], false},
		{set[9:] + cmd("set", "k", "w"), false},
		{cmd("exec"), false},
		{cmd("select", "3") + cmd("multi") + cmd("set", "k", "x") + cmd("discard"), false},
		{getack, true},
		{"\n" + getack, true},
		{cmd("multi") + getack, false},
		{cmd("exec"), true}, // a GETACK queued in MULTI runs at EXEC
		{cmd("set", "a", "1"), false},
	}
	var lastBefore int64 = -1 // Before of the last GETACK seen
	for i, p := range pieces {
		m.drainAcks()
		m.write(t, p.wire)
		local.data = append(local.data, p.wire...)
		for {
			c, err := sr.Next()
			if errors.Is(err, errFeedEmpty) {
				break
			}
			if err != nil {
				t.Fatalf("piece %d: %v", i, err)
			}
			if replication.IsGetAck(c.Argv) {
				lastBefore = c.Before
			}
		}
		read, processed := waitReadOffset(t, info, sr.ReadOffset())
		if read != sr.ReadOffset() || processed != sr.Offset() {
			t.Fatalf("piece %d %q: redis read %d processed %d; StreamReader %d %d", i, p.wire, read, processed, sr.ReadOffset(), sr.Offset())
		}
		if p.ack {
			if got := m.nextAck(t); got != lastBefore {
				t.Fatalf("piece %d %q: redis acknowledged %d; StreamReader's Before %d", i, p.wire, got, lastBefore)
			}
		}
	}

	// A break: the replica comes back asking for the next byte.
	m.conn.Close()
	m = acceptReplica(t, ln)
	want := cfg
	want.ReplID, want.Offset = id, sr.Offset()
	m.handshake(t, replication.HandshakeCommands(want))
	m.write(t, "+CONTINUE "+id+"\r\n")
	sr = replication.NewStreamReader(local, sr.Offset())
	local.data = append(local.data, cmd("ping")...)
	if _, err := sr.Next(); err != nil {
		t.Fatal(err)
	}
	m.write(t, cmd("ping"))
	if read, processed := waitReadOffset(t, info, sr.ReadOffset()); processed != sr.Offset() {
		t.Fatalf("after +CONTINUE: redis read %d processed %d; StreamReader %d", read, processed, sr.Offset())
	}

	// An inline command: both refuse it; Redis drops the link and its
	// history, and comes back with PSYNC ? -1.
	local.data = append(local.data, "set b 2\r\n"...)
	var pe *replication.ProtocolError
	if _, err := sr.Next(); !errors.As(err, &pe) {
		t.Fatalf("inline command: StreamReader gave %v, want a ProtocolError", err)
	}
	m.write(t, "set b 2\r\n")
	m = acceptReplica(t, ln)
	m.handshake(t, replication.HandshakeCommands(cfg))
}

// emptyRDB is an RDB 10 file with no keys.
func emptyRDB() string {
	b := []byte("REDIS0010\xff")
	return string(binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b)))
}

var errFeedEmpty = errors.New("nothing more to read yet")

// feed is a reader of the bytes appended to data that fails with
// errFeedEmpty when it has none.
type feed struct{ data []byte }

func (f *feed) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, errFeedEmpty
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// fakeMaster is the master's end of a replica's connection.
type fakeMaster struct {
	conn net.Conn
	cmds chan [][]byte // what the replica sent, REPLCONF ACK aside
	acks chan int64
}

func acceptReplica(t *testing.T, ln net.Listener) *fakeMaster {
	t.Helper()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("the replica did not connect: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	m := &fakeMaster{conn: conn, cmds: make(chan [][]byte, 16), acks: make(chan int64, 64)}
	go func() {
		// The replica's commands are RESP like a master's stream.
		r := replication.NewStreamReader(bufio.NewReader(conn), 0)
		defer close(m.cmds)
		for {
			c, err := r.Next()
			if err != nil {
				return
			}
			if len(c.Argv) == 3 && strings.EqualFold(string(c.Argv[0]), "replconf") && strings.EqualFold(string(c.Argv[1]), "ack") {
				n, _ := strconv.ParseInt(string(c.Argv[2]), 10, 64)
				m.acks <- n
				continue
			}
			argv := make([][]byte, len(c.Argv))
			for i, a := range c.Argv {
				argv[i] = append([]byte(nil), a...)
			}
			m.cmds <- argv
		}
	}()
	return m
}

// handshake answers the replica's handshake, which must be want, with
// +PONG and +OK, up to PSYNC (left unanswered).
func (m *fakeMaster) handshake(t *testing.T, want [][]string) {
	t.Helper()
	var got [][]string
	for len(got) < len(want) {
		select {
		case c, ok := <-m.cmds:
			if !ok {
				t.Fatalf("the replica closed the connection after %q", got)
			}
			s := make([]string, len(c))
			for i, a := range c {
				s[i] = string(a)
			}
			got = append(got, s)
			switch {
			case strings.EqualFold(s[0], "ping"):
				m.write(t, "+PONG\r\n")
			case !strings.EqualFold(s[0], "psync"):
				m.write(t, "+OK\r\n")
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("handshake so far %q, want %q", got, want)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("redis's handshake:\n%q\nHandshakeCommands:\n%q", got, want)
	}
}

func (m *fakeMaster) write(t *testing.T, s string) {
	t.Helper()
	m.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := m.conn.Write([]byte(s)); err != nil {
		t.Fatalf("writing to the replica: %v", err)
	}
}

func (m *fakeMaster) drainAcks() {
	for {
		select {
		case <-m.acks:
		default:
			return
		}
	}
}

func (m *fakeMaster) nextAck(t *testing.T) int64 {
	t.Helper()
	select {
	case n := <-m.acks:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no REPLCONF ACK from the replica")
		return 0
	}
}

// waitReadOffset polls the replica's INFO until it has read up to want,
// and returns its read and processed offsets.
func waitReadOffset(t *testing.T, c *client, want int64) (read, processed int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := c.doStrings("INFO", "replication")
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for _, l := range strings.Split(string(r.data), "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				fields[k] = v
			}
		}
		read, _ = strconv.ParseInt(fields["slave_read_repl_offset"], 10, 64)
		processed, _ = strconv.ParseInt(fields["slave_repl_offset"], 10, 64)
		if (fields["master_link_status"] == "up" && read >= want) || time.Now().After(deadline) {
			return read, processed
		}
		time.Sleep(10 * time.Millisecond)
	}
}
