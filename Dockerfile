# The dispatch-server image: static release binaries on an empty base (FROM scratch), a non-root user,
# no shell, no package manager. It also carries dispatch-loadtest and its scenarios, so one image runs
# the service and the in-cluster load-test Job.
#
# Build it with `scripts/build-image`, which compiles the binaries with
# `swift build -c release -Xswiftc -static-executable`, stages the file system below in
# .build/image/rootfs, runs `buildah bud` (or `docker build`) on this file and smoke-tests the result.
# The static binaries need no libraries; name resolution (getaddrinfo for the database's host) uses
# glibc's built-in `files` and `dns` sources, configured by /etc/nsswitch.conf, /etc/hosts and the
# /etc/resolv.conf that Kubernetes mounts. The CA bundle is there for `POSTGRES_SSLMODE=require`.
FROM scratch
COPY .build/image/rootfs/ /
USER 65532:65532
EXPOSE 8080 9090
ENV HOST=0.0.0.0 PORT=8080 METRICS_PORT=9090
# The server is PID 1: it handles SIGTERM itself (readiness fails, streams end, requests and the
# write queue drain, exit 0), so no init process is needed.
ENTRYPOINT ["/usr/local/bin/dispatch-server"]
