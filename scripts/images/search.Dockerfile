# Local stand-in for the official Elasticsearch image, built by scripts/base-images.sh from the
# integ-test-zip on Maven Central (no image registry is reachable here). Same layout and contract
# as the official image for what es-etcd-entrypoint uses: home /usr/share/elasticsearch, uid 1000
# gid 0, tini + /usr/local/bin/docker-entrypoint.sh, CMD eswrapper. OpenSearch's stand-in, laid
# out as its own official image, is opensearch.Dockerfile.
#
# Build context (prepared by base-images.sh): home/ = the unpacked distribution with its config,
# jdk/ = a JDK copied from the host when Debian bookworm has none new enough (empty otherwise),
# docker-entrypoint.sh.
ARG BASE_IMAGE=es-etcd-entrypoint/debian:bookworm
FROM ${BASE_IMAGE}

# elasticsearch (the name of the user, the home and the start script)
ARG FLAVOR=elasticsearch
# Debian JRE package to install, or empty when jdk/ carries the JDK.
ARG JAVA_PACKAGE=
# Where the JDK ends up: /usr/lib/jvm/java-17-openjdk-amd64 for Debian's, /opt/java/openjdk for
# the copied one.
ARG JAVA_DIR

# tini as PID 1 exactly like the official image (/bin/tini through usrmerge); curl for health checks.
# The man1 directory: the JRE's postinst registers alternatives for man pages and fails without it.
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends tini curl ca-certificates ${JAVA_PACKAGE} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

COPY jdk/ /opt/java/openjdk/
RUN [ -x /opt/java/openjdk/bin/java ] || rm -rf /opt/java

# Official image: user elasticsearch uid 1000 (group 1000, member of root); files owned 1000:0.
RUN groupadd --gid 1000 ${FLAVOR} \
 && useradd --uid 1000 --gid 1000 --groups 0 --no-create-home \
      --home-dir /usr/share/${FLAVOR} --shell /bin/bash ${FLAVOR}
COPY --chown=1000:0 home/ /usr/share/${FLAVOR}/
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# ES 8 warns when JAVA_HOME is set: not set here.
ENV ES_JAVA_HOME=${JAVA_DIR} \
    PATH=/usr/share/${FLAVOR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /usr/share/${FLAVOR}
USER 1000:0
EXPOSE 9200 9300
ENTRYPOINT ["/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["eswrapper"]
