package replication

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestHandshakeCommands(t *testing.T) {
	cases := []struct {
		name string
		cfg  HandshakeConfig
		want [][]string
	}{
		{"a new replica", HandshakeConfig{Port: 6381}, [][]string{
			{"PING"},
			{"REPLCONF", "listening-port", "6381"},
			{"REPLCONF", "capa", "eof", "capa", "psync2"},
			{"PSYNC", "?", "-1"},
		}},
		// As redis-server 7.0 sends it with masteruser u, masterauth pw,
		// replica-announce-ip 10.0.0.9 and replica-announce-port 7777.
		{"user, password, announced address", HandshakeConfig{MasterUser: "u", MasterAuth: "pw", Port: 7777, AnnounceIP: "10.0.0.9"}, [][]string{
			{"PING"},
			{"AUTH", "u", "pw"},
			{"REPLCONF", "listening-port", "7777"},
			{"REPLCONF", "ip-address", "10.0.0.9"},
			{"REPLCONF", "capa", "eof", "capa", "psync2"},
			{"PSYNC", "?", "-1"},
		}},
		{"password only", HandshakeConfig{MasterAuth: "pw", Port: 6380}, [][]string{
			{"PING"},
			{"AUTH", "pw"},
			{"REPLCONF", "listening-port", "6380"},
			{"REPLCONF", "capa", "eof", "capa", "psync2"},
			{"PSYNC", "?", "-1"},
		}},
		{"a user without a password sends no AUTH", HandshakeConfig{MasterUser: "u", Port: 6380}, [][]string{
			{"PING"},
			{"REPLCONF", "listening-port", "6380"},
			{"REPLCONF", "capa", "eof", "capa", "psync2"},
			{"PSYNC", "?", "-1"},
		}},
		// redis-server 7.0 at offset 1364 of history 111...1 asked for 1365.
		{"with history: the next byte", HandshakeConfig{Port: 7401, ReplID: "1111111111111111111111111111111111111111", Offset: 1364}, [][]string{
			{"PING"},
			{"REPLCONF", "listening-port", "7401"},
			{"REPLCONF", "capa", "eof", "capa", "psync2"},
			{"PSYNC", "1111111111111111111111111111111111111111", "1365"},
		}},
		{"with history at offset 0", HandshakeConfig{Port: 1, ReplID: testID}, [][]string{
			{"PING"},
			{"REPLCONF", "listening-port", "1"},
			{"REPLCONF", "capa", "eof", "capa", "psync2"},
			{"PSYNC", testID, "1"},
		}},
	}
	for _, tc := range cases {
		if got := HandshakeCommands(tc.cfg); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestReadHandshakeReply(t *testing.T) {
	ping := []string{"PING"}
	auth := []string{"AUTH", "pw"}
	port := []string{"REPLCONF", "listening-port", "6380"}
	capa := []string{"REPLCONF", "capa", "eof", "capa", "psync2"}
	cases := []struct {
		name  string
		cmd   []string
		reply string
		note  string // substring
		err   string // substring
	}{
		{"PONG", ping, "+PONG\r\n", "", ""},
		{"any simple string", ping, "+OK\r\n", "", ""},
		{"NOAUTH: AUTH comes next", ping, "-NOAUTH Authentication required.\r\n", "", ""},
		{"NOPERM", ping, "-NOPERM this user has no permissions to run the 'ping' command\r\n", "", ""},
		{"old masters", ping, "-ERR operation not permitted\r\n", "", ""},
		{"other PING error", ping, "-ERR unknown command\r\n", "", "replied to PING: -ERR unknown command"},
		{"empty PING reply", ping, "\r\n", "", "replied to PING"},
		{"AUTH ok", auth, "+OK\r\n", "", ""},
		{"AUTH refused", auth, "-WRONGPASS invalid username-password pair or user is disabled.\r\n", "", "replied to AUTH: -WRONGPASS"},
		{"REPLCONF ok", port, "+OK\r\n", "", ""},
		{"REPLCONF unknown: not critical", port, "-ERR Unrecognized REPLCONF option: listening-port\r\n", "Master does not understand REPLCONF listening-port: -ERR", ""},
		{"capa unknown: not critical", capa, "-ERR syntax error\r\n", "REPLCONF capa", ""},
		{"connection closed", ping, "", "", "unexpected EOF"},
	}
	for _, tc := range cases {
		in := tc.reply
		if in != "" {
			in += "+next\r\n"
		}
		r := bufio.NewReader(strings.NewReader(in))
		note, err := ReadHandshakeReply(r, tc.cmd)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			var me *MasterError
			if tc.reply != "" && !errors.As(err, &me) {
				t.Errorf("%s: %T, want *MasterError", tc.name, err)
			}
			continue
		}
		if err != nil || (tc.note == "") != (note == "") || !strings.Contains(note, tc.note) {
			t.Errorf("%s: note %q, error %v; want note %q", tc.name, note, err, tc.note)
		}
		if line, _ := readLine(r); string(line) != "+next" {
			t.Errorf("%s: %q next, want +next", tc.name, line)
		}
	}
}
