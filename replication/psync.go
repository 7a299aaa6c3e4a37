package replication

import "fmt"

// History is what a master knows of its replication history: its current
// ID and offset, and the previous ID kept after a promotion (PSYNC2).
type History struct {
	ID     string // master_replid
	ID2    string // master_replid2; all zeros when none
	Offset int64  // master_repl_offset
	// SecondOffset is second_repl_offset: the last offset + 1 valid for
	// ID2, or -1 when there is none.
	SecondOffset int64
}

// Decision is the master's answer to PSYNC.
type Decision struct {
	// Partial: +CONTINUE, sending the backlog from the requested offset.
	Partial bool
	// Reason says why a partial resync was refused, in the words Redis
	// logs, for the log; empty for a partial resync or a replica that
	// asked for a full one.
	Reason string
}

// Decide is masterTryPartialResynchronization's rule. A replica asks for
// offset off (its own offset + 1) in the history of replid. A partial
// resync needs the ID to be the master's current one, or its previous one
// with off not past where that history ended, and off inside the backlog
// (inclusive at both ends: off == Offset+1 continues with nothing to send).
// A nil backlog means none exists.
func Decide(replid string, off int64, h History, b *Backlog) Decision {
	if replid == "?" {
		return Decision{} // PSYNC ? -1: the replica asks for a full sync
	}
	if replid != h.ID && (replid != h.ID2 || off > h.SecondOffset) {
		if replid != h.ID2 {
			return Decision{Reason: fmt.Sprintf("Replication ID mismatch (Replica asked for '%s', my replication IDs are '%s' and '%s')", replid, h.ID, h.ID2)}
		}
		return Decision{Reason: fmt.Sprintf("Requested offset for second ID was %d, but I can reply up to %d", off, h.SecondOffset)}
	}
	if b == nil {
		return Decision{Reason: "Unable to partial resync with replica: no backlog"}
	}
	if off < b.First() || off > b.Offset()+1 {
		return Decision{Reason: fmt.Sprintf("Unable to partial resync with replica: lack of backlog (Replica request was: %d).", off)}
	}
	return Decision{Partial: true}
}
