# lagwise on an empty base: one static binary and nothing else.
#
# The binary is built on the host, not in the image, and the build context is
# staged by scripts/image.sh (`make docker` runs both):
#
#   lagwise        CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w"
#   etc/passwd     root and the lagwise user (10001), which the container runs as
#   etc/group
#   data/          an empty directory, owned by 10001, that becomes /data
#
# The default command is a standalone storage server on 6379 that any
# container on the same network can reach (bind 0.0.0.0, protected-mode off:
# put it on a private network, or add --requirepass). Run the proxy with
#   lagwise proxy --config /etc/lagwise/config.yaml
# and a replica with
#   lagwise server ... --replicaof <master> 6379
FROM scratch
COPY etc/passwd etc/group /etc/
COPY --chown=10001:10001 data /data
COPY lagwise /lagwise
USER 10001:10001
WORKDIR /data
# /data: the server's working directory (dump.rdb, appendonlydir).
# /etc/lagwise: the proxy's config.yaml; mount a directory, not the single
# file, so that edits saved by renaming a new file over it are seen.
VOLUME ["/data", "/etc/lagwise"]
# 6379: the server or the proxy; 9121: the proxy's metrics (metrics_listen).
EXPOSE 6379 9121
ENTRYPOINT ["/lagwise"]
CMD ["server", "--port", "6379", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
