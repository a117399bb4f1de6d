# loftyscan's container image, built by GoReleaser (dockers_v2 in
# .goreleaser.yaml) from the binaries it has already built: no Go, no
# compiler, nothing from the network but the base image.
#
# distroless/static: CA certificates (for --verify and cloning over HTTPS),
# /etc/passwd with a nonroot user, /tmp (clones by URL go there), and
# nothing else: no shell, no package manager, no git. loftyscan is static
# (CGO_ENABLED=0) and reads repositories with go-git.
#
#   docker run --rm -v "$PWD:/src" ghcr.io/loftyscan/loftyscan git /src
FROM gcr.io/distroless/static-debian12:nonroot

# dockers_v2 puts each platform's binary under its platform's folder
# (linux/amd64/loftyscan, linux/arm64/loftyscan) in the build context.
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/loftyscan /usr/bin/loftyscan

USER nonroot:nonroot
WORKDIR /src
ENTRYPOINT ["/usr/bin/loftyscan"]
CMD ["dir", "."]
