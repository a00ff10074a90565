# Elasticsearch with es-etcd-entrypoint as PID 1 (docs/image.md).
#
#   docker build -t es-etcd-entrypoint/es:8 .                       # official bases, needs internet
#   docker build -t es-etcd-entrypoint/es:8 \
#     --build-arg BUILDER_IMAGE=es-etcd-entrypoint/builder:bookworm \
#     --build-arg ES_IMAGE=es-etcd-entrypoint/elasticsearch:8 .     # local stand-ins (scripts/base-images.sh)
#
# Stage "build" compiles the fully static binary on Debian bookworm. BUILDER_IMAGE is either plain
# debian:bookworm (static Poco, mbedTLS and libcurl are then built from Debian's source packages by
# scripts/static-deps.sh, ~5 min) or an image that already carries them in /opt/static-deps
# (es-etcd-entrypoint/builder:bookworm). The final stage is the Elasticsearch (or OpenSearch) image
# itself plus one file: nothing of the base changes except who is PID 1.
#
# Works with the legacy builder (Debian's docker.io has no buildx; docker-compose 1.29 uses it) and
# with BuildKit: no --chmod, no heredocs, no RUN --mount.
ARG BUILDER_IMAGE=debian:bookworm
ARG ES_IMAGE=docker.elastic.co/elasticsearch/elasticsearch:8.19.21
# The project's version for the image label; scripts/build-image.sh passes the content of VERSION.
# When it is given, the build refuses a binary whose --version says otherwise.
ARG ESETCD_VERSION=

FROM ${BUILDER_IMAGE} AS build
ARG ESETCD_VERSION
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Only the two scripts the dependency build needs, so that this layer (the slow one on a plain
# Debian base) is reused until they change.
COPY scripts/lib.sh scripts/static-deps.sh scripts/mbedtls-config.h scripts/
RUN if [ -f /opt/static-deps/.complete ]; then \
      echo "static deps from the builder image: $(tr '\n' ' ' </opt/static-deps/.complete)"; \
    else \
      ESETCD_CACHE=/tmp/esetcd-cache scripts/static-deps.sh >/tmp/static-deps.out \
      && cp -a "$(tail -n 1 /tmp/static-deps.out)" /opt/static-deps \
      && rm -rf /tmp/esetcd-cache /tmp/static-deps.out /var/lib/apt/lists/*; \
    fi
COPY . .
# build-static.sh installs what the base lacks (nothing on the builder image), refuses a binary
# that `file` does not call statically linked, and strips a copy.
RUN ESETCD_STATIC_DEPS=/opt/static-deps ESETCD_STATIC_BUILD_DIR=/build ESETCD_CACHE=/tmp/esetcd-cache \
      scripts/build-static.sh \
    && /build/es-etcd-entrypoint.stripped --version \
    && { [ -z "$ESETCD_VERSION" ] \
         || [ "$(/build/es-etcd-entrypoint.stripped --version)" = "es-etcd-entrypoint $ESETCD_VERSION" ]; } \
    && install -D -m 0755 /build/es-etcd-entrypoint.stripped /out/es-etcd-entrypoint

FROM ${ES_IMAGE}
ARG ES_IMAGE
ARG ESETCD_VERSION
LABEL org.opencontainers.image.title="es-etcd-entrypoint" \
      org.opencontainers.image.version="${ESETCD_VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.description="Elasticsearch that finds its peers in etcd and registers itself there while healthy" \
      es-etcd-entrypoint.base-image="${ES_IMAGE}"
COPY --from=build /out/es-etcd-entrypoint /usr/local/bin/es-etcd-entrypoint
# The official Elasticsearch image's user (uid 1000, gid 0): PID 1 runs the node directly, without
# changing users, and writes unicast_hosts.txt into its config directory. The official OpenSearch
# image runs as uid 1000 with its own group 1000, which owns its home; uid 1000 owns it either
# way, and group 0 lets mounted certificates readable by group root (scripts/certs.sh) be read on
# both.
USER 1000:0
# Replaces ["/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"] (Elasticsearch) and
# ["./opensearch-docker-entrypoint.sh"] (OpenSearch). With no command the entrypoint starts the
# image's script itself (`/usr/local/bin/docker-entrypoint.sh eswrapper`, or
# `/usr/share/opensearch/opensearch-docker-entrypoint.sh opensearch`), so it still handles env-var
# settings, *_FILE secrets, the keystore and OpenSearch's security switches. CMD must be empty:
# the base's ["eswrapper"] or ["opensearch"] would otherwise be taken as the command to run.
ENTRYPOINT ["/usr/local/bin/es-etcd-entrypoint"]
CMD []
# Healthy = the node passed its probe and is registered in etcd, asked of PID 1 at STATUS_ADDR
# (the image has no curl, and needs none). The start period covers a first bootstrap; a node with
# STATUS_ADDR=off or DISCOVERY=off reports unhealthy (docker run --no-healthcheck).
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["/usr/local/bin/es-etcd-entrypoint", "health"]
