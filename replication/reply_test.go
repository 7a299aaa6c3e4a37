package replication

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

const (
	testID  = "0123456789abcdef0123456789abcdef01234567"
	testID2 = "fedcba9876543210fedcba9876543210fedcba98"
)

func TestReadPsyncReply(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want PsyncReply
		err  string // substring of the error; "" for none
	}{
		{"full resync", "+FULLRESYNC " + testID + " 1000\r\n", PsyncReply{Result: FullResync, ReplID: testID, Offset: 1000}, ""},
		{"keep-alives first", "\n\n\r\n\n+FULLRESYNC " + testID + " 0\r\n", PsyncReply{Result: FullResync, ReplID: testID, Offset: 0}, ""},
		{"LF only", "+FULLRESYNC " + testID + " 9223372036854775807\n", PsyncReply{Result: FullResync, ReplID: testID, Offset: 1<<63 - 1}, ""},
		{"continue with a new ID", "+CONTINUE " + testID2 + "\r\n", PsyncReply{Result: Continue, ReplID: testID2}, ""},
		{"continue from an old master", "\n+CONTINUE\r\n", PsyncReply{Result: Continue}, ""},
		{"no master link", "-NOMASTERLINK Can't SYNC while not connected with my master\r\n", PsyncReply{Result: TryLater, Line: "-NOMASTERLINK Can't SYNC while not connected with my master"}, ""},
		{"loading", "-LOADING Redis is loading the dataset in memory\r\n", PsyncReply{Result: TryLater, Line: "-LOADING Redis is loading the dataset in memory"}, ""},
		{"old master", "-ERR unknown command 'PSYNC'\r\n", PsyncReply{Result: NotSupported, Line: "-ERR unknown command 'PSYNC'"}, ""},
		{"other error", "-NOAUTH Authentication required.\r\n", PsyncReply{Result: NotSupported, Line: "-NOAUTH Authentication required."}, ""},
		{"unexpected reply", "+OK\r\n", PsyncReply{Result: NotSupported, Line: "+OK"}, ""},
		{"short ID", "+FULLRESYNC abc 1000\r\n", PsyncReply{}, "wrong +FULLRESYNC syntax"},
		{"long ID", "+FULLRESYNC " + testID + "8 1000\r\n", PsyncReply{}, "wrong +FULLRESYNC syntax"},
		{"no offset", "+FULLRESYNC " + testID + "\r\n", PsyncReply{}, "wrong +FULLRESYNC syntax"},
		{"two spaces", "+FULLRESYNC  " + testID + " 1\r\n", PsyncReply{}, "wrong +FULLRESYNC syntax"},
		{"no space", "+FULLRESYNC" + testID + " 1\r\n", PsyncReply{}, "wrong +FULLRESYNC syntax"},
		{"bad offset", "+FULLRESYNC " + testID + " 12x\r\n", PsyncReply{}, "bad offset"},
		{"negative offset", "+FULLRESYNC " + testID + " -1\r\n", PsyncReply{}, "bad offset"},
		{"offset and more", "+FULLRESYNC " + testID + " 1 2\r\n", PsyncReply{}, "bad offset"},
		{"empty offset", "+FULLRESYNC " + testID + " \r\n", PsyncReply{}, "bad offset"},
		{"continue with a short ID", "+CONTINUE abc\r\n", PsyncReply{}, "wrong +CONTINUE syntax"},
		{"continue with garbage", "+CONTINUEX\r\n", PsyncReply{}, "wrong +CONTINUE syntax"},
		{"connection closed", "\n\n", PsyncReply{}, io.ErrUnexpectedEOF.Error()},
		{"connection closed mid-line", "+FULLRESYNC " + testID, PsyncReply{}, io.ErrUnexpectedEOF.Error()},
		{"line too long", "-ERR " + strings.Repeat("x", MaxLine) + "\r\n", PsyncReply{}, "longer than"},
	}
	for _, tc := range cases {
		for _, size := range []int{16, 4096} {
			const next = "$18\r\n"
			in := tc.in
			if tc.err == "" {
				in += next
			}
			r := bufio.NewReaderSize(strings.NewReader(in), size)
			got, err := ReadPsyncReply(r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("%s (buffer %d): error %v, want %q", tc.name, size, err, tc.err)
				}
				continue
			}
			if err != nil || got != tc.want {
				t.Errorf("%s (buffer %d): %+v, %v; want %+v", tc.name, size, got, err, tc.want)
				continue
			}
			if rest, _ := io.ReadAll(r); string(rest) != next {
				t.Errorf("%s (buffer %d): %q left, want %q", tc.name, size, rest, next)
			}
		}
	}
}

func TestReplyErrorTypes(t *testing.T) {
	_, err := ReadPsyncReply(bufio.NewReader(strings.NewReader("+FULLRESYNC x 1\r\n")))
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Errorf("bad +FULLRESYNC: %T, want *ProtocolError", err)
	}
	_, err = ReadTransferHeader(bufio.NewReader(strings.NewReader("-ERR BGSAVE failed\r\n")))
	var me *MasterError
	if !errors.As(err, &me) || me.Reply != "-ERR BGSAVE failed" {
		t.Errorf("error header: %v, want *MasterError", err)
	}
}
