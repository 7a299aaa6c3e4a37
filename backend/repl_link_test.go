package backend

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lagwise/lagwise/rdb"
)

// fakeMaster is the master's end of an in-memory link: the test plays the
// master's part of the protocol by hand.
type fakeMaster struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	acks chan string
}

// readCommand reads one RESP array of bulk strings from the replica.
func (m *fakeMaster) readCommand() []string {
	m.t.Helper()
	line, err := m.br.ReadString('\n')
	if err != nil || line[0] != '*' {
		m.t.Fatalf("reading a command: %q %v", line, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	args := make([]string, n)
	for i := range args {
		hdr, _ := m.br.ReadString('\n')
		size, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(m.br, buf); err != nil {
			m.t.Fatal(err)
		}
		args[i] = string(buf[:size])
	}
	return args
}

func (m *fakeMaster) expect(want string, reply string) {
	m.t.Helper()
	if got := strings.Join(m.readCommand(), " "); got != want {
		m.t.Fatalf("replica sent %q, want %q", got, want)
	}
	if reply != "" {
		m.conn.Write([]byte(reply))
	}
}

// drainAcks reads what the replica sends once it streams: REPLCONF ACKs.
func (m *fakeMaster) drainAcks() {
	for {
		line, err := m.br.ReadString('\n')
		if err != nil {
			close(m.acks)
			return
		}
		if strings.HasPrefix(line, "*3") {
			var parts []string
			for range 3 {
				m.br.ReadString('\n')
				v, _ := m.br.ReadString('\n')
				parts = append(parts, strings.TrimSpace(v))
			}
			m.acks <- strings.Join(parts, " ")
		}
	}
}

// TestReplicaLinkWithoutSockets drives a replica's link through an
// in-memory pipe: handshake, full resync from an EOF-marked snapshot,
// the stream with exact offsets and ACKs, then a broken link and a
// partial resync that continues from the right offset.
func TestReplicaLinkWithoutSockets(t *testing.T) {
	s := startTestServer(t, nil)
	pipes := make(chan net.Conn, 4)
	dial := func(string, time.Duration) (net.Conn, error) {
		a, b := net.Pipe()
		pipes <- b
		return a, nil
	}
	s.mu.Lock()
	s.startLink("master.test", 6380, dial)
	port := s.announcedPort()
	s.unlock()

	const id = "0123456789abcdef0123456789abcdef01234567"
	m := &fakeMaster{t: t, conn: <-pipes, acks: make(chan string, 100)}
	m.br = bufio.NewReader(m.conn)
	m.expect("PING", "+PONG\r\n")
	m.expect(fmt.Sprintf("REPLCONF listening-port %d", port), "+OK\r\n")
	m.expect("REPLCONF capa eof capa psync2", "+OK\r\n")
	m.expect("PSYNC ? -1", "")

	var snap bytes.Buffer
	w := rdb.NewWriter(&snap, rdb.WriterOptions{Checksum: true})
	w.SelectDB(0)
	w.String([]byte("from-snapshot"), []byte("1"), -1)
	w.Close()
	mark := strings.Repeat("m", 40)
	m.conn.Write([]byte("\n+FULLRESYNC " + id + " 100\r\n\n$EOF:" + mark + "\r\n"))
	m.conn.Write(snap.Bytes())
	m.conn.Write([]byte(mark))
	go m.drainAcks()
	select {
	case ack := <-m.acks:
		if ack != "REPLCONF ACK 100" {
			t.Fatalf("first ack %q, want REPLCONF ACK 100", ack)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the replica did not acknowledge the snapshot")
	}
	stream := "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	getack := "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
	m.conn.Write([]byte(stream + getack))
	// GETACK is answered with the offset before its own bytes.
	want := fmt.Sprintf("REPLCONF ACK %d", 100+len(stream))
	timeout := time.After(5 * time.Second)
	for got := ""; got != want; {
		select {
		case got = <-m.acks:
		case <-timeout:
			t.Fatalf("no %q from the replica", want)
		}
	}
	c := dialServer(t, s)
	c.expect("get from-snapshot", "$1\r\n1\r\n")
	c.expect("select 3", "+OK\r\n")
	c.expect("get k", "$1\r\nv\r\n")
	c.expect("set x 1", "-READONLY You can't write against a read only replica.\r\n")
	if off := infoValue(t, c, "slave_repl_offset"); off != strconv.Itoa(100+len(stream)+len(getack)) {
		t.Fatalf("slave_repl_offset %s", off)
	}

	// The link breaks; the replica asks to continue right after its offset.
	m.conn.Close()
	m2 := &fakeMaster{t: t, conn: <-pipes, acks: make(chan string, 100)}
	m2.br = bufio.NewReader(m2.conn)
	m2.expect("PING", "+PONG\r\n")
	m2.expect(fmt.Sprintf("REPLCONF listening-port %d", port), "+OK\r\n")
	m2.expect("REPLCONF capa eof capa psync2", "+OK\r\n")
	m2.expect(fmt.Sprintf("PSYNC %s %d", id, 100+len(stream)+len(getack)+1), "+CONTINUE "+id+"\r\n")
	go m2.drainAcks()
	m2.conn.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nagain\r\n"))
	deadline := time.Now().Add(5 * time.Second)
	for c.cmd("get k") != "$5\r\nagain\r\n" {
		if time.Now().After(deadline) {
			t.Fatal("the stream after +CONTINUE was not applied in db 3")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := infoValue(t, c, "master_link_status"); v != "up" {
		t.Fatalf("master_link_status %s", v)
	}
	m2.conn.Close()
}

// TestReplicaStaleData: with its master unreachable, a replica keeps
// answering reads (replica-serve-stale-data yes), or refuses with
// MASTERDOWN when told not to, and tells a would-be sub-replica
// -NOMASTERLINK.
func TestReplicaStaleData(t *testing.T) {
	s := startTestServer(t, nil)
	refused := func(string, time.Duration) (net.Conn, error) { return nil, fmt.Errorf("connection refused") }
	c := dialServer(t, s)
	c.expect("set k v", "+OK\r\n")
	s.mu.Lock()
	s.startLink("down.test", 6380, refused)
	s.unlock()
	c.expect("get k", "$1\r\nv\r\n")
	if v := infoValue(t, c, "master_link_status"); v != "down" {
		t.Fatalf("master_link_status %s", v)
	}
	c.expect("psync ? -1", "-NOMASTERLINK Can't SYNC while not connected with my master\r\n")
	c.expect("config set replica-serve-stale-data no", "+OK\r\n")
	c.expect("get k", "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n")
	c.expect("ping", "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n") // as Redis 7.0
	c.expect("replicaof no one", "+OK\r\n")
	c.expect("get k", "$1\r\nv\r\n")
	c.expect("set k w", "+OK\r\n")
}

// pipeDialer gives a replica link in-memory connections: each dial hands
// the master's end to the test through the returned channel.
func pipeDialer() (func(string, time.Duration) (net.Conn, error), chan net.Conn) {
	pipes := make(chan net.Conn, 4)
	return func(string, time.Duration) (net.Conn, error) {
		a, b := net.Pipe()
		pipes <- b
		return a, nil
	}, pipes
}

// linkedServer starts a test server replicating from host:6380 over
// in-memory pipes (pipeDialer); port is what it announces in REPLCONF
// listening-port.
func linkedServer(t *testing.T, host string) (s *Server, dial func(string, time.Duration) (net.Conn, error), pipes chan net.Conn, port int) {
	t.Helper()
	s = startTestServer(t, nil)
	dial, pipes = pipeDialer()
	s.mu.Lock()
	s.startLink(host, 6380, dial)
	port = s.announcedPort()
	s.unlock()
	return s, dial, pipes, port
}

// acceptLink takes the next connection of a link and plays the master's
// part of the handshake up to PSYNC, which must be psync; it answers
// nothing to PSYNC.
func acceptLink(t *testing.T, pipes chan net.Conn, port int, psync string) *fakeMaster {
	t.Helper()
	var m *fakeMaster
	select {
	case conn := <-pipes:
		m = &fakeMaster{t: t, conn: conn, br: bufio.NewReader(conn), acks: make(chan string, 100)}
	case <-time.After(5 * time.Second):
		t.Fatal("the replica did not connect")
	}
	t.Cleanup(func() { m.conn.Close() })
	m.expect("PING", "+PONG\r\n")
	m.expect(fmt.Sprintf("REPLCONF listening-port %d", port), "+OK\r\n")
	m.expect("REPLCONF capa eof capa psync2", "+OK\r\n")
	m.expect(psync, "")
	return m
}

// fullResyncWith answers PSYNC with +FULLRESYNC id off and an EOF-marked
// snapshot of one key in db 0 whose aux fields are aux (key, value
// pairs), then waits for the replica's first ACK.
func (m *fakeMaster) fullResyncWith(id string, off int64, aux ...string) {
	m.t.Helper()
	var snap bytes.Buffer
	w := rdb.NewWriter(&snap, rdb.WriterOptions{Checksum: true})
	for i := 0; i+1 < len(aux); i += 2 {
		w.Aux(aux[i], aux[i+1])
	}
	w.SelectDB(0)
	w.String([]byte("from-snapshot"), []byte("1"), -1)
	w.Close()
	mark := strings.Repeat("m", 40)
	m.conn.Write([]byte(fmt.Sprintf("+FULLRESYNC %s %d\r\n$EOF:%s\r\n", id, off, mark)))
	m.conn.Write(snap.Bytes())
	m.conn.Write([]byte(mark))
	go m.drainAcks()
	m.waitAck(off)
}

// waitAck waits for REPLCONF ACK off from the replica.
func (m *fakeMaster) waitAck(off int64) {
	m.t.Helper()
	want := fmt.Sprintf("REPLCONF ACK %d", off)
	timeout := time.After(5 * time.Second)
	for got := ""; got != want; {
		select {
		case got = <-m.acks:
		case <-timeout:
			m.t.Fatalf("no %q from the replica (last: %q)", want, got)
		}
	}
}

// waitReply polls a command on c until it answers want.
func waitReply(t *testing.T, c *testConn, line, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.cmd(line)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q, want %q", line, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testReplID is the replication ID of the fake masters.
const testReplID = "0123456789abcdef0123456789abcdef01234567"

// TestReplicaFullSyncStreamDB: a snapshot from a master that is itself a
// replica is cut in the middle of its master's stream, which goes on in the
// database it had selected, with no SELECT. The snapshot names that
// database (repl-stream-db), and the replica applies what follows in it,
// as Redis does.
func TestReplicaFullSyncStreamDB(t *testing.T) {
	s, _, pipes, port := linkedServer(t, "master.test")
	m := acceptLink(t, pipes, port, "PSYNC ? -1")
	m.fullResyncWith(testReplID, 1000, "repl-stream-db", "2", "repl-id", testReplID, "repl-offset", "1000")
	set := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	m.conn.Write([]byte(set))
	c := dialServer(t, s)
	c.expect("select 2", "+OK\r\n")
	waitReply(t, c, "get k", "$1\r\nv\r\n")
	c.expect("select 0", "+OK\r\n")
	c.expect("exists k", ":0\r\n")
}

// TestReplicaRepointKeepsStreamDB: a replica pointed at another server of
// the same history (REPLICAOF while it is a replica) continues partially
// from its offset in the database the stream had selected there: the new
// master's backlog holds no SELECT for it.
func TestReplicaRepointKeepsStreamDB(t *testing.T) {
	s, dial, pipes, port := linkedServer(t, "first.test")
	m := acceptLink(t, pipes, port, "PSYNC ? -1")
	m.fullResyncWith(testReplID, 1000)
	stream := "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
	getack := "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
	m.conn.Write([]byte(stream + getack))
	m.waitAck(int64(1000 + len(stream)))
	off := int64(1000 + len(stream) + len(getack))

	s.mu.Lock()
	s.startLink("second.test", 6381, dial)
	s.unlock()
	m2 := acceptLink(t, pipes, port, fmt.Sprintf("PSYNC %s %d", testReplID, off+1))
	m2.conn.Write([]byte("+CONTINUE " + testReplID + "\r\n"))
	go m2.drainAcks()
	m2.conn.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n"))
	c := dialServer(t, s)
	c.expect("select 3", "+OK\r\n")
	waitReply(t, c, "get b", "$1\r\n2\r\n")
	c.expect("get a", "$1\r\n1\r\n")
	c.expect("select 0", "+OK\r\n")
	c.expect("exists b", ":0\r\n")
}

// testReplID2 is another history's ID.
const testReplID2 = "89abcdef0123456789abcdef0123456789abcdef"

// TestReplicaStoppedLinkAppliesNothing: once REPLICAOF NO ONE (or another
// REPLICAOF) has stopped a link, nothing its connection still had
// buffered reaches the dataset or the replication state: not a command
// of the stream, not a +CONTINUE that names a new history.
func TestReplicaStoppedLinkAppliesNothing(t *testing.T) {
	s, dial, pipes, port := linkedServer(t, "master.test")
	s.mu.Lock()
	l := s.repl.link
	s.unlock()
	m := acceptLink(t, pipes, port, "PSYNC ? -1")
	m.fullResyncWith(testReplID, 1000)

	// A command arrives while the server is busy (the lock is held), and
	// the server is promoted before the link gets the lock.
	s.mu.Lock()
	m.conn.Write([]byte("*3\r\n$3\r\nSET\r\n$4\r\nlate\r\n$1\r\n1\r\n")) // returns once read
	s.stopReplication()
	off := s.repl.m.Offset
	s.unlock()
	waitLinkExit(t, l)
	c := dialServer(t, s)
	c.expect("exists late", ":0\r\n")
	if v := infoValue(t, c, "master_repl_offset"); v != strconv.FormatInt(off, 10) {
		t.Errorf("master_repl_offset %s after the promotion at %d", v, off)
	}

	// The same with a link stopped while the +CONTINUE of its PSYNC is on
	// its way.
	c.expect("set x 1", "+OK\r\n")
	s.mu.Lock()
	s.startLink("master.test", 6380, dial)
	l = s.repl.link
	id, off := s.repl.m.ID, s.repl.m.Offset
	s.unlock()
	m2 := acceptLink(t, pipes, port, fmt.Sprintf("PSYNC %s %d", id, off+1))
	s.mu.Lock()
	m2.conn.Write([]byte("+CONTINUE " + testReplID2 + "\r\n*3\r\n$3\r\nSET\r\n$4\r\nlate\r\n$1\r\n2\r\n"))
	s.stopReplication()
	id, id2 := s.repl.m.ID, s.repl.m.ID2
	off = s.repl.m.Offset
	s.unlock()
	waitLinkExit(t, l)
	c.expect("exists late", ":0\r\n")
	if v := infoValue(t, c, "master_replid"); v != id {
		t.Errorf("master_replid %s, want %s", v, id)
	}
	if v := infoValue(t, c, "master_replid2"); v != id2 {
		t.Errorf("master_replid2 %s, want %s", v, id2)
	}
	if v := infoValue(t, c, "master_repl_offset"); v != strconv.FormatInt(off, 10) {
		t.Errorf("master_repl_offset %s after the promotion at %d", v, off)
	}
}

// waitLinkExit waits until a stopped link's goroutine has returned.
func waitLinkExit(t *testing.T, l *replicaLink) {
	t.Helper()
	select {
	case <-l.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the stopped link's goroutine is still running")
	}
}

// TestReplicaReadOffsetAfterSync: slave_read_repl_offset is the offset
// read so far, so right after a full sync it is the +FULLRESYNC offset,
// and after a partial resync the offset the stream continues from, before
// any byte of the stream has come: both fields agree while the link is
// idle, as in Redis 7.0. A MULTI block cut by the break, read but never
// applied, is not counted after the resync.
func TestReplicaReadOffsetAfterSync(t *testing.T) {
	s, _, pipes, port := linkedServer(t, "master.test")
	c := dialServer(t, s)
	offsets := func() (read, processed string) {
		return infoValue(t, c, "slave_read_repl_offset"), infoValue(t, c, "slave_repl_offset")
	}

	m := acceptLink(t, pipes, port, "PSYNC ? -1")
	m.fullResyncWith(testReplID, 1000)
	if read, processed := offsets(); read != "1000" || processed != "1000" {
		t.Errorf("after a full sync at 1000: slave_read_repl_offset:%s slave_repl_offset:%s, want both 1000", read, processed)
	}

	// A write, then a MULTI block whose EXEC does not come before the
	// link breaks: read, not processed.
	set := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	block := "*1\r\n$5\r\nMULTI\r\n" + set
	m.conn.Write([]byte(set + block))
	off := 1000 + int64(len(set))
	read := strconv.FormatInt(off+int64(len(block)), 10)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, p := offsets()
		if r == read && p == strconv.FormatInt(off, 10) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inside a MULTI block: slave_read_repl_offset:%s slave_repl_offset:%s, want %s and %d", r, p, read, off)
		}
		time.Sleep(10 * time.Millisecond)
	}

	m.conn.Close()
	m2 := acceptLink(t, pipes, port, fmt.Sprintf("PSYNC %s %d", testReplID, off+1))
	m2.conn.Write([]byte("+CONTINUE " + testReplID + "\r\n"))
	go m2.drainAcks()
	m2.waitAck(off)
	want := strconv.FormatInt(off, 10)
	if read, processed := offsets(); read != want || processed != want {
		t.Errorf("after a partial resync at %d: slave_read_repl_offset:%s slave_repl_offset:%s, want both %d", off, read, processed, off)
	}
}
