package proxy

import (
	"fmt"
	"strconv"
	"strings"
)

// InfoReplication is what the lag monitor reads from a server's INFO
// replication section (and, for replicas, INFO persistence): the fields
// Redis 7.0 and lagwise server both print. Unknown fields are ignored;
// a field a server leaves out keeps its zero value, and the Has* fields
// say whether the offsets were there.
type InfoReplication struct {
	// Role is "master" or "slave".
	Role string

	// ReplID and ReplID2 are master_replid and master_replid2. A
	// replica prints its master's replication ID once synced, so a
	// replica whose ReplID equals the master's replicates it (directly
	// or through another replica), whatever names the two use for each
	// other's host.
	ReplID, ReplID2 string
	// MasterReplOffset is master_repl_offset: on a master, the offset
	// of its replication stream.
	MasterReplOffset    int64
	HasMasterReplOffset bool
	// Slaves are a master's slaveN lines: its view of each replica.
	Slaves []InfoSlave

	// The rest is a replica's.

	// MasterHost and MasterPort are where the replica replicates from.
	MasterHost string
	MasterPort int
	// LinkStatus is master_link_status: "up" or "down".
	LinkStatus string
	// SyncInProgress is master_sync_in_progress: a full sync is under
	// way.
	SyncInProgress bool
	// SlaveReplOffset is slave_repl_offset: the offset the replica has
	// processed (applied). Redis 7.0 also prints slave_read_repl_offset,
	// what it has read; reads see only what is applied.
	SlaveReplOffset    int64
	HasSlaveReplOffset bool
	// Loading is INFO persistence's loading (or async_loading): the
	// server is loading a dataset.
	Loading bool
}

// InfoSlave is one slaveN line of a master's INFO replication:
// "slave0:ip=127.0.0.1,port=6381,state=online,offset=1234,lag=0".
type InfoSlave struct {
	// IP and Port are the replica's address as the master sees it (its
	// connection's address, or replica-announce-ip) and its listening
	// port.
	IP   string
	Port int
	// State is wait_bgsave, send_bulk, online, ...
	State string
	// Offset is the replica's offset in its last REPLCONF ACK.
	Offset int64
	// Lag is the seconds since that ACK.
	Lag int64
}

// ParseInfoReplication reads the text of one or more INFO sections (a
// bulk reply's payload; lines end in CRLF or LF; "# Section" headers and
// blank lines are skipped) into info, overwriting the fields it finds.
// Call it once per reply to merge the replication and persistence
// sections. It fails on a number it cannot read in a field it uses, or
// a slaveN line it cannot read; it does not insist on any field (see
// InfoReplication.Has*).
func ParseInfoReplication(text string, info *InfoReplication) error {
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "role":
			info.Role = val
		case "master_replid":
			info.ReplID = val
		case "master_replid2":
			info.ReplID2 = val
		case "master_repl_offset":
			info.MasterReplOffset, err = monInfoInt(key, val)
			info.HasMasterReplOffset = err == nil
		case "master_host":
			info.MasterHost = val
		case "master_port":
			var p int64
			p, err = monInfoInt(key, val)
			info.MasterPort = int(p)
		case "master_link_status":
			info.LinkStatus = val
		case "master_sync_in_progress":
			info.SyncInProgress = val != "0"
		case "slave_repl_offset":
			info.SlaveReplOffset, err = monInfoInt(key, val)
			info.HasSlaveReplOffset = err == nil
		case "loading":
			info.Loading = val != "0"
		case "async_loading":
			if val != "0" {
				info.Loading = true
			}
		default:
			if monIsSlaveKey(key) {
				var s InfoSlave
				if s, err = monParseInfoSlave(val); err != nil {
					err = fmt.Errorf("INFO %s: %v", key, err)
				} else {
					info.Slaves = append(info.Slaves, s)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func monInfoInt(key, val string) (int64, error) {
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("INFO %s: not an integer: %q", key, val)
	}
	return n, nil
}

// monIsSlaveKey reports whether key is slave<N>.
func monIsSlaveKey(key string) bool {
	n, ok := strings.CutPrefix(key, "slave")
	if !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// monParseInfoSlave reads "ip=...,port=...,state=...,offset=...,lag=...".
func monParseInfoSlave(val string) (InfoSlave, error) {
	s := InfoSlave{Offset: -1, Lag: -1}
	var havePort bool
	for _, kv := range strings.Split(val, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return s, fmt.Errorf("no '=' in %q", kv)
		}
		var err error
		switch k {
		case "ip":
			s.IP = v
		case "port":
			var p int64
			p, err = strconv.ParseInt(v, 10, 32)
			s.Port, havePort = int(p), err == nil
		case "state":
			s.State = v
		case "offset":
			s.Offset, err = strconv.ParseInt(v, 10, 64)
		case "lag":
			s.Lag, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return s, fmt.Errorf("%s is not an integer: %q", k, v)
		}
	}
	if s.IP == "" || !havePort {
		return s, fmt.Errorf("no ip or port in %q", val)
	}
	return s, nil
}
