# syntax=docker/dockerfile:1
#
# The release-monitor image: the CLI, the image of the Concourse tasks under ci/tasks/, and a
# Concourse resource type (/opt/resource/{check,in,out}).
#
#   docker build -t REGISTRY/release-monitor:TAG .
#   docker run --rm -e GITHUB_TOKEN -v "$PWD:/work" -w /work REGISTRY/release-monitor:TAG \
#     release-monitor monitor --config config.yaml
#
# Needs BuildKit (the default builder of Docker 23 and later) for the cache mounts.

# --- Build --------------------------------------------------------------------------------------
FROM rust:1.95-slim-trixie AS build

WORKDIR /src

# The workspace: the release-monitor package and its member fake-github (used by the tests only,
# but Cargo reads every member's manifest). fuzz/ is excluded from the workspace.
COPY Cargo.toml Cargo.lock ./
COPY src/ src/
COPY benches/ benches/
COPY fake-github/ fake-github/

# The registry and target directories are cache mounts (kept between builds, not in the image),
# so the binary is copied out of target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin release-monitor \
    && install -m 0755 target/release/release-monitor /usr/local/bin/release-monitor

# --- Runtime ------------------------------------------------------------------------------------
FROM debian:trixie-slim AS runtime

ARG SOURCE_URL=https://github.com/release-monitor/release-monitor
LABEL org.opencontainers.image.title="release-monitor" \
      org.opencontainers.image.description="Watches GitHub repositories for new releases, downloads and verifies their assets, and records them in a version database. Concourse tasks and resource type." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"

# ca-certificates: the system roots the GitHub client trusts (plus github.ca_cert/SSL_CERT_FILE).
# bash, tar and gzip (used by the task scripts) are part of every Debian image. Not pinned: the
# point is the current trust store of the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user with a fixed uid, for `docker run` and Kubernetes' runAsNonRoot.
RUN groupadd --system --gid 10001 release-monitor \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/release-monitor --create-home \
       --shell /usr/sbin/nologin release-monitor

COPY --from=build /usr/local/bin/release-monitor /usr/local/bin/release-monitor

# Concourse resource type: the binary dispatches on the name it is called by (check, in, out).
RUN mkdir -p /opt/resource \
    && ln -s /usr/local/bin/release-monitor /opt/resource/check \
    && ln -s /usr/local/bin/release-monitor /opt/resource/in \
    && ln -s /usr/local/bin/release-monitor /opt/resource/out

USER 10001:10001
WORKDIR /home/release-monitor

# No ENTRYPOINT: Concourse ignores it, and `docker run IMAGE release-monitor ...` reads naturally.
CMD ["release-monitor", "--help"]

# --- Resource type ------------------------------------------------------------------------------
# `docker build --target resource`: the same image for use as a Concourse resource type. Concourse
# runs /opt/resource/{check,in,out} as the image's user, in directories it creates owned by root,
# and resource steps (unlike tasks, `run.user`) cannot choose the user; root in an unprivileged
# resource container is not root on the worker.
FROM runtime AS resource
USER root

# --- Default: the CLI and the tasks' image, as the unprivileged user ------------------------------
FROM runtime
USER 10001:10001
