package replication

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// HandshakeConfig is what a replica tells its master when it connects.
type HandshakeConfig struct {
	// MasterUser and MasterAuth are masteruser and masterauth. Without
	// MasterAuth no AUTH is sent (and MasterUser is not used).
	MasterUser, MasterAuth string
	// Port is the port announced with REPLCONF listening-port:
	// replica-announce-port when set, else the server's own port.
	Port int
	// AnnounceIP is replica-announce-ip; "" sends no REPLCONF ip-address.
	AnnounceIP string
	// ReplID and Offset are the history the replica's data follows: the
	// replication ID and the offset of its last processed byte. With no
	// ReplID the replica has no history and asks for a full sync.
	ReplID string
	Offset int64
}

// HandshakeCommands is the sequence a replica sends to its master, in
// order, as Redis 7.0's syncWithMaster does (checked against redis-server
// 7.0 with masteruser, masterauth and the announce options):
//
//	PING
//	AUTH [<masteruser>] <masterauth>            when masterauth is set
//	REPLCONF listening-port <port>
//	REPLCONF ip-address <ip>                    when replica-announce-ip is set
//	REPLCONF capa eof capa psync2
//	PSYNC <replid> <offset+1>                   PSYNC ? -1 without history
//
// Redis sends PING alone and waits for its reply (ReadHandshakeReply),
// then sends AUTH and the REPLCONFs together and reads their replies in
// order, then sends PSYNC and reads its answer with ReadPsyncReply.
func HandshakeCommands(cfg HandshakeConfig) [][]string {
	cmds := [][]string{{"PING"}}
	if cfg.MasterAuth != "" {
		if cfg.MasterUser != "" {
			cmds = append(cmds, []string{"AUTH", cfg.MasterUser, cfg.MasterAuth})
		} else {
			cmds = append(cmds, []string{"AUTH", cfg.MasterAuth})
		}
	}
	cmds = append(cmds, []string{"REPLCONF", "listening-port", strconv.Itoa(cfg.Port)})
	if cfg.AnnounceIP != "" {
		cmds = append(cmds, []string{"REPLCONF", "ip-address", cfg.AnnounceIP})
	}
	cmds = append(cmds, []string{"REPLCONF", "capa", "eof", "capa", "psync2"})
	if cfg.ReplID == "" {
		cmds = append(cmds, []string{"PSYNC", "?", "-1"})
	} else {
		cmds = append(cmds, []string{"PSYNC", cfg.ReplID, strconv.FormatInt(cfg.Offset+1, 10)})
	}
	return cmds
}

// ReadHandshakeReply reads the master's one-line reply to the handshake
// command cmd (PING, AUTH or REPLCONF; PSYNC's answer is read by
// ReadPsyncReply) and judges it as syncWithMaster does:
//
//   - PING: any "+" reply, or -NOAUTH, -NOPERM or "-ERR operation not
//     permitted" (a master that wants AUTH first, which comes next), goes
//     on; any other reply is a *MasterError.
//   - AUTH: an error reply is a *MasterError.
//   - REPLCONF: an error reply is not critical (a master that does not know
//     the option); it is returned as note, for the log, and the handshake
//     goes on.
//
// A *MasterError ends the attempt: the link closes the connection and
// tries again later.
func ReadHandshakeReply(r *bufio.Reader, cmd []string) (note string, err error) {
	line, err := readLine(r)
	if err != nil {
		return "", err
	}
	name := ""
	if len(cmd) > 0 {
		name = strings.ToUpper(cmd[0])
	}
	switch name {
	case "PING":
		if bytes.HasPrefix(line, []byte("+")) || bytes.HasPrefix(line, []byte("-NOAUTH")) ||
			bytes.HasPrefix(line, []byte("-NOPERM")) || bytes.HasPrefix(line, []byte("-ERR operation not permitted")) {
			return "", nil
		}
		return "", &MasterError{To: "PING", Reply: string(line)}
	case "AUTH":
		if bytes.HasPrefix(line, []byte("-")) {
			return "", &MasterError{To: "AUTH", Reply: string(line)}
		}
		return "", nil
	}
	if bytes.HasPrefix(line, []byte("-")) {
		what := strings.Join(cmd, " ")
		if len(cmd) >= 2 {
			what = cmd[0] + " " + cmd[1]
		}
		return "(Non critical) Master does not understand " + what + ": " + string(line), nil
	}
	return "", nil
}
