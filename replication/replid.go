package replication

import (
	"crypto/rand"
	"encoding/hex"
)

// IDLen is the length of a replication ID (Redis's CONFIG_RUN_ID_SIZE).
const IDLen = 40

// NewReplID returns a new replication ID: 40 random lowercase hex
// characters, as Redis's changeReplicationId makes.
func NewReplID() string {
	var b [IDLen / 2]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b[:])
}
