# syntax=docker/dockerfile:1
# Static build, distroless non-root runtime. The data directory is a volume.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/ripple ./cmd/ripple

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ripple /usr/local/bin/ripple
USER nonroot:nonroot
VOLUME ["/var/lib/ripple"]
ENV RIPPLE_DATA=/var/lib/ripple RIPPLE_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/ripple"]
CMD ["serve"]
