package backend

import (
	"errors"
	"runtime"
	"time"

	"github.com/lagwise/lagwise/rdb"
)

// Point-in-time snapshots without fork.
//
// Redis forks and lets the kernel copy pages on write. lagwise copies on
// write per key. The cut happens under the executor lock, so it sits
// between two commands, at one position of the write stream: every db's
// Dict gets a dictSnap marking all its shards pending (one boolean per
// thousand keys), and the snapshot keeps the Dict (FLUSHDB and SWAPDB
// replace or exchange Dicts with their TTL maps; the snapshot still holds
// the ones of the cut). From then on:
//
//   - the writer goroutine takes the lock for one short step at a time
//     (stepBudget), encodes pending shards into a buffer, marks them
//     written, and writes the buffer out after releasing the lock;
//   - a command about to change a key of a pending shard — its value, its
//     TTL, or a collection in place — first saves the key's cut-time state
//     (Dict.cow, called by Set, Replace, Delete and WillWrite): the value,
//     cloned if it can change in place, its TTL, or the fact that it did not
//     exist. The writer encodes saved states instead of live ones.
//
// Every change goes through a hook that runs before it, and the writer and
// the commands both run under the executor lock, so the writer sees every
// key of a pending shard as it was at the cut: the file is the dataset at
// the cut. A command pays for saving one key (for a string, a small map
// insert; for a collection, a clone); the writer holds the lock for at most
// about stepBudget at a time. Extra memory is the saved keys, reported as
// current_cow_size.

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
	maxHeld  int64       // peak bytes of saved keys
	keysDone int64       // keys encoded so far
	cowKeys  int64       // keys saved by commands before changing them
	err      error       // an encoding error, reported by the writer
	aborted  bool        // the job was cancelled (shutdown, FLUSHALL)
}

var errSnapshotAborted = errors.New("snapshot aborted")

// snapDB is one database as of the cut.
type snapDB struct {
	id       int
	dict     *Dict
	size     int
	volatile int
	next     int // the writer's position in the shard list
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
		sn.dbs = append(sn.dbs, snapDB{id: db.id, dict: d, size: d.Len(), volatile: len(db.expires)})
		d.beginSnap(db.expires, sn)
	}
	s.persist.snap = sn
	return sn
}

// endSnapshot detaches the snapshot from the keyspace. The caller holds
// the executor lock.
func (s *Server) endSnapshot(sn *snapshot) {
	for i := range sn.dbs {
		if d := sn.dbs[i].dict; d.snap != nil && d.snap.owner == sn {
			sn.cowKeys += d.snap.saves
			d.snap = nil
		}
	}
	if s.persist.snap == sn {
		s.persist.snap = nil
	}
}

// held is the size of the keys saved for the snapshot so far.
func (sn *snapshot) held() int64 {
	var n int64
	for _, db := range sn.dbs {
		if p := db.dict.snap; p != nil && p.owner == sn {
			n += p.bytes
		}
	}
	return n
}

// encodeShard appends shard i of db, as it was at the cut, to buf, and
// marks it written.
func (sn *snapshot) encodeShard(db *snapDB, i int, buf []byte) []byte {
	d := db.dict
	sn.maxHeld = max(sn.maxHeld, sn.held())
	if sn.frag == nil {
		opts := sn.opts
		opts.Fragment = true
		sn.frag = rdb.NewWriter(&sn.fragOut, opts)
	}
	sn.fragOut.b = buf
	w := sn.frag
	w.Reset(&sn.fragOut)
	write := func(k string, o Obj, exp int64) {
		sn.keysDone++
		if err := writeKey(w, k, o, exp); err != nil && sn.err == nil {
			sn.err = err
		}
	}
	d.takeShard(i, write)
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

// step takes the executor lock (if lock) and returns the next bytes of db:
// pending shards encoded for about stepBudget. done is true when db is
// complete.
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
	sn.maxHeld = max(sn.maxHeld, sn.held())
	p := db.dict.snap
	start := time.Now()
	// pending grows when a pending shard splits, so its length is read
	// afresh each time.
	for p.left > 0 && db.next < len(p.pending) {
		i := db.next
		db.next++
		if !p.pending[i] {
			continue
		}
		out = sn.encodeShard(db, i, out)
		if (lock && time.Since(start) > stepBudget) || len(out) > 1<<20 {
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
			if len(out) > 1<<20 {
				out = nil // do not keep a huge step's buffer
			}
			buf = out
			if done {
				break
			}
			if lock {
				// Let clients run: with one I/O thread (GOMAXPROCS 1) the
				// writer's checksum and write would otherwise keep the only
				// processor until the scheduler preempts it.
				runtime.Gosched()
				if snapshotStepHook != nil {
					snapshotStepHook()
				}
			}
		}
	}
	return w.Close()
}
