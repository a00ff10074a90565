# OpenSearch stand-in with the security plugin, as the official OpenSearch image ships it: the
# plain stand-in (search.Dockerfile) plus org.opensearch.plugin:opensearch-security from Maven
# Central, installed by the distribution's own plugin tool. Built by scripts/base-images.sh
# (target opensearch-security:VERSION); build context: opensearch-security.zip.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

COPY --chown=1000:0 opensearch-security.zip /tmp/opensearch-security.zip
# --batch grants the extra Java permissions the plugin asks for without a prompt. The plugin's
# default configuration lands in config/opensearch-security/; g=u as for the rest of the home
# directory, so that any uid in group 0 can run it.
RUN bin/opensearch-plugin install --batch file:///tmp/opensearch-security.zip \
 && rm /tmp/opensearch-security.zip \
 && chmod -R g=u config plugins/opensearch-security
