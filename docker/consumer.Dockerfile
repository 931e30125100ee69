# docker/consumer.Dockerfile: the tributary daemon, to run as a sidecar.
#
# Build from the repository root:
#   docker build -f docker/consumer.Dockerfile -t tributary .
#
# Two stages.  build: debian:12 with the packages CI uses (scripts/install-deps),
# where `make -C consumer build install` builds the binary and installs it
# with the substitute strategy's dictionaries under /usr/local.  runtime: a
# bare debian:12 with only the shared libraries the binary loads
# (scripts/install-deps --runtime: libpq, librdkafka, yajl, libyaml,
# libmicrohttpd, OpenSSL, Lua 5.4, PCRE2, MariaDB Connector/C, libmongoc,
# avro-c) and Debian's CA store (ca-certificates), the binary and the
# dictionaries;
# no compiler, no PostgreSQL server, no valgrind.  `make check-fresh` runs
# these steps in bare roots and starts the runtime stage's binary.
#
# The container runs `tributary run -c /etc/tributary/pipeline.yaml` as an
# unprivileged user; mount the pipeline file (and secrets for the *_file
# keys) there.  The HTTP endpoint listens on 127.0.0.1 unless the pipeline
# sets http.listen (in a pod, 0.0.0.0:8080 for the kubelet probes).  TLS to
# Kafka and MongoDB verifies against the CA store; for a private CA, mount
# its certificate and point the pipeline's ssl.ca.location / sslrootcert
# at it.
FROM debian:12 AS build
COPY . /src/tributary
WORKDIR /src/tributary
RUN bash scripts/install-deps \
    && make -C consumer build install -j"$(nproc)" PREFIX=/usr/local

FROM debian:12 AS runtime
COPY scripts/install-deps /tmp/install-deps
RUN bash /tmp/install-deps --runtime \
    && rm /tmp/install-deps \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --shell /usr/sbin/nologin tributary
COPY --from=build /usr/local/bin/tributary /usr/local/bin/tributary
COPY --from=build /usr/local/share/tributary /usr/local/share/tributary
USER tributary
WORKDIR /
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tributary"]
CMD ["run", "-c", "/etc/tributary/pipeline.yaml"]
