package backend

import (
	"errors"
	"time"

	"github.com/lagwise/lagwise/rdb"
)

// Point-in-time snapshots without fork.
//
// Redis forks and lets the kernel copy pages on write. lagwise does the
// same per keyspace shard. The cut happens under the executor lock, so it
// sits between two commands, at one position of the write stream: every
// db's Dict gets a dictSnap listing all its shards as pending, and the
// snapshot keeps the Dict and its expires map (FLUSHDB and SWAPDB replace
// or exchange those objects, and the snapshot still holds the old ones).
// From then on:
//
//   - the writer goroutine takes the lock for one short step at a time,
//     encodes a few pending shards (about a millisecond of work) into a
//     buffer, marks them written, and writes the buffer out after
//     releasing the lock;
//   - a command about to change a key, its TTL, or a collection in place
//     first encodes that key's whole shard if it is still pending (the
//     Dict hooks Set, Replace, Delete, WillWrite and grow call cow), and
//     hands the bytes to the snapshot.
//
// A shard is therefore encoded exactly once, either by the writer or by the
// first command that changes it, and in both cases before any change after
// the cut: the file is the dataset as it was at the cut. A command pays at
// most one shard's encoding (about 1000 keys); the writer never holds the
// lock for long. Extra memory is the encoded shards written ahead of the
// writer, at most the size of the file, usually far less.
//
// A collection is encoded whole, so a command that first touches a huge
// collection pays for encoding it; the same is true of the writer's step.

// snapshot is one point-in-time image being written. All fields are
// guarded by the executor lock except where noted.
type snapshot struct {
	srv  *Server
	dbs  []snapDB
	aux  [][2]string
	opts rdb.WriterOptions

	// cutDirty is Server.dirty at the cut; cutTime its time.
	cutDirty int64
	cutTime  time.Time

	frag     *rdb.Writer // encodes shards; reused, under the lock
	fragOut  appendBuf   // frag's destination
	held     int64       // bytes encoded ahead of the writer and not yet written
	keysDone int64       // keys encoded so far
	shards   [2]int64    // shards encoded by the writer, and by commands (copy-on-write)
	maxHeld  int64
	err      error // an encoding error, reported by the writer
	aborted  bool  // the job was cancelled (shutdown, FLUSHALL)
}

var errSnapshotAborted = errors.New("snapshot aborted")

// snapDB is one database as of the cut.
type snapDB struct {
	id       int
	dict     *Dict
	expires  map[string]int64
	size     int
	volatile int
	chunks   [][]byte // shards encoded by commands, not yet written
	next     int      // the writer's position in the shard list
}

// snapshotStepHook, when set (by tests), runs between the writer's steps,
// outside the lock.
var snapshotStepHook func()

// stepBudget is how long one writer step may hold the executor lock (a
// variable for tests, which set it to 0 for one shard a step).
var stepBudget = 500 * time.Microsecond

// beginSnapshot makes the cut. The caller holds the executor lock and
// must run the snapshot's write (writeTo) and then endSnapshot.
func (s *Server) beginSnapshot(aux [][2]string) *snapshot {
	sn := &snapshot{
		srv:      s,
		aux:      aux,
		opts:     rdb.WriterOptions{Compress: s.cfg.RDBCompression, Checksum: s.cfg.RDBChecksum},
		cutDirty: s.dirty,
		cutTime:  time.Now(),
	}
	for _, db := range s.dbs {
		if db.dict.Len() == 0 {
			continue // Redis writes no SELECTDB for an empty db
		}
		d := db.dict
		sn.dbs = append(sn.dbs, snapDB{id: db.id, dict: d, expires: db.expires, size: d.Len(), volatile: len(db.expires)})
		pending := make([]bool, len(d.shards))
		for i := range pending {
			pending[i] = true
		}
		d.snap = &dictSnap{pending: pending, left: len(pending), save: sn.saveShard, owner: sn}
	}
	s.persist.snap = sn
	return sn
}

// endSnapshot detaches the snapshot from the keyspace. The caller holds
// the executor lock.
func (s *Server) endSnapshot(sn *snapshot) {
	for i := range sn.dbs {
		if d := sn.dbs[i].dict; d.snap != nil && d.snap.owner == sn {
			d.snap = nil
		}
		sn.dbs[i].chunks = nil
	}
	if s.persist.snap == sn {
		s.persist.snap = nil
	}
}

// saveShard is the copy-on-write path: a command is about to change shard
// of d, which still holds cut-time data.
func (sn *snapshot) saveShard(d *Dict, shard map[string]Obj) {
	for i := range sn.dbs {
		if sn.dbs[i].dict == d {
			sn.shards[1]++
			b := sn.encodeShard(&sn.dbs[i], shard, nil)
			sn.dbs[i].chunks = append(sn.dbs[i].chunks, b)
			sn.held += int64(len(b))
			sn.maxHeld = max(sn.maxHeld, sn.held)
			return
		}
	}
}

// encodeShard appends the keys of shard, with their cut-time TTLs, to buf.
func (sn *snapshot) encodeShard(db *snapDB, shard map[string]Obj, buf []byte) []byte {
	if sn.frag == nil {
		opts := sn.opts
		opts.Fragment = true
		sn.frag = rdb.NewWriter(&sn.fragOut, opts)
	}
	sn.fragOut.b = buf
	w := sn.frag
	w.Reset(&sn.fragOut)
	sn.keysDone += int64(len(shard))
	for k, o := range shard {
		exp := int64(-1)
		if t, ok := db.expires[k]; ok {
			exp = t
		}
		if err := writeKey(w, k, o, exp); err != nil && sn.err == nil {
			sn.err = err
		}
	}
	if err := w.Close(); err != nil && sn.err == nil {
		sn.err = err
	}
	buf, sn.fragOut.b = sn.fragOut.b, nil
	return buf
}

// appendBuf is an io.Writer appending to a slice.
type appendBuf struct{ b []byte }

func (a *appendBuf) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// step takes the executor lock once and returns the next bytes of db: the
// shards commands encoded, then pending shards encoded now, for about
// stepBudget. done is true when db is complete.
func (sn *snapshot) step(db *snapDB, buf []byte, lock bool) (out []byte, done bool, err error) {
	if lock {
		s := sn.srv
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	if sn.aborted {
		return nil, false, errSnapshotAborted
	}
	out = buf[:0]
	for _, c := range db.chunks {
		out = append(out, c...)
		sn.held -= int64(len(c))
	}
	db.chunks = nil
	p := db.dict.snap
	start := time.Now()
	for p.left > 0 && db.next < len(p.pending) {
		i := db.next
		db.next++
		if !p.pending[i] {
			continue
		}
		p.pending[i] = false
		p.left--
		sn.shards[0]++
		out = sn.encodeShard(db, db.dict.shards[i], out)
		if time.Since(start) > stepBudget {
			break
		}
	}
	return out, p.left == 0, sn.err
}

// writeTo writes the whole snapshot to w. It takes the executor lock only
// in short steps; call it without holding it.
func (sn *snapshot) writeTo(w *rdb.Writer) error { return sn.write(w, true) }

// writeToLocked is writeTo for a caller that holds the executor lock
// (SAVE): the dataset cannot change, so it writes straight through.
func (sn *snapshot) writeToLocked(w *rdb.Writer) error { return sn.write(w, false) }

func (sn *snapshot) write(w *rdb.Writer, lock bool) error {
	for _, a := range sn.aux {
		if err := w.Aux(a[0], a[1]); err != nil {
			return err
		}
	}
	var buf []byte
	for i := range sn.dbs {
		db := &sn.dbs[i]
		w.SelectDB(db.id)
		if err := w.ResizeDB(uint64(db.size), uint64(db.volatile)); err != nil {
			return err
		}
		for {
			out, done, err := sn.step(db, buf, lock)
			if err != nil {
				return err
			}
			if err := w.Raw(out); err != nil {
				return err
			}
			buf = out
			if done {
				break
			}
			if snapshotStepHook != nil && lock {
				snapshotStepHook()
			}
		}
	}
	return w.Close()
}
