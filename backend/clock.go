package backend

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

func nowMicros() int64 { return time.Now().UnixMicro() }

// randomHex returns n random hex characters (run ids, replication ids).
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
