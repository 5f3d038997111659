# ptrsweep images for people who build with Docker. `make images` builds the
# same images without a Docker daemon (deploy/images); both run the static
# binaries as the numeric non-root user 65532.
#
#   docker build --target worker      -t registry.example/ptrsweep/worker:v0.3.0 .
#   docker build --target coordinator -t registry.example/ptrsweep/coordinator:v0.3.0 .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -o /out/ ./cmd/coordinator ./cmd/worker

FROM gcr.io/distroless/static-debian12:nonroot AS coordinator
COPY --from=build /out/coordinator /usr/local/bin/coordinator
ENV PATH=/usr/local/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/coordinator"]

FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build /out/worker /usr/local/bin/worker
ENV PATH=/usr/local/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/worker"]
