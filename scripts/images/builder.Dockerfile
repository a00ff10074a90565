# Builder image for the Dockerfile's build stage, built by scripts/base-images.sh: Debian bookworm
# with the C++ toolchain and, in /opt/static-deps, the static Poco, mbedTLS and libcurl that
# scripts/static-deps.sh built (Debian ships neither as a linkable .a). A consumer configures with
#   cmake -DSTATIC=ON -DCMAKE_PREFIX_PATH=/opt/static-deps ...
ARG BASE_IMAGE=es-etcd-entrypoint/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make cmake ninja-build zlib1g-dev \
      nlohmann-json3-dev pkg-config file ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY static-deps/ /opt/static-deps/
ENV CMAKE_PREFIX_PATH=/opt/static-deps
