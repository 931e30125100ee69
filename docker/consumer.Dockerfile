# docker/consumer.Dockerfile: the tributary daemon, to run as a sidecar.
#
# Build from the repository root:
#   docker build -f docker/consumer.Dockerfile -t tributary .
#
# Built the way CI builds and tests it: scripts/install-deps installs the
# Debian packages, `make -C consumer build install` builds and installs the
# binary.  The container runs `tributary run -c /etc/tributary/pipeline.yaml`
# as an unprivileged user; mount the pipeline file (and secrets for the
# *_file keys) there.  The HTTP endpoint listens on 127.0.0.1 unless the
# pipeline sets http.listen (in a pod, 0.0.0.0:8080 for the kubelet probes).
FROM debian:12

COPY . /src/tributary
WORKDIR /src/tributary
RUN bash scripts/install-deps \
    && make -C consumer build install PREFIX=/usr/local \
    && make -C consumer clean \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin tributary

USER tributary
WORKDIR /
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tributary"]
CMD ["run", "-c", "/etc/tributary/pipeline.yaml"]
