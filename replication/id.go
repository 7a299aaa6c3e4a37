package replication

import (
	"crypto/rand"
	"encoding/hex"
)

// NewReplID returns a new replication ID: 40 random hex characters.
func NewReplID() string {
	var b [20]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
