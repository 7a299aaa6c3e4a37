package backend

import "unsafe"

// DB is one numbered database: the keyspace, the expiry times of volatile
// keys, the WATCHes and the clients blocked on its keys.
type DB struct {
	id      int
	dict    *Dict
	expires map[string]int64 // unix ms; only volatile keys
	// watched maps a key to the clients that WATCH it in this db.
	watched map[string][]*Client
	// blocked maps a key to the clients blocked on it, in arrival order.
	blocked map[string][]*blockedClient
	// avgTTL is the running estimate INFO keyspace reports, as Redis keeps it.
	avgTTL int64
}

func newDB(id int) *DB {
	return &DB{id: id, dict: NewDict(), expires: map[string]int64{}}
}

// bstr views b as a string without copying, for lookups only: the result
// must not be stored.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// expireAt returns the unix ms expiry of key, or -1.
func (db *DB) expireAt(key string) int64 {
	if len(db.expires) == 0 {
		return -1
	}
	if t, ok := db.expires[key]; ok {
		return t
	}
	return -1
}

// Size is the number of keys, expired or not (what DBSIZE answers).
func (db *DB) Size() int { return db.dict.Len() }
