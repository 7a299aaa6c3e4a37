package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lagwise/lagwise/backend"
)

// runServer is `lagwise server`: it takes the arguments redis-server takes.
func runServer(args []string) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Println("usage: lagwise server [/path/to/redis.conf] [--directive value ...]")
		fmt.Println("example: lagwise server --port 7001 --replicaof 127.0.0.1 7000 --save \"\"")
		return 0
	}
	cfg, file, err := backend.LoadConfig(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := backend.Start(cfg, file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		for range sig {
			if srv.ShutdownBySignal() {
				return
			}
		}
	}()
	srv.Serve()
	return 0
}
