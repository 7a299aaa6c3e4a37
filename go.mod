module github.com/lagwise/lagwise

go 1.26.8

require (
	github.com/fsnotify/fsnotify v1.10.1
	github.com/redis/go-redis/v9 v9.17.3
	github.com/tidwall/resp v0.1.1
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	golang.org/x/sys v0.13.0 // indirect
)
