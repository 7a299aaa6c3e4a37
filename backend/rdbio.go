package backend

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"unsafe"

	"github.com/lagwise/lagwise/rdb"
)

// Values to and from the RDB codec: writeKey encodes one key for a
// snapshot, and loadRDB builds a dataset from a file.

// sbytes views s as bytes, for the codec, which never keeps or changes
// what it is given.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// owned turns a slice the RDB reader handed over into a string without
// copying: the reader never touches an entry's slices again.
func owned(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// writeKey encodes key with its value and expire time (-1: none).
func writeKey(w *rdb.Writer, key string, o Obj, expire int64) error {
	k := sbytes(key)
	switch o.Type() {
	case TypeString:
		return w.String(k, sbytes(o.Str()), expire)
	case TypeList:
		l := o.List()
		return w.ListSeq(k, expire, l.Len(), func(yield func([]byte) bool) {
			l.Each(func(e string) bool { return yield(sbytes(e)) })
		})
	case TypeSet:
		set := o.Set()
		return w.SetSeq(k, expire, set.Len(), func(yield func([]byte) bool) {
			set.Each(func(m string) bool { return yield(sbytes(m)) })
		})
	case TypeHash:
		h := o.Hash()
		return w.HashSeq(k, expire, h.Len(), func(yield func([]byte, []byte) bool) {
			h.Each(func(f, v string) bool { return yield(sbytes(f), sbytes(v)) })
		})
	case TypeZSet:
		z := o.ZSet()
		return w.ZSetSeq(k, expire, z.Len(), iter.Seq2[[]byte, float64](func(yield func([]byte, float64) bool) {
			z.Each(func(m string, score float64) bool { return yield(sbytes(m), score) })
		}))
	}
	return fmt.Errorf("unknown value type %d for key %q", o.Type(), key)
}

// loadOptions say how a file's keys are taken.
type loadOptions struct {
	// keepExpired keeps keys whose TTL has passed (a replica loading its
	// master's data, or an AOF preamble); a master drops them, as Redis
	// does.
	keepExpired bool
	now         int64 // unix ms, for keepExpired == false
	// recordExpired lists the keys dropped as expired, so that a master
	// continuing its replication history can feed their DELs.
	recordExpired bool

	// What the load needs of the server, taken under the executor lock by
	// loadOptionsFor, so a load can run without it (a replica's full
	// sync): the encodings' limits and the access clock of new values.
	hashEntries, hashValue, intsetEntries, zsetEntries, zsetValue int
	clock                                                         uint32
}

// loadOptionsFor fills the server-dependent fields of o; the caller holds
// the executor lock.
func (s *Server) loadOptionsFor(o loadOptions) loadOptions {
	cfg := s.cfg
	o.hashEntries, o.hashValue = cfg.HashMaxListpackEntr, cfg.HashMaxListpackValue
	o.intsetEntries = cfg.SetMaxIntsetEntries
	o.zsetEntries, o.zsetValue = cfg.ZSetMaxListpackEntr, cfg.ZSetMaxListpackValue
	o.clock = s.newObjClock()
	return o
}

// loadResult is what a load learned besides the keys.
type loadResult struct {
	keys, expired int64
	size          int64 // bytes of the RDB data, up to its checksum
	expiredKeys   []dbKey
	aux           map[string]string
}

// dbKey is a key of a database.
type dbKey struct {
	db  int
	key string
}

// errLoad wraps a load error with the file it came from.
type errLoad struct {
	file string
	err  error
}

func (e *errLoad) Error() string { return fmt.Sprintf("%s: %v", e.file, e.err) }
func (e *errLoad) Unwrap() error { return e.err }

// loadRDB decodes an RDB stream into new databases; the caller swaps them
// in only when the whole file loaded, so a bad file changes nothing. On a
// decoding error it also returns the keys decoded before it.
func (s *Server) loadRDB(r io.Reader, opts loadOptions) ([]*DB, loadResult, error) {
	dbs := make([]*DB, s.cfg.Databases)
	for i := range dbs {
		dbs[i] = newDB(i)
	}
	res := loadResult{aux: map[string]string{}}
	rd := rdb.NewReader(r)
	cur := 0 // the database of the last SELECTDB
	for {
		e, err := rd.Next()
		if err == io.EOF {
			res.size = rd.Offset()
			return dbs, res, nil
		}
		if err != nil {
			return dbs, res, err
		}
		switch e := e.(type) {
		case rdb.Aux:
			res.aux[e.Key] = e.Value
		case rdb.SelectDB:
			if e.DB >= len(dbs) {
				return dbs, res, fmt.Errorf("FATAL: Data file was created with a Redis server configured to handle more than %d databases. Exiting", len(dbs))
			}
			cur = e.DB
		case rdb.ResizeDB:
			// A sizing hint: believed only as far as it is plausible, so
			// a lying file cannot make the loader allocate much.
			if db := dbs[cur]; db.dict.Len() == 0 && e.Size <= 1<<26 {
				db.dict = NewDictSized(int(e.Size))
			}
		case rdb.Key:
			if e.DB >= len(dbs) {
				return dbs, res, fmt.Errorf("FATAL: Data file was created with a Redis server configured to handle more than %d databases. Exiting", len(dbs))
			}
			if !opts.keepExpired && e.Expire != -1 && e.Expire < opts.now {
				res.expired++
				if opts.recordExpired {
					res.expiredKeys = append(res.expiredKeys, dbKey{e.DB, owned(e.Key)})
				}
				continue
			}
			o, ok := objFromRDB(&e, &opts)
			if !ok {
				continue // an empty collection: Redis skips it too
			}
			db := dbs[e.DB]
			key := owned(e.Key)
			if !db.dict.Set(key, o.withLRU(opts.clock)) {
				return dbs, res, fmt.Errorf("Duplicated key '%s' found in DB %d", e.Key, e.DB)
			}
			if e.Expire != -1 {
				db.expires[key] = e.Expire
			}
			res.keys++
		}
	}
}

// objFromRDB builds a value in the encoding Redis gives a value loaded
// whole under the current config. It reports false for an empty
// collection.
func objFromRDB(k *rdb.Key, o *loadOptions) (Obj, bool) {
	switch k.Type {
	case rdb.TypeString:
		return StrObj(owned(k.String)), true
	case rdb.TypeList:
		if len(k.List) == 0 {
			return Obj{}, false
		}
		l := newListCap(len(k.List))
		for _, e := range k.List {
			l.PushBack(owned(e))
		}
		return listObj(l), true
	case rdb.TypeSet:
		if len(k.Set) == 0 {
			return Obj{}, false
		}
		set := newSetFor(owned(k.Set[0]))
		for _, m := range k.Set {
			set.addOwned(owned(m), o.intsetEntries)
		}
		return setObj(set), true
	case rdb.TypeHash:
		if len(k.Hash) == 0 {
			return Obj{}, false
		}
		h := newHash()
		for _, fv := range k.Hash {
			h.Set(owned(fv[0]), owned(fv[1]), o.hashEntries, o.hashValue)
		}
		return hashObj(h), true
	case rdb.TypeZSet:
		if len(k.ZSet) == 0 {
			return Obj{}, false
		}
		z := NewZSet()
		for _, m := range k.ZSet {
			z.Put(owned(m.Member), m.Score)
		}
		z.FitEncoding(o.zsetEntries, o.zsetValue)
		return zsetObj(z), true
	}
	return Obj{}, false
}

// auxInt reads an integer aux field, or def.
func auxInt(aux map[string]string, key string, def int64) int64 {
	if v, err := strconv.ParseInt(aux[key], 10, 64); err == nil {
		return v
	}
	return def
}

var errSnapshotRunning = errors.New("snapshot in progress")
