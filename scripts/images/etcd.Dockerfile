# etcd 3.4 from Debian bookworm (etcd-server 3.4.23), built by scripts/base-images.sh: the etcd
# that the project's integration and e2e tests run against. etcdctl (etcd-client) is included for
# test setup and debugging.
ARG BASE_IMAGE=es-etcd-entrypoint/debian:bookworm
FROM ${BASE_IMAGE}
# policy-rc.d: the package's postinst would try to start the service; nothing runs services in an
# image build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends etcd-server etcd-client \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/sbin/policy-rc.d
# Same default as the upstream image: data in the working directory of the container.
WORKDIR /var/lib/etcd
EXPOSE 2379 2380
ENTRYPOINT ["etcd"]
