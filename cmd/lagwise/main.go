// Command lagwise is the one binary of lagwise: the storage server, the
// proxy and the tools around them.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: lagwise <command> [arguments]

commands:
  server [redis.conf] [--directive value ...]   run a storage server (like redis-server)
  proxy --config config.yaml                    run the proxy
  up [--config config.yaml] [--dir DIR]         run the master, replicas and proxy of config.yaml on this machine
  config check config.yaml                      validate a proxy config and print what it would do
  version                                       print the version
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var code int
	switch os.Args[1] {
	case "server":
		code = runServer(os.Args[2:])
	case "config":
		code = runConfig(os.Args[2:], os.Stdout, os.Stderr)
	case "proxy":
		code = runProxy(os.Args[2:], os.Stderr)
	case "up":
		code = runUp(os.Args[2:], os.Stdout, os.Stderr)
	case "version", "--version", "-v":
		fmt.Println("lagwise", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "lagwise: unknown command %q\n\n%s", os.Args[1], usage)
		code = 2
	}
	os.Exit(code)
}

const version = "0.1.0"
