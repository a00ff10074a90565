# Local stand-in for the official OpenSearch image (opensearchproject/opensearch 2.x and 3.x),
# built by scripts/base-images.sh from the integ-test-zip on Maven Central (no image registry is
# reachable here). Laid out as the official image, for everything es-etcd-entrypoint meets:
#   - home /usr/share/opensearch, config in its config/; there is no /usr/share/elasticsearch;
#   - user opensearch, uid 1000 gid 1000, owning the home; USER 1000; WORKDIR the home;
#   - the start script opensearch-docker-entrypoint.sh in the home (ours, written to the official
#     script's environment contract: see its header), ENTRYPOINT ["./opensearch-docker-entrypoint.sh"],
#     CMD ["opensearch"]; no tini, no /usr/local/bin/docker-entrypoint.sh; the home's bin/ on PATH.
# What differs: Debian instead of Amazon Linux, Debian's JDK (or the host's) instead of the bundled
# one, and none of the official image's plugins; search-security.Dockerfile adds the security
# plugin, which the official image always carries.
#
# Build context (prepared by base-images.sh): home/ = the unpacked distribution with its config,
# jdk/ = a JDK copied from the host when Debian bookworm has none new enough (empty otherwise),
# opensearch-docker-entrypoint.sh.
ARG BASE_IMAGE=es-etcd-entrypoint/debian:bookworm
FROM ${BASE_IMAGE}

# Debian JRE package to install, or empty when jdk/ carries the JDK.
ARG JAVA_PACKAGE=
# Where the JDK ends up: /usr/lib/jvm/java-17-openjdk-amd64 for Debian's, /opt/java/openjdk for
# the copied one.
ARG JAVA_DIR

# curl for health checks. The man1 directory: the JRE's postinst registers alternatives for man
# pages and fails without it.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates ${JAVA_PACKAGE} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

COPY jdk/ /opt/java/openjdk/
RUN [ -x /opt/java/openjdk/bin/java ] || rm -rf /opt/java

RUN groupadd --gid 1000 opensearch \
 && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /usr/share/opensearch \
      --shell /bin/bash opensearch
COPY --chown=1000:1000 home/ /usr/share/opensearch/
COPY --chown=1000:1000 opensearch-docker-entrypoint.sh /usr/share/opensearch/opensearch-docker-entrypoint.sh

ENV OPENSEARCH_JAVA_HOME=${JAVA_DIR} \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/share/opensearch/bin
WORKDIR /usr/share/opensearch
USER 1000
EXPOSE 9200 9300
ENTRYPOINT ["./opensearch-docker-entrypoint.sh"]
CMD ["opensearch"]
