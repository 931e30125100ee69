# docker/postgres.Dockerfile: PostgreSQL 15 with the tributary extension and
# output plugin, configured for logical decoding.
#
# Build from the repository root (the build context is the whole repo):
#   docker build -f docker/postgres.Dockerfile -t tributary-postgres .
#
# The image is built the way CI builds and tests: scripts/install-deps
# installs the Debian packages, `make -C pg_ext install` builds and installs
# the extension.  Nothing here installs or compiles anything another way.
FROM debian:12

COPY . /src/tributary
WORKDIR /src/tributary

# Packages and the extension, through the same scripts as `make check`.
RUN bash scripts/install-deps \
    && make -C pg_ext install \
    && make -C pg_ext clean \
    && rm -rf /var/lib/apt/lists/*

# Installing postgresql-15 lets Debian create a cluster "15 main"; the image
# does not use it.  Its own cluster lives in /var/lib/postgresql/tributary,
# made by initdb as the postgres user and configured by one appended block.
# Local connections use peer authentication; over the network, scram
# passwords (set one first, see docker/README.md).
ENV PGDATA=/var/lib/postgresql/tributary \
    PATH=/usr/lib/postgresql/15/bin:$PATH
RUN (pg_dropcluster --stop 15 main 2>/dev/null || true) \
    && install -d -o postgres -g postgres -m 700 "$PGDATA" \
    && install -d -o postgres -g postgres -m 2775 /var/run/postgresql \
    && su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/initdb -D '$PGDATA' --encoding=UTF8 \
           --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256" \
    && { \
        echo "# tributary: logical decoding with the tributary output plugin"; \
        echo "listen_addresses = '*'"; \
        echo "wal_level = logical"; \
        echo "max_replication_slots = 10"; \
        echo "max_wal_senders = 10"; \
        echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json, tributary'"; \
       } >> "$PGDATA/postgresql.conf" \
    && { \
        echo "host all all all scram-sha-256"; \
        echo "host replication all all scram-sha-256"; \
       } >> "$PGDATA/pg_hba.conf"

USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["postgres"]
