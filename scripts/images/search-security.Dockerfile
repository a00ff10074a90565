# OpenSearch stand-in with the security plugin, as the official OpenSearch image ships it: the
# plain stand-in (search.Dockerfile) plus org.opensearch.plugin:opensearch-security from Maven
# Central, installed by the distribution's own plugin tool. Built by scripts/base-images.sh
# (target opensearch-security:VERSION); build context: opensearch-security.zip.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

COPY --chown=1000:1000 opensearch-security.zip /tmp/opensearch-security.zip
# --batch grants the extra Java permissions the plugin asks for without a prompt. The plugin's
# default configuration lands in config/opensearch-security/; its tools are 750, as the official
# image's build leaves them.
RUN bin/opensearch-plugin install --batch file:///tmp/opensearch-security.zip \
 && rm /tmp/opensearch-security.zip \
 && chmod 750 plugins/opensearch-security/tools/*
