// Package serverproc helps tests that start a server (redis-server or
// lagwise server) on a port they picked free: another test may take that
// port between the pick and the server's bind, and then a connection that
// answers is not proof that the test's own server runs.
package serverproc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/lagwise/lagwise/backend/resp"
)

// Is reports whether the server answering on addr is process pid, by the
// process_id of its INFO server; password, when set, is sent with AUTH
// first. Any failure (no answer, an error reply, another process) is
// false: the caller waits and asks again.
func Is(addr string, pid int, password string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	var req []byte
	if password != "" {
		req = resp.AppendCommand(req, []byte("AUTH"), []byte(password))
	}
	req = resp.AppendCommand(req, []byte("INFO"), []byte("server"))
	if _, err := c.Write(req); err != nil {
		return false
	}
	rd := bufio.NewReader(c)
	if password != "" {
		if line, err := rd.ReadString('\n'); err != nil || line != "+OK\r\n" {
			return false
		}
	}
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "$") {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 0 {
		return false
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return false
	}
	return strings.Contains("\r\n"+string(body), fmt.Sprintf("\r\nprocess_id:%d\r\n", pid))
}
