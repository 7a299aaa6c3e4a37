package replication

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ReplicaState is where a replica is in its sync, as INFO names it.
type ReplicaState int

const (
	// WaitBgsave: the replica asked for a full sync; its snapshot has not
	// been cut yet (Redis's wait_bgsave).
	WaitBgsave ReplicaState = iota
	// SendBulk: the snapshot is being sent; the stream after the cut is
	// held for the replica (send_bulk).
	SendBulk
	// Online: the replica receives the stream as it is produced.
	Online
)

func (s ReplicaState) String() string {
	switch s {
	case WaitBgsave:
		return "wait_bgsave"
	case SendBulk:
		return "send_bulk"
	}
	return "online"
}

// Sender queues bytes for a replica's connection. It must not block: it is
// called while the server holds its executor lock.
type Sender interface {
	Send(p []byte)
}

// Replica is a replica connected to this server, as the master sees it.
type Replica struct {
	Sender        Sender
	IP            string // the address it connected from, or its announced one
	ListeningPort int    // REPLCONF listening-port
	CapaEOF       bool   // can read a diskless transfer ($EOF:)
	CapaPSYNC2    bool   // understands +CONTINUE <new id>
	State         ReplicaState
	// AckOffset and AckTime are the last REPLCONF ACK: the replica has
	// processed the stream up to AckOffset (0 <= AckOffset <= the
	// master's Offset).
	AckOffset int64
	AckTime   time.Time
}

// Master is the replication state every server has: the replication IDs
// and offset, the backlog, and the replicas fed from it. On a replica the
// same state describes what it took from its own master, so that its
// sub-replicas can continue from it.
//
// A Master is not safe for concurrent use: the server calls it under its
// executor lock.
//
// Invariants: Backlog == nil or Backlog.Offset() == Offset; SecondOffset is
// -1 when ID2 is unset; Offset only grows, and only while a backlog exists
// (as in Redis, a master with no backlog does not count its stream).
type Master struct {
	ID           string
	ID2          string
	Offset       int64
	SecondOffset int64
	Backlog      *Backlog
	BacklogSize  int
	Replicas     []*Replica

	seldb int // the database the stream last selected; -1: none

	// NoReplicasSince is when the last replica left (for
	// repl-backlog-ttl); zero while replicas are connected.
	NoReplicasSince time.Time
}

// NoID is replid2 when there is no previous history.
const NoID = "0000000000000000000000000000000000000000"

// NewMaster returns the state of a server that just started as a master.
func NewMaster(backlogSize int) *Master {
	return &Master{ID: NewReplID(), ID2: NoID, SecondOffset: -1, BacklogSize: backlogSize, seldb: -1}
}

// CreateBacklog makes the backlog when the first replica arrives. As in
// Redis, a backlog created from scratch starts a new history: new ID, no
// previous one.
func (m *Master) CreateBacklog() {
	m.ID = NewReplID()
	m.ID2, m.SecondOffset = NoID, -1
	m.Backlog = NewBacklog(m.BacklogSize, m.Offset)
	m.seldb = -1
}

// FreeBacklog drops the backlog (repl-backlog-ttl passed with no replica).
// The history it held is gone, so the ID changes too.
func (m *Master) FreeBacklog() {
	m.Backlog = nil
	m.ID = NewReplID()
	m.ID2, m.SecondOffset = NoID, -1
}

// Shift starts a new history after a promotion (REPLICAOF NO ONE): the old
// ID becomes ID2, valid up to the current offset, so the old master's
// other replicas can continue partially (PSYNC2).
func (m *Master) Shift() {
	m.ID2 = m.ID
	m.SecondOffset = m.Offset + 1
	m.ID = NewReplID()
}

// SetBacklogSize resizes the backlog (repl-backlog-size).
func (m *Master) SetBacklogSize(n int) {
	m.BacklogSize = n
	if m.Backlog != nil {
		m.Backlog.Resize(n)
	}
}

// selectCmd is the encoded SELECT of each small db number.
func selectCmd(db int) []byte {
	n := strconv.Itoa(db)
	return []byte("*2\r\n$6\r\nSELECT\r\n$" + strconv.Itoa(len(n)) + "\r\n" + n + "\r\n")
}

// Feed appends one command of the write stream, applied in database db
// (db < 0: any), preceded by a SELECT when the stream's database changes.
func (m *Master) Feed(db int, cmd []byte) {
	if m.Backlog == nil {
		return
	}
	if db >= 0 && db != m.seldb {
		m.FeedRaw(selectCmd(db))
		m.seldb = db
	}
	m.FeedRaw(cmd)
}

// FeedRaw appends stream bytes as they are: a replica forwards its
// master's stream this way, byte for byte.
func (m *Master) FeedRaw(p []byte) {
	if m.Backlog == nil {
		return
	}
	m.Backlog.Write(p)
	m.Offset += int64(len(p))
	for _, r := range m.Replicas {
		// A replica waiting for its snapshot gets the stream from the
		// snapshot's offset on: what comes before is in the snapshot.
		if r.State == WaitBgsave {
			continue
		}
		r.Sender.Send(p)
	}
}

// ResetSelect makes the next command select its database again (a new
// replica, a new backlog).
func (m *Master) ResetSelect() { m.seldb = -1 }

// Add registers a replica.
func (m *Master) Add(r *Replica) {
	m.Replicas = append(m.Replicas, r)
	m.NoReplicasSince = time.Time{}
}

// Remove forgets a replica.
func (m *Master) Remove(r *Replica) {
	for i, x := range m.Replicas {
		if x == r {
			m.Replicas = append(m.Replicas[:i:i], m.Replicas[i+1:]...)
			break
		}
	}
	if len(m.Replicas) == 0 {
		m.NoReplicasSince = time.Now()
	}
}

// Acked counts the online replicas that acknowledged offset off (WAIT).
func (m *Master) Acked(off int64) int {
	n := 0
	for _, r := range m.Replicas {
		if r.State == Online && r.AckOffset >= off {
			n++
		}
	}
	return n
}

// Lag is the time since the replica's last ACK in whole seconds, the lag
// INFO replication shows.
func (r *Replica) Lag(now time.Time) int64 { return int64(now.Sub(r.AckTime) / time.Second) }

// Good counts the online replicas whose lag is at most maxLag
// (min-replicas-max-lag). As in Redis, the lag is compared in whole
// seconds: with a max lag of 2 s, a replica is good until its last ACK is
// 3 s old.
func (m *Master) Good(now time.Time, maxLag time.Duration) int {
	n := 0
	for _, r := range m.Replicas {
		if r.State == Online && r.Lag(now) <= int64(maxLag/time.Second) {
			n++
		}
	}
	return n
}

// InfoReplicas writes the slaveN lines of INFO replication.
func (m *Master) InfoReplicas(now time.Time, line func(string, ...any)) {
	for i, r := range m.Replicas {
		lag := int64(0)
		if r.State == Online {
			lag = r.Lag(now)
		}
		line("slave%d:ip=%s,port=%d,state=%s,offset=%d,lag=%d", i, r.IP, r.ListeningPort, r.State, r.AckOffset, lag)
	}
}

// FullResyncReply is the master's answer to a PSYNC it cannot continue.
func FullResyncReply(id string, off int64) []byte {
	return []byte(fmt.Sprintf("+FULLRESYNC %s %d\r\n", id, off))
}

// ContinueReply is the answer to a PSYNC it continues; a replica that
// understands PSYNC2 learns the current ID.
func ContinueReply(id string, psync2 bool) []byte {
	if psync2 {
		return []byte("+CONTINUE " + id + "\r\n")
	}
	return []byte("+CONTINUE\r\n")
}

// ParseAddr splits host:port; it is used for INFO's ip field.
func ParseAddr(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}
